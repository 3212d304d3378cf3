// masim: the multi-account UICC (rsp::masim::MultiAccountSim) behind vpcd,
// TCP (the vpcd framing) or stdio, like euicc-sim. Keys come from a file,
// never from the command line (argv is visible to every local user):
//
//   { "state_key": "<64 hex>",
//     "key_sets": [ { "version": 1, "algorithm": "aes", "kic": "<hex>", "kid": "<hex>" } ],
//     "scp81": { "psk_identity": "...", "psk": "<hex, 16 or 32 bytes>", "key_version": 64, "key_id": 1,
//                "server_host": "127.0.0.1", "server_port": 8443, "admin_uri": "/gp/admin",
//                "admin_from": "//se-id/iccid/<iccid>" } }   (scp81 optional; server_* etc. optional)
//
// `masim dump [options]` prints the card's file tree and exits.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "rsp/cli.hpp"
#include "rsp/crypto_backend.hpp"
#include "rsp/log.hpp"
#include "rsp/masim/masim.hpp"
#include "rsp/sim/vpcd.hpp"

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }

rsp::ota::Algorithm algorithm(const std::string& name) {
  if (name == "aes") return rsp::ota::Algorithm::Aes;
  if (name == "3des2") return rsp::ota::Algorithm::TripleDes2;
  if (name == "3des3") return rsp::ota::Algorithm::TripleDes3;
  if (name == "des") return rsp::ota::Algorithm::Des;
  throw std::invalid_argument("key set algorithm: aes, 3des2, 3des3 or des, not '" + name + "'");
}

void read_keys(const std::string& path, rsp::masim::MasimConfig& cfg) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto j = nlohmann::json::parse(text);
  if (j.contains("state_key")) {
    cfg.state_key = rsp::from_hex(j.at("state_key").get<std::string>());
    if (cfg.state_key.size() != 32) throw std::invalid_argument("state_key: 32 bytes (64 hex digits)");
  }
  for (const auto& k : j.value("key_sets", nlohmann::json::array())) {
    rsp::ota::KeySet ks;
    ks.version = k.at("version").get<std::uint8_t>();
    ks.cipher = ks.checksum = algorithm(k.value("algorithm", std::string("aes")));
    ks.kic = rsp::from_hex(k.at("kic").get<std::string>());
    ks.kid = rsp::from_hex(k.at("kid").get<std::string>());
    cfg.key_sets.push_back(std::move(ks));
  }
  if (j.contains("scp81")) {
    const auto& s = j.at("scp81");
    rsp::masim::MasimScp81 p;
    p.psk_identity = s.at("psk_identity").get<std::string>();
    rsp::Bytes psk = rsp::from_hex(s.at("psk").get<std::string>());
    if (psk.size() != 16 && psk.size() != 32) throw std::invalid_argument("scp81.psk: 16 or 32 bytes");
    p.psk = rsp::SecretBytes(psk.begin(), psk.end());
    std::fill(psk.begin(), psk.end(), 0);
    if (p.psk_identity.empty()) throw std::invalid_argument("scp81.psk_identity: required");
    p.key_version = s.value("key_version", p.key_version);
    p.key_id = s.value("key_id", p.key_id);
    p.server_host = s.value("server_host", p.server_host);
    p.server_port = s.value("server_port", p.server_port);
    p.admin_uri = s.value("admin_uri", p.admin_uri);
    p.admin_from = s.value("admin_from", p.admin_from);
    cfg.scp81 = std::move(p);
  }
}

}  // namespace

int main(int argc, char** argv) {
  // The card side computes with mbedTLS, as a card OS would (docs/architecture.md, "Crypto backends").
  rsp::crypto::use_backend(rsp::crypto::Backend::MbedTls);
  bool dump = argc > 1 && std::string(argv[1]) == "dump";
  if (dump) {
    --argc;
    ++argv;
  }
  CLI::App app{"Simulated multi-account UICC (USIM, multi-account applet, OTA over SMS-PP)"};
  rsp::masim::MasimConfig cfg;
  std::string keys, vpcd, tcp, log_level = "info";
  bool stdio = false;
  int max_attempts = 30;
  unsigned rfm_msl = cfg.rfm_msl, applet_msl = cfg.applet_msl;
  app.add_option("--iccid", cfg.iccid, "ICCID digits (EF.ICCID)");
  app.add_option("--imsi", cfg.factory_imsi, "IMSI before any account is active");
  app.add_option("--state", cfg.state_path, "state file (JSON; created if missing; \"\" keeps it in memory)");
  app.add_option("--keys", keys, "JSON file with state_key and the OTA key_sets")->check(CLI::ExistingFile);
  std::string profile;
  app.add_option("--profile", profile, "build the card from this profile package (DER PE sequence, e.g. a TS.48 test profile)")
      ->check(CLI::ExistingFile);
  app.add_option("--rfm-msl", rfm_msl, "minimum security level of the RFM TAR B00000 (SPI first byte)")->check(CLI::Range(0, 255));
  app.add_option("--applet-msl", applet_msl, "minimum security level of the applet TAR 4D4153")->check(CLI::Range(0, 255));
  bool no_instance = false;
  app.add_flag("--no-applet-instance", no_instance,
               "first start with the applet's load file only: its instance comes by INSTALL (RAM or gpt)");
  auto* o_vpcd = app.add_option("--vpcd", vpcd, "connect to vsmartcard vpcd, HOST:PORT");
  auto* o_tcp = app.add_option("--tcp", tcp, "serve the vpcd framing on HOST:PORT (port 0 picks one)");
  auto* o_stdio = app.add_flag("--stdio", stdio, "hex C-APDU lines on stdin, hex R-APDU lines on stdout");
  app.add_option("--vpcd-attempts", max_attempts, "vpcd: failed connection attempts in a row before giving up (0: forever)");
  app.add_option("--log-level", log_level, "debug|info|warn|error|off");
  o_vpcd->excludes(o_tcp)->excludes(o_stdio);
  o_tcp->excludes(o_stdio);
  if (auto rc = rsp::cli::parse(app, argc, argv, "masim")) return *rc;
  cfg.rfm_msl = static_cast<std::uint8_t>(rfm_msl);
  cfg.applet_msl = static_cast<std::uint8_t>(applet_msl);
  cfg.applet_instance = !no_instance;

  rsp::log::set_level(rsp::log::level_from_name(log_level));
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    if (!keys.empty()) read_keys(keys, cfg);
    if (!profile.empty()) {
      std::ifstream in(profile, std::ios::binary);
      cfg.profile_package.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    rsp::masim::MultiAccountSim card(std::move(cfg));
    if (dump) {
      std::cout << card.dump();
      return 0;
    }
    if (!vpcd.empty()) {
      rsp::sim::vpcd::VpcdClientOptions opt;
      if (!rsp::sim::vpcd::split_host_port(vpcd, opt.host, opt.port)) {
        std::cerr << "--vpcd wants HOST:PORT\n";
        return 2;
      }
      opt.max_attempts = max_attempts;
      rsp::sim::vpcd::Slot slot(card);
      return rsp::sim::vpcd::run_vpcd_client(slot, opt, g_stop);
    }
    if (!tcp.empty()) {
      std::string host;
      std::uint16_t port = 0;
      if (!rsp::sim::vpcd::split_host_port(tcp, host, port)) {
        std::cerr << "--tcp wants HOST:PORT\n";
        return 2;
      }
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
      if (line.empty() || line == "reset" || line == "RESET") {
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
    std::cerr << "masim: " << e.what() << "\n";
    return 1;
  }
}
