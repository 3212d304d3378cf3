// The home operator's agent: buys an Offer for a subscriber (a Request that
// escrows SDRt, the target EID sealed to the provider), watches the ledger
// for the Accept, opens it with its reply key, checks the package hash and
// hands the activation code to the subscriber's LPA. For a subscriber with a
// multi-account SIM the target is the card's ICCID and the Accept carries an
// account (AccountDelivery): the agent has its OTA server (otad) store it in
// the card's applet and switch the card to it; the order goes delivered ->
// installed -> switched, and a restart resumes where it was (the Accept is
// opened again from the ledger; the otad command in flight is remembered).
#pragma once
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "rsp/agents/account_delivery.hpp"
#include "rsp/agents/agent_state.hpp"
#include "rsp/agents/otad_client.hpp"
#include "rsp/agents/service_provider_agent.hpp"
#include "rsp/agents/visited_operator_agent.hpp"
#include "rsp/crypto.hpp"
#include "rsp/ledger/market.hpp"

namespace rsp::agents {

struct DeliveredProfile {
  std::string request_id, subscriber;
  ProfileDelivery profile;
  Bytes package_hash;  // as published in the Accept (checked against the package)
};

// The SP code of a service Offer (issue 14), opened from its Accept with
// the hash checked: what the subscriber is shown after the purchase.
struct DeliveredServiceCode {
  std::string request_id, subscriber;
  ServiceCodeDelivery code;
};

// An account stored in the subscriber's card and switched to (PoR OK).
struct InstalledAccount {
  std::string request_id, subscriber, iccid, imsi;
  int slot = 0;
  OtaCommandStatus install, activate;  // the STORE ACCOUNT and SWITCH ACCOUNT commands' outcomes
};

class HomeOperatorAgent {
 public:
  HomeOperatorAgent(ledger::Market& market, const crypto::EcKey& reply_key, AgentState& state);

  // Sends the Request: escrow = the Offer's price; `target` is {"eid": ...}
  // or {"iccid": ...}, sealed to the Offer's seal key. Returns the request id.
  // `request_id`: the id to use (a daemon derives it from the purchase order,
  // so an order placed again after a crash is the same Request); empty: a
  // random one.
  std::string buy(const ledger::Offer& offer, const std::string& subscriber_pseudonym, const std::string& eid,
                  const std::string& request_id = "");
  // The same for a subscriber with a multi-account SIM: the sealed target is
  // {"iccid": ...}. With an OTA server (use_ota) the card must be registered
  // there first: a card otad does not know gets no Request (nothing escrowed).
  std::string buy_for_card(const ledger::Offer& offer, const std::string& subscriber_pseudonym,
                           const std::string& iccid, const std::string& request_id = "");
  // A service provider's Offer (kind service): the sealed target names the
  // service bought, the Accept brings an SP code (service_code_delivered).
  std::string buy_service(const ledger::Offer& offer, const std::string& subscriber_pseudonym);
  // The home operator's OTA server; `command_timeout` bounds the wait for
  // each command's final state (a later poll() resumes a command still out).
  void use_ota(OtadClient& otad, std::chrono::milliseconds command_timeout = std::chrono::seconds(20));

  // Resumes account orders left delivered or installed, then handles new
  // events (Accepts of its Requests): opens each and calls `deliver` (a
  // profile) or installs and switches the account over OTA and calls
  // `account_switched`. Returns how many it delivered or switched.
  int poll();

  std::function<void(const DeliveredProfile&)> deliver;
  std::function<void(const InstalledAccount&)> account_switched;
  std::function<void(const DeliveredServiceCode&)> service_code_delivered;
  std::function<void(const std::string&)> say = [](const std::string&) {};

 private:
  std::string send_request(const ledger::Offer& offer, const std::string& subscriber, const std::string& target_json,
                           const std::string& iccid, const std::string& request_id);
  // Opens the Accept of `request_id` (the sealed plaintext; checks the hash).
  Bytes open_accept(const std::string& request_id, Bytes* package_hash = nullptr);
  // Drives an account order through otad; true once switched.
  bool advance_account(Order& o, const AccountDelivery& d);
  ledger::Market& market_;
  const crypto::EcKey& reply_key_;
  AgentState& state_;
  OtadClient* otad_ = nullptr;
  std::chrono::milliseconds command_timeout_{20'000};
};

// A subscriber pseudonym for the ledger: HMAC-SHA-256(home secret, IMSI),
// first 16 bytes, hex. Only the home operator can link it to the subscriber.
std::string subscriber_pseudonym(ByteView home_secret, const std::string& imsi);

}  // namespace rsp::agents
