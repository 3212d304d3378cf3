#include "rsp/gp/scp03.hpp"

#include <string>

#include "rsp/crypto.hpp"

namespace rsp::gp::scp03 {

Bytes kdf(ByteView key, std::uint8_t derivation_constant, std::size_t bits, ByteView context) {
  Bytes out;
  for (std::uint8_t i = 1; out.size() * 8 < bits; ++i) {
    Bytes input(11, 0x00);  // label: 11 bytes of 00 then the constant (Amd D 4.1.5)
    input.push_back(derivation_constant);
    input.push_back(0x00);  // separation indicator
    input.push_back(static_cast<std::uint8_t>(bits >> 8));
    input.push_back(static_cast<std::uint8_t>(bits));
    input.push_back(i);
    append(input, context);
    append(out, crypto::aes_cmac(key, input));
  }
  out.resize(bits / 8);
  return out;
}

SessionKeys derive_session_keys(const StaticKeys& keys, ByteView host_challenge, ByteView card_challenge) {
  Bytes context = concat(host_challenge, card_challenge);
  SessionKeys s;
  s.s_enc = kdf(keys.enc, constant::kSEnc, keys.enc.size() * 8, context);
  s.s_mac = kdf(keys.mac, constant::kSMac, keys.mac.size() * 8, context);
  s.s_rmac = kdf(keys.mac, constant::kSRMac, keys.mac.size() * 8, context);
  return s;
}

Bytes card_cryptogram(ByteView s_mac, ByteView host_challenge, ByteView card_challenge) {
  return kdf(s_mac, constant::kCardCryptogram, host_challenge.size() * 8, concat(host_challenge, card_challenge));
}

Bytes host_cryptogram(ByteView s_mac, ByteView host_challenge, ByteView card_challenge) {
  return kdf(s_mac, constant::kHostCryptogram, host_challenge.size() * 8, concat(host_challenge, card_challenge));
}

Bytes pseudo_random_card_challenge(ByteView key_enc, ByteView sequence_counter, ByteView aid, std::size_t length) {
  return kdf(key_enc, constant::kCardChallenge, length * 8, concat(sequence_counter, aid));
}

InitUpdateResponse InitUpdateResponse::parse(ByteView d) {
  // Amd D 7.1.1.6: 10 + 3 + 2 x (8|16) [+ 3].
  InitUpdateResponse r;
  if (d.size() < 13) throw SecurityError("INITIALIZE UPDATE response too short");
  r.key_diversification_data.assign(d.begin(), d.begin() + 10);
  r.key_version = d[10];
  r.scp = d[11];
  r.i = d[12];
  if (r.scp != 0x03) throw SecurityError("card answered SCP" + std::to_string(r.scp) + ", not SCP03");
  std::size_t n = (r.i & param::kS16) ? 16 : 8;
  std::size_t want = 13 + 2 * n + ((r.i & param::kPseudoRandomChallenge) ? 3 : 0);
  if (d.size() != want) throw SecurityError("INITIALIZE UPDATE response has " + std::to_string(d.size()) + " bytes, SCP03 i=" + std::to_string(r.i) + " wants " + std::to_string(want));
  r.card_challenge.assign(d.begin() + 13, d.begin() + 13 + static_cast<std::ptrdiff_t>(n));
  r.card_cryptogram.assign(d.begin() + 13 + static_cast<std::ptrdiff_t>(n), d.begin() + 13 + 2 * static_cast<std::ptrdiff_t>(n));
  if (want > 13 + 2 * n) r.sequence_counter.assign(d.end() - 3, d.end());
  return r;
}

Bytes InitUpdateResponse::encode() const {
  Bytes out = key_diversification_data;
  out.push_back(key_version);
  out.push_back(scp);
  out.push_back(i);
  append(out, card_challenge);
  append(out, card_cryptogram);
  append(out, sequence_counter);
  return out;
}

Channel::Channel(SessionKeys keys, ByteView static_dek, std::uint8_t security_level, bool s16)
    : keys_(std::move(keys)), dek_(Bytes(static_dek.begin(), static_dek.end())), level_(security_level), mac_len_(s16 ? 16 : 8) {}

namespace {
// Lc as it is sent (ISO 7816-4 5.1): one byte, or three in the extended form.
Bytes lc_field(std::size_t lc, const std::optional<std::size_t>& le) {
  if (lc <= 255 && (!le || *le <= 256)) return {static_cast<std::uint8_t>(lc)};
  return {0x00, static_cast<std::uint8_t>(lc >> 8), static_cast<std::uint8_t>(lc)};
}
Bytes counter_block(std::uint64_t c, std::uint8_t first) {
  Bytes b(16, 0);
  b[0] = first;
  for (int i = 0; i < 8; ++i) b[15 - i] = static_cast<std::uint8_t>(c >> (8 * i));
  return b;
}
}  // namespace

Bytes Channel::command_icv() const { return crypto::aes_ecb_encrypt_block(keys_.s_enc, counter_block(counter_, 0x00)); }
// Amd D 6.2.7: the response ICV is the counter with its first byte set to 80.
Bytes Channel::response_icv() const { return crypto::aes_ecb_encrypt_block(keys_.s_enc, counter_block(counter_, 0x80)); }

Bytes Channel::command_mac(std::uint8_t cla, const apdu::Command& c, ByteView data) {
  // Amd D 6.2.4: CMAC over MCV || CLA INS P1 P2 Lc (Lc counts the MAC) || data.
  Bytes in = mcv_;
  in.insert(in.end(), {cla, c.ins, c.p1, c.p2});
  append(in, lc_field(data.size() + mac_len_, c.le));
  append(in, data);
  Bytes mac = crypto::aes_cmac(keys_.s_mac, in);
  mcv_ = mac;
  mac.resize(mac_len_);
  return mac;
}

apdu::Command Channel::wrap_external_authenticate(const apdu::Command& plain) {
  apdu::Command out = plain;
  out.cla = static_cast<std::uint8_t>(plain.cla | 0x04);
  append(out.data, command_mac(out.cla, plain, plain.data));
  return out;
}

apdu::Command Channel::wrap(const apdu::Command& plain) {
  if (!(level_ & level::kCMac)) return plain;
  apdu::Command out = plain;
  out.cla = static_cast<std::uint8_t>(plain.cla | 0x04);
  if (level_ & level::kCDecryption) {
    // Amd D 6.2.6: the counter moves for every command, even one without data.
    ++counter_;
    if (!plain.data.empty()) out.data = crypto::aes_cbc_encrypt(keys_.s_enc, command_icv(), pad80(plain.data, 16));
  }
  append(out.data, command_mac(out.cla, plain, out.data));
  return out;
}

apdu::Response Channel::unwrap(const apdu::Response& r) {
  if (!(level_ & level::kRMac)) return r;
  // Amd D 6.2.5: error responses (other than 62xx/63xx) carry no R-MAC.
  bool success = r.sw == 0x9000 || r.sw1() == 0x62 || r.sw1() == 0x63;
  if (r.data.size() < mac_len_) {
    if (success) throw SecurityError("response in an R-MAC session has no R-MAC");
    return r;
  }
  ByteView body(r.data.data(), r.data.size() - mac_len_);
  Bytes in = concat(mcv_, body);
  in.push_back(r.sw1());
  in.push_back(r.sw2());
  Bytes mac = crypto::aes_cmac(keys_.s_rmac, in);
  mac.resize(mac_len_);
  if (!equal_ct(mac, ByteView(r.data).subspan(body.size()))) throw SecurityError("R-MAC does not verify");
  apdu::Response out{Bytes(body.begin(), body.end()), r.sw};
  if ((level_ & level::kREncryption) && !out.data.empty()) {
    if (out.data.size() % 16) throw SecurityError("R-ENCRYPTION data is not a multiple of 16 bytes");
    out.data = unpad80(crypto::aes_cbc_decrypt(keys_.s_enc, response_icv(), out.data));
  }
  return out;
}

apdu::Command Channel::unwrap_external_authenticate(const apdu::Command& wrapped) {
  if (!(wrapped.cla & 0x04) || wrapped.data.size() < mac_len_) throw SecurityError("EXTERNAL AUTHENTICATE has no C-MAC");
  ByteView body(wrapped.data.data(), wrapped.data.size() - mac_len_);
  apdu::Command plain = wrapped;
  plain.data.assign(body.begin(), body.end());
  Bytes mac = command_mac(wrapped.cla, wrapped, body);
  if (!equal_ct(mac, ByteView(wrapped.data).subspan(body.size()))) throw SecurityError("C-MAC does not verify");
  plain.cla = static_cast<std::uint8_t>(wrapped.cla & ~0x04);
  return plain;
}

apdu::Command Channel::unwrap_command(const apdu::Command& wrapped) {
  if (!(level_ & level::kCMac)) return wrapped;
  if (!(wrapped.cla & 0x04) || wrapped.data.size() < mac_len_) throw SecurityError("command has no C-MAC");
  ByteView body(wrapped.data.data(), wrapped.data.size() - mac_len_);
  Bytes mac = command_mac(wrapped.cla, wrapped, body);
  if (!equal_ct(mac, ByteView(wrapped.data).subspan(body.size()))) throw SecurityError("C-MAC does not verify");
  apdu::Command plain = wrapped;
  plain.cla = static_cast<std::uint8_t>(wrapped.cla & ~0x04);
  plain.data.assign(body.begin(), body.end());
  if (level_ & level::kCDecryption) {
    ++counter_;
    if (!plain.data.empty()) {
      if (plain.data.size() % 16) throw SecurityError("C-DECRYPTION data is not a multiple of 16 bytes");
      plain.data = unpad80(crypto::aes_cbc_decrypt(keys_.s_enc, command_icv(), plain.data));
    }
  }
  return plain;
}

apdu::Response Channel::wrap_response(const apdu::Response& plain) {
  if (!(level_ & level::kRMac)) return plain;
  bool success = plain.sw == 0x9000 || plain.sw1() == 0x62 || plain.sw1() == 0x63;
  if (!success) return apdu::Response{{}, plain.sw};
  apdu::Response out = plain;
  if ((level_ & level::kREncryption) && !plain.data.empty())
    out.data = crypto::aes_cbc_encrypt(keys_.s_enc, response_icv(), pad80(plain.data, 16));
  Bytes in = concat(mcv_, out.data);
  in.push_back(plain.sw1());
  in.push_back(plain.sw2());
  Bytes mac = crypto::aes_cmac(keys_.s_rmac, in);
  mac.resize(mac_len_);
  append(out.data, mac);
  return out;
}

}  // namespace rsp::gp::scp03
