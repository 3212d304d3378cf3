// A service provider's agent (issue 14; docs/marketplace.md "Service
// providers"): like the visited operator's agent, but what it sells is a
// service (content, insurance, transport, hotel...), so it answers a Request
// on its service Offers with an SP code (from a configured generator) sealed
// to the home operator's reply key instead of an eSIM profile. The SP's own
// systems call redeem() when the code is first used (the ledger's
// Activation) and report_units() for each use (usage reports, settled in
// SDRt exactly as a visited operator's).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rsp/agents/agent_state.hpp"
#include "rsp/crypto.hpp"
#include "rsp/ledger/market.hpp"

namespace rsp::agents {

// What the Accept of a service Offer seals (JSON): the SP code and what it
// entitles to. The Accept's package_hash is SHA-256 of these bytes.
struct ServiceCodeDelivery {
  std::string sp_code;
  std::string entitles;  // the Offer's service and allowance, in words
  std::string offer_id;
  Bytes to_json() const;
  static ServiceCodeDelivery from_json(ByteView j);  // throws std::runtime_error
  static bool is_service_code(ByteView j);            // a JSON object with "sp_code"
};

// Where SP codes come from: random codes of `length` characters from
// `alphabet` (crypto::random_bytes, rejection-sampled so every character is
// equally likely), or the lines of a code list file, each given out once.
class SpCodeSource {
 public:
  static SpCodeSource random(std::string alphabet, std::size_t length);
  static SpCodeSource from_file(const std::string& path);  // throws if unreadable or empty
  // A code not given out before (`used` says whether one was). Throws
  // std::runtime_error when the list is exhausted.
  std::string next(const std::function<bool(const std::string&)>& used);

 private:
  std::string alphabet_;
  std::size_t length_ = 0;
  std::vector<std::string> list_;
};

class ServiceProviderAgent {
 public:
  ServiceProviderAgent(ledger::Market& market, const crypto::EcKey& seal_key, SpCodeSource codes, AgentState& state);

  // Handles every new ledger event: a Request on one of its service Offers
  // gets an Accept with a fresh SP code (a Request whose target does not
  // open, or on a mobile Offer, is closed: the escrow returns). Returns how
  // many it accepted.
  int poll();
  // The code was presented and used for the first time: the Activation
  // (its redemption) at `locode` (a UN/LOCODE, or empty). Returns the
  // request id. Throws std::runtime_error for a code it did not issue or
  // one already redeemed, MarketError when the ledger refuses.
  std::string redeem(const std::string& sp_code, const std::string& locode = "");
  // `units` units of service used under `sp_code` in [period_start,
  // period_end): a usage report under `record_id` (applied once, like the
  // network's usage records). False when the ledger refuses it.
  bool report_units(const std::string& sp_code, std::int64_t units, std::int64_t period_start,
                    std::int64_t period_end, const std::string& record_id);

  // Never given SP codes: they are the customer's entitlement.
  std::function<void(const std::string&)> say = [](const std::string&) {};

 private:
  void handle_request(const std::string& request_id);
  ledger::Market& market_;
  const crypto::EcKey& seal_key_;
  SpCodeSource codes_;
  AgentState& state_;
};

}  // namespace rsp::agents
