#include "rsp/agents/home_operator_agent.hpp"

#include <nlohmann/json.hpp>

#include "rsp/ledger/seal.hpp"

namespace rsp::agents {

HomeOperatorAgent::HomeOperatorAgent(ledger::Market& market, const crypto::EcKey& reply_key, AgentState& state)
    : market_(market), reply_key_(reply_key), state_(state) {}

std::string HomeOperatorAgent::buy(const ledger::Offer& offer, const std::string& subscriber, const std::string& eid) {
  ledger::RequestTerms t;
  t.request_id = "REQ-" + to_hex(crypto::random_bytes(6));
  t.offer_id = offer.offer_id;
  t.subscriber = subscriber;
  t.escrow = offer.price;
  t.reply_key = reply_key_.public_point();
  // Bound to this ledger, this Request id, both parties and both keys: a
  // Request that copies it under the same id (front-running) cannot use it.
  t.sealed_target = ledger::seal(offer.seal_key, ledger::target_context(market_.ledger_id(), offer, market_.me(), t),
                                 to_bytes(nlohmann::json{{"eid", eid}}.dump()));
  // Recorded first: if the process dies after the Request lands, the Accept
  // that answers it is still recognised and delivered.
  state_.put(Order{t.request_id, subscriber, "", "requested", 0});
  try {
    market_.request(t);
  } catch (const ledger::MarketError&) {
    state_.put(Order{t.request_id, subscriber, "", "refused", 0});
    throw;
  }
  say("Request " + t.request_id + " for Offer " + offer.offer_id + " (subscriber " + subscriber + "), escrow " +
      ledger::format_sdrt(t.escrow) + " SDRt");
  return t.request_id;
}

int HomeOperatorAgent::poll() {
  int delivered = 0;
  for (;;) {
    auto events = market_.events_after(state_.cursor(), 100);
    if (events.empty()) return delivered;
    for (const auto& e : events) {
      if (e.type == "accept" && e.counterparty == market_.me()) {
        auto o = state_.order(e.id);
        auto a = market_.find_accept(e.id);
        if (o && a && o->status == "requested") {
          DeliveredProfile d;
          d.request_id = e.id;
          d.subscriber = o->subscriber;
          d.package_hash = a->package_hash;
          try {
            auto r = market_.find_request(e.id);
            auto offer = r ? market_.offer(r->offer_id) : std::nullopt;
            if (!r || !offer) throw std::runtime_error("its Request or Offer is not on the ledger");
            auto ctx = ledger::accept_context(market_.ledger_id(), *r, offer->seal_key, a->package_hash);
            d.profile = ProfileDelivery::from_json(ledger::open_sealed(reply_key_, ctx, a->sealed_profile));
          } catch (const std::exception& ex) {
            say("Accept " + e.id + " does not open: " + ex.what());
            state_.set_cursor(e.position);
            continue;
          }
          if (crypto::sha256(d.profile.protected_package) != a->package_hash) {
            say("Accept " + e.id + ": package hash does not match the sealed package; not delivered");
          } else {
            say("Accept " + e.id + " opened with the home key: ICCID " + d.profile.iccid + ", package hash verified");
            if (deliver) deliver(d);
            o->iccid = d.profile.iccid;
            o->status = "delivered";
            state_.put(*o);
            ++delivered;
          }
        }
      }
      state_.set_cursor(e.position);
    }
  }
}

std::string subscriber_pseudonym(ByteView home_secret, const std::string& imsi) {
  return to_hex(ByteView(crypto::hmac_sha256(home_secret, to_bytes(imsi))).first(16));
}

}  // namespace rsp::agents
