#include "rsp/agents/marketplace_story.hpp"

#include <chrono>
#include <ctime>
#include <thread>

#include "rsp/agents/home_operator_agent.hpp"
#include "rsp/lpa/es10.hpp"

namespace rsp::agents {

using ledger::Amount;
using ledger::format_sdrt;

namespace {
void expect(Amount got, Amount want, const std::string& what) {
  if (got != want)
    throw std::runtime_error(what + ": " + format_sdrt(got) + " SDRt, expected " + format_sdrt(want) + " SDRt");
}
std::string sdrt(Amount a) { return format_sdrt(a) + " SDRt"; }
}  // namespace

StoryResult run_marketplace_story(StoryParties& p,
                                  const std::function<void(const std::string&, const std::string&)>& narrate) {
  StoryResult res;
  const std::string H = p.home.me(), V = p.visited.me();
  const Amount home0 = p.home.balance(H).available, visited0 = p.visited.balance(V).available;

  // 1. Money: the issuer credits the home operator with SDRt.
  const Amount credit = 100 * ledger::kUnitsPerSdrt;
  p.issuer.mint(H, credit);
  narrate("issuer", "credits " + H + " with " + sdrt(credit) + " (1 SDRt = 1 IMF SDR)");
  expect(p.home.balance(H).available, home0 + credit, H + " balance");

  // 2. The visited operator publishes an Offer.
  auto seal_key = crypto::EcKey::generate(crypto::Curve::P256);
  ledger::OfferTerms o;
  o.offer_id = "ROAM-" + p.plmn + "-" + to_hex(crypto::random_bytes(3));
  o.service = "data+voice+sms";
  o.coverage = {p.plmn};
  o.allowance = {5000, 100, 50};
  o.tariff = {2'000, 50'000, 10'000};  // 0.002 SDRt/MB, 0.05 SDRt/min, 0.01 SDRt/SMS
  o.price = 12 * ledger::kUnitsPerSdrt;
  o.term_seconds = 30 * 24 * 3600;
  o.valid_until = std::time(nullptr) + 90 * 24 * 3600;
  o.stock = 1000;
  o.seal_key = seal_key.public_point();
  p.visited.publish_offer(o);
  narrate("visited", "publishes Offer " + o.offer_id + ": 5,000 MB + 100 min + 50 SMS on PLMN " + p.plmn +
                         " for 30 days; 0.002 SDRt/MB, 0.05 SDRt/min, 0.01 SDRt/SMS; escrow " + sdrt(o.price));

  // 3. The home operator buys it for one subscriber (a Request with escrow).
  AgentState home_state(p.home_agent_db), visited_state(p.visited_agent_db);
  auto reply_key = crypto::EcKey::generate(crypto::Curve::P256);
  HomeOperatorAgent home_agent(p.home, reply_key, home_state);
  home_agent.say = [&](const std::string& s) { narrate("home", s); };
  auto offer = p.home.offer(o.offer_id);
  if (!offer) throw std::runtime_error("the Offer is not on the ledger");
  std::string pseudonym = subscriber_pseudonym(to_bytes("home-operator-secret:" + H), p.subscriber_imsi);
  if (p.card) {
    home_agent.use_ota(p.card->otad);
    res.request_id = home_agent.buy_for_card(*offer, pseudonym, p.card->iccid);
  } else {
    res.request_id = home_agent.buy(*offer, pseudonym, p.eid);
  }
  expect(p.home.balance(H).available, home0 + credit - o.price, H + " balance after the Request");
  expect(p.home.balance(H).escrowed, o.price, H + " escrow");
  narrate("ledger", H + ": " + sdrt(p.home.balance(H).available) + " available, " + sdrt(p.home.balance(H).escrowed) +
                        " in escrow");

  // 4. The visited operator's agent sees the Request and answers with an Accept.
  VisitedOperatorAgent visited_agent(p.visited, seal_key, p.es2, p.packages, p.hss, visited_state, p.profile_type,
                                     p.progress);
  visited_agent.say = [&](const std::string& s) { narrate("visited", s); };
  if (p.card) visited_agent.serve_accounts(p.card->inventory, p.plmn, p.card->spn, p.card->label);
  if (visited_agent.poll() != 1) throw std::runtime_error("the visited operator's agent did not accept the Request");

  if (p.card) {
    // 5. The home operator's agent opens the Accept and has its OTA server
    // store the account in the card's applet, then switch to it.
    std::optional<InstalledAccount> installed;
    home_agent.say = [&](const std::string& s) {
      narrate(s.rfind("otad", 0) == 0 || s.rfind("account ", 0) == 0 || s.rfind("ICCID ", 0) == 0 ? "ota" : "home", s);
    };
    home_agent.account_switched = [&](const InstalledAccount& a) { installed = a; };
    if (home_agent.poll() != 1 || !installed) throw std::runtime_error("the home operator's agent installed no account");
    res.iccid = installed->iccid;
    res.slot = installed->slot;
    if (p.card->otad.transport() == "sms") {
      res.install_por = installed->install.por_status.value_or(installed->install.state);
      res.switch_por = installed->activate.por_status.value_or(installed->activate.state);
      if (res.install_por != "00" || res.switch_por != "00")
        throw std::runtime_error("PoR not 00: STORE ACCOUNT " + res.install_por + ", SWITCH ACCOUNT " + res.switch_por);
    } else {
      // SCP81: the outcome is the admin session's response script (otad's
      // state "done"), not the push SMS's PoR.
      res.install_por = installed->install.state;
      res.switch_por = installed->activate.state;
      if (res.install_por != "done" || res.switch_por != "done")
        throw std::runtime_error("SCP81 commands not done: STORE ACCOUNT " + res.install_por + ", SWITCH ACCOUNT " +
                                 res.switch_por);
    }
    // 6. The card holds the account: the handset re-reads the USIM after the
    // REFRESH (TS 102 223 6.4.7) and finds the visited operator's IMSI.
    if (p.card->await_refresh && !p.card->await_refresh())
      throw std::runtime_error("the card's REFRESH did not reach the handset within 10 s");
    std::string imsi = sim::ue::read_imsi(p.card->card);
    if (imsi != installed->imsi)
      throw std::runtime_error("the card's EF.IMSI is " + imsi + ", not the allocated " + installed->imsi);
    narrate("card", "ICCID " + res.iccid + " (" + p.card->link + "): account " + std::to_string(res.slot) +
                        " active after SWITCH ACCOUNT + REFRESH; EF.IMSI reads " + imsi);
  } else {
    // 5. The home operator's agent opens the Accept and hands the activation code to the device.
    std::optional<DeliveredProfile> delivered;
    home_agent.deliver = [&](const DeliveredProfile& d) { delivered = d; };
    if (home_agent.poll() != 1 || !delivered) throw std::runtime_error("the home operator's agent delivered nothing");
    res.iccid = delivered->profile.iccid;
    narrate("home", "sends the activation code to subscriber " + pseudonym.substr(0, 8) + "...'s device (LPA)");

    // 6. The device's LPA downloads and installs the profile, then enables it.
    auto ac = lpa::ActivationCode::parse("LPA:" + delivered->profile.activation_code);
    auto dl = lpa::download(p.device, ac, p.lpa);
    if (!dl.installation.success) throw std::runtime_error("installation failed: " + dl.installation.describe());
    narrate("device", "LPA downloads from " + dl.smdp_address + " (SGP.22 ES9+), eUICC " + p.eid + " installs ICCID " +
                          res.iccid + (dl.notification_sent ? "; install notification sent to the SM-DP+" : ""));
    lpa::Es10Client es10(p.device);
    es10.enable_profile(lpa::ProfileId::from_iccid(res.iccid));
    narrate("device", "profile enabled");
    if (p.progress) {
      // The SM-DP+ reports the installation to the visited operator (ES2+
      // HandleDownloadProgressInfo from its outbox): wait for it, bounded.
      for (int i = 0; i < 200 && !visited_agent.installed(res.iccid); ++i) {
        visited_agent.poll();
        if (!visited_agent.installed(res.iccid)) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (!visited_agent.installed(res.iccid))
        throw std::runtime_error("no installation report from the SM-DP+ within 10 s");
    }
  }

  // 7. The device attaches to the visited network: Milenage authentication.
  sim::VisitedNetwork network(p.hss, p.plmn);
  network.on_first_attach = [&](const sim::AttachResult& a) { visited_agent.on_first_attach(a, p.plmn); };
  auto att = network.attach(p.card ? p.card->card : p.device);
  if (!att.accepted) throw std::runtime_error("attach refused: " + att.cause);
  res.imsi = att.imsi;
  narrate("network", "attach of IMSI " + att.imsi + " on " + p.plmn +
                         ": USIM answered AUTHENTICATE, RES == XRES (Milenage): accepted");
  auto r = p.home.find_request(res.request_id);
  if (!r || r->state != ledger::RequestState::Active) throw std::runtime_error("the Request is not active after the attach");

  // 8. Usage: the network meters, the visited operator reports, SDRt moves.
  struct Use {
    std::int64_t mb, min, sms;
  };
  Amount charged = 0;
  int n = 0;
  std::int64_t metered_until = 0;
  for (Use u : {Use{1200, 12, 4}, Use{800, 30, 10}, Use{2600, 0, 0}}) {
    auto rec = network.meter(att.imsi, u.mb, u.min, u.sms);
    if (!rec || !visited_agent.on_usage(*rec)) throw std::runtime_error("usage report refused");
    // Each record has its id and starts where the last ended; sent again
    // (a re-delivery), it is not charged twice.
    if (rec->record_id.empty() || (n > 0 && rec->period_start != metered_until))
      throw std::runtime_error("the network's usage records have no id or overlap");
    metered_until = rec->period_end;
    if (!visited_agent.on_usage(*rec)) throw std::runtime_error("a usage record delivered again was refused");
    Amount c = ledger::charge_for({u.mb, u.min, u.sms}, o.tariff);
    charged += c;
    ++n;
    narrate("visited", "usage report " + std::to_string(n) + ": " + std::to_string(u.mb) + " MB, " + std::to_string(u.min) +
                           " min, " + std::to_string(u.sms) + " SMS -> " + sdrt(c) + " charged, held in escrow for " + V);
    // Held in the home's escrow until the dispute window after the Accept
    // (ledger::kDisputeSeconds) has passed: not yet the provider's.
    auto req = p.home.find_request(res.request_id);
    if (!req || req->charged != charged || req->held != charged) throw std::runtime_error("usage charge not held as charged");
    expect(p.visited.balance(V).available, visited0, V + " balance (charges held)");
    expect(p.home.balance(H).escrowed, o.price, H + " escrow");
  }
  // A report that would draw more than the escrow is refused by the ledger.
  auto over = network.meter(att.imsi, 500, 0, 0);
  if (visited_agent.on_usage(*over)) throw std::runtime_error("usage beyond the escrow was accepted");
  expect(p.visited.balance(V).available, visited0, V + " balance after the refused report");

  // 9. Nobody closes the subscription while its charges are held: the home
  // operator could still dispute the Accept. After the window, the first
  // usage report or the refund pays them (docs/ledger.md, "Marketplace rules").
  try {
    p.visited.refund(res.request_id);
    throw std::runtime_error("a refund within the dispute window was accepted");
  } catch (const ledger::MarketError& e) {
    if (e.code != "held") throw;
  }
  res.charged = charged;
  if (!p.advance_ledger_clock) {
    // No way to move the ledger's clock (a live network): the story ends
    // with the charges held; they are paid after the window.
    narrate("visited", res.request_id + ": " + sdrt(charged) + " charged, paid to " + V +
                           " once the dispute window after the Accept has passed");
    res.refunded = 0;
    res.home_available = p.home.balance(H).available;
    res.visited_available = p.visited.balance(V).available;
    expect(res.home_available, home0 + credit - o.price, H + " final balance");
    expect(res.visited_available, visited0, V + " final balance");
    expect(p.home.balance(H).escrowed, o.price, H + " final escrow");
    return res;
  }
  // 10. The window passes undisputed (a simulated day: the ledger's clock is
  // moved forward); the visited operator closes the subscription: the held
  // charges are paid to it and the unused escrow returns to the home operator.
  p.advance_ledger_clock(ledger::kDisputeSeconds + 60);
  narrate("ledger", "one day later (simulated clock): the dispute window after the Accept has passed, undisputed");
  p.visited.refund(res.request_id);
  Amount back = o.price - charged;
  narrate("visited", "closes " + res.request_id + ": " + sdrt(charged) + " paid to " + V + ", unused escrow " + sdrt(back) +
                         " returns to " + H);
  res.refunded = back;
  res.home_available = p.home.balance(H).available;
  res.visited_available = p.visited.balance(V).available;
  expect(res.home_available, home0 + credit - charged, H + " final balance");
  expect(res.visited_available, visited0 + charged, V + " final balance");
  expect(p.home.balance(H).escrowed, 0, H + " final escrow");
  return res;
}

}  // namespace rsp::agents
