// otad: the OTA server daemon (docs/ota.md, "otad"): the home operator's API
// over HTTPS with mutual TLS, campaigns, and SMS to the cards over SMPP.
#include <CLI/CLI.hpp>
#include <csignal>
#include <fstream>
#include <iostream>
#include <thread>

#include "rsp/cli.hpp"
#include "rsp/config_path.hpp"
#include "rsp/log.hpp"
#include "rsp/otad/daemon.hpp"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"otad: OTA server (SMS over SMPP, the operator API, campaigns)"};
  // Where an installed otad finds its configuration (docs/operations.md):
  // --config, else $RSP_OTAD_CONFIG, else /etc/rsp/otad.json.
  std::string config_path, port_file;
  app.add_option("-c,--config", config_path,
                 "configuration file (docs/ota.md); default: $RSP_OTAD_CONFIG, else /etc/rsp/otad.json");
  app.add_option("--port-file", port_file, "write the API's bound port here once listening");
  if (auto rc = rsp::cli::parse(app, argc, argv, "otad")) return *rc;
  try {
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    config_path = rsp::config_path(config_path, "RSP_OTAD_CONFIG", "/etc/rsp/otad.json");
    rsp::otad::Config config;
    try {
      config = rsp::otad::load_config(config_path);
    } catch (const std::exception& e) {
      // Name the file the lookup chose (a field error names only the field).
      std::string what = e.what();
      throw std::runtime_error(what.find(config_path) == std::string::npos ? config_path + ": " + what : what);
    }
    rsp::otad::Daemon d(std::move(config));
    d.start();
    rsp::log::info("otad", "API listening on port " + std::to_string(d.port()));
    if (d.admin_port()) {
      const std::string& a = d.admin_listen();
      rsp::log::info("otad", "admin (/health/live, /health/ready, /metrics) listening on http://" +
                                 (a.find(':') != std::string::npos ? "[" + a + "]" : a) + ":" +
                                 std::to_string(d.admin_port()));
    }
    if (!port_file.empty()) {
      // Written whole under another name and renamed, so a reader never sees half a number.
      std::string tmp = port_file + ".tmp";
      {
        std::ofstream f(tmp, std::ios::trunc);
        f << d.port() << "\n";
        f.close();
        if (!f) throw std::runtime_error("cannot write " + tmp);
      }
      if (std::rename(tmp.c_str(), port_file.c_str()) != 0) throw std::runtime_error("cannot write " + port_file);
    }
    while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    rsp::log::info("otad", "stopping");
    d.stop();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "otad: " << e.what() << "\n";
    return 1;
  }
}
