#include "rsp/agents/otad_client.hpp"

#include <cctype>
#include <nlohmann/json.hpp>
#include <thread>

#include "rsp/json.hpp"

namespace rsp::agents {

using json = nlohmann::json;

namespace {
constexpr std::size_t kMaxAnswer = 64 * 1024;  // a command's status with its R-APDUs: a few KB

json parse_answer(const http::Response& r) {
  try {
    return parse_json(r.body, JsonLimits{kMaxAnswer, 4, 1000, 16 * 1024});
  } catch (const JsonError&) {
    return json::object();
  }
}

[[noreturn]] void refuse(const http::Response& r) {
  json j = parse_answer(r);
  throw OtadError(r.status, j.is_object() && j.contains("error") && j["error"].is_string() ? j["error"].get<std::string>()
                                                                                            : "no reason given");
}

http::Headers json_headers() {
  http::Headers h;
  h.set("Content-Type", "application/json");
  return h;
}

bool iccid_ok(const std::string& s) {
  return s.size() >= 18 && s.size() <= 20 && s.find_first_not_of("0123456789") == std::string::npos;
}
}  // namespace

bool OtaCommandStatus::final() const {
  return state == "por_ok" || state == "done" || state == "por_error" || state == "expired" || state == "cancelled" ||
         state == "failed";
}

bool OtaCommandStatus::success() const {
  if (state != "por_ok" && state != "done") return false;
  if (r_apdus.empty()) return false;  // no response script: nothing says the applet ran
  for (const auto& r : r_apdus) {
    // 90 00, or 91 xx (done, and a proactive command pending: the REFRESH).
    if (r.size() < 4) return false;
    std::string sw = r.substr(r.size() - 4);
    for (auto& c : sw) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (sw != "9000" && sw.rfind("91", 0) != 0) return false;
  }
  return true;
}

std::string OtaCommandStatus::describe() const {
  std::string s = "command " + id + " " + state;
  if (por_status) s += ", PoR " + *por_status + (por_status_name ? " (" + *por_status_name + ")" : "");
  if (executed >= 0) s += ", " + std::to_string(executed) + " APDUs executed";
  if (!r_apdus.empty()) s += ", last SW " + r_apdus.back().substr(r_apdus.back().size() >= 4 ? r_apdus.back().size() - 4 : 0);
  return s;
}

OtadClient::OtadClient(std::string base_url, http::ClientConfig tls, std::string transport)
    : base_url_(std::move(base_url)), client_(std::move(tls)), transport_(std::move(transport)) {
  if (transport_ != "sms" && transport_ != "scp81") throw std::invalid_argument("OTA transport must be sms or scp81");
}

bool OtadClient::card_known(const std::string& iccid) {
  if (!iccid_ok(iccid)) throw std::invalid_argument("ICCID must be 18 to 20 digits");
  auto r = client_.get(base_url_ + "/ota/v1/cards/" + iccid);
  if (r.status == 404) return false;
  if (r.status != 200) refuse(r);
  return true;
}

std::string OtadClient::queue(const std::string& path, const std::string& body) {
  auto r = client_.post(base_url_ + path, body, json_headers());
  if (r.status != 202) refuse(r);
  json j = parse_answer(r);
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string()) throw OtadError(r.status, "answer without a command id");
  return j["id"].get<std::string>();
}

std::string OtadClient::install_account(const std::string& iccid, const OtaAccount& a) {
  if (!iccid_ok(iccid)) throw std::invalid_argument("ICCID must be 18 to 20 digits");
  json b = {{"id", a.slot}, {"imsi", a.imsi}, {"ki", to_hex(a.ki)}, {"opc", to_hex(a.opc)}};
  if (!a.spn.empty()) b["spn"] = a.spn;
  if (!a.label.empty()) b["label"] = a.label;
  // SMS (SCP80) is otad's default transport: named only when it is not.
  if (transport_ != "sms") b["transport"] = transport_;
  std::string body = b.dump();
  std::string id = queue("/ota/v1/cards/" + iccid + "/accounts", body);
  wipe(body.data(), body.size());  // it held Ki and OPc
  return id;
}

std::string OtadClient::switch_account(const std::string& iccid, int slot) {
  if (!iccid_ok(iccid)) throw std::invalid_argument("ICCID must be 18 to 20 digits");
  if (slot < 1 || slot > 254) throw std::invalid_argument("account id must be 1 to 254");
  json b = json::object();
  if (transport_ != "sms") b["transport"] = transport_;
  return queue("/ota/v1/cards/" + iccid + "/accounts/" + std::to_string(slot) + "/switch", b.dump());
}

OtaCommandStatus OtadClient::command(const std::string& id) {
  if (id.empty() || id.size() > 64 || id.find_first_of("/?#% ") != std::string::npos)
    throw std::invalid_argument("bad command id");
  auto r = client_.get(base_url_ + "/ota/v1/commands/" + id);
  if (r.status != 200) refuse(r);
  json j = parse_answer(r);
  if (!j.is_object() || !j.contains("state") || !j["state"].is_string()) throw OtadError(r.status, "answer without a state");
  OtaCommandStatus s;
  s.id = id;
  s.state = j["state"].get<std::string>();
  if (j.contains("por_status") && j["por_status"].is_string()) s.por_status = j["por_status"].get<std::string>();
  if (j.contains("por_status_name") && j["por_status_name"].is_string())
    s.por_status_name = j["por_status_name"].get<std::string>();
  if (j.contains("executed") && j["executed"].is_number_integer()) s.executed = j["executed"].get<int>();
  if (j.contains("r_apdus") && j["r_apdus"].is_array())
    for (const auto& x : j["r_apdus"])
      if (x.is_string()) s.r_apdus.push_back(x.get<std::string>());
  return s;
}

OtaCommandStatus OtadClient::wait(const std::string& id, std::chrono::milliseconds timeout,
                                  std::chrono::milliseconds interval) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    OtaCommandStatus s = command(id);
    if (s.final() || std::chrono::steady_clock::now() >= until) return s;
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace rsp::agents
