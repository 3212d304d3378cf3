// The marketplace story on the chain backend: the same agents, SM-DP+, eUICC
// and visited network as on the embedded ledger, with every record a signed
// transaction to the Solidity contracts on a local anvil node (started and
// stopped by this test on 127.0.0.1; skipped where npm could not install it).
#include <gtest/gtest.h>

#include "forwarding_market.hpp"
#include "marketplace_world.hpp"
#include "rsp/agents/home_operator_agent.hpp"
#include "rsp/ledger/chain_deploy.hpp"
#include "rsp/ledger/chain_market.hpp"
#include "rsp/ledger/chain_testnode.hpp"

using namespace rsp;
using namespace rsp::ledger;

namespace {

void print(const std::string& who, const std::string& what) { std::printf("  [%-7s] %s\n", who.c_str(), what.c_str()); }

// The home operator's handle as a front-runner sees it: every Request it
// sends is first copied by `attacker` (same request id, offer, sealed target
// and escrow; the attacker's own reply key), and the copy lands first. On a
// chain this is what a participant watching the pending transactions gets by
// paying more gas; the order is given here, what the attacker gains is tested.
class FrontRunMarket final : public ForwardingMarket {
 public:
  FrontRunMarket(Market& victim, Market& attacker, Bytes attacker_reply_key)
      : ForwardingMarket(victim), a_(attacker), reply_(std::move(attacker_reply_key)) {}
  Receipt request(const RequestTerms& t) override {
    RequestTerms copy = t;
    copy.reply_key = reply_;
    copy.subscriber = "front-runner";
    a_.request(copy);
    return m_.request(t);
  }

 private:
  Market& a_;
  Bytes reply_;
};

int available_profiles(e2e::MarketplaceWorld& mw) {
  int n = 0;
  mw.stack->smdp().profiles().db().query("SELECT COUNT(*) FROM profiles WHERE state = 'available'", {},
                                         [&](const store::Row& r) { n = static_cast<int>(r.i64(0)); });
  return n;
}

TEST(Marketplace, StoryOnTheChain) {
  if (auto why = AnvilNode::unavailable_reason()) GTEST_SKIP() << "the chain backend needs anvil: " << *why;
  AnvilNode::Options no;
  no.block_time_seconds = 1;  // like a QBFT network with 1 s blocks
  AnvilNode node(no);
  eth::JsonRpc rpc(node.url());
  auto ik = eth::Secp256k1Key::generate(), vk = eth::Secp256k1Key::generate(), hk = eth::Secp256k1Key::generate();
  ChainDeployment free;
  free.free_gas = true;
  free.chain_id = node.chain_id();
  eth::Sender admin(rpc, ik, sender_config(free));
  ChainDeployment d = deploy_marketplace(admin, "SDR-ISSUER");
  d.free_gas = true;
  register_participant(admin, d, vk.address(), "VISITED-A", ChainRole::VisitedOperator);
  register_participant(admin, d, hk.address(), "HOME-B", ChainRole::HomeOperator);
  ChainMarket issuer(d.config(), ik), visited(d.config(), vk), home(d.config(), hk);

  e2e::MarketplaceWorld mw("market-chain");
  auto parties = mw.stack->parties(issuer, visited, home);
  auto res = agents::run_marketplace_story(parties, print);
  EXPECT_EQ(res.charged, 11'440'000);
  // Held until the dispute window after the Accept has passed (issue 16).
  EXPECT_EQ(res.refunded, 0);
  EXPECT_EQ(res.home_available, 88'000'000);
  EXPECT_EQ(res.visited_available, 0);
  // The token agrees: ERC-20 balances are the same figures, total supply is what was minted.
  EXPECT_EQ(home.balance("HOME-B").available, 88'000'000);
  EXPECT_EQ(mw.stack->smdp().profiles().by_iccid(res.iccid)->state, smdp::ProfileState::Installed);
  auto a = home.find_accept(res.request_id);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->package_hash, crypto::sha256(mw.stack->smdp().profiles().protected_package(res.iccid)->segments));
}

}  // namespace

