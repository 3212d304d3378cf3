// SCP03 (GlobalPlatform Card Specification 2.3.1 Amendment D v1.1.2): the
// KDF in counter mode (NIST SP 800-108 with AES-CMAC, Amd D 4.1.5), session
// keys, card and host cryptograms and the pseudo-random card challenge
// (Amd D 6.2.2-6.2.3), and the secure messaging of 6.2.4-6.2.7 (C-MAC with a
// 16-byte MAC chaining value, C-DECRYPTION with the counter-derived ICV,
// R-MAC, R-ENCRYPTION), S8 and S16 modes.
#pragma once
#include <cstdint>

#include "rsp/gp/secure_channel.hpp"

namespace rsp::gp::scp03 {

// Amd D Table 4-1: derivation constants.
namespace constant {
inline constexpr std::uint8_t kCardCryptogram = 0x00;
inline constexpr std::uint8_t kHostCryptogram = 0x01;
inline constexpr std::uint8_t kCardChallenge = 0x02;
inline constexpr std::uint8_t kSEnc = 0x04;
inline constexpr std::uint8_t kSMac = 0x06;
inline constexpr std::uint8_t kSRMac = 0x07;
}  // namespace constant

// Amd D 5.1 Table 5-1: the "i" parameter.
namespace param {
inline constexpr std::uint8_t kS16 = 0x01;
inline constexpr std::uint8_t kPseudoRandomChallenge = 0x10;
inline constexpr std::uint8_t kRMacSupport = 0x20;
inline constexpr std::uint8_t kREncSupport = 0x40;
}  // namespace param

// Amd D 4.1.5: KDF(key, constant, L in bits, context): AES-CMAC over
// label (11 x 00 || constant) || 00 || L (2 bytes) || i (1 byte) || context,
// i = 1, 2 .. until L bits are produced.
Bytes kdf(ByteView key, std::uint8_t derivation_constant, std::size_t bits, ByteView context);

struct SessionKeys {
  SecretBytes s_enc, s_mac, s_rmac;
};
// Amd D 6.2.1: context = host challenge || card challenge; each session key
// has the length of its static key.
SessionKeys derive_session_keys(const StaticKeys& keys, ByteView host_challenge, ByteView card_challenge);
// Amd D 6.2.2.2 / 6.2.2.3: 8 bytes (S8) or 16 (S16).
Bytes card_cryptogram(ByteView s_mac, ByteView host_challenge, ByteView card_challenge);
Bytes host_cryptogram(ByteView s_mac, ByteView host_challenge, ByteView card_challenge);
// Amd D 6.2.2.1: pseudo-random card challenge from Key-ENC, the 3-byte
// sequence counter and the AID of the selected application; `length` 8 or 16.
Bytes pseudo_random_card_challenge(ByteView key_enc, ByteView sequence_counter, ByteView aid, std::size_t length);

// Amd D 7.1.1: the INITIALIZE UPDATE response.
struct InitUpdateResponse {
  Bytes key_diversification_data;  // 10 bytes
  std::uint8_t key_version = 0, scp = 0, i = 0;
  Bytes card_challenge, card_cryptogram;  // 8 or 16 bytes each
  Bytes sequence_counter;                 // 3 bytes, only with pseudo-random challenges
  static InitUpdateResponse parse(ByteView data);  // throws SecurityError
  Bytes encode() const;
};

class Channel final : public SecureChannel {
 public:
  // `s16`: MACs (and cryptograms) are 16 bytes.
  Channel(SessionKeys keys, ByteView static_dek, std::uint8_t security_level, bool s16);
  std::uint8_t security_level() const override { return level_; }
  // EXTERNAL AUTHENTICATE itself is C-MACed (never encrypted), whatever the level.
  apdu::Command wrap_external_authenticate(const apdu::Command& plain);
  apdu::Command wrap(const apdu::Command& plain) override;
  apdu::Response unwrap(const apdu::Response& protected_response) override;
  apdu::Command unwrap_command(const apdu::Command& wrapped) override;
  apdu::Command unwrap_external_authenticate(const apdu::Command& wrapped);
  apdu::Response wrap_response(const apdu::Response& plain) override;
  const SecretBytes& key_encryption_key() const override { return dek_; }
  void set_security_level(std::uint8_t l) { level_ = l; }

 private:
  Bytes command_mac(std::uint8_t cla, const apdu::Command& c, ByteView data);
  Bytes command_icv() const;
  Bytes response_icv() const;
  SessionKeys keys_;
  SecretBytes dek_;
  std::uint8_t level_;
  std::size_t mac_len_;
  Bytes mcv_ = Bytes(16, 0);      // MAC chaining value
  std::uint64_t counter_ = 0;     // encryption counter (Amd D 6.2.6)
};

}  // namespace rsp::gp::scp03
