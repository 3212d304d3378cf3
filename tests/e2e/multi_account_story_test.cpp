// The marketplace story on a multi-account SIM (issue 10, must-show 1), with
// the card in this process: Offer -> Request for the card's ICCID -> Accept
// carrying the sealed account -> the home agent -> otad (operator API over
// mutual TLS) -> SMPP -> the simulated SMSC -> the handset -> the card's
// multi-account applet (PoR 00) -> SWITCH ACCOUNT + REFRESH -> attach with
// the new IMSI (Milenage) -> Activation -> usage -> settlement; then the
// same over SCP81 (the push SMS, the card's PSK-TLS admin session to otad).
// The same stories through pcscd + vpcd run in multi_account_pcsc.sh.
#include <gtest/gtest.h>

#include <algorithm>
#include <future>

#include "marketplace_world.hpp"
#include "rsp/agents/account_delivery.hpp"
#include "rsp/agents/home_operator_agent.hpp"
#include "rsp/agents/ota_stack.hpp"
#include "rsp/ledger/embedded_market.hpp"
#include "rsp/ledger/seal.hpp"
#include "rsp/masim/account.hpp"

using namespace rsp;
using namespace rsp::ledger;
namespace fs = std::filesystem;

namespace {

struct EmbeddedMarkets {
  std::shared_ptr<EmbeddedLedger> ledger;
  std::unique_ptr<EmbeddedMarket> issuer, visited, home;
  std::shared_ptr<std::int64_t> skipped_ms = std::make_shared<std::int64_t>(0);
  explicit EmbeddedMarkets(const fs::path& dir) {
    EmbeddedLedger::Options lo;
    lo.clock_ms = [s = skipped_ms] { return static_cast<std::int64_t>(std::time(nullptr)) * 1000 + *s; };
    ledger = std::make_shared<EmbeddedLedger>((dir / "ledger.db").string(), lo);
    auto ik = std::make_shared<crypto::EcKey>(crypto::EcKey::generate(crypto::Curve::P256));
    auto vk = std::make_shared<crypto::EcKey>(crypto::EcKey::generate(crypto::Curve::P256));
    auto hk = std::make_shared<crypto::EcKey>(crypto::EcKey::generate(crypto::Curve::P256));
    ledger->init("SDR-ISSUER", *ik);
    ledger->register_participant("SDR-ISSUER", *ik, "VISITED-A", "visited-operator", *vk);
    ledger->register_participant("SDR-ISSUER", *ik, "HOME-B", "home-operator", *hk);
    issuer = std::make_unique<EmbeddedMarket>(ledger, "SDR-ISSUER", ik);
    visited = std::make_unique<EmbeddedMarket>(ledger, "VISITED-A", vk);
    home = std::make_unique<EmbeddedMarket>(ledger, "HOME-B", hk);
  }
};

void print(const std::string& who, const std::string& what) { std::printf("  [%-7s] %s\n", who.c_str(), what.c_str()); }

// The story's world plus the OTA side with the card in this process.
struct World {
  e2e::MarketplaceWorld mw;
  EmbeddedMarkets m{mw.dir};
  std::unique_ptr<agents::OtaStack> ota;
  std::unique_ptr<agents::AccountInventory> inventory;
  explicit World(const std::string& name, const std::string& transport = "sms") : mw(name) {
    agents::OtaStackOptions o;
    o.dir = mw.dir / "ota";
    o.transport = transport;
    ota = std::make_unique<agents::OtaStack>(o);
    inventory = std::make_unique<agents::AccountInventory>(mw.stack->visited_agent_db(), Bytes(32, 0x33));
    inventory->generate("20801", 3, 7000);
  }
};

OfferTerms small_offer(const crypto::EcKey& seal_key) {
  OfferTerms o;
  o.offer_id = "OFFER-MA";
  o.service = "data";
  o.coverage = {"20801"};
  o.allowance = {1000, 0, 0};
  o.tariff = {1000, 0, 0};
  o.price = 1'000'000;
  o.term_seconds = 3600;
  o.valid_until = std::time(nullptr) + 3600;
  o.stock = 5;
  o.seal_key = seal_key.public_point();
  return o;
}

// What both transports must leave behind: the allocated account on the card,
// active, in the HSS; an Activation; the usage settled to the unit; nothing
// personal on the ledger.
void expect_account_story_outcome(World& w, const agents::StoryResult& res) {
  // The attached IMSI is the one allocated to this Request, in the visited PLMN.
  auto allocated = w.inventory->allocated(res.request_id);
  ASSERT_TRUE(allocated);
  EXPECT_EQ(res.imsi, allocated->imsi);
  EXPECT_EQ(res.imsi.substr(0, 5), "20801");
  EXPECT_EQ(w.inventory->free_count(), 2u);
  // The card holds it in slot 1, active, with the inventory's Ki and OPc.
  const auto& table = w.ota->simulated_card()->accounts();
  ASSERT_TRUE(table.active);
  EXPECT_EQ(*table.active, 1);
  const masim::Account* stored = table.find(1);
  ASSERT_TRUE(stored);
  EXPECT_EQ(masim::imsi_from_ef(ByteView(stored->imsi).first(9)), allocated->imsi);
  EXPECT_EQ(to_hex(stored->ki), to_hex(allocated->ki));
  EXPECT_EQ(to_hex(stored->opc), to_hex(allocated->opc));
  EXPECT_EQ(sim::ue::read_imsi(w.ota->card()), allocated->imsi);
  // The HSS maps the IMSI to the card.
  EXPECT_EQ(w.mw.stack->hss().iccid_of(res.imsi), std::optional<std::string>(w.ota->options().iccid));
  // Activation was recorded on the ledger (by the first attach).
  bool activation = false;
  for (const auto& e : w.m.home->events_after(0, 10000))
    if (e.type == "activation" && e.id == res.request_id) activation = true;
  EXPECT_TRUE(activation);
  // 1200 + 800 + 2600 MB... as the eSIM story: 11.44 SDRt charged of 12.
  EXPECT_EQ(res.charged, 11'440'000);
  EXPECT_EQ(res.refunded, 12'000'000 - 11'440'000);
  EXPECT_EQ(res.home_available, 88'560'000);
  EXPECT_EQ(res.visited_available, 11'440'000);
  // Nothing personal on the ledger: not the ICCID, not the IMSI, not the Ki.
  for (const auto& e : w.m.ledger->entries_after(0, 100000)) {
    std::string payload = rsp::to_string(e.payload);
    EXPECT_EQ(payload.find(res.iccid), std::string::npos) << "seq " << e.seq;
    EXPECT_EQ(payload.find(res.imsi), std::string::npos) << "seq " << e.seq;
    EXPECT_EQ(payload.find(to_hex(allocated->ki)), std::string::npos) << "seq " << e.seq;
  }
}

TEST(MultiAccountStory, StoryOverSmsWithTheCardInProcess) {
  World w("ma-story");
  auto parties = w.mw.stack->parties(*w.m.issuer, *w.m.visited, *w.m.home);
  parties.advance_ledger_clock = [s = w.m.skipped_ms](std::int64_t seconds) { *s += seconds * 1000; };
  agents::MultiAccountCard card{w.ota->options().iccid, w.ota->card(), w.ota->otad_client(), *w.inventory};
  card.await_refresh = [&] { return w.ota->wait_refreshes(1); };
  parties.card = &card;
  auto res = agents::run_marketplace_story(parties, print);

  // PoR 00 for both commands, through the handset's SMS path.
  EXPECT_EQ(res.install_por, "00");
  EXPECT_EQ(res.switch_por, "00");
  EXPECT_EQ(res.slot, 1);
  EXPECT_GE(w.ota->handset().stats().envelopes, 2u);
  EXPECT_GE(w.ota->handset().stats().refreshes, 1u);
  EXPECT_EQ(w.ota->simulated_card()->ota_counter(1), 2u);  // two secured packets: STORE and SWITCH ACCOUNT
  expect_account_story_outcome(w, res);
}

// Over SCP81: the push SMS (SCP80, TAR 000000) opens the card's PSK-TLS
// session to otad's admin server, which runs STORE / SWITCH ACCOUNT in it;
// the handset fetches the REFRESH at its next poll.
TEST(MultiAccountStory, StoryOverScp81WithTheCardInProcess) {
  World w("ma-story81", "scp81");
  auto parties = w.mw.stack->parties(*w.m.issuer, *w.m.visited, *w.m.home);
  parties.advance_ledger_clock = [s = w.m.skipped_ms](std::int64_t seconds) { *s += seconds * 1000; };
  agents::MultiAccountCard card{w.ota->options().iccid, w.ota->card(), w.ota->otad_client(), *w.inventory};
  card.await_refresh = [&] { return w.ota->wait_refreshes(1); };
  parties.card = &card;
  auto res = agents::run_marketplace_story(parties, print);

  // Both commands done in an admin session (otad's final state for SCP81).
  EXPECT_EQ(w.ota->otad_client().transport(), "scp81");
  EXPECT_EQ(res.install_por, "done");
  EXPECT_EQ(res.switch_por, "done");
  EXPECT_EQ(res.slot, 1);
  ASSERT_TRUE(w.ota->simulated_card()->wait_admin_idle(std::chrono::seconds(5)));
  auto sessions = w.ota->simulated_card()->admin_sessions();
  EXPECT_EQ(sessions.completed, 2u);  // STORE, then SWITCH ACCOUNT: one session each
  EXPECT_EQ(sessions.failed, 0u);
  EXPECT_GE(w.ota->handset().stats().refreshes, 1u);
  expect_account_story_outcome(w, res);
}

// Holds MT SMS at the air interface until opened, then hands them to the
// handset: keeps a command in flight for as long as a test needs.
struct GatedStation : sim::MobileStation {
  explicit GatedStation(sim::Handset& h) : handset(h), opened(gate.get_future().share()) {}
  sim::DeliveryOutcome deliver_mt(ByteView tpdu) override {
    opened.wait();
    return handset.deliver_mt(tpdu);
  }
  sim::Handset& handset;
  std::promise<void> gate;
  std::shared_future<void> opened;
};

// The home agent stops while otad's STORE ACCOUNT is out (its wait bounded
// to 1 ms, the SMS held before the handset so the PoR cannot come first);
// restarted on the same state it waits for that command instead of sending
// another, then switches: two packets reach the card in all.
TEST(MultiAccountStory, HomeAgentRestartResumesTheCommandInFlight) {
  World w("ma-resume");
  GatedStation gated(w.ota->handset());
  w.ota->smsc().register_handset(w.ota->options().msisdn, &gated);
  auto seal_key = crypto::EcKey::generate(crypto::Curve::P256);
  w.m.issuer->mint("HOME-B", 5'000'000);
  auto o = small_offer(seal_key);
  w.m.visited->publish_offer(o);
  agents::AgentState hs(w.mw.stack->home_agent_db()), vs(w.mw.stack->visited_agent_db());
  auto reply = crypto::EcKey::generate(crypto::Curve::P256);
  std::string rid;
  {
    agents::HomeOperatorAgent home(*w.m.home, reply, hs);
    home.say = [](const std::string& s) { print("home", s); };
    home.use_ota(w.ota->otad_client(), std::chrono::milliseconds(1));
    rid = home.buy_for_card(*w.m.home->offer(o.offer_id), "sub", w.ota->options().iccid);
    agents::VisitedOperatorAgent visited(*w.m.visited, seal_key, w.mw.stack->es2(), w.mw.stack->packages(),
                                         w.mw.stack->hss(), vs, "roaming-eu");
    visited.serve_accounts(*w.inventory, "20801", "VISITED", "Roaming");
    ASSERT_EQ(visited.poll(), 1);
    EXPECT_EQ(home.poll(), 0);  // STORE ACCOUNT sent, not final within 1 ms
    EXPECT_EQ(hs.order(rid)->status, "delivered");
    ASSERT_TRUE(hs.ota(rid));
    EXPECT_FALSE(hs.ota(rid)->command_id.empty());
  }
  gated.gate.set_value();
  agents::HomeOperatorAgent restarted(*w.m.home, reply, hs);
  restarted.say = [](const std::string& s) { print("home", s); };
  restarted.use_ota(w.ota->otad_client(), std::chrono::seconds(15));
  std::optional<agents::InstalledAccount> done;
  restarted.account_switched = [&](const agents::InstalledAccount& a) { done = a; };
  EXPECT_EQ(restarted.poll(), 1);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->install.por_status, std::optional<std::string>("00"));
  EXPECT_EQ(done->activate.por_status, std::optional<std::string>("00"));
  EXPECT_EQ(hs.order(rid)->status, "switched");
  EXPECT_EQ(w.ota->simulated_card()->ota_counter(1), 2u);  // one STORE, one SWITCH: nothing sent twice
  EXPECT_EQ(sim::ue::read_imsi(w.ota->card()), w.inventory->allocated(rid)->imsi);
  EXPECT_EQ(restarted.poll(), 0);  // nothing left to do
  EXPECT_EQ(w.ota->simulated_card()->ota_counter(1), 2u);
  w.ota->smsc().register_handset(w.ota->options().msisdn, &w.ota->handset());  // `gated` goes first
}

