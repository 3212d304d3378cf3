// The SM-DP+ HTTPS front: ES9+ routes over rsp::http::Server (TLS 1.2 with
// CERT.DP.TLS and the SGP.22 2.6.6 suites).
#pragma once
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "rsp/http_server.hpp"
#include "rsp/smdp/admin.hpp"
#include "rsp/smdp/audit_trail.hpp"
#include "rsp/smdp/es2plus.hpp"
#include "rsp/smdp/es9plus.hpp"
#include "rsp/smdp/progress_notifier.hpp"

namespace rsp::smdp {

// A token bucket per client address for unauthenticated calls that cost the
// server work (initiateAuthentication: a signature and a stored session).
// IPv6 clients are counted per /64, the block one subscriber line gets.
class AddressRateLimiter {
 public:
  AddressRateLimiter(double per_second, int burst);
  // Takes one token for the client at `remote_address` ("1.2.3.4:5678",
  // "[2001:db8::1]:5678"); false when its bucket is empty.
  bool allow(std::string_view remote_address);
  static std::string address_key(std::string_view remote_address);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point at;
  };
  double per_second_, burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

// Maps one HTTP request to an ES9+ function (SGP.22 6.5: POST
// /gsma/rsp2/es9plus/<function>, JSON, X-Admin-Protocol gsma/rsp/v2.x).
// With `limiter`, initiateAuthentication is rate-limited per client address
// (HTTP 429 with Retry-After). With `result`, the SGP.22 outcome for the
// metrics: "executed-success", "<subjectCode>/<reasonCode>", or left empty
// when the function was not executed (then the HTTP status tells).
http::Response handle_es9plus(Es9Plus& es9, const http::Request& req, AddressRateLimiter* limiter = nullptr,
                              std::string* result = nullptr);
// ES2+ (SGP.22 6.5.2): POST /gsma/rsp2/es2plus/<function>; the operator is
// the one whose pinned certificate the client presented. With `audit`, every
// call leaves an audit row: an executed function's in the same transaction
// as its change (docs/smdp.md, "Audit trail").
http::Response handle_es2plus(Es2Plus& es2, const std::vector<OperatorConfig>& operators, const http::Request& req,
                              std::string* result = nullptr, AuditTrail* audit = nullptr);

class Server {
 public:
  explicit Server(const Config& config);
  ~Server();
  void start();
  void stop();
  std::uint16_t port() const;
  std::uint16_t es2plus_port() const;
  std::uint16_t admin_port() const;  // 0 when the admin listener is off
  SmdpMetrics& metrics() { return *metrics_; }
  // "" when ready to serve downloads, else why not (GET /health/ready).
  std::string readiness() { return readiness_->check(); }
  Es9Plus& es9plus() { return *es9_; }
  Es2Plus& es2plus() { return *es2_; }
  ProgressNotifier& notifier() { return *notifier_; }
  ProfileStore& profiles() { return *profiles_; }

 private:
  std::unique_ptr<store::Db> db_;
  std::unique_ptr<ProfileStore> profiles_;
  std::unique_ptr<AuditTrail> audit_;
  std::unique_ptr<Es9Plus> es9_;
  std::unique_ptr<Es2Plus> es2_;
  std::unique_ptr<ProgressNotifier> notifier_;
  std::unique_ptr<http::Server> http_, es2_http_;
  std::vector<OperatorConfig> operators_;
  std::unique_ptr<AddressRateLimiter> limiter_;
  std::unique_ptr<SmdpMetrics> metrics_;
  std::unique_ptr<Readiness> readiness_;
  std::unique_ptr<http::Server> admin_http_;
  bool access_log_ = false;
  // Runs one ES9+/ES2+ call through `handle`, counting it by function and
  // result and timing it (and the access log line).
  http::Response observed(std::string_view interface, const std::vector<std::string_view>& functions,
                          const http::Request& req,
                          const std::function<http::Response(std::string* result)>& handle);
  // Deletes ended and abandoned sessions now and then (ProfileStore::purge_sessions).
  void purge_loop();
  std::int64_t purge_age_ = 0, purge_interval_ = 60;
  std::thread purger_;
  std::mutex purge_mu_;
  std::condition_variable purge_cv_;
  bool purge_stop_ = false;
};

}  // namespace rsp::smdp
