#include "rsp/agents/es2plus_client.hpp"

#include "rsp/crypto.hpp"
#include "rsp/json.hpp"

namespace rsp::agents {

using json = nlohmann::json;

Es2PlusClient::Es2PlusClient(std::string base_url, http::ClientConfig tls, std::string requester_id)
    : base_url_(std::move(base_url)), client_(std::move(tls)), requester_id_(std::move(requester_id)) {}

json Es2PlusClient::call(const std::string& function, json body) {
  body["header"] = {{"functionRequesterIdentifier", requester_id_},
                    {"functionCallIdentifier", to_hex(crypto::random_bytes(8))}};
  http::Headers h;
  h.set("Content-Type", "application/json");
  h.set("X-Admin-Protocol", "gsma/rsp/v2.2.2");
  auto r = client_.post(base_url_ + "/gsma/rsp2/es2plus/" + function, body.dump(), h);
  if (r.status != 200) throw std::runtime_error("ES2+ " + function + ": HTTP " + std::to_string(r.status));
  json j;
  try {
    // ES2+ responses (SGP.22 5.3): a header and a few flat members.
    j = parse_json(r.body, JsonLimits{64 * 1024, 8, 1000, 16 * 1024});
  } catch (const JsonError& e) {
    throw std::runtime_error("ES2+ " + function + ": response is not JSON (" + e.what() + ")");
  }
  const json& st = j["header"]["functionExecutionStatus"];
  if (st.value("status", "") != "Executed-Success") {
    const json& d = st.contains("statusCodeData") ? st["statusCodeData"] : json::object();
    throw Es2PlusError(d.value("subjectCode", "?"), d.value("reasonCode", "?"), d.value("message", function + " failed"));
  }
  return j;
}

std::string Es2PlusClient::download_order(const std::string& eid, const std::string& profile_type) {
  return call("downloadOrder", {{"eid", eid}, {"profileType", profile_type}}).at("iccid").get<std::string>();
}

Es2PlusClient::Confirmed Es2PlusClient::confirm_order(const std::string& iccid, const std::string& eid) {
  json j = call("confirmOrder", {{"iccid", iccid}, {"eid", eid}, {"releaseFlag", true}});
  return Confirmed{j.at("matchingId").get<std::string>(), j.at("smdpAddress").get<std::string>()};
}

void Es2PlusClient::cancel_order(const std::string& iccid, const std::string& eid) {
  call("cancelOrder", {{"iccid", iccid}, {"eid", eid}, {"finalProfileStatusIndicator", "Available"}});
}

}  // namespace rsp::agents
