// One account of the multi-account SIM (issue 10): what the USIM becomes when
// the account is active. Data objects as the multi-account applet takes them
// (docs/multi-account-applet.md, "Account template").
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "rsp/bytes.hpp"
#include "rsp/milenage.hpp"

namespace rsp::masim {

struct Account {
  std::uint8_t id = 0;                     // 01..FE, chosen by the operator
  Bytes imsi;                              // EF.IMSI content (TS 31.102 4.2.2): 9 bytes
  SecretBytes ki;                          // 16 bytes, never readable back
  SecretBytes opc;                         // 16 bytes, never readable back
  milenage::Constants constants;           // r1..r5, c1..c5 (TS 35.206 defaults)
  Bytes home_plmn;                         // 3 bytes, TS 24.008 10.5.1.13 (MCC/MNC BCD)
  Bytes plmn_wact;                         // EF.PLMNwAcT content (TS 31.102 4.2.5), 5-byte entries
  Bytes oplmn_wact;                        // EF.OPLMNwAcT content (4.2.53)
  Bytes spn;                               // EF.SPN content (4.2.12): display condition + name, <= 17 bytes
  std::string label;                       // UTF-8, <= 32 bytes
};

// Data object tags of the account template (A0) and of LIST (A1).
namespace tag {
inline constexpr std::uint8_t kAccountTemplate = 0xA0, kListEntry = 0xA1;
inline constexpr std::uint8_t kId = 0x80, kImsi = 0x81, kKi = 0x82, kOpc = 0x83, kRotation = 0x84, kXoring = 0x85,
                              kHomePlmn = 0x86, kPlmnWact = 0x87, kOplmnWact = 0x88, kSpn = 0x89, kLabel = 0x8A,
                              kActive = 0x8B;
}  // namespace tag

// The STORE ACCOUNT data field (A0 { 80 id, 81 IMSI, 82 Ki, 83 OPc, ... })
// both ways. decode throws DecodeError with what is wrong (never a key).
Bytes encode_account(const Account& a);
Account decode_account(ByteView data);

// What LIST shows of an account: no Ki, no OPc, no constants.
Bytes encode_list_entry(const Account& a, bool active);

// IMSI digits <-> EF.IMSI (length byte, parity nibble, BCD). Throws DecodeError.
Bytes imsi_to_ef(std::string_view digits);
std::string imsi_from_ef(ByteView ef);
// "001" "01" -> the 3-byte PLMN coding of TS 24.008 10.5.1.13.
Bytes plmn_bytes(std::string_view mcc, std::string_view mnc);

}  // namespace rsp::masim
