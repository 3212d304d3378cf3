// The marketplace story on the embedded ledger, end to end with real parts:
// SM-DP+ over HTTPS (ES2+ mutual TLS, ES9+), generated and PPK-protected
// profiles, the LPA and the eUICC simulator, the visited network's Milenage
// attach; balances checked to the smallest SDRt unit.
#include <gtest/gtest.h>

#include "forwarding_market.hpp"
#include "marketplace_world.hpp"
#include "rsp/agents/home_operator_agent.hpp"
#include "rsp/ledger/embedded_market.hpp"
#include "rsp/ledger/seal.hpp"

using namespace rsp;
using namespace rsp::ledger;
namespace fs = std::filesystem;

namespace {

struct EmbeddedMarkets {
  std::shared_ptr<EmbeddedLedger> ledger;
  std::unique_ptr<EmbeddedMarket> issuer, visited, home;
  // The ledger's clock runs this far ahead of the system's (the story's advance_ledger_clock).
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

// 1,000 MB at 0.001 SDRt/MB for an hour, escrow 1 SDRt, on PLMN 20801.
OfferTerms small_offer(const crypto::EcKey& seal_key) {
  OfferTerms o;
  o.offer_id = "OFFER-1";
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

void print(const std::string& who, const std::string& what) { std::printf("  [%-7s] %s\n", who.c_str(), what.c_str()); }

TEST(Marketplace, StoryOnTheEmbeddedLedger) {
  e2e::MarketplaceWorld mw("market-embedded");
  EmbeddedMarkets m(mw.dir);
  auto parties = mw.stack->parties(*m.issuer, *m.visited, *m.home);
  parties.advance_ledger_clock = [s = m.skipped_ms](std::int64_t seconds) { *s += seconds * 1000; };
  auto res = agents::run_marketplace_story(parties, print);
  // 1200 MB + 12 min + 4 SMS = 3.04; 800 MB + 30 min + 10 SMS = 3.20; 2600 MB = 5.20 SDRt,
  // held until the dispute window after the Accept has passed (issue 16), then paid.
  EXPECT_EQ(res.charged, 11'440'000);
  EXPECT_EQ(res.refunded, 12'000'000 - 11'440'000);
  EXPECT_EQ(res.home_available, 88'560'000);
  EXPECT_EQ(res.visited_available, 11'440'000);
  // The profile on the eUICC is the one the Accept's hash names, and the SM-DP+ says installed.
  auto p = mw.stack->smdp().profiles().by_iccid(res.iccid);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->state, smdp::ProfileState::Installed);
  auto a = m.home->find_accept(res.request_id);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->package_hash, crypto::sha256(mw.stack->smdp().profiles().protected_package(res.iccid)->segments));
  // Nothing personal on the ledger: neither the EID nor the IMSI appear in any entry.
  for (const auto& e : m.ledger->entries_after(0, 100000)) {
    std::string payload = rsp::to_string(e.payload);
    EXPECT_EQ(payload.find(mw.eid()), std::string::npos) << "seq " << e.seq;
    EXPECT_EQ(payload.find("310150123456789"), std::string::npos) << "seq " << e.seq;
    EXPECT_EQ(payload.find(res.iccid), std::string::npos) << "seq " << e.seq;
  }
  // The ledger verifies from scratch, on the story's clock; on the system's
  // clock its last entries are a simulated day ahead and are refused.
  EmbeddedLedger::Options lo;
  lo.clock_ms = [s = m.skipped_ms] { return static_cast<std::int64_t>(std::time(nullptr)) * 1000 + *s; };
  EXPECT_NO_THROW(EmbeddedLedger((mw.dir / "ledger.db").string(), lo));
  EXPECT_THROW(EmbeddedLedger((mw.dir / "ledger.db").string()), ChainError);
}

// An attach whose authentication fails (the HSS holds another Ki for the
// IMSI: a cloned or wrong card) is refused and activates nothing; the
// genuine attach afterwards activates.
TEST(Marketplace, FailedAuthenticationActivatesNothing) {
  e2e::MarketplaceWorld mw("market-attach");
  EmbeddedMarkets m(mw.dir);
  m.issuer->mint("HOME-B", 50'000'000);
  auto seal_key = crypto::EcKey::generate(crypto::Curve::P256);
  auto reply_key = crypto::EcKey::generate(crypto::Curve::P256);
  OfferTerms o = small_offer(seal_key);
  m.visited->publish_offer(o);
  agents::AgentState hs(mw.stack->home_agent_db()), vs(mw.stack->visited_agent_db());
  agents::HomeOperatorAgent home(*m.home, reply_key, hs);
  auto parties = mw.stack->parties(*m.issuer, *m.visited, *m.home);
  agents::VisitedOperatorAgent visited(*m.visited, seal_key, mw.stack->es2(), parties.packages, mw.stack->hss(), vs, "roaming-eu");
  std::string rid = home.buy(*m.home->offer("OFFER-1"), "sub-1", mw.eid());
  ASSERT_EQ(visited.poll(), 1);
  std::string ac, iccid;
  home.deliver = [&](const agents::DeliveredProfile& d) {
    ac = d.profile.activation_code;
    iccid = d.profile.iccid;
  };
  ASSERT_EQ(home.poll(), 1);
  // A restarted agent (same state file) handles nothing twice.
  agents::HomeOperatorAgent home_again(*m.home, reply_key, hs);
  EXPECT_EQ(home_again.poll(), 0);
  EXPECT_EQ(visited.poll(), 0);

  auto dl = lpa::download(mw.stack->euicc(), lpa::ActivationCode::parse("LPA:" + ac), parties.lpa);
  ASSERT_TRUE(dl.installation.success);
  lpa::Es10Client(mw.stack->euicc()).enable_profile(lpa::ProfileId::from_iccid(iccid));

  // The HSS gets the wrong Ki for the subscriber's IMSI: the USIM rejects AUTN.
  std::string imsi = sim::ue::read_imsi(mw.stack->euicc());
  mw.stack->hss().provision(imsi, iccid, crypto::random_bytes(16), crypto::random_bytes(16));
  sim::VisitedNetwork net(mw.stack->hss(), "20801");
  int activations = 0;
  net.on_first_attach = [&](const sim::AttachResult& a) {
    ++activations;
    visited.on_first_attach(a, "20801");
  };
  auto bad = net.attach(mw.stack->euicc());
  EXPECT_FALSE(bad.accepted);
  EXPECT_NE(bad.cause.find("authentication failed"), std::string::npos) << bad.cause;
  EXPECT_EQ(activations, 0);
  EXPECT_EQ(m.home->find_request(rid)->state, RequestState::Accepted);
  EXPECT_FALSE(net.meter(imsi, 10, 0, 0));  // not attached: nothing to meter

  // Usage for a subscriber that never attached is refused by the ledger too.
  EXPECT_THROW(m.visited->report_usage({rid, 1, {10, 0, 0}, 0, 0}), MarketError);
}

// A Request the visited operator cannot serve (its reply key is not a
// P-256 point, so no Accept can be sealed to it) is closed at once: the escrow
// returns, the profile ordered for it goes back to the SM-DP+'s stock, and the
// next Request is served as usual.
TEST(Marketplace, UnservableRequestIsClosedAndTheNextServed) {
  e2e::MarketplaceWorld mw("market-bad-request");
  EmbeddedMarkets m(mw.dir);
  m.issuer->mint("HOME-B", 10'000'000);
  auto seal_key = crypto::EcKey::generate(crypto::Curve::P256);
  OfferTerms o = small_offer(seal_key);
  m.visited->publish_offer(o);
  RequestTerms bad;
  bad.request_id = "REQ-BAD";
  bad.offer_id = "OFFER-1";
  bad.subscriber = "sub-1";
  bad.escrow = o.price;
  bad.reply_key = Bytes(65, 0x01);
  bad.reply_key[0] = 0x04;  // the right shape, not on the curve
  bad.sealed_target = seal(o.seal_key, target_context(m.home->ledger_id(), *m.home->offer("OFFER-1"), "HOME-B", bad),
                           to_bytes(R"({"eid":")" + mw.eid() + R"("})"));
  m.home->request(bad);
  agents::AgentState hs(mw.stack->home_agent_db()), vs(mw.stack->visited_agent_db());
  auto reply_key = crypto::EcKey::generate(crypto::Curve::P256);
  agents::HomeOperatorAgent home(*m.home, reply_key, hs);
  std::string good = home.buy(*m.home->offer("OFFER-1"), "sub-2", mw.eid());
  auto parties = mw.stack->parties(*m.issuer, *m.visited, *m.home);
  agents::VisitedOperatorAgent visited(*m.visited, seal_key, mw.stack->es2(), parties.packages, mw.stack->hss(), vs,
                                       "roaming-eu");
  EXPECT_EQ(visited.poll(), 1);
  EXPECT_EQ(m.home->find_request("REQ-BAD")->state, RequestState::Closed);
  EXPECT_EQ(m.home->find_request(good)->state, RequestState::Accepted);
  EXPECT_EQ(m.home->balance("HOME-B").available, 9'000'000);
  EXPECT_EQ(m.home->balance("HOME-B").escrowed, 1'000'000);
  // Of the 3 profiles, one serves the good Request; the bad one's went back.
  int available = 0;
  mw.stack->smdp().profiles().db().query("SELECT COUNT(*) FROM profiles WHERE state = 'available'", {},
                                         [&](const store::Row& r) { available = static_cast<int>(r.i64(0)); });
  EXPECT_EQ(available, 2);
  EXPECT_EQ(visited.poll(), 0);  // nothing is handled twice
}

// A Market whose next usage report lands but whose answer is lost (a
// timeout after the write): the caller cannot tell whether it was charged.
struct LostAnswerMarket final : ForwardingMarket {
  bool lose_next = false;
  explicit LostAnswerMarket(Market& inner) : ForwardingMarket(inner) {}
  Receipt report_usage(const UsageReport& u) override {
    Receipt r = m_.report_usage(u);
    if (lose_next) {
      lose_next = false;
      throw std::runtime_error("timeout waiting for the answer");
    }
    return r;
  }
};

// The visited agent reports each network usage record once, under its id:
// a record the network delivers again after the agent crashed (its count
// behind the ledger's), or a report retried after its answer was lost, is
// not charged twice. (Before record ids, the agent renumbered the record
// after report-out-of-order and the ledger charged it a second time.)
TEST(Marketplace, VisitedAgentChargesAUsageRecordOnce) {
  e2e::MarketplaceWorld mw("market-usage-once");
  EmbeddedMarkets m(mw.dir);
  m.issuer->mint("HOME-B", 10'000'000);
  auto seal_key = crypto::EcKey::generate(crypto::Curve::P256);
  auto reply_key = crypto::EcKey::generate(crypto::Curve::P256);
  OfferTerms o = small_offer(seal_key);
  m.visited->publish_offer(o);
  RequestTerms rq;
  rq.request_id = "REQ-1";
  rq.offer_id = o.offer_id;
  rq.subscriber = "sub-1";
  rq.escrow = o.price;
  rq.reply_key = reply_key.public_point();
  rq.sealed_target = seal(o.seal_key, target_context(m.home->ledger_id(), *m.visited->offer(o.offer_id), "HOME-B", rq),
                          to_bytes(R"({"eid":")" + mw.eid() + R"("})"));
  m.home->request(rq);
  m.visited->accept({"REQ-1", seal(rq.reply_key, SealContext{}, to_bytes("{}")), Bytes(32, 7)});
  m.visited->activate("REQ-1", "20801");
  const std::int64_t act = m.home->find_request("REQ-1")->activated_at;

  // The agent's order for the subscriber, active, as after its attach.
  const std::string imsi = "001010000000001", iccid = "8944000000000000001";
  mw.stack->hss().provision(imsi, iccid, crypto::random_bytes(16), crypto::random_bytes(16));
  agents::AgentState vs(mw.stack->visited_agent_db());
  vs.put(agents::Order{"REQ-1", "", iccid, "active", 0});
  LostAnswerMarket market(*m.visited);
  auto parties = mw.stack->parties(*m.issuer, *m.visited, *m.home);
  agents::VisitedOperatorAgent visited(market, seal_key, mw.stack->es2(), parties.packages, mw.stack->hss(), vs,
                                       "roaming-eu");

  sim::UsageRecord cdr1{imsi, "20801-00000001", act, act + 10, 100, 0, 0};  // 100 MB = 0.1 SDRt
  ASSERT_TRUE(visited.on_usage(cdr1));
  EXPECT_EQ(m.home->find_request("REQ-1")->charged, 100'000);
  // The agent crashed after the report landed, before it saved its count;
  // the network delivers the record again.
  vs.put(agents::Order{"REQ-1", "", iccid, "active", 0});
  EXPECT_TRUE(visited.on_usage(cdr1));
  EXPECT_EQ(m.home->find_request("REQ-1")->charged, 100'000);
  EXPECT_EQ(m.home->find_request("REQ-1")->usage_reports, 1);
  EXPECT_EQ(vs.order("REQ-1")->usage_reports, 1);

  // The next record lands but the answer is lost: the agent sends it again.
  market.lose_next = true;
  sim::UsageRecord cdr2{imsi, "20801-00000002", act + 10, act + 20, 200, 0, 0};
  EXPECT_TRUE(visited.on_usage(cdr2));
  EXPECT_EQ(m.home->find_request("REQ-1")->charged, 300'000);
  EXPECT_EQ(m.home->find_request("REQ-1")->usage_reports, 2);
  EXPECT_EQ(vs.order("REQ-1")->usage_reports, 2);

  // A different record claiming traffic already charged is refused.
  sim::UsageRecord overlap{imsi, "20801-00000003", act + 15, act + 25, 50, 0, 0};
  EXPECT_FALSE(visited.on_usage(overlap));
  EXPECT_EQ(m.home->find_request("REQ-1")->charged, 300'000);
}

// Records ready together go as one batched write (issue 12): charged once
// each, a batch delivered again charges nothing, and a batch with one record
// the ledger refuses still lands the others (record by record).
TEST(Marketplace, VisitedAgentBatchesUsageRecords) {
  e2e::MarketplaceWorld mw("market-usage-batch");
  EmbeddedMarkets m(mw.dir);
  m.issuer->mint("HOME-B", 10'000'000);
  auto seal_key = crypto::EcKey::generate(crypto::Curve::P256);
  auto reply_key = crypto::EcKey::generate(crypto::Curve::P256);
  OfferTerms o = small_offer(seal_key);
  m.visited->publish_offer(o);
  RequestTerms rq;
  rq.request_id = "REQ-1";
  rq.offer_id = o.offer_id;
  rq.subscriber = "sub-1";
  rq.escrow = o.price;
  rq.reply_key = reply_key.public_point();
  rq.sealed_target = seal(o.seal_key, target_context(m.home->ledger_id(), *m.visited->offer(o.offer_id), "HOME-B", rq),
                          to_bytes(R"({"eid":")" + mw.eid() + R"("})"));
  m.home->request(rq);
  m.visited->accept({"REQ-1", seal(rq.reply_key, SealContext{}, to_bytes("{}")), Bytes(32, 7)});
  m.visited->activate("REQ-1", "20801");
  const std::int64_t act = m.home->find_request("REQ-1")->activated_at;

  const std::string imsi = "001010000000001", iccid = "8944000000000000001";
  mw.stack->hss().provision(imsi, iccid, crypto::random_bytes(16), crypto::random_bytes(16));
  agents::AgentState vs(mw.stack->visited_agent_db());
  vs.put(agents::Order{"REQ-1", "", iccid, "active", 0});
  auto parties = mw.stack->parties(*m.issuer, *m.visited, *m.home);
  agents::VisitedOperatorAgent visited(*m.visited, seal_key, mw.stack->es2(), parties.packages, mw.stack->hss(), vs,
                                       "roaming-eu");
  const auto head0 = m.visited->ledger().head().seq;
  std::vector<sim::UsageRecord> ready{{imsi, "20801-00000001", act, act + 10, 100, 0, 0},
                                      {imsi, "20801-00000002", act + 10, act + 20, 200, 0, 0},
                                      {imsi, "20801-00000003", act + 20, act + 30, 50, 0, 0},
                                      {"001019999999999", "20801-0000000X", act, act + 10, 1, 0, 0}};  // no order
  EXPECT_EQ(visited.on_usage_batch(ready), (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(m.home->find_request("REQ-1")->charged, 350'000);
  EXPECT_EQ(m.home->find_request("REQ-1")->usage_reports, 3);
  EXPECT_EQ(vs.order("REQ-1")->usage_reports, 3);
  EXPECT_EQ(m.visited->ledger().head().seq, head0 + 3);  // one entry per report
  // Delivered again after a crash (the agent's count lost): nothing charged twice.
  vs.put(agents::Order{"REQ-1", "", iccid, "active", 0});
  EXPECT_EQ(visited.on_usage_batch(ready), (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(m.home->find_request("REQ-1")->charged, 350'000);
  EXPECT_EQ(vs.order("REQ-1")->usage_reports, 3);
  // One record overlapping traffic already charged: the batch is refused,
  // the agent sends the records one by one, the good ones land.
  std::vector<sim::UsageRecord> mixed{{imsi, "20801-00000004", act + 30, act + 40, 10, 0, 0},
                                      {imsi, "20801-00000005", act + 35, act + 45, 10, 0, 0},
                                      {imsi, "20801-00000006", act + 40, act + 50, 20, 0, 0}};
  EXPECT_EQ(visited.on_usage_batch(mixed), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(m.home->find_request("REQ-1")->charged, 380'000);
  EXPECT_EQ(m.home->find_request("REQ-1")->usage_reports, 5);
  EXPECT_EQ(vs.order("REQ-1")->usage_reports, 5);
}

}  // namespace
