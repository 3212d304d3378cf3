// What the Accept of a multi-account Request carries, sealed to the home
// operator (ledger::seal with ledger::accept_context, as ProfileDelivery):
// one subscription of the visited operator for the subscriber's card, as the
// home operator's OTA server will store it in the card's multi-account applet
// (docs/multi-account-applet.md).
//
//   {"kind":"account","iccid":<card>,"imsi","ki","opc","spn","label","home_plmn"}
//
// Ki and OPc in hex. The Accept's package_hash is SHA-256 of these exact
// bytes (to_json()), so the home agent's hash check covers the account.
#pragma once
#include <string>

#include "rsp/bytes.hpp"

namespace rsp::agents {

struct AccountDelivery {
  std::string iccid;      // the card it is for (the Request's target)
  std::string imsi;       // in the visited operator's PLMN
  SecretBytes ki, opc;    // 16 bytes each
  std::string spn;        // EF.SPN once active (up to 16 characters)
  std::string label;      // what the subscriber's menu shows (up to 32 bytes)
  std::string home_plmn;  // the visited operator's PLMN: the account's HPLMN

  Bytes to_json() const;
  static AccountDelivery from_json(ByteView j);  // throws std::runtime_error
  // True when `j` is a sealed delivery of kind "account" (else a profile).
  static bool is_account(ByteView j);
};

}  // namespace rsp::agents
