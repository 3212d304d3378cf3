// euicc-sim: the simulated SGP.22 eUICC behind a virtual card reader
// (vsmartcard vpcd), a TCP server with the same framing, or stdio (one hex
// C-APDU per line in, one hex R-APDU per line out).
#include <CLI/CLI.hpp>
#include "rsp/cli.hpp"
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include "rsp/crypto_backend.hpp"
#include "rsp/log.hpp"
#include "rsp/sim/euicc.hpp"
#include "rsp/sim/usim_authenticate.hpp"
#include "rsp/sim/vpcd.hpp"

namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_state_lost{false};  // a change could not be written to --state
void on_signal(int) { g_stop.store(true); }

// euicc-sim dump --state FILE [--iccid DIGITS]: the file tree of installed
// profiles (path, type, size or records, SFI, EF.ARR reference, contents).
int dump_main(int argc, char** argv) {
  CLI::App app{"Print the file system of the profiles in an euicc-sim state file"};
  std::string state, iccid;
  app.add_option("--state", state, "state file (JSON)")->required()->check(CLI::ExistingFile);
  app.add_option("--iccid", iccid, "only the profile with these ICCID digits");
  if (auto rc = rsp::cli::parse(app, argc, argv, "euicc-sim")) return *rc;
  try {
    std::cout << rsp::sim::dump_profiles(state, iccid);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "euicc-sim dump: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  // The card side computes with mbedTLS, as a card OS would (docs/architecture.md, "Crypto backends").
  rsp::crypto::use_backend(rsp::crypto::Backend::MbedTls);
  if (argc > 1 && std::string(argv[1]) == "dump") return dump_main(argc - 1, argv + 1);
  CLI::App app{"Simulated SGP.22 eUICC (ISD-R with ES10a/b/c, profile file system)"};
  std::string cert, key, eum, state, vpcd, tcp, log_level = "info", default_dp;
  std::vector<std::string> cis;
  bool stdio = false, no_usim_auth = false;
  int max_attempts = 30;
  app.add_option("--cert", cert, "CERT.EUICC.ECDSA (DER)")->required()->check(CLI::ExistingFile);
  app.add_option("--key", key, "SK.EUICC.ECDSA (PEM or DER)")->required()->check(CLI::ExistingFile);
  app.add_option("--eum", eum, "CERT.EUM.ECDSA (DER)")->required()->check(CLI::ExistingFile);
  app.add_option("--ci", cis, "trusted CI certificate (DER); repeat for several")->required()->check(CLI::ExistingFile);
  app.add_option("--state", state, "state file (JSON; created if missing)")->required();
  app.add_option("--default-dp", default_dp, "default SM-DP+ address when the state has none");
  auto* o_vpcd = app.add_option("--vpcd", vpcd, "connect to vsmartcard vpcd, HOST:PORT (e.g. 127.0.0.1:35963)");
  auto* o_tcp = app.add_option("--tcp", tcp, "serve the vpcd framing on HOST:PORT (port 0 picks one)");
  auto* o_stdio = app.add_flag("--stdio", stdio, "hex C-APDU lines on stdin, hex R-APDU lines on stdout");
  app.add_option("--vpcd-attempts", max_attempts, "vpcd: failed connection attempts in a row before giving up (0: forever)");
  app.add_option("--log-level", log_level, "debug|info|warn|error|off");
  app.add_flag("--no-usim-auth", no_usim_auth, "do not answer USIM AUTHENTICATE (Milenage, SQN state in memory only)");
  // EUICCInfo2 values and the RAT, for eligibility and policy tests (SGP.22 2.9, 3.1.3).
  std::uint32_t free_nvm = 0;
  std::vector<unsigned> forbidden_ppr, rat_ppr;
  std::vector<std::string> rat_operators;
  std::string profile_version, pp_version;
  app.add_option("--free-nvm", free_nvm, "free non-volatile memory reported in extCardResource, bytes");
  app.add_option("--profile-version", profile_version, "EUICCInfo2 profileVersion, e.g. 2.3.1");
  app.add_option("--pp-version", pp_version, "EUICCInfo2 ppVersion, e.g. 1.0.0");
  app.add_option("--forbidden-ppr", forbidden_ppr, "forbiddenProfilePolicyRules bit (1 ppr1, 2 ppr2); repeat")
      ->check(CLI::Range(0, 2));
  app.add_option("--rat-ppr", rat_ppr, "RAT of a new state: PPR bit the one rule allows (1, 2); repeat")
      ->check(CLI::Range(1, 2));
  app.add_option("--rat-operator", rat_operators, "RAT of a new state: MCC+MNC the rule allows ('E' wildcard digits); repeat");
  o_vpcd->excludes(o_tcp)->excludes(o_stdio);
  o_tcp->excludes(o_stdio);
  if (auto rc = rsp::cli::parse(app, argc, argv, "euicc-sim")) return *rc;

  rsp::log::set_level(rsp::log::level_from_name(log_level));
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);

  try {
    auto cfg = rsp::sim::EuiccConfig::from_files(cert, key, eum, cis, state);
    cfg.initial_default_dp_address = default_dp;
    auto version = [](const std::string& text) {
      unsigned a = 0, b = 0, c = 0;
      char tail = 0;
      if (std::sscanf(text.c_str(), "%u.%u.%u%c", &a, &b, &c, &tail) != 3 || a > 255 || b > 255 || c > 255)
        throw std::invalid_argument("a version is major.minor.revision, got '" + text + "'");
      return rsp::Bytes{static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b), static_cast<std::uint8_t>(c)};
    };
    if (free_nvm) cfg.free_nvm = free_nvm;
    if (!profile_version.empty()) cfg.profile_version = version(profile_version);
    if (!pp_version.empty()) cfg.pp_version = version(pp_version);
    cfg.forbidden_ppr = forbidden_ppr;
    if (!rat_ppr.empty() || !rat_operators.empty()) {
      if (rat_ppr.empty() || rat_operators.empty()) throw std::invalid_argument("--rat-ppr and --rat-operator go together");
      cfg.rat_der = rsp::sim::make_rat_der(rat_ppr, rat_operators, false);
    }
    // A state the card can no longer write is a card that would forget what
    // it answered: stop, and exit 1 (the file keeps the last written state).
    cfg.on_state_write_error = [](const std::string& why) {
      std::cerr << "euicc-sim: " << why << "\n";
      g_state_lost.store(true);
      g_stop.store(true);
    };
    rsp::sim::Euicc card(std::move(cfg));
    // USIM AUTHENTICATE (TS 31.102 7.1.2) with the enabled profile's Milenage
    // parameters; SQNms per profile is kept in memory only.
    if (!no_usim_auth) card.set_uicc_command_hook(rsp::sim::make_usim_authenticate_hook());
    rsp::log::info("euicc-sim", "EID " + card.eid_hex());

    if (!vpcd.empty()) {
      rsp::sim::vpcd::VpcdClientOptions opt;
      if (!rsp::sim::vpcd::split_host_port(vpcd, opt.host, opt.port)) {
        std::cerr << "--vpcd wants HOST:PORT\n";
        return 2;
      }
      opt.max_attempts = max_attempts;
      rsp::sim::vpcd::Slot slot(card);
      int rc = rsp::sim::vpcd::run_vpcd_client(slot, opt, g_stop);
      return g_state_lost ? 1 : rc;
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
      std::cout << "listening " << host << ":" << bound << std::endl;  // for scripts that asked for port 0
      rsp::sim::vpcd::Slot slot(card);
      server.serve(slot, g_stop);
      return g_state_lost ? 1 : 0;
    }
    // stdio (default): one hex C-APDU per line; "reset" (or an empty line) answers the ATR.
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
        std::cout << "6700" << std::endl;  // not hex: answered like a malformed APDU
        continue;
      }
      std::cout << rsp::to_hex(card.transmit(capdu), true) << std::endl;
    }
    return g_state_lost ? 1 : 0;
  } catch (const std::exception& e) {
    std::cerr << "euicc-sim: " << e.what() << "\n";
    return 1;
  }
}
