#include "rsp/smdp/server.hpp"

#include "rsp/log.hpp"
#include "rsp/smdp/status.hpp"

namespace rsp::smdp {

namespace {
constexpr std::string_view kPrefix = "/gsma/rsp2/es9plus/";

http::Response json_response(const nlohmann::json& body) {
  auto r = http::Response::json(body.dump());
  r.headers.set("Content-Type", "application/json;charset=UTF-8");
  r.headers.set("X-Admin-Protocol", "gsma/rsp/v2.2.2");
  return r;
}

nlohmann::json failed(const FunctionError& e) {
  return {{"header",
           {{"functionExecutionStatus",
             {{"status", "Failed"},
              {"statusCodeData",
               {{"subjectCode", e.subject_code}, {"reasonCode", e.reason_code}, {"message", e.what()}}}}}}}};
}
}  // namespace

http::Response handle_es9plus(Es9Plus& es9, const http::Request& req) {
  std::string_view path = req.path();
  if (path.substr(0, kPrefix.size()) != kPrefix) return http::Response::text(404, "not found\n");
  if (req.method != "POST") return http::Response::text(405, "ES9+ functions are called with POST\n");
  // SGP.22 6.5.1: X-Admin-Protocol gsma/rsp/v<x.y.z>; we speak 2.x.
  auto proto = req.headers.get_or("X-Admin-Protocol", "");
  if (proto.rfind("gsma/rsp/v2.", 0) != 0) return http::Response::text(400, "unsupported X-Admin-Protocol\n");
  std::string function(path.substr(kPrefix.size()));

  nlohmann::json body;
  try {
    body = nlohmann::json::parse(req.body);
  } catch (const nlohmann::json::exception&) {
    return http::Response::text(400, "request body is not JSON\n");
  }
  if (!body.is_object()) return http::Response::text(400, "request body is not a JSON object\n");
  try {
    if (function == "initiateAuthentication") return json_response(es9.initiate_authentication(body));
    if (function == "authenticateClient") return json_response(es9.authenticate_client(body));
    if (function == "getBoundProfilePackage") return json_response(es9.get_bound_profile_package(body));
    if (function == "cancelSession") return json_response(es9.cancel_session(body));
    if (function == "handleNotification") {
      es9.handle_notification(body);
      auto r = http::Response::empty(204);
      r.headers.set("X-Admin-Protocol", "gsma/rsp/v2.2.2");
      return r;
    }
    return http::Response::text(404, "unknown ES9+ function\n");
  } catch (const FunctionError& e) {
    log::warn("es9+", function + " failed " + e.subject_code + "/" + e.reason_code + ": " + e.what());
    return json_response(failed(e));
  } catch (const DecodeError& e) {
    FunctionError fe(code::kFunctionProvider, code::kInvalid, e.what());
    log::warn("es9+", function + " malformed input: " + e.what());
    return json_response(failed(fe));
  }
}

Server::Server(const Config& config) {
  db_ = std::make_unique<store::Db>(config.db_path);
  profiles_ = std::make_unique<ProfileStore>(*db_, config.storage_key);
  es9_ = std::make_unique<Es9Plus>(config, *profiles_);
  http::ServerConfig hc;
  hc.bind_address = config.listen;
  hc.port = config.port;
  hc.threads = config.threads;
  http::ServerTlsConfig t;
  t.certificate_chain = config.tls_certificate;
  t.private_key = config.tls_key;
  hc.tls = t;
  http_ = std::make_unique<http::Server>(hc, [this](const http::Request& r) { return handle_es9plus(*es9_, r); });
}

Server::~Server() { stop(); }
void Server::start() { http_->start(); }
void Server::stop() {
  if (http_) http_->stop();
}
std::uint16_t Server::port() const { return http_->port(); }

}  // namespace rsp::smdp
