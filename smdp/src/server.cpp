#include "rsp/smdp/server.hpp"

#include <arpa/inet.h>

#include <ctime>
#include <map>
#include <optional>

#include "rsp/crypto.hpp"
#include "rsp/json.hpp"
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

// The names SGP.22 gives its subject and reason codes (v2.2.2 Annex H).
std::string_view subject_name(std::string_view c) {
  static const std::map<std::string_view, std::string_view> names = {
      {"1.1", "Function Requester"}, {"1.2", "Function Provider"},   {"8.1", "eUICC"},
      {"8.1.1", "EID"},              {"8.1.2", "EUM Certificate"},   {"8.1.3", "eUICC Certificate"},
      {"8.2", "Profile"},            {"8.2.1", "Profile ICCID"},     {"8.2.5", "Profile Type"},
      {"8.2.6", "Matching ID"},      {"8.2.7", "Confirmation Code"}, {"8.8.1", "SM-DP+ Address"},
      {"8.8.2", "Security Configuration"}, {"8.8.3", "Specification Version Number"},
      {"8.8.4", "Certificate"},      {"8.10.1", "TransactionId"},    {"8.11.1", "CI Public Key"}};
  auto it = names.find(c);
  return it == names.end() ? std::string_view("Subject") : it->second;
}
std::string_view reason_name(std::string_view c) {
  static const std::map<std::string_view, std::string_view> names = {
      {"1.2", "Not Allowed"},   {"2.1", "Invalid"},  {"2.2", "Mandatory Element Missing"},
      {"3.1", "Unsupported"},   {"3.3", "In Use"},   {"3.7", "Unavailable"},
      {"3.8", "Refused"},       {"3.9", "Unknown"},  {"3.10", "Invalid Association"},
      {"4.3", "No Eligible Profile"}, {"4.8", "Insufficient Memory"},
      {"6.1", "Verification Failed"}, {"6.3", "Expired"},
      {"6.4", "Maximum Number of Retries Exceeded"}};
  auto it = names.find(c);
  return it == names.end() ? std::string_view("Failed") : it->second;
}

// statusCodeData.message sent to the caller: the SGP.22 names of the codes.
// The detailed reason (which may quote a certificate chain, our trusted CIs'
// names or a decoder's wording) stays in the server's log. Malformed-request
// errors (subject 1.x) keep their message: ours, naming the request's field.
std::string public_message(const FunctionError& e) {
  if (e.subject_code.rfind("1.", 0) == 0) return e.what();
  return std::string(subject_name(e.subject_code)) + " - " + std::string(reason_name(e.reason_code));
}

nlohmann::json failed(const FunctionError& e) {
  return {{"header",
           {{"functionExecutionStatus",
             {{"status", "Failed"},
              {"statusCodeData",
               {{"subjectCode", e.subject_code}, {"reasonCode", e.reason_code}, {"message", public_message(e)}}}}}}}};
}

// ES9+ and ES2+ bodies are a flat object of strings (a `header` object one
// level down): 8 levels and 1,000 values leave room for any extension.
const JsonLimits kBodyLimits = [] {
  JsonLimits l;
  l.max_depth = 8;
  l.max_values = 1000;
  l.max_string_bytes = 256 * 1024;  // the body limit is lower anyway
  return l;
}();

// The request body as a JSON object, parsed within kBodyLimits (no tree a
// client sends can be deep or large: nlohmann's copy, dump and compare
// recurse); nullopt with a short reason otherwise.
std::optional<nlohmann::json> parse_object(const std::string& text, std::string& why) {
  try {
    nlohmann::json j = parse_json(text, kBodyLimits);
    if (j.is_object()) return j;
    why = "not a JSON object";
  } catch (const JsonError& e) {
    why = e.what();
  }
  return std::nullopt;
}

http::Response bad_body(const std::string& why) {
  return http::Response::text(400, "request body is not a usable JSON object: " + why + "\n");
}
}  // namespace

AddressRateLimiter::AddressRateLimiter(double per_second, int burst)
    : per_second_(per_second), burst_(static_cast<double>(burst)) {}