// A visited operator that seals one account but publishes the hash of
// another: the home agent refuses it and nothing reaches otad or the card.
TEST(MultiAccountStory, TamperedAccountDoesNotReachOtad) {
  World w("ma-tamper");
  auto seal_key = crypto::EcKey::generate(crypto::Curve::P256);
  w.m.issuer->mint("HOME-B", 5'000'000);
  auto o = small_offer(seal_key);
  w.m.visited->publish_offer(o);
  agents::AgentState hs(w.mw.stack->home_agent_db());
  auto reply = crypto::EcKey::generate(crypto::Curve::P256);
  agents::HomeOperatorAgent home(*w.m.home, reply, hs);
  home.say = [](const std::string& s) { print("home", s); };
  home.use_ota(w.ota->otad_client(), std::chrono::seconds(5));
  std::string rid = home.buy_for_card(*w.m.home->offer(o.offer_id), "sub", w.ota->options().iccid);

  auto r = w.m.visited->find_request(rid);
  ASSERT_TRUE(r);
  agents::AccountDelivery real{w.ota->options().iccid, "208017000000001", SecretBytes(Bytes(16, 1)),
                               SecretBytes(Bytes(16, 2)), "", "", "20801"};
  agents::AccountDelivery other = real;
  other.imsi = "208019999999999";
  Bytes hash = crypto::sha256(other.to_json());  // published: not what is sealed
  Bytes sealed = ledger::seal(r->reply_key, ledger::accept_context(w.m.visited->ledger_id(), *r, seal_key.public_point(), hash),
                              real.to_json());
  w.m.visited->accept(ledger::AcceptTerms{rid, sealed, hash});
  bool switched = false;
  home.account_switched = [&](const agents::InstalledAccount&) { switched = true; };
  EXPECT_EQ(home.poll(), 0);
  EXPECT_FALSE(switched);
  EXPECT_EQ(hs.order(rid)->status, "rejected");
  EXPECT_FALSE(hs.ota(rid));
  EXPECT_EQ(w.ota->handset().stats().envelopes, 0u);
  EXPECT_EQ(w.ota->simulated_card()->accounts().accounts.size(), 0u);
}

