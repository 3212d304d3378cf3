// The multi-account applet's commands, as otad sends them at the applet's
// TAR inside a TS 102 226 command script (issue 10: install, switch and
// delete an account).
//
// The applet, its AID, TAR and APDUs are specified in
// docs/multi-account-applet.md (STORE ACCOUNT with the account template A0,
// SWITCH ACCOUNT, DELETE ACCOUNT); this file is the one place that codes
// them on the server's side.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "rsp/bytes.hpp"
#include "rsp/ota/security_parameters.hpp"

namespace rsp::otad {

// An account as the visited operator allocates it (its HSS has the same).
struct Account {
  std::uint8_t id = 1;  // the operator's choice, 01..FE; the same id again replaces the account
  std::string imsi;     // 6..15 digits
  SecretBytes ki;       // 16 bytes
  SecretBytes opc;      // 16 bytes
  std::string spn;      // service provider name, optional (EF.SPN: letters, digits, space . - only, up to 16)
  std::string label;    // UTF-8, up to 32 bytes, optional
};

// The applet's TAR (4D 41 53) and AID (F0 52 53 50 4D 41 01).
ota::Tar multi_account_tar();
Bytes multi_account_aid();

// The C-APDUs of each operation, starting with the SELECT of the applet.
// std::invalid_argument for a value out of range (id, IMSI digits, key length, SPN, label).
std::vector<Bytes> install_account_apdus(const Account& a);
std::vector<Bytes> switch_account_apdus(std::uint8_t id);
std::vector<Bytes> delete_account_apdus(std::uint8_t id);

}  // namespace rsp::otad
