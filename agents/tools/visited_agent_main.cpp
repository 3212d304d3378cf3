// visited-agent: the visited operator's agent as a long-lived service
// (docs/agents.md). Each round: the Requests on its Offers become ES2+ orders
// in its SM-DP+ and Accepts (VisitedOperatorAgent::poll), then the visited
// network's events in its spool become the Activation (first attach) and
// usage reports. SIGTERM/SIGINT: the current step finishes, exit 0.
#include <CLI/CLI.hpp>
#include <iostream>

#include "agent_daemon.hpp"
#include "rsp/agents/visited_operator_agent.hpp"
#include "rsp/cli.hpp"
#include "rsp/config_path.hpp"
#include "rsp/smdp/config.hpp"
#include "rsp/smdp/profile_store.hpp"
#include "rsp/store.hpp"

using namespace rsp;
using namespace rsp::agents;
namespace fs = std::filesystem;

namespace {

constexpr const char* kComponent = "visited-agent";

// The network's events, oldest first. A file is moved to done/ once handled
// (its effect is on the ledger), to rejected/ when it cannot be (malformed,
// an unknown subscriber, a report the ledger refuses); a failure that may
// pass (the ledger or a node unavailable) leaves it for the next round.
// Handling a file again after a crash is harmless: the first attach of an
// active order does nothing, a usage record id is applied once by the ledger.
void handle_network(VisitedOperatorAgent& agent, const fs::path& spool) {
  for (const auto& f : spool_files(spool)) {
    if (daemon::stopping()) return;
    NetworkEvent e;
    try {
      e = NetworkEvent::from_json(to_string(read_file(f.string(), 64 * 1024)));
    } catch (const std::exception& ex) {
      log::warn(kComponent, "network event " + f.filename().string() + " rejected: " + ex.what());
      spool_move(f, "rejected");
      continue;
    }
    if (e.kind == "attach") {
      agent.on_first_attach(e.attach, e.plmn);
      spool_move(f, "done");
    } else {
      bool ok = agent.on_usage(e.usage);
      if (!ok) log::warn(kComponent, "usage record " + e.usage.record_id + " not reported (no active order, or refused)");
      spool_move(f, ok ? "done" : "rejected");
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"visited-agent: the visited operator's marketplace agent as a service (docs/agents.md)"};
  std::string config_opt;
  bool once = false;
  app.add_option("--config", config_opt,
                 "configuration file (default: $RSP_VISITED_AGENT_CONFIG, else /etc/rsp/visited-agent.json)");
  app.add_flag("--once", once, "one round (ledger, then the network spool), then exit");
  // First: a SIGTERM while starting also ends in a clean exit 0.
  daemon::install_signal_handlers();
  if (auto rc = rsp::cli::parse(app, argc, argv, "visited-agent")) return *rc;

  VisitedAgentConfig c;
  try {
    c = load_visited_agent_config(rsp::config_path(config_opt, "RSP_VISITED_AGENT_CONFIG", "/etc/rsp/visited-agent.json"));
  } catch (const DaemonConfigError& e) {
    std::cerr << "visited-agent: configuration: " << e.what() << "\n";
    return rsp::cli::exit_usage;
  } catch (const std::exception& e) {  // the file cannot be read
    std::cerr << "visited-agent: " << e.what() << "\n";
    return rsp::cli::exit_failed;
  }
  daemon::apply_log_config(c);
  try {
    auto seal_key = daemon::load_private_key(c.seal_key_file);
    auto market = daemon::open_market(c.ledger);

    http::ClientConfig tls;
    tls.ca_file = c.es2plus.ca_file;
    tls.client_cert_file = c.es2plus.certificate_file;
    tls.client_key_file = c.es2plus.key_file;
    Es2PlusClient es2(c.es2plus.url, tls, c.requester_id);

    // The protected packages are in the SM-DP+'s store (smdpd export-package).
    auto smdp_config = smdp::load_config(c.smdp_config);
    store::Db smdp_db(smdp_config.db_path);
    smdp::ProfileStore profiles(smdp_db, smdp_config.storage_key);
    ProtectedPackageSource packages = [&profiles](const std::string& iccid) {
      auto p = profiles.protected_package(iccid);
      if (!p) throw std::runtime_error("the SM-DP+ holds no protected package for ICCID " + iccid);
      return p->segments;
    };

    store::Db hss_db(c.hss_db);
    SecretBytes hss_key(from_hex(to_string(read_private_file(c.hss_key_file)).substr(0, 64)));
    sim::Hss hss(hss_db, hss_key);

    store::Db state_db(c.state_db);
    AgentState state(state_db);
    VisitedOperatorAgent agent(*market, seal_key, es2, packages, hss, state, c.profile_type);
    agent.say = [](const std::string& s) { log::info(kComponent, s); };
    fs::create_directories(c.network_spool);

    log::info(kComponent, "started as " + market->me() + " on the " + market->backend() + " ledger, cursor " +
                              std::to_string(state.cursor()) + ", polling every " +
                              std::to_string(c.poll_interval.count()) + " ms");
    while (!daemon::stopping()) {
      try {
        agent.poll();
        if (!daemon::stopping()) handle_network(agent, c.network_spool);
      } catch (const std::exception& e) {
        // The ledger, the SM-DP+ or a file unavailable: the next round retries.
        log::warn(kComponent, std::string("round failed, retried in the next one: ") + e.what());
      }
      if (once) break;
      daemon::wait(c.poll_interval);
    }
    log::info(kComponent, "stopped, cursor " + std::to_string(state.cursor()));
    return 0;
  } catch (const std::exception& e) {
    log::error(kComponent, std::string("cannot start: ") + e.what());
    return 1;
  }
}
