// SGP.22 v2.2.2 section 4.1: the Activation Code.
//
//   Activation Code = AC_Format "$" SM-DP+ Address "$" AC_Token
//                     [ "$" SM-DP+ OID [ "$" Confirmation Code Required Flag ] ]
//
// AC_Format is "1". The text form (QR code, URI) carries the scheme prefix
// "LPA:" in front of it ("LPA:1$SMDP.GSMA.COM$04386-AGYFT-A74Y8-3F815"); the
// prefix is matched case-insensitively and is optional on input. An optional
// field that is followed by a present field is left empty but keeps its
// delimiter ("1$SMDP.GSMA.COM$TOKEN$$1": no OID, CC required).
#pragma once
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace rsp {

struct ActivationCodeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct ActivationCode {
  std::string smdp_address;               // FQDN, optionally ":port" (kept as written)
  std::string matching_id;                // AC_Token (the MatchingID sent in ctxParams1)
  std::optional<std::string> smdp_oid;    // dotted OID of the SM-DP+ (CERT.DPauth), if given
  bool confirmation_code_required = false;

  // Parses the activation code with or without the "LPA:" prefix. Surrounding
  // whitespace (a scanner's trailing newline) is ignored. Throws
  // ActivationCodeError naming the offending field:
  //  - AC_Format other than "1", fewer than 3 or more than 5 fields;
  //  - empty or malformed SM-DP+ address (letters, digits, '-', '.', optional
  //    ":port" 1..65535; no empty labels);
  //  - empty AC_Token, or one with control characters;
  //  - an OID that is not dotted decimal with at least two arcs;
  //  - a Confirmation Code Required Flag other than "1" (or empty);
  //  - trailing empty fields ("1$a.b$TOKEN$" / "...$$").
  static ActivationCode parse(std::string_view text);

  // The canonical form, "LPA:1$..." (with_prefix) or "1$...": optional fields
  // are written only as far as needed.
  std::string to_string(bool with_prefix = true) const;

  bool operator==(const ActivationCode&) const = default;
};

}  // namespace rsp
