#include "rsp/admin_listener.hpp"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "rsp/log.hpp"

namespace rsp {

void check_admin_listen(const AdminListenerConfig& admin) {
  unsigned char a[16];
  bool v4 = inet_pton(AF_INET, admin.listen.c_str(), a) == 1;
  bool v6 = !v4 && inet_pton(AF_INET6, admin.listen.c_str(), a) == 1;
  if (!v4 && !v6) throw std::runtime_error("admin.listen must be an IP address, not '" + admin.listen + "'");
  static const unsigned char v6_loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  bool loopback = v4 ? a[0] == 127 : std::equal(a, a + 16, v6_loopback);
  // /health and /metrics answer anyone who connects: on another address they
  // tell the network our inventory and traffic (docs/operations.md).
  if (!loopback && !admin.allow_remote)
    throw std::runtime_error("admin.listen " + admin.listen +
                             " is not a loopback address: the admin listener has no authentication; set "
                             "admin.allow_remote to true to serve it there anyway");
}

http::ServerConfig admin_server_config(const AdminListenerConfig& admin) {
  check_admin_listen(admin);
  http::ServerConfig ac;
  ac.bind_address = admin.listen;
  ac.port = admin.port;
  ac.threads = 1;
  ac.max_body_bytes = 1024;
  ac.max_connections = 64;
  return ac;
}

http::Response handle_admin(const http::Request& req, metrics::Registry& registry,
                            const std::function<std::string()>& ready) {
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
  r.body = registry.render();
  return r;
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

StoreReadiness::StoreReadiness(store::Db& db, std::string db_path, std::string table)
    : db_(db), db_path_(std::move(db_path)), table_(std::move(table)) {
  struct stat st{};
  if (db_path_ != ":memory:" && ::stat(db_path_.c_str(), &st) == 0) {
    have_identity_ = true;
    dev_ = st.st_dev;
    ino_ = st.st_ino;
  }
}

std::string StoreReadiness::check() {
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
    db_.query("SELECT COUNT(*) FROM " + table_, {}, [](const store::Row&) {});
  } catch (const std::exception& e) {
    return std::string("store: ") + e.what();
  }
  return "";
}

}  // namespace rsp
