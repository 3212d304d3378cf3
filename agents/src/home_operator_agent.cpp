#include "rsp/agents/home_operator_agent.hpp"

#include <nlohmann/json.hpp>

#include "rsp/ledger/seal.hpp"

namespace rsp::agents {

HomeOperatorAgent::HomeOperatorAgent(ledger::Market& market, const crypto::EcKey& reply_key, AgentState& state)
    : market_(market), reply_key_(reply_key), state_(state) {}

void HomeOperatorAgent::use_ota(OtadClient& otad, std::chrono::milliseconds command_timeout) {
  otad_ = &otad;
  command_timeout_ = command_timeout;
}

std::string HomeOperatorAgent::buy(const ledger::Offer& offer, const std::string& subscriber, const std::string& eid,
                                   const std::string& request_id) {
  return send_request(offer, subscriber, nlohmann::json{{"eid", eid}}.dump(), "", request_id);
}

std::string HomeOperatorAgent::buy_service(const ledger::Offer& offer, const std::string& subscriber) {
  if (offer.kind != ledger::OfferKind::Service) throw std::runtime_error("Offer " + offer.offer_id + " is not a service Offer");
  return send_request(offer, subscriber, nlohmann::json{{"service", offer.service}}.dump(), "", "");
}

std::string HomeOperatorAgent::buy_for_card(const ledger::Offer& offer, const std::string& subscriber,
                                            const std::string& iccid, const std::string& request_id) {
  // Checked before any escrow: an account for a card our OTA server cannot
  // reach would be paid for and never installed.
  if (otad_ && !otad_->card_known(iccid))
    throw std::runtime_error("the OTA server does not know ICCID " + iccid + ": no Request sent");
  return send_request(offer, subscriber, nlohmann::json{{"iccid", iccid}}.dump(), iccid, request_id);
}

std::string HomeOperatorAgent::send_request(const ledger::Offer& offer, const std::string& subscriber,
                                            const std::string& target_json, const std::string& iccid,
                                            const std::string& request_id) {
  ledger::RequestTerms t;
  t.request_id = request_id.empty() ? "REQ-" + to_hex(crypto::random_bytes(6)) : request_id;
  t.offer_id = offer.offer_id;
  t.subscriber = subscriber;
  t.escrow = offer.price;
  t.reply_key = reply_key_.public_point();
  // Bound to this ledger, this Request id, both parties and both keys: a
  // Request that copies it under the same id (front-running) cannot use it.
  t.sealed_target = ledger::seal(offer.seal_key, ledger::target_context(market_.ledger_id(), offer, market_.me(), t),
                                 to_bytes(target_json));
  // Recorded first: if the process dies after the Request lands, the Accept
  // that answers it is still recognised and delivered. A card's ICCID is
  // kept: the Accept's account must be for that card.
  state_.put(Order{t.request_id, subscriber, iccid, "requested", 0});
  try {
    market_.request(t);
  } catch (const ledger::MarketError&) {
    state_.put(Order{t.request_id, subscriber, iccid, "refused", 0});
    throw;
  }
  say("Request " + t.request_id + " for Offer " + offer.offer_id + " (subscriber " + subscriber +
      (iccid.empty() ? "" : ", multi-account SIM " + iccid) + "), escrow " + ledger::format_sdrt(t.escrow) + " SDRt");
  return t.request_id;
}

Bytes HomeOperatorAgent::open_accept(const std::string& rid, Bytes* package_hash) {
  auto a = market_.find_accept(rid);
  auto r = market_.find_request(rid);
  auto offer = r ? market_.offer(r->offer_id) : std::nullopt;
  if (!a || !r || !offer) throw std::runtime_error("its Accept, Request or Offer is not on the ledger");
  auto ctx = ledger::accept_context(market_.ledger_id(), *r, offer->seal_key, a->package_hash);
  if (package_hash) *package_hash = a->package_hash;
  return ledger::open_sealed(reply_key_, ctx, a->sealed_profile);
}

// delivered -> installed (STORE ACCOUNT, PoR OK) -> switched (SWITCH ACCOUNT,
// PoR OK; the card REFRESHes). The command id is recorded as soon as otad
// took it, so a restart waits for that command instead of sending another;
// a crash between otad's answer and that record sends the same STORE
// ACCOUNT again, which the applet takes as a replacement of the same slot.
bool HomeOperatorAgent::advance_account(Order& o, const AccountDelivery& d) {
  if (!otad_) throw std::runtime_error("no OTA server to install the account with");
  auto job = state_.ota(o.request_id);
  if (!job) {
    job = OtaJob{o.request_id, d.iccid, state_.next_slot(d.iccid), ""};
    state_.put_ota(*job);
  }
  InstalledAccount done{o.request_id, o.subscriber, d.iccid, d.imsi, job->slot, {}, {}};
  auto run = [&](const char* what, const std::function<std::string()>& send) -> std::optional<OtaCommandStatus> {
    if (job->command_id.empty()) {
      job->command_id = send();
      state_.put_ota(*job);
      say(std::string("otad (") + otad_->transport() + "): " + what + " -> " + job->command_id);
    }
    OtaCommandStatus s = otad_->wait(job->command_id, command_timeout_);
    if (!s.final()) {
      say(std::string(what) + " on ICCID " + d.iccid + " still " + s.state + ": resumed at the next poll");
      return std::nullopt;
    }
    job->command_id.clear();
    state_.put_ota(*job);
    if (!s.success()) {
      o.status = std::string(what == std::string("STORE ACCOUNT") ? "install" : "switch") + "-failed";
      state_.put(o);
      say(std::string(what) + " on ICCID " + d.iccid + " failed: " + s.describe());
      return std::nullopt;
    }
    return s;
  };
  if (o.status == "delivered") {
    auto s = run("STORE ACCOUNT", [&] {
      return otad_->install_account(d.iccid, OtaAccount{job->slot, d.imsi, d.ki, d.opc, d.spn, d.label});
    });
    if (!s) return false;
    done.install = *s;
    o.status = "installed";
    state_.put(o);
    say("account " + std::to_string(job->slot) + " (IMSI " + d.imsi + ") stored in ICCID " + d.iccid + ": " + s->describe());
  }
  if (o.status == "installed") {
    auto s = run("SWITCH ACCOUNT", [&] { return otad_->switch_account(d.iccid, job->slot); });
    if (!s) return false;
    done.activate = *s;
    o.status = "switched";
    state_.put(o);
    say("ICCID " + d.iccid + " switched to account " + std::to_string(job->slot) + ": " + s->describe());
    if (account_switched) account_switched(done);
    return true;
  }
  return false;
}

int HomeOperatorAgent::poll() {
  int delivered = 0;
  // Account orders a restart or a slow card left half way.
  for (const char* st : {"delivered", "installed"})
    for (auto o : state_.orders_with_status(st)) {
      if (!state_.ota(o.request_id) || !otad_) continue;  // an eSIM profile: delivered is its end
      try {
        if (advance_account(o, AccountDelivery::from_json(open_accept(o.request_id)))) ++delivered;
      } catch (const std::exception& ex) {
        say("account order " + o.request_id + ": " + ex.what());
      }
    }
  for (;;) {
    auto events = market_.events_after(state_.cursor(), 100);
    if (events.empty()) return delivered;
    for (const auto& e : events) {
      if (e.type == "accept" && e.counterparty == market_.me()) {
        auto o = state_.order(e.id);
        if (o && o->status == "requested") {
          Bytes plain, hash;
          try {
            plain = open_accept(e.id, &hash);
          } catch (const std::exception& ex) {
            say("Accept " + e.id + " does not open: " + ex.what());
            state_.set_cursor(e.position);
            continue;
          }
          if (ServiceCodeDelivery::is_service_code(plain)) {
            // The hash is over the sealed bytes: a code changed after the
            // provider published the Accept is not shown.
            try {
              if (crypto::sha256(plain) != hash) throw std::runtime_error("hash does not match the sealed SP code");
              DeliveredServiceCode d{e.id, o->subscriber, ServiceCodeDelivery::from_json(plain)};
              say("Accept " + e.id + " opened with the home key: an SP code for Offer " + d.code.offer_id +
                  ", hash verified");
              if (service_code_delivered) service_code_delivered(d);
              o->status = "delivered";
              state_.put(*o);
              ++delivered;
            } catch (const std::exception& ex) {
              say("Accept " + e.id + ": " + ex.what() + "; not delivered");
            }
            wipe(plain.data(), plain.size());
            state_.set_cursor(e.position);
            continue;
          }
          if (AccountDelivery::is_account(plain)) {
            // The hash is over the delivered bytes: an account changed after
            // the visited operator published it does not reach otad.
            try {
              if (crypto::sha256(plain) != hash) throw std::runtime_error("hash does not match the sealed account");
              AccountDelivery d = AccountDelivery::from_json(plain);
              if (d.iccid != o->iccid) throw std::runtime_error("the account is for ICCID " + d.iccid + ", not " + o->iccid);
              say("Accept " + e.id + " opened with the home key: account IMSI " + d.imsi + " for ICCID " + d.iccid +
                  ", hash verified");
              // The slot first, then the status: a restart finds a
              // delivered account order by its OTA record.
              if (!state_.ota(e.id)) state_.put_ota(OtaJob{e.id, d.iccid, state_.next_slot(d.iccid), ""});
              o->status = "delivered";
              state_.put(*o);
              state_.set_cursor(e.position);  // from here on the order itself is resumed
              if (!otad_) say("no OTA server configured: account for ICCID " + d.iccid + " waits");
              else if (advance_account(*o, d)) ++delivered;
            } catch (const std::exception& ex) {
              say("Accept " + e.id + ": " + ex.what() + "; not installed");
              if (o->status == "requested") {
                o->status = "rejected";
                state_.put(*o);
              }
            }
            wipe(plain.data(), plain.size());
            state_.set_cursor(e.position);
            continue;
          }
          DeliveredProfile d;
          d.request_id = e.id;
          d.subscriber = o->subscriber;
          d.package_hash = hash;
          try {
            d.profile = ProfileDelivery::from_json(plain);
          } catch (const std::exception& ex) {
            say("Accept " + e.id + " does not open: " + ex.what());
            state_.set_cursor(e.position);
            continue;
          }
          if (crypto::sha256(d.profile.protected_package) != hash) {
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
