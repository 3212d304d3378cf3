#include "rsp/smdp/server.hpp"

#include <map>

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
// The request body as a JSON object; a discarded value if it is not one.
nlohmann::json parse_object(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  return j.is_object() ? j : nlohmann::json(nlohmann::json::value_t::discarded);
}
}  // namespace

http::Response handle_es2plus(Es2Plus& es2, const std::vector<OperatorConfig>& operators, const http::Request& req) {
  constexpr std::string_view prefix = "/gsma/rsp2/es2plus/";
  std::string_view path = req.path();
  if (path.substr(0, prefix.size()) != prefix) return http::Response::text(404, "not found\n");
  if (req.method != "POST") return http::Response::text(405, "ES2+ functions are called with POST\n");
  const OperatorConfig* op = nullptr;
  for (const auto& o : operators)
    if (req.peer_certificate && *req.peer_certificate == o.certificate) op = &o;
  if (!op) return http::Response::text(403, "client certificate is not an ES2+ operator's\n");
  std::string function(path.substr(prefix.size()));
  nlohmann::json body = parse_object(req.body);
  if (body.is_discarded()) return http::Response::text(400, "request body is not a JSON object\n");
  try {
    // SGP.22 6.5.1.3: the requester named in the header must be the caller.
    if (auto h = body.find("header"); h != body.end() && h->is_object()) {
      auto fri = h->find("functionRequesterIdentifier");
      if (fri != h->end() && (!fri->is_string() || fri->get<std::string>() != op->id))
        throw FunctionError("1.1", "1.2", "functionRequesterIdentifier is not the authenticated operator");
    }
    if (function == "downloadOrder") return json_response(es2.download_order(op->id, body));
    if (function == "confirmOrder") return json_response(es2.confirm_order(op->id, body));
    if (function == "cancelOrder") return json_response(es2.cancel_order(op->id, body));
    if (function == "releaseProfile") return json_response(es2.release_profile(op->id, body));
    return http::Response::text(404, "unknown ES2+ function\n");
  } catch (const FunctionError& e) {
    log::warn("es2+", op->id + " " + function + " failed " + e.subject_code + "/" + e.reason_code + ": " + e.what());
    return json_response(failed(e));
  }
}

http::Response handle_es9plus(Es9Plus& es9, const http::Request& req) {
  std::string_view path = req.path();
  if (path.substr(0, kPrefix.size()) != kPrefix) return http::Response::text(404, "not found\n");
  if (req.method != "POST") return http::Response::text(405, "ES9+ functions are called with POST\n");
  // SGP.22 6.5.1: X-Admin-Protocol gsma/rsp/v<x.y.z>; we speak 2.x.
  auto proto = req.headers.get_or("X-Admin-Protocol", "");
  if (proto.rfind("gsma/rsp/v2.", 0) != 0) return http::Response::text(400, "unsupported X-Admin-Protocol\n");
  std::string function(path.substr(kPrefix.size()));

  nlohmann::json body = parse_object(req.body);
  if (body.is_discarded()) return http::Response::text(400, "request body is not a JSON object\n");
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
  es2_ = std::make_unique<Es2Plus>(config, *profiles_);
  operators_ = config.operators;
  std::map<std::string, std::string> endpoints;
  for (const auto& o : config.operators)
    if (!o.notification_url.empty()) endpoints[o.id] = o.notification_url;
  http::ClientConfig nc;
  if (!config.operator_endpoint_ca_file.empty()) nc.ca_file = config.operator_endpoint_ca_file;
  nc.timeout = std::chrono::milliseconds(10'000);
  // ES2+ both ways (SGP.22 2.6.6, 5.3): our calls to operators present our
  // own client certificate, by default CERT.DP.TLS (it carries clientAuth).
  const Bytes& client_cert = config.es2_client_certificate.empty() ? config.tls_certificate : config.es2_client_certificate;
  nc.client_cert_pem = to_bytes(certs::to_pem(certs::der_from_pem_or_der(client_cert)));
  nc.client_key_pem = config.es2_client_key.empty() ? config.tls_key : config.es2_client_key;
  notifier_ = std::make_unique<ProgressNotifier>(*db_, endpoints, nc, config.functional_id);
  es9_->on_progress = [this](const ProgressEvent& e) { notifier_->enqueue(e); };
  es2_->on_progress = es9_->on_progress;
  http::ServerConfig hc;
  hc.bind_address = config.listen;
  hc.port = config.port;
  hc.threads = config.threads;
  http::ServerTlsConfig t;
  t.certificate_chain = config.tls_certificate;
  t.private_key = config.tls_key;
  hc.tls = t;
  http_ = std::make_unique<http::Server>(hc, [this](const http::Request& r) { return handle_es9plus(*es9_, r); });
  if (config.es2plus_port) {
    http::ServerConfig ec = hc;
    ec.port = config.es2plus_port;
    ec.tls->client_auth = http::ClientAuth::Required;
    ec.tls->client_ca_chain = config.operator_ca;
    es2_http_ = std::make_unique<http::Server>(
        ec, [this](const http::Request& r) { return handle_es2plus(*es2_, operators_, r); });
  }
}

Server::~Server() { stop(); }
void Server::start() {
  http_->start();
  if (es2_http_) es2_http_->start();
  notifier_->start();
}
void Server::stop() {
  if (http_) http_->stop();
  if (es2_http_) es2_http_->stop();
  if (notifier_) notifier_->stop();
}
std::uint16_t Server::port() const { return http_->port(); }
std::uint16_t Server::es2plus_port() const { return es2_http_ ? es2_http_->port() : 0; }

}  // namespace rsp::smdp