namespace {

// Issue 16: a Request front-run with the victim's id (and a copy of its sealed
// target) gets the attacker nothing. The target was sealed for the victim's
// Request (this chain and Marketplace, the id, HOME-B, the provider, both
// keys), so in the attacker's Request (home HOME-X) the visited operator's
// agent cannot open it: no profile is ordered for the victim's eUICC, no
// Accept is sealed to the attacker, the attacker's Request is closed with
// its escrow; the victim's next Request is served as usual.
TEST(Marketplace, FrontRunRequestOnTheChainGetsNothing) {
  if (auto why = AnvilNode::unavailable_reason()) GTEST_SKIP() << "the chain backend needs anvil: " << *why;
  AnvilNode node;
  eth::JsonRpc rpc(node.url());
  auto ik = eth::Secp256k1Key::generate(), vk = eth::Secp256k1Key::generate(), hk = eth::Secp256k1Key::generate(),
       xk = eth::Secp256k1Key::generate();
  ChainDeployment free;
  free.free_gas = true;
  free.chain_id = node.chain_id();
  eth::Sender admin(rpc, ik, sender_config(free));
  ChainDeployment d = deploy_marketplace(admin, "SDR-ISSUER");
  d.free_gas = true;
  register_participant(admin, d, vk.address(), "VISITED-A", ChainRole::VisitedOperator);
  register_participant(admin, d, hk.address(), "HOME-B", ChainRole::HomeOperator);
  register_participant(admin, d, xk.address(), "HOME-X", ChainRole::HomeOperator);
  ChainMarket issuer(d.config(), ik), visited(d.config(), vk), home(d.config(), hk), attacker(d.config(), xk);
  issuer.mint("HOME-B", 10'000'000);
  issuer.mint("HOME-X", 10'000'000);

  e2e::MarketplaceWorld mw("market-chain-frontrun");
  auto seal_key = crypto::EcKey::generate(crypto::Curve::P256);
  OfferTerms o;
  o.offer_id = "OFFER-1";
  o.service = "data";
  o.coverage = {"20801"};
  o.allowance = {1000, 0, 0};
  o.tariff = {1000, 0, 0};
  o.price = 1'000'000;
  o.term_seconds = 3600;
  o.valid_until = static_cast<std::int64_t>(rpc.get_latest_block_timestamp()) + 3600;
  o.stock = 5;
  o.seal_key = seal_key.public_point();
  visited.publish_offer(o);

  auto victim_reply = crypto::EcKey::generate(crypto::Curve::P256);
  auto attacker_reply = crypto::EcKey::generate(crypto::Curve::P256);
  FrontRunMarket watched(home, attacker, attacker_reply.public_point());
  agents::AgentState hs(mw.stack->home_agent_db()), vs(mw.stack->visited_agent_db());
  agents::HomeOperatorAgent victim(watched, victim_reply, hs);
  auto parties = mw.stack->parties(issuer, visited, home);
  agents::VisitedOperatorAgent provider(visited, seal_key, mw.stack->es2(), parties.packages, mw.stack->hss(), vs,
                                        "roaming-eu");
  provider.say = [](const std::string& s) { print("visited", s); };
  const int profiles_before = available_profiles(mw);

  std::string rid;
  try {
    victim.buy(*home.offer("OFFER-1"), "sub-1", mw.eid());
    FAIL() << "the front-runner's copy did not land first";
  } catch (const MarketError& e) {
    EXPECT_EQ(e.code, "duplicate-request");
  }
  auto events = home.events_after(0);
  for (const auto& e : events)
    if (e.type == "request") rid = e.id;
  ASSERT_FALSE(rid.empty());
  ASSERT_EQ(home.find_request(rid)->home, "HOME-X");

  EXPECT_EQ(provider.poll(), 0);  // nothing accepted for the front-runner
  EXPECT_FALSE(home.find_accept(rid)) << "an Accept for the victim's eUICC was sealed to the front-runner";
  EXPECT_EQ(home.find_request(rid)->state, RequestState::Closed);
  EXPECT_EQ(available_profiles(mw), profiles_before);  // no profile ordered for the victim's eUICC
  EXPECT_EQ(attacker.balance("HOME-X").available, 10'000'000);
  EXPECT_EQ(home.balance("HOME-B").available, 10'000'000);

  // The victim buys again (a fresh id) and is served.
  agents::HomeOperatorAgent again(home, victim_reply, hs);
  std::string good = again.buy(*home.offer("OFFER-1"), "sub-1", mw.eid());
  EXPECT_EQ(provider.poll(), 1);
  int delivered = 0;
  again.deliver = [&](const agents::DeliveredProfile&) { ++delivered; };
  EXPECT_EQ(again.poll(), 1);
  EXPECT_EQ(delivered, 1);
  EXPECT_EQ(home.find_request(good)->state, RequestState::Accepted);
}

}  // namespace
