// gp-card-sim: the simulated GlobalPlatform card manager behind a link:
// --tcp HOST:PORT (the vpcd framing; port 0 picks one and prints it),
// --vpcd HOST:PORT (card side of vsmartcard's vpcd, for pcscd), or stdio
// (one hex C-APDU per line, hex R-APDU back; "reset" answers the ATR).
#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <iterator>

#include "rsp/cli.hpp"
#include "rsp/crypto.hpp"
#include "rsp/crypto_backend.hpp"
#include "rsp/log.hpp"
#include "rsp/sim/card_manager.hpp"
#include "rsp/sim/vpcd.hpp"

namespace {
std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }
}  // namespace

int main(int argc, char** argv) {
  // The card side computes with mbedTLS, as a card OS would (docs/architecture.md, "Crypto backends").
  rsp::crypto::use_backend(rsp::crypto::Backend::MbedTls);
  CLI::App app{"gp-card-sim: a simulated GlobalPlatform card manager (ISD with SCP02 and SCP03)"};
  std::string tcp, vpcd, state, isd, log_level = "info";
  unsigned max_failures = 3;
  std::string scp03_i = "70", scp02_i = "15";
  bool stdio = false;
  auto* o_tcp = app.add_option("--tcp", tcp, "serve the vpcd framing on HOST:PORT (port 0 picks one)");
  auto* o_vpcd = app.add_option("--vpcd", vpcd, "connect to vsmartcard vpcd at HOST:PORT (card side)");
  auto* o_stdio = app.add_flag("--stdio", stdio, "hex C-APDU lines on stdin, hex R-APDU lines on stdout");
  o_tcp->excludes(o_vpcd)->excludes(o_stdio);
  o_vpcd->excludes(o_stdio);
  app.add_option("--state", state, "file that keeps the registry and keys across runs (created 0600)");
  app.add_option("--isd", isd, "ISD AID (default A000000151000000)");
  app.add_option("--max-auth-failures", max_failures, "failed EXTERNAL AUTHENTICATEs before 6983")->capture_default_str();
  app.add_option("--scp03-i", scp03_i, "SCP03 i parameter, hex (00, 10, 30, 70)")->capture_default_str();
  app.add_option("--scp02-i", scp02_i, "SCP02 i parameter, hex (15, or 55: pseudo-random card challenge)")->capture_default_str();
  app.add_option("--log-level", log_level, "debug|info|warn|error|off")->capture_default_str();
  std::string dap_sd, dap_key;
  bool mandated_dap = false;
  app.add_option("--dap-sd", dap_sd, "AID of a security domain with the DAP Verification privilege (needs --dap-key)");
  app.add_option("--dap-key", dap_key, "its DAP key: ECDSA P-256 public (or private) key, PEM file");
  app.add_flag("--mandated-dap", mandated_dap, "the --dap-sd has Mandated DAP Verification: every load needs its DAP");
  if (auto rc = rsp::cli::parse(app, argc, argv, "gp-card-sim")) return *rc;
  try {
    rsp::log::set_level(rsp::log::level_from_name(log_level));
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    rsp::sim::gp::CardManagerConfig cfg;
    cfg.state_file = state;
    cfg.max_auth_failures = max_failures;
    rsp::Bytes i = rsp::from_hex(scp03_i);
    if (i.size() != 1) throw std::runtime_error("--scp03-i wants one hex byte");
    cfg.scp03_i = i[0];
    i = rsp::from_hex(scp02_i);
    if (i.size() != 1 || (i[0] != 0x15 && i[0] != 0x55)) throw std::runtime_error("--scp02-i wants 15 or 55");
    cfg.scp02_i = i[0];
    if (!isd.empty()) cfg.isd_aid = rsp::from_hex(isd);
    if (dap_sd.empty() != dap_key.empty()) throw std::runtime_error("--dap-sd and --dap-key go together");
    if (!dap_sd.empty()) {
      // GP 2.3.1 Table 6-1: DAP Verification = SD bit + b7 (C0); Mandated DAP also b1 (C1).
      rsp::sim::gp::RegistryEntry sd;
      sd.kind = rsp::sim::gp::RegistryEntry::Kind::SecurityDomain;
      sd.aid = rsp::from_hex(dap_sd);
      sd.life_cycle = 0x0F;  // PERSONALIZED (11.1.1.3)
      sd.privileges = {static_cast<std::uint8_t>(mandated_dap ? 0xC1 : 0xC0), 0x00, 0x00};
      sd.associated_sd = cfg.isd_aid;
      cfg.platform_content.push_back(sd);
      std::ifstream f(dap_key, std::ios::binary);
      if (!f) throw std::runtime_error("--dap-key: cannot read " + dap_key);
      std::string pem((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      auto k = rsp::crypto::EcKey::from_pem_or_der(rsp::Bytes(pem.begin(), pem.end()));
      if (k.curve() != rsp::crypto::Curve::P256) throw std::runtime_error("--dap-key: not a P-256 key");
      cfg.dap_keys.push_back({sd.aid, k.public_point()});
    }
    rsp::sim::gp::CardManager card(cfg);
    std::string host;
    std::uint16_t port = 0;
    if (!vpcd.empty()) {
      rsp::sim::vpcd::VpcdClientOptions opt;
      if (!rsp::sim::vpcd::split_host_port(vpcd, opt.host, opt.port)) throw std::runtime_error("--vpcd wants HOST:PORT");
      rsp::sim::vpcd::Slot slot(card);
      return rsp::sim::vpcd::run_vpcd_client(slot, opt, g_stop);
    }
    if (!tcp.empty()) {
      if (!rsp::sim::vpcd::split_host_port(tcp, host, port)) throw std::runtime_error("--tcp wants HOST:PORT");
      rsp::sim::vpcd::TcpServer server;
      std::uint16_t bound = server.listen(host, port);
      std::cout << "listening " << host << ":" << bound << std::endl;
      rsp::sim::vpcd::Slot slot(card);
      server.serve(slot, g_stop);
      return 0;
    }
    std::string line;
    while (!g_stop.load() && std::getline(std::cin, line)) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (line.empty() || line == "reset") {
        std::cout << rsp::to_hex(card.reset(), true) << std::endl;
        continue;
      }
      rsp::Bytes capdu;
      try {
        capdu = rsp::from_hex(line);
      } catch (const rsp::DecodeError&) {
        std::cout << "6700" << std::endl;
        continue;
      }
      std::cout << rsp::to_hex(card.transmit(capdu), true) << std::endl;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "gp-card-sim: " << e.what() << "\n";
    return 1;
  }
}
