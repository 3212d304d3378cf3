// The home operator's agent: buys an Offer for a subscriber (a Request that
// escrows SDRt, the target EID sealed to the provider), watches the ledger
// for the Accept, opens it with its reply key, checks the package hash and
// hands the activation code to the subscriber's LPA.
#pragma once
#include <functional>
#include <string>

#include "rsp/agents/agent_state.hpp"
#include "rsp/agents/visited_operator_agent.hpp"
#include "rsp/crypto.hpp"
#include "rsp/ledger/market.hpp"

namespace rsp::agents {

struct DeliveredProfile {
  std::string request_id, subscriber;
  ProfileDelivery profile;
  Bytes package_hash;  // as published in the Accept (checked against the package)
};

class HomeOperatorAgent {
 public:
  HomeOperatorAgent(ledger::Market& market, const crypto::EcKey& reply_key, AgentState& state);

  // Sends the Request: escrow = the Offer's price; `target` is {"eid": ...}
  // or {"iccid": ...}, sealed to the Offer's seal key. Returns the request id.
  std::string buy(const ledger::Offer& offer, const std::string& subscriber_pseudonym, const std::string& eid);
  // Handles new events (Accepts of its Requests): opens each and calls
  // `deliver`. Returns how many profiles it delivered.
  int poll();

  std::function<void(const DeliveredProfile&)> deliver;
  std::function<void(const std::string&)> say = [](const std::string&) {};

 private:
  ledger::Market& market_;
  const crypto::EcKey& reply_key_;
  AgentState& state_;
};

// A subscriber pseudonym for the ledger: HMAC-SHA-256(home secret, IMSI),
// first 16 bytes, hex. Only the home operator can link it to the subscriber.
std::string subscriber_pseudonym(ByteView home_secret, const std::string& imsi);

}  // namespace rsp::agents
