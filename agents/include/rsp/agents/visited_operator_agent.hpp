// The visited operator's agent: watches the ledger for Requests on its
// Offers, orders and protects a profile for the target eUICC in its SM-DP+
// (ES2+ DownloadOrder + ConfirmOrder), publishes the Accept with the profile
// sealed to the home operator's key, turns the subscriber's first
// authenticated attach into the Activation and the network's usage records
// into signed usage reports (each one settles SDRt on the ledger).
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "rsp/agents/account_inventory.hpp"
#include "rsp/agents/agent_state.hpp"
#include "rsp/agents/es2plus_client.hpp"
#include "rsp/agents/progress_endpoint.hpp"
#include "rsp/crypto.hpp"
#include "rsp/ledger/market.hpp"
#include "rsp/sim/visited_network.hpp"

namespace rsp::agents {

// The protected profile package (SGP.22 2.5.3: the 86 segments protected with
// the PPKs) the SM-DP+ holds for an ICCID: what the Accept carries, and
// what the eUICC will receive inside the BoundProfilePackage.
using ProtectedPackageSource = std::function<Bytes(const std::string& iccid)>;

// The plaintext the Accept seals (JSON): activation code, ICCID and the
// protected package, base64. The Accept's package_hash is SHA-256 of the
// protected package bytes.
struct ProfileDelivery {
  std::string activation_code;  // SGP.22 4.1, "1$<SM-DP+ address>$<matching id>"
  std::string iccid;
  Bytes protected_package;
  Bytes to_json() const;
  static ProfileDelivery from_json(ByteView j);  // throws std::runtime_error
};

class VisitedOperatorAgent {
 public:
  // `progress`: where the SM-DP+'s HandleDownloadProgressInfo reports arrive
  // (ProgressEndpoint). With it, the Activation needs both the installation
  // report (point 4, success) and the first authenticated attach, in either
  // order; without it, the attach alone.
  VisitedOperatorAgent(ledger::Market& market, const crypto::EcKey& seal_key, Es2PlusClient& es2,
                       ProtectedPackageSource packages, sim::Hss& hss, AgentState& state, std::string profile_type,
                       ProgressInbox* progress = nullptr);

  // Serves Requests whose target is a multi-account SIM ({"iccid": ...}):
  // an account from `inventory` (IMSI in `plmn`), provisioned in the HSS and
  // sealed in the Accept (AccountDelivery). Without it such Requests are
  // closed (escrow back).
  void serve_accounts(AccountInventory& inventory, std::string plmn, std::string spn, std::string label);

  // Handles the SM-DP+'s progress reports, then every new ledger event
  // (Requests on its Offers). Returns how many Requests it accepted.
  int poll();
  // The network's first authenticated attach of a subscriber it issued.
  void on_first_attach(const sim::AttachResult& a, const std::string& plmn);
  // Whether the SM-DP+ reported the profile of `iccid` installed.
  bool installed(const std::string& iccid);
  // One usage record from the network: a signed usage report (settles SDRt).
  // Returns false when the ledger refuses it (e.g. beyond the escrow).
  bool on_usage(const sim::UsageRecord& u);
  // Several usage records that are ready together (for one subscriber or
  // several): one batched write (Market::report_usage_batch: one
  // transaction on the chain). A batch the ledger refuses (one record beyond
  // the escrow, say) is sent again record by record through on_usage, so
  // the others still land. Returns, per record, what on_usage would have.
  std::vector<bool> on_usage_batch(const std::vector<sim::UsageRecord>& records);

  std::function<void(const std::string&)> say = [](const std::string&) {};

 private:
  void handle_request(const std::string& request_id);
  // The multi-account path of handle_request: returns the ICCID it accepted for.
  void accept_account(const std::string& rid, const ledger::Request& r, const std::string& card_iccid);
  void handle_progress(const ProgressReport& r);
  void activate(Order& o, const std::string& plmn);
  ledger::Market& market_;
  const crypto::EcKey& seal_key_;
  Es2PlusClient& es2_;
  ProtectedPackageSource packages_;
  sim::Hss& hss_;
  AgentState& state_;
  std::string profile_type_;
  ProgressInbox* progress_;
  AccountInventory* accounts_ = nullptr;
  std::string account_plmn_, account_spn_, account_label_;
  // ICCID -> the PLMN of an attach that waits for the installation report.
  std::map<std::string, std::string> attached_on_;
};

}  // namespace rsp::agents
