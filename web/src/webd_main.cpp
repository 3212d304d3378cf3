// webd: the marketplace's web application (docs/web.md).
//   webd [--config FILE] serve [--port-file F]
//   webd [--config FILE] user add --tenant T --username U --role R   (password on stdin)
#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <thread>

#include "rsp/cli.hpp"
#include "rsp/config_path.hpp"
#include "rsp/file.hpp"
#include "rsp/log.hpp"
#include "rsp/web/app.hpp"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"webd: the marketplace's operator consoles and storefront over HTTPS"};
  std::string config_path, port_file, tenant, username, role = "staff";
  app.add_option("--config", config_path, "configuration file (else $RSP_WEBD_CONFIG, else /etc/rsp/webd.json)");
  auto* serve = app.add_subcommand("serve", "serve HTTPS until SIGINT/SIGTERM");
  serve->add_option("--port-file", port_file, "write the bound port here once listening");
  auto* user = app.add_subcommand("user", "staff accounts");
  auto* add = user->add_subcommand("add", "add a staff account; the password is read from stdin (one line), never argv");
  add->add_option("--tenant", tenant, "tenant id (a participant this webd hosts)")->required();
  add->add_option("--username", username, "user name (letters, digits, . _ - @)")->required();
  add->add_option("--role", role, "admin | staff | viewer");
  user->require_subcommand(1);
  app.require_subcommand(1);
  if (auto rc = rsp::cli::parse(app, argc, argv, "webd")) return *rc;
  try {
    auto cfg = rsp::web::WebConfig::load(rsp::config_path(config_path, "RSP_WEBD_CONFIG", "/etc/rsp/webd.json"));
    if (add->parsed()) {
      rsp::web::Role r;
      try {
        r = rsp::web::role_from_name(role);
      } catch (const std::invalid_argument& e) {
        std::cerr << "webd: " << e.what() << "\n";
        return rsp::cli::exit_usage;
      }
      std::string password;
      if (!std::getline(std::cin, password)) {
        std::cerr << "webd: no password on stdin\n";
        return rsp::cli::exit_usage;
      }
      if (!password.empty() && password.back() == '\r') password.pop_back();
      rsp::web::App web(cfg);
      web.add_user(tenant, username, r, password);
      rsp::wipe(password.data(), password.size());
      std::cout << "added " << username << " (" << role << ") to " << tenant << "\n";
      return 0;
    }
    rsp::web::App web(cfg);
    rsp::http::ServerConfig sc;
    sc.bind_address = cfg.bind_address;
    sc.port = cfg.port;
    sc.tls.emplace();
    sc.tls->certificate_chain = rsp::read_file(cfg.tls_cert);
    sc.tls->private_key = rsp::read_private_file(cfg.tls_key);
    // Browsers and curl both offer these; the SGP.22 pair stays first.
    sc.tls->cipher_suites = {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
                             "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"};
    sc.max_body_bytes = 64 * 1024;  // forms only
    sc.log_requests = true;
    sc.server_header = "";
    rsp::http::Server server(sc, [&web](const rsp::http::Request& req) { return web.handle(req); });
    server.start();
    rsp::log::info("webd", "listening on https://" + cfg.bind_address + ":" + std::to_string(server.port()));
    if (!port_file.empty()) {
      std::ofstream pf(port_file);
      pf << server.port() << "\n";
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server.stop();
    return 0;
  } catch (const std::invalid_argument& e) {
    std::cerr << "webd: " << e.what() << "\n";
    return rsp::cli::exit_failed;
  } catch (const std::exception& e) {
    std::cerr << "webd: " << e.what() << "\n";
    return rsp::cli::exit_failed;
  }
}
