#include "rsp/smdp/admin.hpp"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "rsp/log.hpp"

namespace rsp::smdp {

SmdpMetrics::SmdpMetrics()
    : es9plus_requests(registry.counter("smdp_es9plus_requests_total",
                                        "ES9+ calls by function and SGP.22 result (executed-success, "
                                        "subjectCode/reasonCode, or http-<status> when not executed)",
                                        {"function", "result"})),
      es2plus_requests(registry.counter("smdp_es2plus_requests_total",
                                        "ES2+ calls by function and SGP.22 result, as for ES9+",
                                        {"function", "result"})),
      downloads(registry.counter("smdp_downloads_total",
                                 "Downloads ended by the eUICC's ProfileInstallationResult: installed or install-failed",
                                 {"result"})),
      tls_handshakes(registry.counter("smdp_tls_handshakes_total", "TLS handshakes by listener and result (ok, failed)",
                                      {"listener", "result"})),
      latency(registry.histogram("smdp_request_duration_seconds",
                                 "Time from request read to response ready, by interface and function",
                                 {"interface", "function"}, metrics::default_latency_buckets())),
      profiles(registry.gauge("smdp_profiles", "Profiles in the store by profile type and state (at scrape)",
                              {"type", "state"})),
      outbox(registry.gauge("smdp_es2_outbox", "HandleDownloadProgressInfo outbox entries: pending, given-up",
                            {"state"})),
      outbox_retries(registry.gauge("smdp_es2_outbox_retries",
                                    "Failed HandleDownloadProgressInfo delivery attempts recorded in the store")) {}

void SmdpMetrics::request(std::string_view interface, const std::string& function, const std::string& result,
                          double seconds) {
  (interface == "es2plus" ? es2plus_requests : es9plus_requests).with({function, result}).inc();
  latency.with({std::string(interface), function}).observe(seconds);
}

std::function<void(bool)> SmdpMetrics::handshake_counter(const std::string& listener) {
  // Resolved once: a handshake then costs one atomic add.
  metrics::Counter* ok = &tls_handshakes.with({listener, "ok"});
  metrics::Counter* failed = &tls_handshakes.with({listener, "failed"});
  return [ok, failed](bool good) { (good ? ok : failed)->inc(); };
}

void SmdpMetrics::collect_from(store::Db& db) {
  // Recomputed whole: a type or state with no profile left disappears.
  std::vector<std::tuple<std::string, std::string, double>> rows;
  db.query("SELECT profile_type, state, COUNT(*) FROM profiles GROUP BY profile_type, state", {},
           [&](const store::Row& r) { rows.emplace_back(r.text(0), r.text(1), static_cast<double>(r.i64(2))); });
  profiles.clear();
  for (const auto& [type, state, n] : rows) profiles.with({type, state}).set(n);
  double pending = 0, given_up = 0, attempts = 0, delivered = 0;
  db.query(
      "SELECT COALESCE(SUM(delivered_at IS NULL AND failed = 0), 0), COALESCE(SUM(failed <> 0), 0), "
      "COALESCE(SUM(attempts), 0), COALESCE(SUM(delivered_at IS NOT NULL), 0) FROM es2_outbox",
      {}, [&](const store::Row& r) {
        pending = static_cast<double>(r.i64(0));
        given_up = static_cast<double>(r.i64(1));
        attempts = static_cast<double>(r.i64(2));
        delivered = static_cast<double>(r.i64(3));
      });
  outbox.with({"pending"}).set(pending);
  outbox.with({"given-up"}).set(given_up);
  // A delivered entry's last attempt succeeded; every other attempt failed.
  outbox_retries.with().set(attempts - delivered);
}

std::string function_label(std::string_view path, const std::vector<std::string_view>& known) {
  std::string_view last = path.substr(path.rfind('/') + 1);
  for (auto k : known)
    if (k == last) return std::string(k);
  return "unknown";
}

void log_access(std::string_view listener, const http::Request& req, int status, double seconds) {
  std::string path(req.path().substr(0, 256));
  std::string st = std::to_string(status);
  char ms[32];
  std::snprintf(ms, sizeof ms, "%.3f", seconds * 1000);
  log::info("access", req.method + " " + path + " " + st,
            {{"listener", listener}, {"method", req.method}, {"path", path}, {"status", st}, {"latency_ms", ms},
             {"client", req.remote_address}});
}

Readiness::Readiness(store::Db& db, std::string db_path, std::vector<Key> keys)
    : db_(db), db_path_(std::move(db_path)), keys_(std::move(keys)) {
  struct stat st{};
  if (db_path_ != ":memory:" && ::stat(db_path_.c_str(), &st) == 0) {
    have_identity_ = true;
    dev_ = st.st_dev;
    ino_ = st.st_ino;
  }
}

std::string Readiness::check() {
  // The file at the configured path must still be the one we have open: a
  // store folder removed, moved or unmounted under a running server leaves
  // SQLite writing to a file no restart will find (WAL keeps working on the
  // open descriptors, so a query alone would not notice).
  if (have_identity_) {
    struct stat st{};
    if (::stat(db_path_.c_str(), &st) != 0) return "store: the database file is gone from its path";
    if (static_cast<unsigned long long>(st.st_dev) != dev_ || static_cast<unsigned long long>(st.st_ino) != ino_)
      return "store: the database file at its path is not the one opened";
  }
  try {
    // BEGIN IMMEDIATE takes the write lock (a store another process holds
    // locked is not ready), then a read; rolled back, nothing is written.
    store::Transaction tx(db_);
    db_.query("SELECT COUNT(*) FROM profiles", {}, [](const store::Row&) {});
  } catch (const std::exception& e) {
    return std::string("store: ") + e.what();
  }
  // SK.DPauth/SK.DPpb (and a token-held SK.DP.TLS) sign, and the signature
  // verifies with the certificate's key: an HSM that is unplugged or logged
  // out fails here rather than in the middle of a download.
  static const Bytes probe = to_bytes(std::string_view("rsp smdpd readiness probe"));
  for (const auto& k : keys_) {
    try {
      Bytes sig = k.signer->sign(probe);
      if (!crypto::EcKey::from_public_point(k.curve, k.public_point).verify(probe, sig))
        return "key " + k.name + ": signature does not verify with its certificate";
    } catch (const std::exception& e) {
      return "key " + k.name + ": " + e.what();
    }
  }
  return "";
}

http::Response handle_admin(const http::Request& req, SmdpMetrics& m, const std::function<std::string()>& ready) {
  std::string_view path = req.path();
  if (path != "/health/live" && path != "/health/ready" && path != "/metrics")
    return http::Response::text(404, "not found\n");
  if (req.method != "GET") return http::Response::text(405, "GET only\n");
  if (path == "/health/live") return http::Response::json(R"({"status":"live"})");
  if (path == "/health/ready") {
    std::string why = ready();
    if (why.empty()) return http::Response::json(R"({"status":"ready"})");
    return http::Response::json(nlohmann::json{{"status", "unready"}, {"reason", why}}.dump(), 503);
  }
  http::Response r;
  r.headers.set("Content-Type", metrics::kContentType);
  r.body = m.registry.render();
  return r;
}

}  // namespace rsp::smdp
