// Remote command scripts of ETSI TS 102 226 (remote APDU structure), both
// ways: the OTA server builds command scripts and reads response scripts,
// the card reads command scripts and builds response scripts.
//
// Compact format (TS 102 226 5.1): the secured data is C-APDUs one after the
// other, each in its T=0 form CLA INS P1 P2 P3 [data] (5.1.1); P3 is Le for
// a command that sends data out (case 2) and Lc otherwise, so a reader needs
// the INS to find the next command. The response (5.1.2) is the number of
// commands executed (1 byte) and the last R-APDU (its data, if any, and SW).
//
// Expanded format (TS 102 226 5.2): a Command Scripting template, tag 'AA'
// (definite length) or 'AE' (indefinite length, ended by '00 00'), holding
// C-APDU TLVs ('22', a whole ISO/IEC 7816-4 C-APDU), Immediate Action ('81'),
// Error Action ('82') and Script Chaining ('83') TLVs in order. The response
// is a Response Scripting template 'AB' (or 'AF' indefinite) with the Number
// of executed command TLV objects ('80'), an R-APDU TLV ('23') per executed
// C-APDU, and Bad Format ('90') when the command script did not parse.
//
// The card tells the formats apart by the first byte of the secured data
// ('AA'/'AE': expanded): no CLA of a compact script takes those values.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "rsp/bytes.hpp"

namespace rsp::ota {

enum class ScriptFormat : std::uint8_t { Compact, Expanded };

inline constexpr std::uint8_t kTagCommandScriptDefinite = 0xAA;
inline constexpr std::uint8_t kTagCommandScriptIndefinite = 0xAE;
inline constexpr std::uint8_t kTagResponseScriptDefinite = 0xAB;
inline constexpr std::uint8_t kTagResponseScriptIndefinite = 0xAF;
inline constexpr std::uint8_t kTagCApdu = 0x22;
inline constexpr std::uint8_t kTagRApdu = 0x23;
inline constexpr std::uint8_t kTagImmediateAction = 0x81;
inline constexpr std::uint8_t kTagErrorAction = 0x82;
inline constexpr std::uint8_t kTagScriptChaining = 0x83;
inline constexpr std::uint8_t kTagNumberOfExecuted = 0x80;
inline constexpr std::uint8_t kTagBadFormat = 0x90;

// TS 102 226 5.2.2: the Bad Format TLV's value.
enum class BadFormat : std::uint8_t { UnknownTag = 0x01, WrongLength = 0x02, LengthMissing = 0x03 };

// A command script that does not parse; `bad_format` is what the card
// answers in its Bad Format TLV, `parsed` how many command TLVs were read
// before the fault.
struct ScriptError : DecodeError {
  BadFormat bad_format;
  ScriptError(BadFormat b, const std::string& m) : DecodeError(m), bad_format(b) {}
};

// --- command scripts ---

// One TLV of a Command Scripting template, in script order.
struct CommandTlv {
  std::uint8_t tag = kTagCApdu;  // 22, 81, 82 or 83
  Bytes value;                   // 22: the C-APDU; 81/82/83: as given
  bool operator==(const CommandTlv&) const = default;
};

struct CommandScript {
  ScriptFormat format = ScriptFormat::Expanded;
  bool indefinite_length = false;  // expanded only: 'AE 80 ... 00 00' instead of 'AA len ...'
  std::vector<CommandTlv> commands;  // compact: C-APDUs only (tag 22)
  bool operator==(const CommandScript&) const = default;

  static CommandScript compact(std::vector<Bytes> capdus);
  static CommandScript expanded(std::vector<Bytes> capdus);
};

// Whose commands a compact script carries: P3 means Le or Lc by the INS,
// and INS 'F2' is STATUS (case 2) on the UICC file system (RFM, TS 102 221
// 10.1.2) but GET STATUS (case 4, data in) at a security domain (RAM,
// GlobalPlatform Card Specification 11.4).
enum class CommandSet : std::uint8_t { Uicc, GlobalPlatform };

// Does a C-APDU with this INS carry Le in P3 (case 2, data out)? UICC: READ
// BINARY B0, READ RECORD B2, GET RESPONSE C0, STATUS F2, GET CHALLENGE 84,
// FETCH 12, GET DATA CA/CB. GlobalPlatform: GET RESPONSE C0, GET DATA CA/CB.
bool compact_p3_is_le(std::uint8_t ins, CommandSet set = CommandSet::Uicc);

// Throws std::invalid_argument for a C-APDU that has no T=0 form (compact:
// extended lengths, case 4 with Le, a case 2 INS given data).
Bytes encode_command_script(const CommandScript& s, CommandSet set = CommandSet::Uicc);
// The format from the first byte; throws ScriptError.
CommandScript decode_command_script(ByteView secured_data, CommandSet set = CommandSet::Uicc);
ScriptFormat script_format(ByteView secured_data);

// --- response scripts ---

struct ResponseTlv {
  std::uint8_t tag = kTagRApdu;  // 23 (R-APDU), 81 (immediate action response), 83 (script chaining)
  Bytes value;
  bool operator==(const ResponseTlv&) const = default;
};

struct ResponseScript {
  ScriptFormat format = ScriptFormat::Expanded;
  bool indefinite_length = false;       // expanded: 'AF' rather than 'AB'
  std::uint8_t executed = 0;            // compact: commands executed; expanded: command TLV objects
  std::vector<ResponseTlv> responses;   // compact: exactly one R-APDU (the last), or none
  std::optional<BadFormat> bad_format;  // expanded only
  bool operator==(const ResponseScript&) const = default;

  // The R-APDUs (data || SW) in order.
  std::vector<Bytes> r_apdus() const;
  // The SW of the last R-APDU, when there is one.
  std::optional<std::uint16_t> last_status_word() const;
};

Bytes encode_response_script(const ResponseScript& r);
// Throws ScriptError (a PoR's additional data that does not parse).
ResponseScript decode_response_script(ScriptFormat f, ByteView additional_data);

}  // namespace rsp::ota
