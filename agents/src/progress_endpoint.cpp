#include "rsp/agents/progress_endpoint.hpp"

#include <nlohmann/json.hpp>

#include "rsp/json.hpp"

namespace rsp::agents {

using json = nlohmann::json;

namespace {
constexpr const char* kPath = "/gsma/rsp2/es2plus/handleDownloadProgressInfo";

http::Response status(const std::string& s, const std::string& subject = {}, const std::string& reason = {},
                      const std::string& message = {}) {
  json st{{"status", s}};
  if (s != "Executed-Success")
    st["statusCodeData"] = {{"subjectCode", subject}, {"reasonCode", reason}, {"message", message}};
  return http::Response::json(json{{"header", {{"functionExecutionStatus", st}}}}.dump());
}
}  // namespace

void ProgressInbox::push(ProgressReport r) {
  std::lock_guard l(mu_);
  q_.push_back(std::move(r));
}

std::vector<ProgressReport> ProgressInbox::take() {
  std::lock_guard l(mu_);
  std::vector<ProgressReport> out(q_.begin(), q_.end());
  q_.clear();
  return out;
}

ProgressEndpoint::ProgressEndpoint(http::ServerTlsConfig tls, ProgressInbox& inbox) : inbox_(inbox) {
  http::ServerConfig c;
  c.tls = std::move(tls);
  c.threads = 1;
  server_ = std::make_unique<http::Server>(c, [this](const http::Request& r) { return handle(r); });
}

ProgressEndpoint::~ProgressEndpoint() { server_->stop(); }

void ProgressEndpoint::start() { server_->start(); }

std::string ProgressEndpoint::url() const { return "https://localhost:" + std::to_string(server_->port()) + kPath; }

http::Response ProgressEndpoint::handle(const http::Request& r) {
  if (r.method != "POST" || r.target != kPath) return http::Response::text(404, "not found\n");
  json j;
  try {
    // HandleDownloadProgressInfo (SGP.22 5.3.5): a few flat members, the
    // deepest the notificationPointStatus's statusCodeData, and resultData.
    j = parse_json(r.body, JsonLimits{64 * 1024, 8, 1000, 32 * 1024});
  } catch (const JsonError&) {
    return http::Response::text(400, "malformed JSON\n");
  }
  if (!j.is_object()) return http::Response::text(400, "malformed JSON\n");
  // SGP.22 JSON binding codes: 1.2 / 2.2 for a missing mandatory element.
  if (!j.contains("iccid") || !j["iccid"].is_string() || !j.contains("notificationPointId") ||
      !j["notificationPointId"].is_number_integer() || !j.contains("notificationPointStatus"))
    return status("Failed", "1.2", "2.2", "iccid, notificationPointId and notificationPointStatus are mandatory");
  ProgressReport rep;
  rep.iccid = j["iccid"].get<std::string>();
  rep.profile_type = j.value("profileType", "");
  rep.notification_point_id = j["notificationPointId"].get<int>();
  rep.success = j["notificationPointStatus"].value("status", "") == "Executed-Success";
  inbox_.push(std::move(rep));
  return status("Executed-Success");
}

}  // namespace rsp::agents
