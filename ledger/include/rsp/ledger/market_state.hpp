// The marketplace rules of the embedded ledger (docs/ledger.md, "Marketplace
// rules"): the state every market entry is checked against and applied to.
// EmbeddedLedger runs apply() inside its append transaction and while walking
// the chain on open, so the rules hold for every writer, including
// `ledger-tool append`.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "rsp/ledger/ledger.hpp"
#include "rsp/ledger/market.hpp"

namespace rsp::ledger {

// JSON payloads of the market entry types (docs/ledger.md, "Market payloads").
Bytes offer_payload(const OfferTerms& t);
Bytes withdraw_payload(const std::string& offer_id);  // entry type "withdraw"
Bytes edit_payload(const OfferEdit& e);               // entry type "edit"
Bytes request_payload(const RequestTerms& t);
Bytes accept_payload(const AcceptTerms& t);
Bytes activation_payload(const std::string& request_id, const std::string& plmn);
Bytes usage_payload(const UsageReport& u);
Bytes refund_payload(const std::string& request_id);
Bytes mint_payload(const std::string& to, Amount amount);
Bytes dispute_payload(const std::string& request_id, const std::string& reason);
Bytes resolve_payload(const std::string& request_id, Resolution r);
Bytes revoke_payload(const std::string& participant);
Bytes pause_payload(bool paused);

// mint, offer, withdraw, edit, request, accept, activation, usage, refund, dispute, resolve, revoke, pause
bool is_market_type(std::string_view type);

// A usage record a Request was charged for (its id is unique per Request).
struct UsageRecord {
  std::string record_id;
  Allowance used;
  std::int64_t period_start = 0, period_end = 0;
  std::int64_t position = 0;   // the usage entry's seq
  std::string reference;       // its hash, hex
};

class MarketState {
 public:
  // The role of a registered participant (nullopt: not registered).
  using RoleOf = std::function<std::optional<std::string>(const std::string& id)>;

  // Checks a market entry against the rules and applies it. Throws
  // MarketError and leaves the state unchanged when a rule is broken.
  // Entries of other types only advance last_seq().
  void apply(const Entry& e, const RoleOf& role_of);

  std::int64_t last_seq() const { return last_seq_; }
  const std::map<std::string, Offer>& offers() const { return offers_; }
  const Offer* offer(const std::string& id) const;
  const Request* request(const std::string& id) const;
  const Accept* accept(const std::string& request_id) const;
  const UsageRecord* usage_record(const std::string& request_id, const std::string& record_id) const;
  Balance balance(const std::string& participant) const;
  const std::vector<Event>& events() const { return events_; }
  bool paused() const { return paused_; }

 private:
  std::int64_t last_seq_ = 0;
  Amount total_supply_ = 0;  // every mint; below 2^63 like the chain's SDRt, so no balance can overflow
  std::map<std::string, Offer> offers_;
  std::map<std::string, Request> requests_;
  std::map<std::string, Accept> accepts_;
  std::map<std::string, Balance> balances_;
  std::map<std::pair<std::string, std::string>, UsageRecord> usage_records_;  // (request_id, record_id)
  bool paused_ = false;
  std::map<std::string, std::string> arbiter_of_;  // participant -> the arbiter it named at registration
  std::vector<Event> events_;
};

}  // namespace rsp::ledger
