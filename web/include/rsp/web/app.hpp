// webd: the marketplace's web application (issue 14, first slice). Operator
// consoles for the tenants one webd hosts (each tenant is one participant of
// the ledger: a home operator, a visited operator or a service provider),
// staff sign-in with roles, and the home operators' public storefront pages.
// docs/web.md says how to run it and why it is built this way.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/http_server.hpp"
#include "rsp/web/payment.hpp"

namespace rsp::web {

// What a tenant is on the ledger (its registered role, docs/ledger.md).
enum class TenantKind { HomeOperator, VisitedOperator, ServiceProvider };
std::string_view to_string(TenantKind k);

struct TenantConfig {
  std::string id;          // its participant id on the ledger, e.g. "HOME-B"
  std::string name;        // shown on its pages
  TenantKind kind = TenantKind::HomeOperator;
  std::string ledger_key;  // its ledger private key (PEM, mode 0600)
  std::string seal_key;    // visited operator / SP: the P-256 key its Offers publish (PEM, mode 0600)
  // Home operator: the P-256 key its Requests name as reply key (the Accept's
  // profile is sealed to it; its home agent holds the same file). Without
  // it the storefront shows packages but sells none.
  std::string reply_key;
};

struct WebConfig {
  std::string bind_address = "127.0.0.1";  // loopback unless the operator says otherwise
  std::uint16_t port = 8443;
  std::string tls_cert, tls_key;           // PEM files (chain leaf first; key mode 0600)
  std::string store;                       // webd's own SQLite file: staff, sessions, packages, settings
  std::string ledger;                      // the embedded ledger file
  std::int64_t session_idle_seconds = 30 * 60;
  std::int64_t session_absolute_seconds = 12 * 3600;
  int login_max_failures = 5;              // per user name and per client address ...
  std::int64_t login_window_seconds = 15 * 60;  // ... within this window; then refused until it passes
  std::vector<TenantConfig> tenants;

  // Reads a JSON configuration (docs/web.md); unknown keys, a missing
  // required key or a bad value throw std::runtime_error naming it. Relative
  // paths are taken from the configuration file's folder.
  static WebConfig load(const std::string& path);
};

// Staff roles within one tenant: admin (settings), staff (publish Offers,
// edit and publish packages), viewer (read only).
enum class Role { Admin, Staff, Viewer };
std::string_view to_string(Role r);
Role role_from_name(std::string_view name);  // std::invalid_argument

// Argon2id through libsodium (crypto_pwhash_str, its INTERACTIVE limits):
// the string holds algorithm, parameters, salt and hash.
std::string hash_password(std::string_view password);
bool verify_password(const std::string& stored, std::string_view password);

class App {
 public:
  struct Options {
    // Unix seconds; tests move it to expire sessions and login windows.
    std::function<std::int64_t()> clock;
    // Where the application's own lines go (sign-in, refusals); empty: rsp::log.
    std::function<void(std::string_view)> log;
    // The storefront's payment provider; empty: a TestCardProcessor with a
    // random webhook secret (the only provider this slice ships).
    std::shared_ptr<PaymentProvider> payments;
  };
  App(WebConfig cfg, Options opt = {});
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  http::Response handle(const http::Request& req);

  // `webd user add`: a staff account for a tenant this webd hosts. Throws
  // std::invalid_argument for an unknown tenant, a bad user name, a password
  // shorter than 10 characters, or a user name already taken.
  void add_user(const std::string& tenant, const std::string& username, Role role, std::string_view password);

  const WebConfig& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rsp::web
