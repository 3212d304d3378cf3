// What visited-agent and home-agent share: opening the participant's ledger
// from the configuration, the stop flag set by SIGTERM/SIGINT, the loop's
// wait, and loading private keys (mode 0600 enforced).
#pragma once
#include <csignal>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "rsp/agents/daemon_config.hpp"
#include "rsp/crypto.hpp"
#include "rsp/file.hpp"
#include "rsp/ledger/embedded_market.hpp"
#include "rsp/log.hpp"
#ifdef RSP_WITH_CHAIN
#include "rsp/ledger/chain_deploy.hpp"
#include "rsp/ledger/chain_market.hpp"
#endif

namespace rsp::agents::daemon {

inline volatile std::sig_atomic_t g_stop = 0;
inline void on_signal(int) { g_stop = 1; }

// SIGTERM (systemd's stop) and SIGINT: the current step finishes, the state
// is already persisted step by step (AgentState), the loop ends, exit 0.
inline void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}
inline bool stopping() { return g_stop != 0; }

// Sleeps up to `d`, waking early when a stop was asked for.
inline void wait(std::chrono::milliseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!stopping() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

inline crypto::EcKey load_private_key(const std::string& path) {
  return crypto::EcKey::from_pem_or_der(read_private_file(path));
}

inline void apply_log_config(const AgentDaemonCommon& c) {
  if (!c.log_format.empty()) log::set_format(log::format_from_name(c.log_format));
  if (!c.log_level.empty()) log::set_level(log::level_from_name(c.log_level));
}

// The participant's Market on the configured backend.
inline std::unique_ptr<ledger::Market> open_market(const LedgerConfig& l) {
  if (l.backend == "chain") {
#ifdef RSP_WITH_CHAIN
    auto d = ledger::ChainDeployment::load(l.deployment);
    return std::make_unique<ledger::ChainMarket>(d.config(), ledger::read_key_file(l.key_file));
#else
    throw DaemonConfigError("ledger.deployment: this build has no chain backend (RSP_CHAIN=OFF)");
#endif
  }
  // Only `ledger-tool init` creates a ledger: a mistyped path is an error,
  // not a fresh empty ledger.
  if (!std::filesystem::exists(l.path))
    throw DaemonConfigError("ledger.embedded: no ledger at " + l.path + "; create one with ledger-tool init");
  ledger::EmbeddedLedger::Options lo;
  if (!l.genesis_hex.empty()) lo.pin = ledger::GenesisPin{from_hex(l.genesis_hex), {}};
  auto led = std::make_shared<ledger::EmbeddedLedger>(l.path, lo);
  auto key = std::make_shared<crypto::EcKey>(load_private_key(l.key_file));
  return std::make_unique<ledger::EmbeddedMarket>(led, l.participant, key);
}

}  // namespace rsp::agents::daemon
