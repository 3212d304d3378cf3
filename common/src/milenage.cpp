// Milenage (3GPP TS 35.206) and the USIM side of 3G AKA (TS 33.102 6.3.3).
#include "rsp/milenage.hpp"

#include <stdexcept>
#include <string>

#include "rsp/crypto.hpp"

namespace rsp::milenage {
namespace {

using Block = std::array<std::uint8_t, 16>;

void require_size(ByteView v, std::size_t n, const char* what) {
  if (v.size() != n)
    throw std::invalid_argument(std::string("milenage: ") + what + " must be " + std::to_string(n) + " bytes, got " +
                                std::to_string(v.size()));
}

Block to_block(ByteView v) {
  Block b{};
  std::copy(v.begin(), v.end(), b.begin());
  return b;
}

Block xor_block(const Block& a, const Block& b) {
  Block r{};
  for (std::size_t i = 0; i < 16; ++i) r[i] = static_cast<std::uint8_t>(a[i] ^ b[i]);
  return r;
}

// rot(x, r): x cyclically rotated by r bit positions towards the most
// significant bit (TS 35.206 4.1); bit 0 is the MSB of byte 0.
Block rot(const Block& x, unsigned r) {
  r %= 128;
  if (r == 0) return x;
  Block out{};
  if (r % 8 == 0) {
    for (std::size_t i = 0; i < 16; ++i) out[i] = x[(i + r / 8) % 16];
    return out;
  }
  for (unsigned i = 0; i < 128; ++i) {
    unsigned j = (i + r) % 128;
    unsigned bit = (x[j / 8] >> (7 - j % 8)) & 1u;
    out[i / 8] = static_cast<std::uint8_t>(out[i / 8] | (bit << (7 - i % 8)));
  }
  return out;
}

Block encrypt(ByteView k, const Block& in) {
  Bytes out = crypto::aes_ecb_encrypt_block(k, ByteView(in));
  Block b = to_block(out);
  wipe(out.data(), out.size());
  return b;
}

struct BlockWiper {
  Block& b;
  ~BlockWiper() { wipe(b.data(), b.size()); }
};

}  // namespace

Constants Constants::from_profile(ByteView rotation_constants, ByteView xoring_constants) {
  Constants c;
  if (!rotation_constants.empty()) {
    require_size(rotation_constants, 5, "rotationConstants");
    for (std::size_t i = 0; i < 5; ++i) {
      if (rotation_constants[i] >= 128) throw std::invalid_argument("milenage: rotation constant must be < 128");
      c.r[i] = rotation_constants[i];
    }
  }
  if (!xoring_constants.empty()) {
    require_size(xoring_constants, 80, "xoringConstants");
    for (std::size_t i = 0; i < 5; ++i)
      std::copy(xoring_constants.begin() + static_cast<std::ptrdiff_t>(16 * i),
                xoring_constants.begin() + static_cast<std::ptrdiff_t>(16 * (i + 1)), c.c[i].begin());
  }
  return c;
}

SecretBytes opc_from_op(ByteView k, ByteView op) {
  require_size(k, kKeyLen, "K");
  require_size(op, 16, "OP");
  Block e = encrypt(k, to_block(op));
  BlockWiper w{e};
  SecretBytes opc(16);
  for (std::size_t i = 0; i < 16; ++i) opc[i] = static_cast<std::uint8_t>(e[i] ^ op[i]);
  return opc;
}

Milenage::Milenage(ByteView k, ByteView opc, Constants constants)
    : k_(Bytes(k.begin(), k.end())), opc_(Bytes(opc.begin(), opc.end())), c_(constants) {
  require_size(k, kKeyLen, "K");
  require_size(opc, 16, "OPc");
}

Milenage Milenage::from_op(ByteView k, ByteView op, Constants constants) {
  SecretBytes opc = opc_from_op(k, op);
  return Milenage(k, opc, constants);
}

Bytes Milenage::out1(ByteView rand, ByteView sqn, ByteView amf) const {
  require_size(rand, kRandLen, "RAND");
  require_size(sqn, kSqnLen, "SQN");
  require_size(amf, kAmfLen, "AMF");
  const Block opc = to_block(opc_);
  Block temp = encrypt(k_, xor_block(to_block(rand), opc));
  BlockWiper w1{temp};
  // IN1 = SQN || AMF || SQN || AMF
  Block in1{};
  for (int half = 0; half < 2; ++half) {
    std::copy(sqn.begin(), sqn.end(), in1.begin() + 8 * half);
    std::copy(amf.begin(), amf.end(), in1.begin() + 8 * half + 6);
  }
  // OUT1 = E_K(TEMP xor rot(IN1 xor OPc, r1) xor c1) xor OPc
  Block x = xor_block(xor_block(temp, rot(xor_block(in1, opc), c_.r[0])), c_.c[0]);
  Block out = xor_block(encrypt(k_, x), opc);
  return Bytes(out.begin(), out.end());
}

Bytes Milenage::f1(ByteView rand, ByteView sqn, ByteView amf) const {
  Bytes o = out1(rand, sqn, amf);
  return Bytes(o.begin(), o.begin() + 8);
}

Bytes Milenage::f1_star(ByteView rand, ByteView sqn, ByteView amf) const {
  Bytes o = out1(rand, sqn, amf);
  return Bytes(o.begin() + 8, o.end());
}

F2345 Milenage::f2345(ByteView rand) const {
  require_size(rand, kRandLen, "RAND");
  const Block opc = to_block(opc_);
  Block temp = encrypt(k_, xor_block(to_block(rand), opc));
  BlockWiper w1{temp};
  Block t = xor_block(temp, opc);
  BlockWiper w2{t};
  // OUTn = E_K(rot(TEMP xor OPc, rn) xor cn) xor OPc, n = 2..5
  auto out = [&](int n) {
    std::size_t i = static_cast<std::size_t>(n - 1);
    return xor_block(encrypt(k_, xor_block(rot(t, c_.r[i]), c_.c[i])), opc);
  };
  Block o2 = out(2), o3 = out(3), o4 = out(4), o5 = out(5);
  F2345 r;
  r.res = Bytes(o2.begin() + 8, o2.end());
  r.ak = Bytes(o2.begin(), o2.begin() + 6);
  r.ck = Bytes(o3.begin(), o3.end());
  r.ik = Bytes(o4.begin(), o4.end());
  r.ak_star = Bytes(o5.begin(), o5.begin() + 6);
  for (Block* b : {&o2, &o3, &o4, &o5}) wipe(b->data(), b->size());
  return r;
}

// ---- AKA ---------------------------------------------------------------------

std::uint64_t sqn_to_u64(ByteView sqn) {
  require_size(sqn, kSqnLen, "SQN");
  std::uint64_t v = 0;
  for (auto b : sqn) v = v << 8 | b;
  return v;
}

Bytes sqn_from_u64(std::uint64_t sqn) {
  if (sqn >> 48) throw std::invalid_argument("milenage: SQN exceeds 48 bits");
  Bytes out(kSqnLen);
  for (std::size_t i = 0; i < kSqnLen; ++i) out[kSqnLen - 1 - i] = static_cast<std::uint8_t>(sqn >> (8 * i));
  return out;
}

Bytes make_autn(const Milenage& m, ByteView rand, ByteView sqn, ByteView amf) {
  require_size(sqn, kSqnLen, "SQN");
  require_size(amf, kAmfLen, "AMF");
  SecretBytes ak = m.f5(rand);
  Bytes autn;
  for (std::size_t i = 0; i < kSqnLen; ++i) autn.push_back(static_cast<std::uint8_t>(sqn[i] ^ ak[i]));
  append(autn, amf);
  append(autn, m.f1(rand, sqn, amf));
  return autn;
}

Bytes make_auts(const Milenage& m, ByteView rand, ByteView sqn_ms) {
  require_size(sqn_ms, kSqnLen, "SQNms");
  static const std::uint8_t kDummyAmf[2] = {0, 0};
  SecretBytes ak_star = m.f5_star(rand);
  Bytes auts;
  for (std::size_t i = 0; i < kSqnLen; ++i) auts.push_back(static_cast<std::uint8_t>(sqn_ms[i] ^ ak_star[i]));
  append(auts, m.f1_star(rand, sqn_ms, kDummyAmf));
  return auts;
}

std::optional<Bytes> verify_auts(const Milenage& m, ByteView rand, ByteView auts) {
  if (auts.size() != kAutsLen) return std::nullopt;
  static const std::uint8_t kDummyAmf[2] = {0, 0};
  SecretBytes ak_star = m.f5_star(rand);
  Bytes sqn_ms(kSqnLen);
  for (std::size_t i = 0; i < kSqnLen; ++i) sqn_ms[i] = static_cast<std::uint8_t>(auts[i] ^ ak_star[i]);
  Bytes xmac_s = m.f1_star(rand, sqn_ms, kDummyAmf);
  if (!equal_ct(xmac_s, auts.subspan(kSqnLen))) return std::nullopt;
  return sqn_ms;
}

Bytes c2_sres(ByteView res) {
  if (res.empty() || res.size() > 16) throw std::invalid_argument("milenage: RES must be 1..16 bytes");
  Block padded = to_block(res);  // XRES* : RES padded with zeros to 128 bits
  Bytes sres(4, 0);
  for (std::size_t i = 0; i < 16; ++i) sres[i % 4] = static_cast<std::uint8_t>(sres[i % 4] ^ padded[i]);
  return sres;
}

SecretBytes c3_kc(ByteView ck, ByteView ik) {
  require_size(ck, 16, "CK");
  require_size(ik, 16, "IK");
  SecretBytes kc(8);
  for (std::size_t i = 0; i < 8; ++i) kc[i] = static_cast<std::uint8_t>(ck[i] ^ ck[i + 8] ^ ik[i] ^ ik[i + 8]);
  return kc;
}

UsimAuthResult usim_check(const Milenage& m, ByteView rand, ByteView autn, std::uint64_t sqn_ms, bool make_resync) {
  require_size(rand, kRandLen, "RAND");
  require_size(autn, kAutnLen, "AUTN");
  UsimAuthResult r;
  F2345 f = m.f2345(rand);
  r.sqn.resize(kSqnLen);
  for (std::size_t i = 0; i < kSqnLen; ++i) r.sqn[i] = static_cast<std::uint8_t>(autn[i] ^ f.ak[i]);
  r.amf.assign(autn.begin() + 6, autn.begin() + 8);
  Bytes xmac = m.f1(rand, r.sqn, r.amf);
  if (!equal_ct(xmac, autn.subspan(8, kMacLen))) {
    r.status = UsimAuthStatus::MacFailure;
    r.sqn.clear();
    r.amf.clear();
    return r;
  }
  if (sqn_to_u64(r.sqn) <= sqn_ms) {
    r.status = UsimAuthStatus::SyncFailure;
    if (make_resync) r.auts = make_auts(m, rand, sqn_from_u64(sqn_ms & 0xFFFFFFFFFFFFull));
    return r;
  }
  r.status = UsimAuthStatus::Ok;
  r.res = std::move(f.res);
  r.ck = std::move(f.ck);
  r.ik = std::move(f.ik);
  return r;
}

}  // namespace rsp::milenage
