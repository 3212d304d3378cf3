// The security header fields of a command packet: SPI (ETSI TS 102 225
// 5.1.1, with the SMS bit of 3GPP TS 31.115), KIc (5.1.2) and KID (5.1.3),
// and the TAR (5.1.4 / TS 101 220).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace rsp::ota {

using Tar = std::array<std::uint8_t, 3>;

// SPI first byte b2b1 and second byte b4b3: what protects the data.
enum class RcCcDs : std::uint8_t { None = 0, Rc = 1, Cc = 2, Ds = 3 };
// SPI first byte b5b4.
enum class CounterMode : std::uint8_t {
  None = 0,                // no counter available
  AvailableNoCheck = 1,    // counter available, no replay or sequence checking
  ProcessIfHigher = 2,     // process if and only if CNTR is higher than the RE's
  ProcessIfOneHigher = 3,  // process if and only if CNTR is exactly one higher
};
// SPI second byte b2b1 (11 is reserved).
enum class PorRequest : std::uint8_t { None = 0, Always = 1, OnError = 2 };

struct Spi {
  // first byte
  RcCcDs rc_cc_ds = RcCcDs::None;
  bool ciphering = false;
  CounterMode counter = CounterMode::None;
  // second byte
  PorRequest por = PorRequest::None;
  RcCcDs por_rc_cc_ds = RcCcDs::None;
  bool por_ciphered = false;
  bool por_by_sms_submit = false;  // b6, TS 31.115: PoR in SMS-SUBMIT, else SMS-DELIVER-REPORT

  std::array<std::uint8_t, 2> encode() const;
  // Throws PacketError(06) for reserved bits set or PoR request 11.
  static Spi decode(std::uint8_t first, std::uint8_t second);
  bool operator==(const Spi&) const = default;
};

// The algorithm a KIc or KID names (b4..b1), with the key version (b8..b5).
enum class Algorithm : std::uint8_t {
  Implicit,     // b2b1 00: agreed beforehand (the key set's own algorithm)
  Des,          // DES-CBC (KIc), DES CBC-MAC (KID)
  TripleDes2,   // 3DES outer-CBC, two keys
  TripleDes3,   // 3DES outer-CBC, three keys
  DesEcb,       // KIc only
  Aes,          // AES-CBC (KIc), AES-CMAC (KID)
  Crc16,        // KID for RC
  Crc32,        // KID for RC
  Proprietary,  // b2b1 11
  Reserved,
};
std::string_view algorithm_name(Algorithm a);  // "3DES-CBC-2KEY", "AES", "CRC32"...
Algorithm algorithm_from_name(std::string_view name);  // the names above, case-insensitive; throws std::invalid_argument

struct KeyIdentifier {
  Algorithm algorithm = Algorithm::Implicit;
  std::uint8_t key_version = 0;  // 0..15
};
KeyIdentifier decode_kic(std::uint8_t kic);
// The KID's coding depends on what the SPI asks for: CC (5.1.3.1) or RC (5.1.3.2).
KeyIdentifier decode_kid(std::uint8_t kid, RcCcDs mode);
// Throws std::invalid_argument for an algorithm the field cannot carry.
std::uint8_t encode_kic(KeyIdentifier k);
std::uint8_t encode_kid(KeyIdentifier k, RcCcDs mode);

}  // namespace rsp::ota