// A card the home operator's otad does not know gets no Request: nothing is
// escrowed. A Request for a card the visited operator cannot serve (no
// inventory) is closed by it: the escrow returns.
TEST(MultiAccountStory, UnknownCardIsNotBoughtAndUnservableRequestIsRefunded) {
  World w("ma-unknown");
  auto seal_key = crypto::EcKey::generate(crypto::Curve::P256);
  w.m.issuer->mint("HOME-B", 5'000'000);
  auto o = small_offer(seal_key);
  w.m.visited->publish_offer(o);
  agents::AgentState hs(w.mw.stack->home_agent_db()), vs(w.mw.stack->visited_agent_db());
  auto reply = crypto::EcKey::generate(crypto::Curve::P256);
  agents::HomeOperatorAgent home(*w.m.home, reply, hs);
  home.use_ota(w.ota->otad_client(), std::chrono::seconds(5));
  auto offer = w.m.home->offer(o.offer_id);
  EXPECT_THROW(home.buy_for_card(*offer, "sub", "8988211000000000099"), std::runtime_error);
  EXPECT_EQ(w.m.home->balance("HOME-B").available, 5'000'000);
  EXPECT_EQ(w.m.home->balance("HOME-B").escrowed, 0);

  // Without the OTA check (a home agent without otad), the visited agent
  // without an inventory closes the Request and the escrow returns.
  agents::HomeOperatorAgent blind(*w.m.home, reply, hs);
  std::string rid = blind.buy_for_card(*offer, "sub", "8988211000000000099");
  EXPECT_EQ(w.m.home->balance("HOME-B").escrowed, 1'000'000);
  agents::VisitedOperatorAgent visited(*w.m.visited, seal_key, w.mw.stack->es2(), w.mw.stack->packages(),
                                       w.mw.stack->hss(), vs, "roaming-eu");
  visited.say = [](const std::string& s) { print("visited", s); };
  EXPECT_EQ(visited.poll(), 0);
  EXPECT_EQ(w.m.home->find_request(rid)->state, RequestState::Closed);
  EXPECT_EQ(w.m.home->balance("HOME-B").available, 5'000'000);
  EXPECT_EQ(w.m.home->balance("HOME-B").escrowed, 0);
}

