// SCP02 (GlobalPlatform Card Specification 2.3.1 Annex E): session keys
// from the 2-byte sequence counter (E.4.1, 3DES-CBC), card and host
// cryptograms (E.4.2, full 3DES MAC), C-MAC as a retail MAC on the modified
// APDU with ICV encryption (E.4.4, i=15 / i=55), C-DECRYPTION (E.4.6) and
// R-MAC (E.4.5).
#pragma once
#include <cstdint>

#include "rsp/gp/secure_channel.hpp"

namespace rsp::gp::scp02 {

// E.4.1: derivation constants.
namespace constant {
inline constexpr std::uint16_t kCMac = 0x0101;
inline constexpr std::uint16_t kRMac = 0x0102;
inline constexpr std::uint16_t kDek = 0x0181;
inline constexpr std::uint16_t kEnc = 0x0182;
}  // namespace constant

// E.1.1 Table E-1: the "i" parameter bits.
namespace param {
inline constexpr std::uint8_t kThreeKeys = 0x01;
inline constexpr std::uint8_t kExplicit = 0x04;
inline constexpr std::uint8_t kIcvEncryption = 0x10;
inline constexpr std::uint8_t kRMacSupport = 0x20;
inline constexpr std::uint8_t kPseudoRandomChallenge = 0x40;
}  // namespace param

// E.4.1: 3DES-CBC(key, ICV 0, constant || sequence counter || 12 x 00).
SecretBytes session_key(ByteView static_key, std::uint16_t derivation_constant, ByteView sequence_counter);
struct SessionKeys {
  SecretBytes s_enc, c_mac, r_mac, dek;
};
SessionKeys derive_session_keys(const StaticKeys& keys, ByteView sequence_counter);

// B.1.2.1: full triple DES MAC (3DES-CBC, 80-padding, last block) with `icv`.
Bytes full_3des_mac(ByteView key, ByteView data, ByteView icv);
// B.1.2.2: retail MAC (ISO 9797-1 algorithm 3, single DES with K1 then
// triple DES on the last block), 80-padding, starting from `icv`.
Bytes retail_mac(ByteView key, ByteView data, ByteView icv);

// E.4.2.1 / E.4.2.2: over host challenge || seq || card challenge, and seq || card challenge || host challenge.
Bytes card_cryptogram(ByteView s_enc, ByteView host_challenge, ByteView sequence_counter, ByteView card_challenge);
Bytes host_cryptogram(ByteView s_enc, ByteView host_challenge, ByteView sequence_counter, ByteView card_challenge);

// E.4.2.1, i b7 ("well-known pseudo-random algorithm", i=55): the card
// challenge is the first 6 bytes of a full 3DES MAC over the AID of the
// selected application under the C-MAC session key, ICV zero.
Bytes pseudo_random_card_challenge(ByteView c_mac_session_key, ByteView aid);

// E.5.1.6: the INITIALIZE UPDATE response (28 bytes).
struct InitUpdateResponse {
  Bytes key_diversification_data;  // 10
  std::uint8_t key_version = 0, scp = 0;
  Bytes sequence_counter;  // 2
  Bytes card_challenge;    // 6
  Bytes card_cryptogram;   // 8
  static InitUpdateResponse parse(ByteView data);
  Bytes encode() const;
};

class Channel final : public SecureChannel {
 public:
  Channel(SessionKeys keys, std::uint8_t security_level, std::uint8_t i);
  std::uint8_t security_level() const override { return level_; }
  apdu::Command wrap_external_authenticate(const apdu::Command& plain);
  apdu::Command wrap(const apdu::Command& plain) override;
  apdu::Response unwrap(const apdu::Response& protected_response) override;
  apdu::Command unwrap_command(const apdu::Command& wrapped) override;
  apdu::Command unwrap_external_authenticate(const apdu::Command& wrapped);
  apdu::Response wrap_response(const apdu::Response& plain) override;
  const SecretBytes& key_encryption_key() const override { return keys_.dek; }
  void set_security_level(std::uint8_t l) { level_ = l; }

 private:
  Bytes next_cmac(const apdu::Command& plain);
  void remember_for_rmac(const apdu::Command& plain);
  Bytes response_mac(const apdu::Response& plain);
  SessionKeys keys_;
  std::uint8_t level_, i_;
  Bytes icv_;        // last C-MAC (empty before the first command)
  Bytes r_icv_ = Bytes(8, 0);
  Bytes r_mac_input_;  // the command part of the R-MAC input (E.4.5)
};

}  // namespace rsp::gp::scp02
