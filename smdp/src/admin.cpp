#include "rsp/smdp/admin.hpp"

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
      // CASE, not SUM(condition): PostgreSQL does not sum booleans.
      "SELECT COALESCE(SUM(CASE WHEN delivered_at IS NULL AND failed = 0 THEN 1 ELSE 0 END), 0), "
      "COALESCE(SUM(CASE WHEN failed <> 0 THEN 1 ELSE 0 END), 0), COALESCE(SUM(attempts), 0), "
      "COALESCE(SUM(CASE WHEN delivered_at IS NOT NULL THEN 1 ELSE 0 END), 0) FROM es2_outbox",
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

Readiness::Readiness(store::Db& db, std::string db_path, std::vector<Key> keys)
    : store_(db, std::move(db_path), "profiles"), keys_(std::move(keys)) {}

std::string Readiness::check() {
  if (std::string why = store_.check(); !why.empty()) return why;
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

}  // namespace rsp::smdp
