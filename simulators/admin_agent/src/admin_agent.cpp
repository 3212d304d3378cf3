// The card's SCP81 admin agent; see admin_agent.hpp.
#include "rsp/admin_agent/admin_agent.hpp"

#include <cctype>

#include "rsp/ota/scp81_protocol.hpp"

namespace rsp::admin_agent {

namespace scp81 = ota::scp81;

AdminAgentConfig agent_config_from_trigger(const scp81::TriggeringParameters& t, AdminAgentConfig c) {
  if (t.connection) {
    if (t.connection->transport_protocol != scp81::kTransportTcpClientRemote)
      throw AgentError("trigger asks for a transport other than TCP client mode");
    if (t.connection->address_type == scp81::kAddressIpv4) c.server_host = t.connection->ipv4_text();
    c.server_port = t.connection->port;
  }
  if (t.security) c.psk_identity = to_string(t.security->psk_identity);
  if (t.http_post) {
    if (t.http_post->admin_host) c.host_header = *t.http_post->admin_host;
    if (t.http_post->agent_id) c.admin_from = *t.http_post->agent_id;
    if (t.http_post->admin_uri) c.admin_uri = *t.http_post->admin_uri;
  }
  return c;
}

namespace {

// X-Admin-Targeted-Application "//aid/A000000151/000000" names a security
// domain (GlobalPlatform RID A000000151, or the ISD's A000000003): its
// scripts are GlobalPlatform commands (RAM); anything else keeps the agent's
// default.
ota::CommandSet command_set_for(const std::string& targeted, ota::CommandSet fallback) {
  if (targeted.empty()) return fallback;
  std::string upper;
  for (char ch : targeted) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
  if (upper.rfind("//AID/A000000151", 0) == 0 || upper.rfind("//AID/A000000003", 0) == 0)
    return ota::CommandSet::GlobalPlatform;
  return fallback;
}

}  // namespace

AgentResult AdminAgent::run(const ota::ApduExecutor& execute) {
  PskTlsOptions o;
  o.host = cfg_.server_host;
  o.port = cfg_.server_port;
  o.host_header = cfg_.host_header;
  o.psk_identity = cfg_.psk_identity;
  o.psk = cfg_.psk;
  o.suites = cfg_.suites;
  o.timeout = cfg_.timeout;
  PskTlsConnection conn(o);
  AgentResult result;
  result.suite = conn.suite();

  const std::string protocol(scp81::kProtocol);
  std::vector<HttpHeader> headers = {{std::string(scp81::kHeaderProtocol), protocol}};
  if (!cfg_.admin_from.empty()) headers.push_back({std::string(scp81::kHeaderFrom), cfg_.admin_from});
  // The first POST carries no script response (Amendment B 3.4.1).
  HttpReply reply = conn.post(cfg_.admin_uri, headers, {});
  for (;;) {
    if (reply.status == 204) {
      result.completed = true;
      break;
    }
    if (reply.status != 200) throw AgentError("admin server answered HTTP " + std::to_string(reply.status));
    if (!scp81::same_media_type(reply.header("Content-Type"), scp81::kMediaCommand))
      throw AgentError("admin server sent another media type than a command script");
    const std::string next = reply.header(scp81::kHeaderNextUri);
    if (next.empty()) throw AgentError("admin server sent a script without X-Admin-Next-URI");
    if (result.rounds >= cfg_.max_rounds) throw AgentError("too many scripts in one session");
    const std::string targeted = reply.header(scp81::kHeaderTargetedApplication);
    if (!targeted.empty() && cfg_.check_target) {
      if (auto refusal = cfg_.check_target(targeted)) {
        // Nothing runs; the status goes without a response script.
        result.refused = refusal;
        std::vector<HttpHeader> h = headers;
        h.push_back({std::string(scp81::kHeaderScriptStatus), std::string(scp81::script_status_name(*refusal))});
        reply = conn.post(next, h, {});
        continue;
      }
    }
    if (cfg_.on_script) cfg_.on_script(targeted);
    ota::ResponseScript rs =
        ota::run_command_script(reply.body, execute, command_set_for(targeted, cfg_.command_set));
    rs.format = ota::ScriptFormat::Expanded;
    ++result.rounds;
    const Bytes body = ota::encode_response_script(rs);
    result.responses.push_back(std::move(rs));
    std::vector<HttpHeader> h = headers;
    h.push_back({"Content-Type", std::string(scp81::kMediaResponse)});
    h.push_back({std::string(scp81::kHeaderScriptStatus), std::string(scp81::script_status_name(scp81::ScriptStatus::Ok))});
    reply = conn.post(next, h, body);
  }
  conn.close();
  return result;
}

}  // namespace rsp::admin_agent
