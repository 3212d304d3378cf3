// What SCP02 and SCP03 have in common (GlobalPlatform Card Specification
// 2.3.1 chapter 10): the security level of a session, the host side
// (wrap commands, unwrap responses) and the card side (unwrap commands,
// wrap responses) of an open secure channel.
#pragma once
#include <cstdint>
#include <stdexcept>

#include "rsp/apdu.hpp"
#include "rsp/bytes.hpp"

namespace rsp::gp {

// GP 2.3.1 10.6 / 11.1.2: the security level (P1 of EXTERNAL AUTHENTICATE).
namespace level {
inline constexpr std::uint8_t kNone = 0x00;
inline constexpr std::uint8_t kCMac = 0x01;
inline constexpr std::uint8_t kCDecryption = 0x02;  // always with C-MAC
inline constexpr std::uint8_t kRMac = 0x10;
inline constexpr std::uint8_t kREncryption = 0x20;  // always with R-MAC (SCP03 only)
}  // namespace level

// A MAC did not verify, a cryptogram was wrong, or a wrapped message is
// malformed: the session is over (GP 2.3.1 10.8).
struct SecurityError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Static keys of one key set (GP 2.3.1 10.4: Key-ENC, Key-MAC, Key-DEK).
struct StaticKeys {
  SecretBytes enc, mac, dek;
  std::uint8_t version = 0;  // key version number (KVN); 0 = any
};
// The GlobalPlatform default test keys 40 41 .. 4F (never a production key).
StaticKeys default_test_keys();

// An open secure channel after EXTERNAL AUTHENTICATE.
class SecureChannel {
 public:
  virtual ~SecureChannel() = default;
  virtual std::uint8_t security_level() const = 0;
  // Host side.
  virtual apdu::Command wrap(const apdu::Command& plain) = 0;
  virtual apdu::Response unwrap(const apdu::Response& protected_response) = 0;
  // Card side: verifies and removes C-MAC / C-DECRYPTION (throws
  // SecurityError), and protects a response (R-MAC / R-ENCRYPTION).
  virtual apdu::Command unwrap_command(const apdu::Command& wrapped) = 0;
  virtual apdu::Response wrap_response(const apdu::Response& plain) = 0;
  // The key that encrypts keys in PUT KEY (SCP02: session DEK, SCP03: static DEK).
  virtual const SecretBytes& key_encryption_key() const = 0;
};

// ISO 9797-1 padding method 2 (80 00 ..) to a multiple of `block`; always adds
// at least one byte, as GP 2.3.1 B.2 / Amendment D 4.1.4 require.
Bytes pad80(ByteView data, std::size_t block);
// Removes method-2 padding; throws SecurityError when there is none.
Bytes unpad80(ByteView data);

}  // namespace rsp::gp
