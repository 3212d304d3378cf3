// The multi-account applet's commands, as otad sends them at the applet's
// TAR inside a TS 102 226 command script (issue 10: install, switch and
// delete an account).
//
// PROVISIONAL: the applet is defined by docs/multi-account-applet.md (branch
// masim), which was not published when this was written. Until then the
// APDUs below are our placeholder; this file is the one place to change
// when the applet's document lands (AID, TAR, CLA/INS/P1/P2 and the data
// objects).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "rsp/bytes.hpp"
#include "rsp/ota/security_parameters.hpp"

namespace rsp::otad {

// An account as the visited operator allocates it (its HSS has the same).
struct Account {
  std::uint8_t id = 1;  // the applet's slot, 1..15
  std::string imsi;     // 6..15 digits
  SecretBytes ki;       // 16 bytes
  SecretBytes opc;      // 16 bytes
  std::string spn;      // service provider name, optional
  std::string label;    // shown to the user, optional
};

// The applet's TAR and AID (placeholders, see above).
ota::Tar multi_account_tar();
Bytes multi_account_aid();

// The C-APDUs of each operation, starting with the SELECT of the applet.
// std::invalid_argument for a value out of range (slot, IMSI digits, key length).
std::vector<Bytes> install_account_apdus(const Account& a);
std::vector<Bytes> switch_account_apdus(std::uint8_t id);
std::vector<Bytes> delete_account_apdus(std::uint8_t id);

}  // namespace rsp::otad
