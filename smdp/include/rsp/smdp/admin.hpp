// The SM-DP+'s admin listener (issue 13, docs/operations.md "Health and
// metrics"): liveness and readiness probes and Prometheus metrics over plain
// HTTP on loopback, plus the metric families the ES9+/ES2+ fronts count into
// and the access log they write.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/admin_listener.hpp"
#include "rsp/http_server.hpp"
#include "rsp/metrics.hpp"
#include "rsp/signer.hpp"
#include "rsp/store.hpp"

namespace rsp::smdp {

// The metric families of one SM-DP+ (names and meaning in docs/operations.md).
struct SmdpMetrics {
  metrics::Registry registry;
  // {function, result}: result is the SGP.22 outcome, "executed-success" or
  // "<subjectCode>/<reasonCode>" of a Failed status, or "http-<status>" when
  // the call never reached the function (bad body, 404, 429).
  metrics::Family<metrics::Counter>& es9plus_requests;
  metrics::Family<metrics::Counter>& es2plus_requests;
  metrics::Family<metrics::Counter>& downloads;       // {result}: installed, install-failed
  metrics::Family<metrics::Counter>& tls_handshakes;  // {listener, result}: ok, failed
  metrics::Family<metrics::Histogram>& latency;       // {interface, function}, seconds
  metrics::Family<metrics::Gauge>& profiles;          // {type, state}, computed at scrape
  metrics::Family<metrics::Gauge>& outbox;            // {state}: pending, given-up; at scrape
  metrics::Family<metrics::Gauge>& outbox_retries;    // failed delivery attempts in the store

  SmdpMetrics();
  // One answered call on `interface` ("es9plus", "es2plus").
  void request(std::string_view interface, const std::string& function, const std::string& result, double seconds);
  // Counts handshakes of the listener called `listener` (ServerConfig::on_tls_handshake).
  std::function<void(bool)> handshake_counter(const std::string& listener);
  // Inventory and outbox gauges from the store, at every scrape.
  void collect_from(store::Db& db);
};

// The function name a path ends in when it is one of `known`, else
// "unknown": a label from the request line must not let a client create
// unbounded series.
std::string function_label(std::string_view path, const std::vector<std::string_view>& known);

// Whether the SM-DP+ can serve downloads: the store answers and writes, its
// file is the one it opened, and every long-term key signs.
class Readiness {
 public:
  struct Key {
    std::string name;                               // "credentials[0].dpauth_key"
    std::shared_ptr<const crypto::Signer> signer;   // a file's key or a token's
    Bytes public_point;                             // from its certificate: the signature must verify
    crypto::Curve curve;
  };
  Readiness(store::Db& db, std::string db_path, std::vector<Key> keys);
  // "" when ready, else a short reason ("store: ...", "key credentials[0].dppb_key: ...").
  std::string check();

 private:
  StoreReadiness store_;
  std::vector<Key> keys_;
};

}  // namespace rsp::smdp
