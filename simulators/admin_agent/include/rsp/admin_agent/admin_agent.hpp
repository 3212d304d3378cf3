// The card's SCP81 admin agent (GlobalPlatform Card Specification
// Amendment B 3.3-3.7, ETSI TS 102 226 annex B): opens PSK-TLS to the
// administration server, posts, runs each command script it receives C-APDU
// by C-APDU through the card's executor, posts the response script to
// X-Admin-Next-URI, and stops at 204 No Content.
//
// A library class: a card (the multi-account UICC) builds one from its
// stored administration session parameters, overridden by the trigger that
// arrived in a push SMS (agent_config_from_trigger), and calls run() with
// its APDU executor. The agent keeps nothing between sessions.
#pragma once
#include <chrono>
#include <functional>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "rsp/admin_agent/psk_tls_connection.hpp"
#include "rsp/bytes.hpp"
#include "rsp/ota/command_script.hpp"
#include "rsp/ota/remote_management.hpp"
#include "rsp/ota/scp81_protocol.hpp"
#include "rsp/ota/scp81_trigger.hpp"

namespace rsp::admin_agent {

struct AdminAgentConfig {
  std::string server_host = "127.0.0.1";  // where to connect (the trigger's other address)
  std::uint16_t server_port = 0;
  std::string host_header;                // Host (8A); empty = server_host
  std::string admin_uri = "/gp/admin";    // the first POST's target (8C)
  std::string admin_from;                 // X-Admin-From (8B), e.g. "//se-id/iccid/8949..."
  std::string psk_identity;               // (85)
  SecretBytes psk;                        // the key the identity names in the security domain
  std::vector<int> suites;                // empty = default_psk_suites()
  std::chrono::milliseconds timeout{10'000};
  std::size_t max_rounds = 64;            // scripts per session before the agent gives up
  // The command set a script is read with when no X-Admin-Targeted-Application
  // says otherwise: RFM on the UICC file system by default.
  ota::CommandSet command_set = ota::CommandSet::Uicc;
  // Can the card run a script for this X-Admin-Targeted-Application
  // ("//aid/<RID>/<PIX>")? nullopt = yes; otherwise the status the agent
  // answers instead of running it (Amendment B 3.5.2: unknown-application,
  // not-a-security-domain, security-error), with no response script. Unset
  // = every target is accepted.
  std::function<std::optional<ota::scp81::ScriptStatus>(const std::string& targeted)> check_target;
  // Called before each script the agent runs with its
  // X-Admin-Targeted-Application ("" = none), so that the card can route
  // the script's C-APDUs to that application.
  std::function<void(const std::string& targeted)> on_script;
};

// The stored parameters with what the trigger carries laid over them
// (Amendment B: the trigger's values win). The PSK itself never travels in
// a trigger: `psk` stays the caller's (found by the trigger's key version
// and identifier in the card's key set).
AdminAgentConfig agent_config_from_trigger(const ota::scp81::TriggeringParameters& trigger,
                                           AdminAgentConfig stored);

struct AgentResult {
  bool completed = false;  // the server ended with 204
  std::size_t rounds = 0;  // scripts run
  std::string suite;       // negotiated TLS suite
  std::vector<ota::ResponseScript> responses;
  std::optional<ota::scp81::ScriptStatus> refused;  // a script not run: the status answered
};

class AdminAgent {
 public:
  explicit AdminAgent(AdminAgentConfig config) : cfg_(std::move(config)) {}

  // One administration session. Throws AgentError when the connection, the
  // handshake or the HTTP exchange fails, or the server answers other than
  // 200 with a script or 204 (no C-APDU runs after that).
  AgentResult run(const ota::ApduExecutor& execute);

 private:
  AdminAgentConfig cfg_;
};

}  // namespace rsp::admin_agent
