// A server's admin listener (docs/operations.md, "Health and metrics"):
// plain HTTP with GET /health/live, /health/ready and /metrics for probes and
// Prometheus, shared by smdpd and otad. It has no authentication, so it binds
// loopback only unless `allow_remote` says otherwise.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "rsp/http_server.hpp"
#include "rsp/metrics.hpp"
#include "rsp/store.hpp"

namespace rsp {

// The `admin` section of a server's configuration.
struct AdminListenerConfig {
  bool enabled = false;  // admin.port given and not 0
  std::string listen = "127.0.0.1";
  std::uint16_t port = 0;  // 0 with enabled = ephemeral (tests)
  bool allow_remote = false;
};

// Throws std::runtime_error naming admin.listen when it is not a numeric
// loopback address (127.0.0.0/8, ::1) and allow_remote is false, or not an
// IP address at all.
void check_admin_listen(const AdminListenerConfig& admin);

// The HTTP server settings of an admin listener: one thread, tiny bodies --
// probes and scrapes are a few requests a minute.
http::ServerConfig admin_server_config(const AdminListenerConfig& admin);

// GET /health/live, GET /health/ready, GET /metrics; 404 elsewhere, 405 for
// other methods. `ready` returns "" when ready, else the reason (503).
http::Response handle_admin(const http::Request& req, metrics::Registry& registry,
                            const std::function<std::string()>& ready);

// One access log line (log.access): method, path (without the query),
// status, latency, client address -- never bodies, headers or certificates.
void log_access(std::string_view listener, const http::Request& req, int status, double seconds);

// The store half of readiness: the file at the configured path is still the
// one opened, the store takes its write lock and answers a query on `table`
// (nothing is written).
class StoreReadiness {
 public:
  StoreReadiness(store::Db& db, std::string db_path, std::string table);
  // "" when the store is usable, else "store: <why>".
  std::string check();

 private:
  store::Db& db_;
  std::string db_path_, table_;
  bool have_identity_ = false;
  unsigned long long dev_ = 0, ino_ = 0;  // the store file as opened
};

}  // namespace rsp
