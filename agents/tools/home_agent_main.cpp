// home-agent: the home operator's agent as a long-lived service
// (docs/agents.md). Each round: the purchase orders in its spool become
// Requests (HomeOperatorAgent::buy; buying stays the operator's decision:
// whoever may write into the spool decides), then the Accepts of its
// Requests are opened and the activation code of each is written to the
// delivery folder (an account for a multi-account SIM goes to the card
// through otad). SIGTERM/SIGINT: the current step finishes, exit 0.
#include <CLI/CLI.hpp>
#include <iostream>

#include <nlohmann/json.hpp>

#include "agent_daemon.hpp"
#include "rsp/agents/home_operator_agent.hpp"
#include "rsp/cli.hpp"
#include "rsp/config_path.hpp"
#include "rsp/store.hpp"

using namespace rsp;
using namespace rsp::agents;
namespace fs = std::filesystem;

namespace {

constexpr const char* kComponent = "home-agent";

// The Request id of a purchase order: its own, or one derived from the
// participant and the file's name, so an order placed again after a crash
// (the Request landed, the file was not moved yet) is the same Request
// and the ledger has it already.
std::string request_id_for(const PurchaseOrder& o, const std::string& me, const fs::path& file) {
  if (!o.request_id.empty()) return o.request_id;
  return "REQ-" + to_hex(crypto::sha256(to_bytes(me + "/" + file.stem().string()))).substr(0, 16);
}

void handle_orders(HomeOperatorAgent& agent, ledger::Market& market, AgentState& state, const fs::path& spool) {
  for (const auto& f : spool_files(spool)) {
    if (daemon::stopping()) return;
    PurchaseOrder o;
    try {
      o = PurchaseOrder::from_json(to_string(read_file(f.string(), 64 * 1024)));
    } catch (const std::exception& ex) {
      log::warn(kComponent, "purchase order " + f.filename().string() + " rejected: " + ex.what());
      spool_move(f, "rejected");
      continue;
    }
    const std::string rid = request_id_for(o, market.me(), f);
    auto known = state.order(rid);
    if (known && known->status != "requested") {
      // Placed and answered (or refused) before: nothing more to do.
      log::info(kComponent, "purchase order " + f.filename().string() + " is Request " + rid + " (" + known->status + ")");
      spool_move(f, known->status == "refused" ? "rejected" : "done");
      continue;
    }
    if (known && market.find_request(rid)) {
      log::info(kComponent, "purchase order " + f.filename().string() + " is Request " + rid + ", already on the ledger");
      spool_move(f, "done");
      continue;
    }
    try {
      auto offer = market.offer(o.offer_id);
      if (!offer) throw ledger::MarketError("unknown-offer", "no offer '" + o.offer_id + "'");
      if (!o.eid.empty())
        agent.buy(*offer, o.subscriber, o.eid, rid);
      else
        agent.buy_for_card(*offer, o.subscriber, o.iccid, rid);
      spool_move(f, "done");
    } catch (const ledger::MarketError& e) {
      log::warn(kComponent, "purchase order " + f.filename().string() + " (Request " + rid + ") refused: " + e.what());
      spool_move(f, "rejected");
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"home-agent: the home operator's marketplace agent as a service (docs/agents.md)"};
  std::string config_opt;
  bool once = false;
  app.add_option("--config", config_opt,
                 "configuration file (default: $RSP_HOME_AGENT_CONFIG, else /etc/rsp/home-agent.json)");
  app.add_flag("--once", once, "one round (purchase orders, then the ledger), then exit");
  // First: a SIGTERM while starting also ends in a clean exit 0.
  daemon::install_signal_handlers();
  if (auto rc = rsp::cli::parse(app, argc, argv, "home-agent")) return *rc;

  HomeAgentConfig c;
  try {
    c = load_home_agent_config(rsp::config_path(config_opt, "RSP_HOME_AGENT_CONFIG", "/etc/rsp/home-agent.json"));
  } catch (const DaemonConfigError& e) {
    std::cerr << "home-agent: configuration: " << e.what() << "\n";
    return rsp::cli::exit_usage;
  } catch (const std::exception& e) {  // the file cannot be read
    std::cerr << "home-agent: " << e.what() << "\n";
    return rsp::cli::exit_failed;
  }
  daemon::apply_log_config(c);
  try {
    auto reply_key = daemon::load_private_key(c.reply_key_file);
    auto market = daemon::open_market(c.ledger);
    store::Db state_db(c.state_db);
    AgentState state(state_db);
    HomeOperatorAgent agent(*market, reply_key, state);
    agent.say = [](const std::string& s) { log::info(kComponent, s); };

    std::unique_ptr<OtadClient> otad;
    if (c.otad) {
      http::ClientConfig tls;
      tls.ca_file = c.otad->ca_file;
      tls.client_cert_file = c.otad->certificate_file;
      tls.client_key_file = c.otad->key_file;
      otad = std::make_unique<OtadClient>(c.otad->url, tls, c.otad_transport);
      agent.use_ota(*otad);
    }
    // One file per Request, mode 0600 (the activation code lets its holder
    // download the profile): what the storefront or the subscriber care
    // system hands to the subscriber. Written again after a crash between
    // the write and the order's "delivered": the same content.
    const fs::path out = c.delivery_dir;
    agent.deliver = [&](const DeliveredProfile& d) {
      spool_write(out, d.request_id + ".json",
                  nlohmann::json{{"request_id", d.request_id}, {"subscriber", d.subscriber}, {"kind", "profile"},
                                 {"iccid", d.profile.iccid}, {"activation_code", "LPA:" + d.profile.activation_code}}
                      .dump());
      log::info(kComponent, "activation code of " + d.request_id + " delivered to " + (out / (d.request_id + ".json")).string());
    };
    agent.account_switched = [&](const InstalledAccount& a) {
      spool_write(out, a.request_id + ".json",
                  nlohmann::json{{"request_id", a.request_id}, {"subscriber", a.subscriber}, {"kind", "account"},
                                 {"iccid", a.iccid}, {"slot", a.slot}, {"status", "switched"}}
                      .dump());
    };
    fs::create_directories(c.orders_spool);
    fs::create_directories(c.delivery_dir);

    log::info(kComponent, "started as " + market->me() + " on the " + market->backend() + " ledger, cursor " +
                              std::to_string(state.cursor()) + ", polling every " +
                              std::to_string(c.poll_interval.count()) + " ms");
    while (!daemon::stopping()) {
      try {
        handle_orders(agent, *market, state, c.orders_spool);
        if (!daemon::stopping()) agent.poll();
      } catch (const std::exception& e) {
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
