// The marketplace story on the chain backend: the same agents, SM-DP+, eUICC
// and visited network as on the embedded ledger, with every record a signed
// transaction to the Solidity contracts on a local anvil node (started and
// stopped by this test on 127.0.0.1; skipped where npm could not install it).
#include <gtest/gtest.h>

#include "marketplace_world.hpp"
#include "rsp/ledger/chain_deploy.hpp"
#include "rsp/ledger/chain_market.hpp"
#include "rsp/ledger/chain_testnode.hpp"

using namespace rsp;
using namespace rsp::ledger;

namespace {

void print(const std::string& who, const std::string& what) { std::printf("  [%-7s] %s\n", who.c_str(), what.c_str()); }

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
  EXPECT_EQ(res.refunded, 560'000);
  EXPECT_EQ(res.home_available, 88'560'000);
  EXPECT_EQ(res.visited_available, 11'440'000);
  // The token agrees: ERC-20 balances are the same figures, total supply is what was minted.
  EXPECT_EQ(home.balance("HOME-B").available, 88'560'000);
  EXPECT_EQ(mw.stack->smdp().profiles().by_iccid(res.iccid)->state, smdp::ProfileState::Installed);
  auto a = home.find_accept(res.request_id);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->package_hash, crypto::sha256(mw.stack->smdp().profiles().protected_package(res.iccid)->segments));
}

}  // namespace
