// Remote application management by otad (RAM: ETSI TS 102 226 8 with the
// GlobalPlatform card management commands of GP Card Specification 2.3.1
// chapter 11): the operator's request as the ISD's C-APDUs, built by
// applet-tools' command builder (rsp::gp, not rebuilt here), which otad
// sends in an expanded command script to the ISD's TAR 000000 over SCP80 or
// in an admin session's script for the ISD over SCP81; and the command's
// result read back from its R-APDUs (docs/ota.md, "Remote application
// management").
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rsp/bytes.hpp"
#include "rsp/gp/commands.hpp"

namespace rsp::otad {

struct ApplicationRequest {
  enum class Action { Install, Delete, Lock, Unlock, Status };
  Action action = Action::Status;
  // install (GP 2.3.1 11.5.2.3): the executable load file, its module, the
  // new instance's AID, its privileges (1 or 3 bytes, Table 11-7) and the
  // application specific parameters (the value of C9).
  Bytes load_file_aid, module_aid, instance_aid, privileges, install_params;
  bool make_selectable = true;
  // delete (11.2), lock/unlock (SET STATUS 11.10): the object's AID;
  // delete with "related objects" (P2 80).
  Bytes aid;
  bool related = false;
  // status (GET STATUS 11.4): which part of the registry.
  gp::StatusScope scope = gp::StatusScope::Applications;
};

// The C-APDUs of a request, in script order. Throws std::invalid_argument
// (the reason names the field) for an AID outside 5..16 bytes (ISO 7816-5)
// or privileges that are not 1 or 3 bytes.
std::vector<Bytes> application_apdus(const ApplicationRequest& r);

// The result of a RAM script from its C-APDUs and R-APDUs: success only
// when every C-APDU ran and each answered 90 00. A PoR 00 (or a session
// with X-Admin-Script-Status "ok") says only that the script was accepted
// and run up to its end or its first error (TS 102 225 5.2, TS 102 226
// 5.1.1); the card manager's refusal is in the R-APDU.
//   {"success", "commands": [{"command", "sw", "meaning"}...],
//    "failed": {"command", "sw", "meaning"}       (the first that failed)
//    "registry": [{"aid", "life_cycle", "privileges", ...}]  (GET STATUS)}
nlohmann::json application_result(ByteView command_script, const std::vector<Bytes>& r_apdus);

}  // namespace rsp::otad