// The inventory: Ki/OPc sealed at rest, one account per Request (the same
// again after a restart), released when the Request closes, exhaustion.
TEST(MultiAccountStory, AccountInventoryAllocatesOncePerRequest) {
  fs::path dir = fs::temp_directory_path() / ("rsp-inventory-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    store::Db db((dir / "v.db").string());
    agents::AccountInventory inv(db, Bytes(32, 7));
    EXPECT_EQ(inv.generate("20801", 2, 1), 2u);
    EXPECT_EQ(inv.generate("20801", 2, 1), 0u);  // same IMSIs: kept
    auto a = inv.allocate("REQ-1");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->imsi, "208010000000001");
    EXPECT_EQ(a->ki.size(), 16u);
    // Not in the clear in the file.
    int rows = 0;
    db.query("SELECT secrets FROM visited_accounts", {}, [&](const store::Row& r) {
      Bytes blob = r.blob(0);
      EXPECT_EQ(std::search(blob.begin(), blob.end(), a->ki.begin(), a->ki.end()), blob.end());
      ++rows;
    });
    EXPECT_EQ(rows, 2);
  }
  store::Db db((dir / "v.db").string());
  agents::AccountInventory inv(db, Bytes(32, 7));
  EXPECT_EQ(inv.allocate("REQ-1")->imsi, "208010000000001");  // after a restart: the same
  EXPECT_EQ(inv.allocate("REQ-2")->imsi, "208010000000002");
  EXPECT_FALSE(inv.allocate("REQ-3"));  // exhausted
  inv.release("REQ-1");
  EXPECT_EQ(inv.allocate("REQ-3")->imsi, "208010000000001");
  // Another storage key does not open them.
  agents::AccountInventory wrong(db, Bytes(32, 8));
  EXPECT_THROW(wrong.allocated("REQ-3"), std::exception);
  fs::remove_all(dir);
}

}  // namespace
