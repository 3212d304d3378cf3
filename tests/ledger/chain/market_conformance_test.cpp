// The backend-neutral marketplace rules (tests/ledger/market_conformance.hpp)
// on the chain backend: the same story and refusals the embedded ledger
// passes, through ChainMarket against the Solidity contracts on anvil.
#include <gtest/gtest.h>

#include "../market_conformance.hpp"
#include "rsp/ledger/chain_deploy.hpp"
#include "rsp/ledger/chain_market.hpp"
#include "rsp/ledger/chain_testnode.hpp"

using namespace rsp;
using namespace rsp::ledger;
using namespace rsp::ledger::conformance;

namespace {

struct ChainWorld : MarketWorld {
  std::unique_ptr<AnvilNode> node;
  std::unique_ptr<eth::JsonRpc> rpc;
  ChainDeployment d;
  std::map<std::string, eth::Secp256k1Key> keys;
  std::map<std::string, std::unique_ptr<ChainMarket>> markets;
  std::unique_ptr<ChainMarket> stranger;

  ChainWorld() {
    node = std::make_unique<AnvilNode>();
    rpc = std::make_unique<eth::JsonRpc>(node->url());
    for (const auto& id : {kIssuer, kVisited, kHome, kVisited2, kArbiter}) keys.emplace(id, eth::Secp256k1Key::generate());
    ChainDeployment free;
    free.free_gas = true;
    free.chain_id = node->chain_id();
    eth::Sender admin(*rpc, keys.at(kIssuer), sender_config(free));
    d = deploy_marketplace(admin, kIssuer);
    d.free_gas = true;
    register_participant(admin, d, keys.at(kArbiter).address(), kArbiter, ChainRole::Arbiter);
    const eth::Address arbiter = keys.at(kArbiter).address();
    register_participant(admin, d, keys.at(kVisited).address(), kVisited, ChainRole::VisitedOperator, arbiter);
    register_participant(admin, d, keys.at(kHome).address(), kHome, ChainRole::HomeOperator, arbiter);
    register_participant(admin, d, keys.at(kVisited2).address(), kVisited2, ChainRole::VisitedOperator);
  }
  Market& as(const std::string& p) override {
    auto& m = markets[p];
    if (!m) m = std::make_unique<ChainMarket>(d.config(), keys.at(p));
    return *m;
  }
  Market& unregistered() override {
    if (!stranger) stranger = std::make_unique<ChainMarket>(d.config(), eth::Secp256k1Key::generate());
    return *stranger;
  }
  std::int64_t now() override { return static_cast<std::int64_t>(rpc->get_latest_block_timestamp()); }
  static std::shared_ptr<crypto::EcKey> as_ec(const eth::Secp256k1Key& k) {
    auto s = k.export_private();
    return std::make_shared<crypto::EcKey>(crypto::EcKey::from_private_scalar(crypto::Curve::Secp256k1, ByteView(s.data(), s.size())));
  }
  static eth::Secp256k1Key as_eth(const crypto::EcKey& k) {
    auto s = k.private_scalar();
    return eth::Secp256k1Key::from_private(ByteView(s.data(), s.size()));
  }
  std::shared_ptr<crypto::EcKey> fresh_key() override {
    return std::make_shared<crypto::EcKey>(crypto::EcKey::generate(crypto::Curve::Secp256k1));
  }
  std::shared_ptr<crypto::EcKey> key_of(const std::string& p) override { return as_ec(keys.at(p)); }
  void now_uses(const std::string& p, std::shared_ptr<crypto::EcKey> k) override { keys.insert_or_assign(p, as_eth(*k)); }
  std::unique_ptr<Market> with_key(const std::string&, std::shared_ptr<crypto::EcKey> k) override {
    return std::make_unique<ChainMarket>(d.config(), as_eth(*k));
  }
  // anvil's clock moves on with blocks: jump, then mine one.
  void advance(std::int64_t s) override {
    rpc->call("evm_increaseTime", nlohmann::json::array({s}));
    rpc->call("evm_mine");
  }
};

TEST(ChainConformance, Story) {
  if (auto why = AnvilNode::unavailable_reason()) GTEST_SKIP() << "chain tests need anvil: " << *why;
  ChainWorld w;
  story(w);
}

TEST(ChainConformance, ServiceOffers) {
  if (auto why = AnvilNode::unavailable_reason()) GTEST_SKIP() << "chain tests need anvil: " << *why;
  ChainWorld w;
  service_offers(w);
}

TEST(ChainConformance, OfferWithdrawEdit) {
  if (auto why = AnvilNode::unavailable_reason()) GTEST_SKIP() << "chain tests need anvil: " << *why;
  ChainWorld w;
  offer_withdraw_edit(w);
}

TEST(ChainConformance, Refusals) {
  if (auto why = AnvilNode::unavailable_reason()) GTEST_SKIP() << "chain tests need anvil: " << *why;
  ChainWorld w;
  refusals(w);
}

TEST(ChainConformance, Abuse) {
  if (auto why = AnvilNode::unavailable_reason()) GTEST_SKIP() << "chain tests need anvil: " << *why;
  ChainWorld w;
  abuse(w);
}

TEST(ChainConformance, Disputes) {
  if (auto why = AnvilNode::unavailable_reason()) GTEST_SKIP() << "chain tests need anvil: " << *why;
  ChainWorld w;
  disputes(w);
}

TEST(ChainConformance, HeldUsage) {
  if (auto why = AnvilNode::unavailable_reason()) GTEST_SKIP() << "chain tests need anvil: " << *why;
  ChainWorld w;
  held_usage(w);
}

TEST(ChainConformance, Identity) {
  if (auto why = AnvilNode::unavailable_reason()) GTEST_SKIP() << "chain tests need anvil: " << *why;
  ChainWorld w;
  identity(w);
}

TEST(ChainConformance, KeyRotation) {
  if (auto why = AnvilNode::unavailable_reason()) GTEST_SKIP() << "chain tests need anvil: " << *why;
  ChainWorld w;
  key_rotation(w);
}

TEST(ChainConformance, UsageRecords) {
  if (auto why = AnvilNode::unavailable_reason()) GTEST_SKIP() << "chain tests need anvil: " << *why;
  ChainWorld w;
  usage_records(w);
}

TEST(ChainConformance, UsageBatches) {
  if (auto why = AnvilNode::unavailable_reason()) GTEST_SKIP() << "chain tests need anvil: " << *why;
  ChainWorld w;
  usage_batches(w);
}

}  // namespace
