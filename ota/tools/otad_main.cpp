// otad: the OTA server daemon (docs/ota.md, "otad"): the home operator's API
// over HTTPS with mutual TLS, campaigns, and SMS to the cards over SMPP.
#include <CLI/CLI.hpp>
#include <csignal>
#include <fstream>
#include <iostream>
#include <thread>

#include "rsp/log.hpp"
#include "rsp/otad/daemon.hpp"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"otad: OTA server (SMS over SMPP, the operator API, campaigns)"};
  std::string config_path = "otad.json", port_file;
  app.add_option("-c,--config", config_path, "configuration file (docs/ota.md)");
  app.add_option("--port-file", port_file, "write the API's bound port here once listening");
  CLI11_PARSE(app, argc, argv);
  try {
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    rsp::otad::Daemon d(rsp::otad::load_config(config_path));
    d.start();
    rsp::log::info("otad", "API listening on port " + std::to_string(d.port()));
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