std::string AddressRateLimiter::address_key(std::string_view remote) {
  if (!remote.empty() && remote.front() == '[') {
    std::string host(remote.substr(1, remote.find(']') - 1));
    unsigned char a[16];
    if (inet_pton(AF_INET6, host.c_str(), a) == 1) {
      std::fill(a + 8, a + 16, 0);  // the /64
      char out[INET6_ADDRSTRLEN];
      if (inet_ntop(AF_INET6, a, out, sizeof out)) return std::string(out) + "/64";
    }
    return host;
  }
  return std::string(remote.substr(0, remote.rfind(':')));
}

bool AddressRateLimiter::allow(std::string_view remote_address) {
  if (per_second_ <= 0 || burst_ <= 0) return true;
  auto now = std::chrono::steady_clock::now();
  std::string key = address_key(remote_address);
  std::lock_guard lock(mu_);
  // Bounded table: forget buckets that have refilled (an idle client is a
  // new client); under a spread-out flood, start afresh.
  if (buckets_.size() >= 100'000) {
    std::erase_if(buckets_, [&](const auto& kv) {
      return kv.second.tokens + std::chrono::duration<double>(now - kv.second.at).count() * per_second_ >= burst_;
    });
    if (buckets_.size() >= 100'000) buckets_.clear();
  }
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!fresh) {
    b.tokens = std::min(burst_, b.tokens + std::chrono::duration<double>(now - b.at).count() * per_second_);
    b.at = now;
  }
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

namespace {
// The audit row of one ES2+ call, before its outcome is known.
AuditEntry es2_audit_entry(const http::Request& req, std::string_view function, const OperatorConfig* op) {
  AuditEntry e;
  e.at = static_cast<std::int64_t>(std::time(nullptr));
  e.interface = "ES2+";
  e.actor = op ? op->id : "";
  e.action = std::string(function);
  e.client = req.remote_address;
  return e;
}

// A call not executed (HTTP error): recorded on its own, there is no change
// to go with it. Never fails the answer: the refusal stands either way.
http::Response refused(AuditTrail* audit, AuditEntry e, http::Response res, const std::string& why) {
  if (audit) {
    e.status = "Refused";
    e.code = res.status;
    e.detail = why;
    try {
      audit->record(e);
    } catch (const std::exception& x) {
      log::error("es2+", std::string("audit row of a refused call not written: ") + x.what());
    }
  }
  return res;
}

std::string json_text(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
}  // namespace

http::Response handle_es2plus(Es2Plus& es2, const std::vector<OperatorConfig>& operators, const http::Request& req,
                              std::string* result, AuditTrail* audit) {
  constexpr std::string_view prefix = "/gsma/rsp2/es2plus/";
  std::string_view path = req.path();
  if (path.substr(0, prefix.size()) != prefix) return http::Response::text(404, "not found\n");
  std::string function(path.substr(prefix.size()));
  const OperatorConfig* op = nullptr;
  for (const auto& o : operators)
    if (req.peer_certificate && *req.peer_certificate == o.certificate) op = &o;
  AuditEntry entry = es2_audit_entry(req, function, op);
  if (req.method != "POST")
    return refused(audit, entry, http::Response::text(405, "ES2+ functions are called with POST\n"), "method " + req.method);
  if (!op) {
    // Who it was, as far as TLS tells: the certificate's hash (the chain
    // verified against client_ca, but it is no configured operator's).
    std::string who = req.peer_certificate ? "client certificate SHA-256 " + to_hex(crypto::sha256(*req.peer_certificate))
                                           : std::string("no client certificate");
    return refused(audit, entry, http::Response::text(403, "client certificate is not an ES2+ operator's\n"),
                   who + " is not an operator's");
  }
  // SGP.22 6.5.1: ES2+ requests carry X-Admin-Protocol like ES9+ ones.
  if (req.headers.get_or("X-Admin-Protocol", "").rfind("gsma/rsp/v2.", 0) != 0)
    return refused(audit, entry, http::Response::text(400, "unsupported X-Admin-Protocol\n"), "unsupported X-Admin-Protocol");
  std::string why;
  auto parsed = parse_object(req.body, why);
  if (!parsed) return refused(audit, entry, bad_body(why), "body: " + why);
  nlohmann::json& body = *parsed;
  entry.iccid = json_text(body, "iccid");
  entry.matching_id = json_text(body, "matchingId");
  try {
    // The function's own transaction nests in this one (a savepoint), so the
    // change and its audit row commit together or not at all.
    std::optional<store::Transaction> tx;
    if (audit) tx.emplace(audit->db());
    // SGP.22 6.5.1.3: every ES2+ request carries a RequestHeader whose
    // functionRequesterIdentifier and functionCallIdentifier are mandatory,
    // and the requester it names must be the caller.
    auto h = body.find("header");
    if (h == body.end() || !h->is_object()) throw FunctionError(status::kMandatoryElementMissing, "missing header");
    for (const char* field : {"functionRequesterIdentifier", "functionCallIdentifier"}) {
      auto f = h->find(field);
      if (f == h->end() || !f->is_string() || f->get<std::string>().empty())
        throw FunctionError(status::kMandatoryElementMissing, std::string("missing header.") + field);
    }
    if ((*h)["functionRequesterIdentifier"].get<std::string>() != op->id)
      throw FunctionError("1.1", "1.2", "functionRequesterIdentifier is not the authenticated operator");
    auto done = [&](nlohmann::json j) {
      if (result) *result = "executed-success";
      if (audit) {
        if (auto v = json_text(j, "iccid"); !v.empty()) entry.iccid = v;
        if (auto v = json_text(j, "matchingId"); !v.empty()) entry.matching_id = v;
        entry.status = "Executed-Success";
        entry.code = 200;
        audit->record(entry);
        tx->commit();
      }
      return json_response(j);
    };
    if (function == "downloadOrder") return done(es2.download_order(op->id, body));
    if (function == "confirmOrder") return done(es2.confirm_order(op->id, body));
    if (function == "cancelOrder") return done(es2.cancel_order(op->id, body));
    if (function == "releaseProfile") return done(es2.release_profile(op->id, body));
    tx.reset();
    return refused(audit, entry, http::Response::text(404, "unknown ES2+ function\n"), "unknown function");
  } catch (const FunctionError& e) {
    if (result) *result = e.subject_code + "/" + e.reason_code;
    log::warn("es2+", op->id + " " + function + " failed " + e.subject_code + "/" + e.reason_code + ": " + e.what());
    if (audit) {
      // Nothing changed (rolled back): the refusal is a row of its own. If
      // even that cannot be written, the caller must not be told "Failed"
      // as if all were recorded: the exception makes it an HTTP 500.
      entry.status = "Failed";
      entry.subject_code = e.subject_code;
      entry.reason_code = e.reason_code;
      entry.code = 200;
      entry.detail = e.what();
      audit->record(entry);
    }
    return json_response(failed(e));
  } catch (const std::exception& e) {
    // Not the caller's fault (the store, say): rolled back, an HTTP 500.
    if (audit) {
      entry.status = "Error";
      entry.code = 500;
      entry.detail = "internal error";
      try {
        audit->record(entry);
      } catch (...) {
      }
    }
    throw;
  }
}

http::Response handle_es9plus(Es9Plus& es9, const http::Request& req, AddressRateLimiter* limiter,
                              std::string* result) {
  std::string_view path = req.path();
  if (path.substr(0, kPrefix.size()) != kPrefix) return http::Response::text(404, "not found\n");
  if (req.method != "POST") return http::Response::text(405, "ES9+ functions are called with POST\n");
  // SGP.22 6.5.1: X-Admin-Protocol gsma/rsp/v<x.y.z>; we speak 2.x.
  auto proto = req.headers.get_or("X-Admin-Protocol", "");
  if (proto.rfind("gsma/rsp/v2.", 0) != 0) return http::Response::text(400, "unsupported X-Admin-Protocol\n");
  std::string function(path.substr(kPrefix.size()));
  // Before any work. 429 (RFC 6585) rather than an SGP.22 status: the
  // function is not executed at all, and SGP.22 has no code for "too many
  // requests"; an LPA treats it like any HTTP error and retries later.
  if (limiter && function == "initiateAuthentication" && !limiter->allow(req.remote_address)) {
    auto r = http::Response::text(429, "too many initiateAuthentication requests from this address\n");
    r.headers.set("Retry-After", "1");
    return r;
  }

  std::string why;
  auto parsed = parse_object(req.body, why);
  if (!parsed) return bad_body(why);
  nlohmann::json& body = *parsed;
  try {
    auto done = [&](nlohmann::json j) {
      if (result) *result = "executed-success";
      return json_response(j);
    };
    if (function == "initiateAuthentication") return done(es9.initiate_authentication(body));
    if (function == "authenticateClient") return done(es9.authenticate_client(body));
    if (function == "getBoundProfilePackage") return done(es9.get_bound_profile_package(body));
    if (function == "cancelSession") return done(es9.cancel_session(body));
    if (function == "handleNotification") {
      es9.handle_notification(body);
      if (result) *result = "executed-success";
      auto r = http::Response::empty(204);
      r.headers.set("X-Admin-Protocol", "gsma/rsp/v2.2.2");
      return r;
    }
    return http::Response::text(404, "unknown ES9+ function\n");
  } catch (const FunctionError& e) {
    if (result) *result = e.subject_code + "/" + e.reason_code;
    log::warn("es9+", function + " failed " + e.subject_code + "/" + e.reason_code + ": " + e.what());
    return json_response(failed(e));
  } catch (const DecodeError& e) {
    // The decoder's wording stays in the log; the caller learns the code.
    FunctionError fe(code::kFunctionProvider, code::kInvalid, "malformed " + function + " request");
    if (result) *result = fe.subject_code + "/" + fe.reason_code;
    log::warn("es9+", function + " malformed input: " + e.what());
    return json_response(failed(fe));
  }
}

Server::Server(const Config& config) {
  db_ = std::make_unique<store::Db>(config.db_path);
  profiles_ = std::make_unique<ProfileStore>(*db_, config.storage_key);
  audit_ = std::make_unique<AuditTrail>(*db_);
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
  metrics_ = std::make_unique<SmdpMetrics>();
  metrics::Counter* installed = &metrics_->downloads.with({"installed"});
  metrics::Counter* install_failed = &metrics_->downloads.with({"install-failed"});
  es9_->on_install_result = [installed, install_failed](bool ok) { (ok ? installed : install_failed)->inc(); };
  metrics_->registry.on_scrape([this] { metrics_->collect_from(*db_); });
  access_log_ = config.access_log;
  // Readiness signs with every long-term key the SM-DP+ signs with at run time.
  std::vector<Readiness::Key> keys;
  for (std::size_t i = 0; i < config.credentials.size(); ++i) {
    const auto& c = config.credentials[i];
    auto add = [&](const char* what, const std::shared_ptr<const crypto::Signer>& signer, const std::string& pem,
                   const Bytes& cert) {
      auto parsed = certs::parse(certs::der_from_pem_or_der(cert));
      keys.push_back({"credentials[" + std::to_string(i) + "]." + what,
                      signer ? signer : crypto::key_signer(crypto::EcKey::from_pem_or_der(to_bytes(pem))),
                      parsed.public_point, parsed.curve});
    };
    add("dpauth_key", c.dpauth_signer, c.dpauth_key_pem, c.dpauth_certificate);
    add("dppb_key", c.dppb_signer, c.dppb_key_pem, c.dppb_certificate);
  }
  if (config.tls_signer) {
    auto parsed = certs::parse(certs::der_from_pem_or_der(config.tls_certificate));
    keys.push_back({"tls.key", config.tls_signer, parsed.public_point, parsed.curve});
  }
  readiness_ = std::make_unique<Readiness>(*db_, config.db_path, std::move(keys));
  es2_->on_progress = es9_->on_progress;
  const Limits& lim = config.limits;
  if (lim.initiate_authentication_per_second > 0 && lim.initiate_authentication_burst > 0)
    limiter_ = std::make_unique<AddressRateLimiter>(lim.initiate_authentication_per_second,
                                                    lim.initiate_authentication_burst);
  purge_age_ = std::max<std::int64_t>(lim.session_retention_seconds, config.session_timeout_seconds);
  purge_interval_ = std::max(1, lim.session_purge_interval_seconds);
  http::ServerConfig hc;
  hc.bind_address = config.listen;
  hc.port = config.port;
  hc.threads = config.threads;
  hc.max_body_bytes = lim.es9plus_max_body_bytes;
  hc.body_limit = [lim](std::string_view path) { return es9plus_body_limit(lim, path); };
  hc.max_connections = lim.max_connections;
  hc.handshake_timeout = std::chrono::seconds(lim.handshake_timeout_seconds);
  hc.header_timeout = std::chrono::seconds(lim.header_timeout_seconds);
  hc.read_timeout = std::chrono::seconds(lim.read_timeout_seconds);
  http::ServerTlsConfig t;
  t.certificate_chain = config.tls_certificate;
  t.private_key = config.tls_key;
  t.key_signer = config.tls_signer;
  hc.tls = t;
  hc.on_tls_handshake = metrics_->handshake_counter("es9plus");
  static const std::vector<std::string_view> kEs9Functions = {
      "initiateAuthentication", "authenticateClient", "getBoundProfilePackage", "handleNotification", "cancelSession"};
  static const std::vector<std::string_view> kEs2Functions = {"downloadOrder", "confirmOrder", "cancelOrder",
                                                              "releaseProfile"};
  http_ = std::make_unique<http::Server>(hc, [this](const http::Request& r) {
    return observed("es9plus", kEs9Functions, r,
                    [&](std::string* result) { return handle_es9plus(*es9_, r, limiter_.get(), result); });
  });
  if (config.es2plus_port) {
    http::ServerConfig ec = hc;
    ec.port = config.es2plus_port;
    ec.max_body_bytes = lim.es2plus_max_body_bytes;
    ec.body_limit = nullptr;  // one limit for every ES2+ function
    ec.tls->client_auth = http::ClientAuth::Required;
    ec.tls->client_ca_chain = config.operator_ca;
    ec.on_tls_handshake = metrics_->handshake_counter("es2plus");
    es2_http_ = std::make_unique<http::Server>(ec, [this](const http::Request& r) {
      return observed("es2plus", kEs2Functions, r, [&](std::string* result) {
        return handle_es2plus(*es2_, operators_, r, result, audit_.get());
      });
    });
  }
  if (config.admin.enabled) {
    http::ServerConfig ac = admin_server_config(config.admin);
    admin_http_ = std::make_unique<http::Server>(ac, [this](const http::Request& r) {
      auto t0 = std::chrono::steady_clock::now();
      auto res = handle_admin(r, metrics_->registry, [this] { return readiness_->check(); });
      if (access_log_)
        log_access("admin", r, res.status, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      return res;
    });
  }
}

http::Response Server::observed(std::string_view interface, const std::vector<std::string_view>& functions,
                                const http::Request& req,
                                const std::function<http::Response(std::string* result)>& handle) {
  auto t0 = std::chrono::steady_clock::now();
  std::string result;
  http::Response res = handle(&result);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (result.empty()) result = "http-" + std::to_string(res.status);
  metrics_->request(interface, function_label(req.path(), functions), result, seconds);
  if (access_log_) log_access(interface, req, res.status, seconds);
  return res;
}

Server::~Server() { stop(); }
void Server::start() {
  http_->start();
  if (es2_http_) es2_http_->start();
  if (admin_http_) admin_http_->start();
  notifier_->start();
  purger_ = std::thread([this] { purge_loop(); });
}
void Server::stop() {
  if (purger_.joinable()) {
    {
      std::lock_guard lock(purge_mu_);
      purge_stop_ = true;
    }
    purge_cv_.notify_all();
    purger_.join();
  }
  if (http_) http_->stop();
  if (es2_http_) es2_http_->stop();
  if (admin_http_) admin_http_->stop();
  if (notifier_) notifier_->stop();
}

void Server::purge_loop() {
  std::unique_lock lock(purge_mu_);
  while (!purge_stop_) {
    lock.unlock();
    try {
      int n = profiles_->purge_sessions(static_cast<std::int64_t>(std::time(nullptr)) - purge_age_);
      if (n > 0) log::info("smdp", "purged " + std::to_string(n) + " ended or abandoned RSP sessions");
    } catch (const std::exception& e) {
      log::warn("smdp", std::string("session purge failed: ") + e.what());
    }
    lock.lock();
    purge_cv_.wait_for(lock, std::chrono::seconds(purge_interval_), [this] { return purge_stop_; });
  }
}
std::uint16_t Server::port() const { return http_->port(); }
std::uint16_t Server::es2plus_port() const { return es2_http_ ? es2_http_->port() : 0; }
std::uint16_t Server::admin_port() const { return admin_http_ ? admin_http_->port() : 0; }

}  // namespace rsp::smdp
