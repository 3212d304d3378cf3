#include "rsp/gp/scp02.hpp"

#include <string>

#include "rsp/crypto.hpp"

namespace rsp::gp::scp02 {

namespace {
const Bytes kZero8(8, 0);
Bytes last_block(const Bytes& b) { return Bytes(b.end() - 8, b.end()); }
}  // namespace

SecretBytes session_key(ByteView static_key, std::uint16_t derivation_constant, ByteView sequence_counter) {
  if (static_key.size() != 16) throw SecurityError("SCP02 keys are 16-byte (two-key) triple DES keys");
  if (sequence_counter.size() != 2) throw SecurityError("SCP02 sequence counter is 2 bytes");
  Bytes d(16, 0);
  d[0] = static_cast<std::uint8_t>(derivation_constant >> 8);
  d[1] = static_cast<std::uint8_t>(derivation_constant);
  d[2] = sequence_counter[0];
  d[3] = sequence_counter[1];
  return crypto::des_cbc_encrypt(static_key, kZero8, d);
}

SessionKeys derive_session_keys(const StaticKeys& keys, ByteView seq) {
  SessionKeys s;
  s.s_enc = session_key(keys.enc, constant::kEnc, seq);
  s.c_mac = session_key(keys.mac, constant::kCMac, seq);
  s.r_mac = session_key(keys.mac, constant::kRMac, seq);
  s.dek = session_key(keys.dek, constant::kDek, seq);
  return s;
}

Bytes full_3des_mac(ByteView key, ByteView data, ByteView icv) {
  return last_block(crypto::des_cbc_encrypt(key, icv, pad80(data, 8)));
}

Bytes retail_mac(ByteView key, ByteView data, ByteView icv) {
  Bytes p = pad80(data, 8);
  ByteView k1 = key.subspan(0, 8);
  Bytes h(icv.begin(), icv.end());
  if (p.size() > 8) h = last_block(crypto::des_cbc_encrypt(k1, h, ByteView(p).subspan(0, p.size() - 8)));
  return crypto::des_cbc_encrypt(key, h, ByteView(p).subspan(p.size() - 8));
}

Bytes card_cryptogram(ByteView s_enc, ByteView host_challenge, ByteView seq, ByteView card_challenge) {
  return full_3des_mac(s_enc, concat(host_challenge, seq, card_challenge), kZero8);
}

Bytes host_cryptogram(ByteView s_enc, ByteView host_challenge, ByteView seq, ByteView card_challenge) {
  return full_3des_mac(s_enc, concat(seq, card_challenge, host_challenge), kZero8);
}

Bytes pseudo_random_card_challenge(ByteView c_mac_session_key, ByteView aid) {
  Bytes mac = full_3des_mac(c_mac_session_key, aid, kZero8);
  mac.resize(6);
  return mac;
}

InitUpdateResponse InitUpdateResponse::parse(ByteView d) {
  if (d.size() != 28) throw SecurityError("SCP02 INITIALIZE UPDATE response has " + std::to_string(d.size()) + " bytes, not 28");
  InitUpdateResponse r;
  r.key_diversification_data.assign(d.begin(), d.begin() + 10);
  r.key_version = d[10];
  r.scp = d[11];
  if (r.scp != 0x02) throw SecurityError("card answered SCP" + std::to_string(r.scp) + ", not SCP02");
  r.sequence_counter.assign(d.begin() + 12, d.begin() + 14);
  r.card_challenge.assign(d.begin() + 14, d.begin() + 20);
  r.card_cryptogram.assign(d.begin() + 20, d.end());
  return r;
}

Bytes InitUpdateResponse::encode() const {
  Bytes out = key_diversification_data;
  out.push_back(key_version);
  out.push_back(scp);
  append(out, sequence_counter);
  append(out, card_challenge);
  append(out, card_cryptogram);
  return out;
}

Channel::Channel(SessionKeys keys, std::uint8_t security_level, std::uint8_t i)
    : keys_(std::move(keys)), level_(security_level), i_(i) {}

Bytes Channel::next_cmac(const apdu::Command& plain) {
  // E.4.4: the first C-MAC of a session starts from a zero ICV; later ones
  // from the previous C-MAC, DES-encrypted with the first half of C-MAC
  // session key when "i" asks for ICV encryption.
  Bytes icv;
  if (icv_.empty()) {
    icv = kZero8;
  } else if (i_ & param::kIcvEncryption) {
    icv = crypto::des_cbc_encrypt(ByteView(keys_.c_mac).subspan(0, 8), kZero8, icv_);
  } else {
    icv = icv_;
  }
  // Modified APDU: CLA with bit 3 set, Lc including the 8-byte MAC.
  Bytes in{static_cast<std::uint8_t>(plain.cla | 0x04), plain.ins, plain.p1, plain.p2,
           static_cast<std::uint8_t>(plain.data.size() + 8)};
  append(in, plain.data);
  icv_ = retail_mac(keys_.c_mac, in, icv);
  return icv_;
}

void Channel::remember_for_rmac(const apdu::Command& plain) {
  // E.4.5: the R-MAC covers the unprotected command (CLA with the secure
  // messaging bits cleared, Lc and data) and then the response.
  r_mac_input_ = {static_cast<std::uint8_t>(plain.cla & ~0x07), plain.ins, plain.p1, plain.p2};
  r_mac_input_.push_back(static_cast<std::uint8_t>(plain.data.size()));
  append(r_mac_input_, plain.data);
}

Bytes Channel::response_mac(const apdu::Response& plain) {
  Bytes in = r_mac_input_;
  in.push_back(static_cast<std::uint8_t>(plain.data.size()));
  append(in, plain.data);
  in.push_back(plain.sw1());
  in.push_back(plain.sw2());
  r_icv_ = retail_mac(keys_.r_mac, in, r_icv_);
  return r_icv_;
}

apdu::Command Channel::wrap_external_authenticate(const apdu::Command& plain) {
  apdu::Command out = plain;
  out.cla = static_cast<std::uint8_t>(plain.cla | 0x04);
  append(out.data, next_cmac(plain));
  return out;
}

apdu::Command Channel::wrap(const apdu::Command& plain) {
  if (level_ & level::kRMac) remember_for_rmac(plain);
  if (!(level_ & level::kCMac)) return plain;
  if (plain.data.size() > 255 - 16) throw SecurityError("command data too long for SCP02 (short APDUs only)");
  Bytes mac = next_cmac(plain);
  apdu::Command out = plain;
  out.cla = static_cast<std::uint8_t>(plain.cla | 0x04);
  // E.4.6: the MAC is over the clear data; then the data is enciphered.
  if ((level_ & level::kCDecryption) && !plain.data.empty())
    out.data = crypto::des_cbc_encrypt(keys_.s_enc, kZero8, pad80(plain.data, 8));
  append(out.data, mac);
  return out;
}

apdu::Response Channel::unwrap(const apdu::Response& r) {
  if (!(level_ & level::kRMac)) return r;
  if (r.data.size() < 8) throw SecurityError("response in an R-MAC session has no R-MAC");
  apdu::Response plain{Bytes(r.data.begin(), r.data.end() - 8), r.sw};
  Bytes mac = response_mac(plain);
  if (!equal_ct(mac, ByteView(r.data).subspan(plain.data.size()))) throw SecurityError("R-MAC does not verify");
  return plain;
}

apdu::Command Channel::unwrap_external_authenticate(const apdu::Command& wrapped) {
  if (!(wrapped.cla & 0x04) || wrapped.data.size() < 8) throw SecurityError("EXTERNAL AUTHENTICATE has no C-MAC");
  apdu::Command plain = wrapped;
  plain.cla = static_cast<std::uint8_t>(wrapped.cla & ~0x04);
  plain.data.assign(wrapped.data.begin(), wrapped.data.end() - 8);
  Bytes mac = next_cmac(plain);
  if (!equal_ct(mac, ByteView(wrapped.data).subspan(plain.data.size()))) throw SecurityError("C-MAC does not verify");
  return plain;
}

apdu::Command Channel::unwrap_command(const apdu::Command& wrapped) {
  if (!(level_ & level::kCMac)) {
    if (level_ & level::kRMac) remember_for_rmac(wrapped);
    return wrapped;
  }
  if (!(wrapped.cla & 0x04) || wrapped.data.size() < 8) throw SecurityError("command has no C-MAC");
  apdu::Command plain = wrapped;
  plain.cla = static_cast<std::uint8_t>(wrapped.cla & ~0x04);
  plain.data.assign(wrapped.data.begin(), wrapped.data.end() - 8);
  if ((level_ & level::kCDecryption) && !plain.data.empty()) {
    if (plain.data.size() % 8) throw SecurityError("C-DECRYPTION data is not a multiple of 8 bytes");
    plain.data = unpad80(crypto::des_cbc_decrypt(keys_.s_enc, kZero8, plain.data));
  }
  Bytes mac = next_cmac(plain);
  if (!equal_ct(mac, ByteView(wrapped.data).subspan(wrapped.data.size() - 8))) throw SecurityError("C-MAC does not verify");
  if (level_ & level::kRMac) remember_for_rmac(plain);
  return plain;
}

apdu::Response Channel::wrap_response(const apdu::Response& plain) {
  if (!(level_ & level::kRMac)) return plain;
  apdu::Response out = plain;
  append(out.data, response_mac(plain));
  return out;
}

}  // namespace rsp::gp::scp02
