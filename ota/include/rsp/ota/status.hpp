// Response status codes of a Response Packet (PoR): ETSI TS 102 225 5.2
// (table "Response Status Codes"), with the values that table reserves for
// 3GPP filled in from 3GPP TS 31.115 (SMS). Every code we send or read is
// named once here, with its section.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace rsp::ota {

enum class ResponseStatus : std::uint8_t {
  PorOk = 0x00,
  RcCcDsFailed = 0x01,
  CntrLow = 0x02,
  CntrHigh = 0x03,
  CntrBlocked = 0x04,
  CipheringError = 0x05,
  UnidentifiedSecurityError = 0x06,
  InsufficientMemory = 0x07,
  MoreTime = 0x08,
  TarUnknown = 0x09,
  InsufficientSecurityLevel = 0x0A,
  ActualResponseBySmsSubmit = 0x0B,  // TS 31.115
  ActualResponseByUssd = 0x0C,       // TS 31.115
};

struct StatusRow {
  std::uint8_t code;
  std::string_view name;     // short, stable, printed by `ota packet parse`
  std::string_view meaning;  // the table's wording, shortened
  std::string_view section;
};

inline constexpr StatusRow kStatusTable[] = {
    {0x00, "PoR OK", "the command packet passed every security check", "TS 102 225 5.2"},
    {0x01, "RC/CC/DS failed", "the redundancy check, cryptographic checksum or signature did not verify", "TS 102 225 5.2"},
    {0x02, "CNTR low", "the counter is not above the receiving entity's", "TS 102 225 5.2"},
    {0x03, "CNTR high", "the counter is more than one above the receiving entity's (SPI asks for exactly one higher)",
     "TS 102 225 5.2"},
    {0x04, "CNTR blocked", "the receiving entity's counter has reached its maximum", "TS 102 225 5.2"},
    {0x05, "Ciphering error", "the secured data does not decipher (length, padding)", "TS 102 225 5.2"},
    {0x06, "Unidentified security error",
     "the command header cannot be interpreted (the PoR goes unciphered, without RC/CC/DS)", "TS 102 225 5.2"},
    {0x07, "Insufficient memory", "insufficient memory to process the incoming message", "TS 102 225 5.2"},
    {0x08, "More time", "the application needs more time; a later PoR follows", "TS 102 225 5.2"},
    {0x09, "TAR unknown", "no application at this TAR", "TS 102 225 5.2"},
    {0x0A, "Insufficient security level", "the SPI is below the TAR's minimum security level (TS 102 226 MSL)",
     "TS 102 225 5.2"},
    {0x0B, "Actual response by SMS-SUBMIT", "the response data follows in an SMS-SUBMIT", "TS 31.115 (reserved for 3GPP in TS 102 225)"},
    {0x0C, "Actual response by USSD", "the response data follows in a ProcessUnstructuredSS-Request",
     "TS 31.115 (reserved for 3GPP in TS 102 225)"},
    // 0D..BF: reserved for future use in the TS 102 225 table we follow; C0..FE
    // proprietary. status_name() says so instead of guessing a meaning.
};

// "PoR OK", "CNTR low"...; "reserved (0D)" / "proprietary (C5)" outside the table.
std::string status_name(std::uint8_t code);
inline std::string status_name(ResponseStatus s) { return status_name(static_cast<std::uint8_t>(s)); }

// A packet that cannot be built, read or verified. `status` is the PoR status
// code a receiving entity answers it with (06 for a header that does not add
// up, 05 for ciphering and padding, 01 for RC/CC/DS).
struct PacketError : std::runtime_error {
  ResponseStatus status;
  PacketError(ResponseStatus s, const std::string& message) : std::runtime_error(message), status(s) {}
};

}  // namespace rsp::ota
