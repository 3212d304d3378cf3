// ISO/IEC 7816-4 command and response APDUs, and the one interface every card
// link implements (the in-process simulator, the TCP/stdio bridge, PC/SC).
#pragma once
#include <cstdint>
#include <optional>

#include "rsp/bytes.hpp"

namespace rsp::apdu {

// Status words used across the project (ISO 7816-4 10.1, TS 102 221 10.2).
namespace sw {
inline constexpr std::uint16_t kOk = 0x9000;
inline constexpr std::uint16_t kWrongLength = 0x6700;
inline constexpr std::uint16_t kSecurityNotSatisfied = 0x6982;
inline constexpr std::uint16_t kConditionsNotSatisfied = 0x6985;
inline constexpr std::uint16_t kWrongData = 0x6A80;
inline constexpr std::uint16_t kFileNotFound = 0x6A82;
inline constexpr std::uint16_t kIncorrectP1P2 = 0x6A86;
inline constexpr std::uint16_t kRefDataNotFound = 0x6A88;
inline constexpr std::uint16_t kInsNotSupported = 0x6D00;
inline constexpr std::uint16_t kClaNotSupported = 0x6E00;
inline constexpr std::uint16_t kLogicalChannelNotSupported = 0x6881;
inline constexpr std::uint16_t kNoInfo = 0x6F00;
}  // namespace sw

struct Command {
  std::uint8_t cla = 0, ins = 0, p1 = 0, p2 = 0;
  Bytes data;
  std::optional<std::size_t> le;  // absent: case 1/3; 0 in short form means 256

  // Parses short and extended forms (cases 1-4); throws DecodeError.
  static Command parse(ByteView raw);
  Bytes encode() const;  // short form when it fits, extended otherwise
  std::uint8_t channel() const;  // logical channel from CLA (ISO 7816-4 5.4.1)
};

struct Response {
  Bytes data;
  std::uint16_t sw = sw::kOk;
  static Response parse(ByteView raw);  // throws DecodeError if < 2 bytes
  Bytes encode() const;
  std::uint8_t sw1() const { return static_cast<std::uint8_t>(sw >> 8); }
  std::uint8_t sw2() const { return static_cast<std::uint8_t>(sw); }
};

// A link to one card. transmit() sends a C-APDU exactly as given and returns
// the R-APDU (data || SW1 SW2); no GET RESPONSE handling underneath.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual Bytes transmit(ByteView command_apdu) = 0;
  virtual Bytes reset() = 0;  // cold/warm reset; returns the ATR
};

}  // namespace rsp::apdu
