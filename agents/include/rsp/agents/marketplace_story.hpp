// The marketplace story, end to end, on any ledger backend: the SDRt issuer
// credits the home operator; the visited operator publishes an Offer; the home
// operator's agent buys it for a subscriber (Request + escrow); the visited
// operator's agent orders a profile in its SM-DP+ and publishes the Accept with
// the profile sealed to the home operator; the home operator's agent opens it
// and hands the activation code to the subscriber's LPA, which downloads and
// installs the profile on the eUICC; the device attaches to the visited network
// (Milenage); usage reports charge SDRt, held until the dispute window after
// the Accept has passed; then the visited operator closes the subscription:
// the charges are paid to it and the unused escrow returns. Every step is narrated and
// checked to the smallest SDRt unit; a wrong figure throws.
#pragma once
#include <functional>
#include <string>

#include "rsp/agents/account_inventory.hpp"
#include "rsp/agents/es2plus_client.hpp"
#include "rsp/agents/otad_client.hpp"
#include "rsp/agents/visited_operator_agent.hpp"
#include "rsp/apdu.hpp"
#include "rsp/ledger/market.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/sim/visited_network.hpp"
#include "rsp/store.hpp"

namespace rsp::agents {

// The multi-account variant (issue 10): the subscriber's device holds a
// multi-account SIM instead of an eUICC. The Request targets the card's
// ICCID, the visited operator answers with an account from its inventory,
// the home operator's agent has its OTA server store it in the card and
// switch to it (over `otad`'s transport: SMS or SCP81), the card REFRESHes
// and attaches with the new IMSI.
struct MultiAccountCard {
  std::string iccid;
  apdu::Transport& card;        // the card as the handset sees it (in process or PC/SC)
  OtadClient& otad;             // the home operator's OTA server
  AccountInventory& inventory;  // the visited operator's accounts
  std::string spn = "VISITED", label = "Roaming";
  std::string link = "in process";  // how the card is reached, for the narration
  // Returns once the handset has run the card's REFRESH (the PoR of SWITCH
  // ACCOUNT can reach otad before the handset FETCHes it), false after a
  // bounded wait. Empty: not waited for.
  std::function<bool()> await_refresh;
};

struct StoryParties {
  ledger::Market& issuer;   // the admin: issues SDRt
  ledger::Market& visited;  // visited operator
  ledger::Market& home;     // home operator
  Es2PlusClient& es2;       // the visited operator's ES2+ link to its SM-DP+
  ProtectedPackageSource packages;
  std::string profile_type;  // what the visited operator orders per Request
  sim::Hss& hss;             // the visited operator's HSS (has the issued Ki/OPc)
  std::string plmn;          // the visited network, MCC+MNC
  apdu::Transport& device;   // the subscriber's eUICC (as its LPA sees it)
  std::string eid;
  std::string subscriber_imsi;  // the subscriber's home IMSI (only its pseudonym reaches the ledger)
  lpa::DownloadOptions lpa;
  store::Db& visited_agent_db;
  store::Db& home_agent_db;
  // The visited operator's HandleDownloadProgressInfo inbox (nullptr: the
  // SM-DP+ reports nothing and the first attach alone activates).
  ProgressInbox* progress = nullptr;
  // Moves the ledger's clock forward by that many seconds (the demo and the
  // tests: a simulated day for the dispute window, ledger::kDisputeSeconds).
  // Empty: the story ends with the usage charges still held in escrow.
  std::function<void(std::int64_t seconds)> advance_ledger_clock;
  // Set: the story runs on this multi-account SIM (`device`, `eid`, `lpa`
  // and `progress` are then unused).
  MultiAccountCard* card = nullptr;
};

struct StoryResult {
  std::string request_id, iccid;
  std::string imsi;  // the IMSI that attached
  int slot = 0;      // multi-account: the applet slot the account went to
  // multi-account: the PoR status of STORE and SWITCH ACCOUNT (SMS), or
  // otad's final state of each (SCP81: "done")
  std::string install_por, switch_por;
  ledger::Amount home_available = 0, visited_available = 0, charged = 0, refunded = 0;
};

// `narrate(party, text)`: party is "issuer", "visited", "home", "device",
// "network", "ledger", and for a multi-account SIM "ota" (the home
// operator's OTA server) and "card".
StoryResult run_marketplace_story(StoryParties& p,
                                  const std::function<void(const std::string&, const std::string&)>& narrate);

}  // namespace rsp::agents
