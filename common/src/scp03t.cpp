#include "rsp/scp03t.hpp"

#include <algorithm>
#include <stdexcept>

#include "rsp/crypto.hpp"
#include "rsp/tlv.hpp"

namespace rsp::scp03t {

SessionKeys derive_session_keys(ByteView shs, ByteView host_id, ByteView eid) {
  // keyType '88' = AES, keyLength '10' = 16 bytes (SGP.22 2.6.4.2).
  Bytes info{0x88, 0x10};
  append(info, tlv::encode_length(host_id.size()));
  append(info, host_id);
  append(info, tlv::encode_length(eid.size()));
  append(info, eid);
  SecretBytes key_data = crypto::x963_kdf_sha256(shs, info, 48);
  SessionKeys k;
  k.initial_mcv.assign(key_data.begin(), key_data.begin() + 16);
  k.s_enc.assign(key_data.begin() + 16, key_data.begin() + 32);
  k.s_mac.assign(key_data.begin() + 32, key_data.end());
  return k;
}

Channel::Channel(ByteView s_enc, ByteView s_mac, ByteView initial_mcv)
    : enc_(Bytes(s_enc.begin(), s_enc.end())), mac_(Bytes(s_mac.begin(), s_mac.end())),
      mcv_(Bytes(initial_mcv.begin(), initial_mcv.end())) {}

static Bytes counter_block(std::uint32_t counter) {
  Bytes b(16, 0);
  for (int i = 0; i < 4; ++i) b[15 - i] = static_cast<std::uint8_t>(counter >> (8 * i));
  return b;
}

Bytes Channel::wrap(std::uint8_t tag, ByteView plain, bool encrypt) {
  Bytes body;
  if (encrypt) {
    Bytes padded(plain.begin(), plain.end());
    padded.push_back(0x80);
    while (padded.size() % 16 != 0) padded.push_back(0x00);
    Bytes icv = crypto::aes_ecb_encrypt_block(enc_, counter_block(counter_));
    body = crypto::aes_cbc_encrypt(enc_, icv, padded);
    wipe(padded.data(), padded.size());
    ++counter_;
  } else {
    body.assign(plain.begin(), plain.end());
    ++counter_;  // SGP.22 2.6.4.4: MAC-only segments advance the ICV block counter too
  }
  // MAC input: MCV || tag || length (including the 8 MAC bytes) || data.
  Bytes header{tag};
  append(header, tlv::encode_length(body.size() + 8));
  Bytes cmac = crypto::aes_cmac(mac_, concat(mcv_, header, body));
  mcv_ = SecretBytes(cmac);
  Bytes out = concat(header, body);
  out.insert(out.end(), cmac.begin(), cmac.begin() + 8);
  return out;
}

Bytes Channel::wrap_segments(std::uint8_t tag, ByteView plain, bool encrypt) {
  const std::size_t max = encrypt ? kMaxSegmentPlaintext : kMaxMacOnlySegmentPlaintext;
  Bytes out;
  // Each segment adds at most a 4-byte header, 16 bytes of padding and the MAC.
  out.reserve(plain.size() + (plain.size() / max + 1) * 28);
  for (std::size_t off = 0; off < plain.size(); off += max) {
    Bytes segment = wrap(tag, plain.subspan(off, std::min(max, plain.size() - off)), encrypt);
    if (segment.size() > kMaxSegmentSize) throw std::logic_error("SCP03t segment over 1,020 bytes");
    append(out, segment);
  }
  return out;
}

Bytes Channel::unwrap(ByteView tlv_bytes, bool encrypted) {
  auto t = tlv::parse_one(tlv_bytes);
  if (t.raw.size() != tlv_bytes.size()) throw MacError("trailing bytes after protected TLV");
  if (t.value.size() < 8) throw MacError("protected TLV shorter than its MAC");
  ByteView body = t.value.first(t.value.size() - 8);
  ByteView mac = t.value.last(8);
  Bytes cmac = crypto::aes_cmac(mac_, concat(mcv_, t.raw.first(t.header_size()), body));
  if (!equal_ct(ByteView(cmac).first(8), mac)) throw MacError("MAC verification failed");
  Bytes plain;
  if (encrypted) {
    if (body.empty() || body.size() % 16 != 0) throw MacError("ciphertext is not a whole number of blocks");
    Bytes icv = crypto::aes_ecb_encrypt_block(enc_, counter_block(counter_));
    plain = crypto::aes_cbc_decrypt(enc_, icv, body);
    std::size_t end = plain.size();
    while (end > 0 && plain[end - 1] == 0x00) --end;
    if (end == 0 || plain[end - 1] != 0x80 || plain.size() - end >= 16) throw MacError("bad padding");
    plain.resize(end - 1);
    ++counter_;
  } else {
    plain.assign(body.begin(), body.end());
    ++counter_;
  }
  mcv_ = SecretBytes(cmac);
  return plain;
}

}  // namespace rsp::scp03t
