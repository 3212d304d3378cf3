// ChainMarket against a real node: anvil (automine) started per test,
// SDRt + Marketplace deployed, participants registered, then the whole
// marketplace driven through rsp::ledger::Market, and every refusal checked
// for its code (docs/ledger.md "Marketplace rules").
#include <gtest/gtest.h>

#include <iostream>
#include <map>

#include "rsp/crypto.hpp"
#include "rsp/eth/abi.hpp"
#include "rsp/eth/transaction.hpp"
#include "rsp/ledger/chain_deploy.hpp"
#include "rsp/ledger/chain_market.hpp"
#include "rsp/ledger/chain_testnode.hpp"

using namespace rsp;
using namespace rsp::ledger;

namespace {

constexpr Amount kSdrt = kUnitsPerSdrt;

Bytes point(std::uint8_t fill) {
  Bytes p(65, fill);
  p[0] = 0x04;
  return p;
}

// The code of the MarketError `f` throws; "(accepted)" if it throws none.
template <class F>
std::string refusal(F&& f) {
  try {
    f();
  } catch (const MarketError& e) {
    return e.code;
  }
  return "(accepted)";
}

struct ChainMarketTest : ::testing::Test {
  std::unique_ptr<AnvilNode> node;
  std::unique_ptr<eth::JsonRpc> rpc;
  ChainDeployment d;
  eth::Secp256k1Key admin_key = eth::Secp256k1Key::generate();
  eth::Secp256k1Key visited_key = eth::Secp256k1Key::generate();
  eth::Secp256k1Key home_key = eth::Secp256k1Key::generate();
  eth::Secp256k1Key outsider_key = eth::Secp256k1Key::generate();   // a registered service provider
  eth::Secp256k1Key stranger_key = eth::Secp256k1Key::generate();   // never registered
  std::unique_ptr<ChainMarket> admin, visited, home, outsider, stranger;

  void SetUp() override {
    if (auto why = AnvilNode::unavailable_reason()) GTEST_SKIP() << "chain tests need anvil: " << *why;
    node = std::make_unique<AnvilNode>();
    rpc = std::make_unique<eth::JsonRpc>(node->url());
    ChainDeployment free;
    free.free_gas = true;
    free.chain_id = node->chain_id();
    eth::Sender admin_sender(*rpc, admin_key, sender_config(free));
    d = deploy_marketplace(admin_sender, "admin");
    d.free_gas = true;
    register_participant(admin_sender, d, visited_key.address(), "OP-V", ChainRole::VisitedOperator);
    register_participant(admin_sender, d, home_key.address(), "OP-H", ChainRole::HomeOperator);
    register_participant(admin_sender, d, outsider_key.address(), "SP-X", ChainRole::ServiceProvider);
    admin = market(admin_key);
    visited = market(visited_key);
    home = market(home_key);
    outsider = market(outsider_key);
    stranger = market(stranger_key);
    admin->mint("OP-H", 100 * kSdrt);
  }

  std::unique_ptr<ChainMarket> market(const eth::Secp256k1Key& k) { return std::make_unique<ChainMarket>(d.config(), k); }

  std::int64_t chain_now() { return static_cast<std::int64_t>(rpc->get_latest_block_timestamp()); }
  // anvil's clock moves on only with blocks: jump, then mine one.
  void advance(std::int64_t seconds) {
    rpc->call("evm_increaseTime", nlohmann::json::array({seconds}));
    rpc->call("evm_mine");
  }

  OfferTerms offer_terms(const std::string& id, Amount price = 10 * kSdrt, std::int64_t stock = 5,
                         std::int64_t term = 3600) {
    OfferTerms t;
    t.offer_id = id;
    t.service = "data+voice";
    t.coverage = {"20801", "20810", "310260"};
    t.allowance = {10000, 60, 400};
    t.tariff = {1'000, 20'000, 5'000};  // 0.001 SDRt/MB, 0.02/min, 0.005/SMS
    t.price = price;
    t.term_seconds = term;
    t.valid_until = chain_now() + 86'400;
    t.stock = stock;
    t.seal_key = point(0x11);
    return t;
  }
  RequestTerms request_terms(const std::string& id, const std::string& offer_id, Amount escrow = 10 * kSdrt) {
    RequestTerms t;
    t.request_id = id;
    t.offer_id = offer_id;
    t.subscriber = "sub-" + id;
    t.sealed_target = crypto::random_bytes(97);
    t.escrow = escrow;
    t.reply_key = point(0x22);
    return t;
  }
  AcceptTerms accept_terms(const std::string& id) {
    return {id, crypto::random_bytes(3000), crypto::random_bytes(32)};
  }
  UsageReport usage(const std::string& id, std::int64_t no, Allowance used) {
    return {id, no, used, chain_now(), chain_now()};  // zero-length periods, one after the other
  }

  // offer O-1 by OP-V, request R-1 by OP-H, accepted and activated.
  // Accepted and activated after the dispute window, so usage is paid at
  // once (the window and the held charges: held_usage in the conformance).
  void active_request(const std::string& oid = "O-1", const std::string& rid = "R-1") {
    visited->publish_offer(offer_terms(oid, 10 * kSdrt, 5, 3 * 86400));
    home->request(request_terms(rid, oid));
    visited->accept(accept_terms(rid));
    advance(kDisputeSeconds);
    visited->activate(rid, "20801");
  }

  eth::U256 allowance(const eth::Address& owner) {
    eth::CallRequest c;
    c.to = d.sdrt;
    c.data = eth::encode_call("allowance(address,address)", {owner, d.marketplace});
    return eth::decode("(uint256)", rpc->eth_call(c))[0].as_uint();
  }
};

TEST_F(ChainMarketTest, IdentitiesAndRegistry) {
  EXPECT_EQ(home->backend(), "chain");
  EXPECT_EQ(admin->me(), "admin");
  EXPECT_EQ(visited->me(), "OP-V");
  EXPECT_EQ(home->me(), "OP-H");
  EXPECT_EQ(stranger->me(), stranger_key.address_hex());  // unregistered: its address
  EXPECT_EQ(home->participant_address("OP-V"), visited_key.address());
  EXPECT_EQ(home->participant_id(outsider_key.address()), "SP-X");
  EXPECT_FALSE(home->participant_address("nobody"));

  // Registry administration: admin only, ids and addresses once.
  eth::Sender admin_sender(*rpc, admin_key, sender_config(d));
  eth::Sender home_sender(*rpc, home_key, sender_config(d));
  auto other = eth::Secp256k1Key::generate();
  EXPECT_EQ(refusal([&] { register_participant(home_sender, d, other.address(), "OP-Z", ChainRole::HomeOperator); }),
            "forbidden");
  EXPECT_EQ(refusal([&] { register_participant(admin_sender, d, other.address(), "OP-H", ChainRole::HomeOperator); }),
            "bad-participant");
  EXPECT_EQ(refusal([&] { register_participant(admin_sender, d, home_key.address(), "OP-Z", ChainRole::HomeOperator); }),
            "bad-participant");
  EXPECT_EQ(refusal([&] { register_participant(admin_sender, d, other.address(), "OP-Z", ChainRole::Admin); }), "bad-terms");
  EXPECT_EQ(refusal([&] { register_participant(admin_sender, d, other.address(), "", ChainRole::HomeOperator); }), "bad-id");
}

// SDRt outside the marketplace rules (issue 16): sent straight to the token
// with our own Sender, bypassing ChainMarket's checks. Mint only to
// registered participants, transfers only between them, nothing sent to the
// contracts by hand (it would be locked for good).
TEST_F(ChainMarketTest, TokenMovesOnlyBetweenRegisteredParticipants) {
  auto code_of_tx = [&](const eth::Secp256k1Key& key, const eth::Address& to, const Bytes& data) -> std::string {
    eth::Sender s(*rpc, key, sender_config(d));
    try {
      s.send_and_wait(to, data);
    } catch (const eth::TxReverted& e) {
      return e.reason.value_or("(no reason)");
    } catch (const eth::RpcError& e) {
      return e.revert_reason.value_or("(no reason)");
    }
    return "(accepted)";
  };
  auto stranger_addr = stranger_key.address();
  EXPECT_EQ(code_of_tx(admin_key, d.sdrt, eth::encode_call("mint(address,uint256)", {stranger_addr, eth::U256(5)})),
            "RSP:not-registered");
  auto transfer = [&](const eth::Address& to, std::uint64_t v) {
    return eth::encode_call("transfer(address,uint256)", {to, eth::U256(v)});
  };
  EXPECT_EQ(code_of_tx(home_key, d.sdrt, transfer(stranger_addr, 1)), "RSP:not-registered");
  EXPECT_EQ(code_of_tx(home_key, d.sdrt, transfer(d.marketplace, 1)), "RSP:forbidden");
  EXPECT_EQ(code_of_tx(home_key, d.sdrt, transfer(d.sdrt, 1)), "RSP:not-registered");
  EXPECT_EQ(code_of_tx(admin_key, d.sdrt, eth::encode_call("setRegistry(address)", {stranger_addr})), "RSP:forbidden");
  EXPECT_EQ(home->balance("OP-H").available, 100 * kSdrt);
  // Between registered participants: allowed.
  EXPECT_EQ(code_of_tx(home_key, d.sdrt, transfer(visited_key.address(), 1)), "(accepted)");
  EXPECT_EQ(home->balance("OP-V").available, 1);
}

TEST_F(ChainMarketTest, MintRules) {
  EXPECT_EQ(home->balance("OP-H").available, 100 * kSdrt);
  EXPECT_EQ(refusal([&] { home->mint("OP-H", kSdrt); }), "not-issuer");
  EXPECT_EQ(refusal([&] { admin->mint("nobody", kSdrt); }), "not-registered");
  EXPECT_EQ(refusal([&] { admin->mint("OP-V", 0); }), "bad-terms");
  EXPECT_EQ(refusal([&] { admin->mint("OP-V", -5); }), "bad-terms");
  auto r = admin->mint("OP-V", 2'500'000);
  EXPECT_EQ(home->balance("OP-V").available, 2'500'000);
  auto ev = home->events_after(r.position - 1);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, "mint");
  EXPECT_EQ(ev[0].author, "admin");
  EXPECT_EQ(ev[0].counterparty, "OP-V");
  EXPECT_EQ(ev[0].amount, 2'500'000);
  EXPECT_EQ(ev[0].position, r.position);
  EXPECT_EQ(ev[0].reference, r.reference);
}

// The whole life of a Request, with exact balances after every step and the
// gas each write type used.
TEST_F(ChainMarketTest, FullFlowWithExactBalances) {
  std::map<std::string, std::uint64_t> gas;
  admin->mint("admin", 1);
  gas["mint"] = admin->last_gas_used();
  const std::int64_t start = home->events_after(0).back().position;  // after the mints

  // A term longer than the dispute window, so the usage below is paid at once.
  auto offer = offer_terms("O-1", 10 * kSdrt, 5, 3 * 86400);
  auto ro = visited->publish_offer(offer);
  gas["offer"] = visited->last_gas_used();
  auto o = home->offer("O-1");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->offer_id, "O-1");
  EXPECT_EQ(o->provider, "OP-V");
  EXPECT_EQ(o->service, offer.service);
  EXPECT_EQ(o->coverage, offer.coverage);
  EXPECT_EQ(o->allowance.data_mb, 10000);
  EXPECT_EQ(o->allowance.voice_minutes, 60);
  EXPECT_EQ(o->allowance.sms, 400);
  EXPECT_EQ(o->tariff.per_mb, 1'000);
  EXPECT_EQ(o->tariff.per_minute, 20'000);
  EXPECT_EQ(o->tariff.per_sms, 5'000);
  EXPECT_EQ(o->price, 10 * kSdrt);
  EXPECT_EQ(o->term_seconds, 3 * 86400);
  EXPECT_EQ(o->valid_until, offer.valid_until);
  EXPECT_EQ(o->stock, 5);
  EXPECT_EQ(o->sold, 0);
  EXPECT_EQ(o->seal_key, offer.seal_key);
  EXPECT_EQ(o->position, ro.position);
  EXPECT_FALSE(home->offer("O-none"));
  ASSERT_EQ(home->offers().size(), 1u);

  // request: 10 SDRt from the home's balance into escrow
  auto req = request_terms("R-1", "O-1");
  auto rr = home->request(req);
  gas["request (approve + request)"] = home->last_gas_used();
  gas["request: the request tx alone"] = rpc->get_transaction_receipt(rr.reference)->gas_used;
  EXPECT_EQ(home->balance("OP-H").available, 90 * kSdrt);
  EXPECT_EQ(home->balance("OP-H").escrowed, 10 * kSdrt);
  EXPECT_EQ(allowance(home_key.address()), eth::U256(0));  // exactly the escrow was approved, and used
  EXPECT_EQ(home->offer("O-1")->sold, 1);
  auto r = visited->find_request("R-1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->request_id, "R-1");
  EXPECT_EQ(r->offer_id, "O-1");
  EXPECT_EQ(r->subscriber, req.subscriber);
  EXPECT_EQ(r->sealed_target, req.sealed_target);
  EXPECT_EQ(r->reply_key, req.reply_key);
  EXPECT_EQ(r->escrow, 10 * kSdrt);
  EXPECT_EQ(r->home, "OP-H");
  EXPECT_EQ(r->provider, "OP-V");
  EXPECT_EQ(r->state, RequestState::Open);
  EXPECT_EQ(r->expires_at, r->requested_at + 3 * 86400);
  EXPECT_EQ(r->position, rr.position);
  EXPECT_FALSE(home->find_accept("R-1"));

  // accept: the sealed profile comes back byte for byte from the log
  auto acc = accept_terms("R-1");
  auto ra = visited->accept(acc);
  gas["accept (3000-byte sealed profile)"] = visited->last_gas_used();
  auto a = home->find_accept("R-1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->sealed_profile, acc.sealed_profile);
  EXPECT_EQ(a->package_hash, acc.package_hash);
  EXPECT_EQ(a->provider, "OP-V");
  EXPECT_EQ(a->position, ra.position);
  EXPECT_EQ(home->find_request("R-1")->state, RequestState::Accepted);

  advance(kDisputeSeconds);  // the dispute window passes: usage is paid at once
  visited->activate("R-1", "20801");
  gas["activation"] = visited->last_gas_used();
  r = home->find_request("R-1");
  EXPECT_EQ(r->state, RequestState::Active);
  EXPECT_EQ(r->activation_plmn, "20801");
  EXPECT_GE(r->activated_at, r->requested_at);

  // usage 1: 500 MB, 10 min, 2 SMS = 500,000 + 200,000 + 10,000 units
  visited->report_usage(usage("R-1", 1, {500, 10, 2}));
  gas["usage"] = visited->last_gas_used();
  EXPECT_EQ(home->balance("OP-H").available, 90 * kSdrt);
  EXPECT_EQ(home->balance("OP-H").escrowed, 10 * kSdrt - 710'000);
  EXPECT_EQ(home->balance("OP-V").available, 710'000);
  // usage 2: 1000 MB = 1,000,000 units
  visited->report_usage(usage("R-1", 2, {1000, 0, 0}));
  EXPECT_EQ(home->balance("OP-H").escrowed, 10 * kSdrt - 1'710'000);
  EXPECT_EQ(home->balance("OP-V").available, 1'710'000);
  r = home->find_request("R-1");
  EXPECT_EQ(r->charged, 1'710'000);
  EXPECT_EQ(r->usage_reports, 2);

  // refund by the provider (any time): the rest goes home
  auto rf = visited->refund("R-1");
  gas["refund"] = visited->last_gas_used();
  EXPECT_EQ(home->balance("OP-H").available, 100 * kSdrt - 1'710'000);
  EXPECT_EQ(home->balance("OP-H").escrowed, 0);
  EXPECT_EQ(home->balance("OP-V").available, 1'710'000);
  r = home->find_request("R-1");
  EXPECT_EQ(r->state, RequestState::Closed);
  EXPECT_EQ(r->refunded, 10 * kSdrt - 1'710'000);
  EXPECT_EQ(r->charged, 1'710'000);
  // nothing created or lost: all SDRt minted is in balances
  EXPECT_EQ(home->balance("OP-H").available + home->balance("OP-V").available, 100 * kSdrt);

  auto ev = home->events_after(start);
  std::vector<std::string> types;
  for (const auto& e : ev) types.push_back(e.type);
  EXPECT_EQ(types, (std::vector<std::string>{"offer", "request", "accept", "activation", "usage", "usage", "refund"}));
  ASSERT_EQ(ev.size(), 7u);
  for (std::size_t i = 1; i < ev.size(); ++i) EXPECT_LT(ev[i - 1].position, ev[i].position);
  EXPECT_EQ(ev[0].author, "OP-V");
  EXPECT_EQ(ev[0].id, "O-1");
  EXPECT_EQ(ev[1].author, "OP-H");
  EXPECT_EQ(ev[1].counterparty, "OP-V");
  EXPECT_EQ(ev[1].amount, 10 * kSdrt);
  EXPECT_EQ(ev[1].reference, rr.reference);
  EXPECT_EQ(ev[2].counterparty, "OP-H");
  EXPECT_EQ(ev[4].amount, 710'000);
  EXPECT_EQ(ev[5].amount, 1'000'000);
  EXPECT_EQ(ev[6].author, "OP-V");
  EXPECT_EQ(ev[6].counterparty, "OP-H");
  EXPECT_EQ(ev[6].amount, 10 * kSdrt - 1'710'000);
  EXPECT_EQ(ev[6].position, rf.position);
  for (const auto& e : ev) EXPECT_GT(e.time, 0);

  // a statement from the events agrees with the balances
  auto st = make_statement(*home, "OP-H", 0, chain_now() + 1);
  EXPECT_EQ(st.closing.available, home->balance("OP-H").available);
  EXPECT_EQ(st.closing.escrowed, 0);

  // accept after refund
  EXPECT_EQ(refusal([&] { visited->accept(accept_terms("R-1")); }), "wrong-state");

  // Key rotation: a participant with a balance (one SDRt move), the admin
  // (the issuer role moves too), and the mint by the rotated admin.
  auto fresh = [] { return std::make_shared<crypto::EcKey>(crypto::EcKey::generate(crypto::Curve::Secp256k1)); };
  home->rotate_key("OP-H", fresh());
  gas["rotateKey (participant with a balance)"] = home->last_gas_used();
  {
    // A rotated-out key is never registered again, under any id.
    eth::Sender admin_sender(*rpc, admin_key, sender_config(d));
    EXPECT_EQ(refusal([&] { register_participant(admin_sender, d, home_key.address(), "OP-H2", ChainRole::HomeOperator); }),
              "bad-participant");
  }
  admin->rotate_key("admin", fresh());
  gas["rotateKey (the admin: issuer moves)"] = admin->last_gas_used();
  admin->mint("OP-H", 1);
  gas["mint after the admin's rotation"] = admin->last_gas_used();
  EXPECT_EQ(home->balance("OP-H").available, 100 * kSdrt - 1'710'000 + 1);

  std::cout << "[gas used per write]\n";
  for (const auto& [what, g] : gas) std::cout << "  " << what << ": " << g << "\n";
}

TEST_F(ChainMarketTest, OfferRules) {
  EXPECT_EQ(refusal([&] { home->publish_offer(offer_terms("O-1")); }), "wrong-role");
  EXPECT_EQ(refusal([&] { admin->publish_offer(offer_terms("O-1")); }), "wrong-role");
  EXPECT_EQ(refusal([&] { stranger->publish_offer(offer_terms("O-1")); }), "not-registered");
  EXPECT_EQ(refusal([&] { visited->publish_offer(offer_terms("has space")); }), "bad-id");
  EXPECT_EQ(refusal([&] { visited->publish_offer(offer_terms("")); }), "bad-id");
  EXPECT_EQ(refusal([&] { visited->publish_offer(offer_terms(std::string(33, 'x'))); }), "bad-id");
  EXPECT_EQ(refusal([&] { visited->publish_offer(offer_terms(std::string("a\0b", 3))); }), "bad-id");
  auto bad = [&](auto change) {
    auto t = offer_terms("O-bad");
    change(t);
    return refusal([&] { visited->publish_offer(t); });
  };
  EXPECT_EQ(bad([](OfferTerms& t) { t.stock = 0; }), "bad-terms");
  EXPECT_EQ(bad([](OfferTerms& t) { t.price = 0; }), "bad-terms");
  EXPECT_EQ(bad([](OfferTerms& t) { t.price = -1; }), "bad-terms");
  EXPECT_EQ(bad([](OfferTerms& t) { t.term_seconds = 0; }), "bad-terms");
  EXPECT_EQ(bad([&](OfferTerms& t) { t.valid_until = chain_now() - 1; }), "bad-terms");
  EXPECT_EQ(bad([](OfferTerms& t) { t.service = ""; }), "bad-terms");
  EXPECT_EQ(bad([](OfferTerms& t) { t.service = std::string(33, 's'); }), "bad-terms");
  EXPECT_EQ(bad([](OfferTerms& t) { t.coverage = {"2080"}; }), "bad-terms");
  EXPECT_EQ(bad([](OfferTerms& t) { t.coverage = {"20801", "2080A"}; }), "bad-terms");
  EXPECT_EQ(bad([](OfferTerms& t) { t.coverage = {""}; }), "bad-terms");
  EXPECT_EQ(bad([](OfferTerms& t) { t.coverage = {"20801,20810"}; }), "bad-terms");
  EXPECT_EQ(bad([](OfferTerms& t) { t.tariff.per_mb = -1; }), "bad-terms");
  EXPECT_EQ(bad([](OfferTerms& t) { t.seal_key = Bytes(64, 4); }), "bad-terms");
  EXPECT_EQ(home->offers().size(), 0u);  // nothing refused was written

  auto t = offer_terms("O-1");
  t.coverage = {};  // no coverage listed is allowed
  visited->publish_offer(t);
  EXPECT_TRUE(home->offer("O-1")->coverage.empty());
  EXPECT_EQ(refusal([&] { visited->publish_offer(offer_terms("O-1")); }), "duplicate-offer");
  EXPECT_EQ(refusal([&] { outsider->publish_offer(offer_terms("O-1")); }), "duplicate-offer");
  outsider->publish_offer(offer_terms("O-2"));  // service providers sell too
  auto all = home->offers();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].offer_id, "O-1");
  EXPECT_EQ(all[1].offer_id, "O-2");
  EXPECT_EQ(all[1].provider, "SP-X");
}

TEST_F(ChainMarketTest, RequestRules) {
  visited->publish_offer(offer_terms("O-1", 10 * kSdrt, /*stock=*/2));
  auto before = home->balance("OP-H");
  EXPECT_EQ(refusal([&] { visited->request(request_terms("R-1", "O-1")); }), "wrong-role");
  EXPECT_EQ(refusal([&] { stranger->request(request_terms("R-1", "O-1")); }), "not-registered");
  EXPECT_EQ(refusal([&] { home->request(request_terms("bad id", "O-1")); }), "bad-id");
  EXPECT_EQ(refusal([&] { home->request(request_terms("R-1", "O-none")); }), "unknown-offer");
  EXPECT_EQ(refusal([&] { home->request(request_terms("R-1", "O-1", 9 * kSdrt)); }), "escrow-mismatch");
  auto bad = [&](auto change) {
    auto t = request_terms("R-1", "O-1");
    change(t);
    return refusal([&] { home->request(t); });
  };
  EXPECT_EQ(bad([](RequestTerms& t) { t.subscriber = ""; }), "bad-terms");
  EXPECT_EQ(bad([](RequestTerms& t) { t.subscriber = std::string(65, 's'); }), "bad-terms");
  EXPECT_EQ(bad([](RequestTerms& t) { t.reply_key = Bytes(65, 0x05); }), "bad-terms");
  EXPECT_EQ(bad([](RequestTerms& t) { t.sealed_target.clear(); }), "bad-terms");
  // Refused requests leave nothing behind: no balance moved, no approval left.
  EXPECT_EQ(home->balance("OP-H").available, before.available);
  EXPECT_EQ(home->balance("OP-H").escrowed, 0);
  EXPECT_EQ(allowance(home_key.address()), eth::U256(0));

  home->request(request_terms("R-1", "O-1"));
  EXPECT_EQ(refusal([&] { home->request(request_terms("R-1", "O-1")); }), "duplicate-request");
  home->request(request_terms("R-2", "O-1"));
  EXPECT_EQ(refusal([&] { home->request(request_terms("R-3", "O-1")); }), "out-of-stock");
  EXPECT_EQ(home->balance("OP-H").available, 80 * kSdrt);
  EXPECT_EQ(home->balance("OP-H").escrowed, 20 * kSdrt);

  // A home operator without the money.
  auto poor_key = eth::Secp256k1Key::generate();
  eth::Sender admin_sender(*rpc, admin_key, sender_config(d));
  register_participant(admin_sender, d, poor_key.address(), "OP-POOR", ChainRole::HomeOperator);
  auto poor = market(poor_key);
  visited->publish_offer(offer_terms("O-2"));
  EXPECT_EQ(refusal([&] { poor->request(request_terms("R-P", "O-2")); }), "insufficient-funds");
  admin->mint("OP-POOR", 10 * kSdrt - 1);
  EXPECT_EQ(refusal([&] { poor->request(request_terms("R-P", "O-2")); }), "insufficient-funds");
  EXPECT_EQ(allowance(poor_key.address()), eth::U256(0));
  admin->mint("OP-POOR", 1);
  poor->request(request_terms("R-P", "O-2"));
  EXPECT_EQ(home->balance("OP-POOR").available, 0);
  EXPECT_EQ(home->balance("OP-POOR").escrowed, 10 * kSdrt);

  // An offer past valid_until.
  auto t = offer_terms("O-3");
  t.valid_until = chain_now() + 30;
  visited->publish_offer(t);
  advance(60);
  EXPECT_EQ(refusal([&] { home->request(request_terms("R-9", "O-3")); }), "offer-expired");
}

// The same request twice: refused by the contract as a duplicate, and the
// identical signed transaction sent again is refused by its nonce.
TEST_F(ChainMarketTest, ReplayedRequest) {
  visited->publish_offer(offer_terms("O-1"));
  auto t = request_terms("R-1", "O-1");
  home->request(t);
  EXPECT_EQ(refusal([&] { home->request(t); }), "duplicate-request");
  EXPECT_EQ(home->balance("OP-H").escrowed, 10 * kSdrt);

  // A second request signed by hand (approve through the home's handle first).
  eth::Sender home_sender(*rpc, home_key, sender_config(d));
  home_sender.send_and_wait(d.sdrt, eth::encode_call("approve(address,uint256)", {d.marketplace, 10 * kSdrt}));
  auto t2 = request_terms("R-2", "O-1");
  eth::Eip1559Tx tx;
  tx.chain_id = node->chain_id();
  tx.nonce = rpc->get_transaction_count(home_key.address());
  tx.max_fee_per_gas = 0;
  tx.max_priority_fee_per_gas = 0;
  tx.gas_limit = 1'000'000;
  tx.to = d.marketplace;
  tx.data = eth::encode_call("request(bytes32,bytes32,string,bytes,uint256,bytes)",
                             {record_id_word(t2.request_id), record_id_word(t2.offer_id), t2.subscriber,
                              t2.sealed_target, t2.escrow, t2.reply_key});
  Bytes raw = tx.signed_raw(home_key);
  auto hash = rpc->send_raw_transaction(raw);
  auto receipt = home_sender.wait_for_receipt(hash);
  ASSERT_TRUE(receipt.status);
  const auto nonce_after = rpc->get_transaction_count(home_key.address());
  EXPECT_THROW(rpc->send_raw_transaction(raw), eth::RpcError);  // nonce too low
  EXPECT_EQ(rpc->get_transaction_count(home_key.address()), nonce_after);
  EXPECT_EQ(home->balance("OP-H").escrowed, 20 * kSdrt);
  EXPECT_EQ(home->balance("OP-H").available, 80 * kSdrt);
  EXPECT_EQ(home->offer("O-1")->sold, 2);
  // The handle's own nonce counter recovers from the hand-made transactions.
  home->request(request_terms("R-3", "O-1"));
  EXPECT_EQ(home->balance("OP-H").escrowed, 30 * kSdrt);
}

TEST_F(ChainMarketTest, AcceptAndActivationRules) {
  visited->publish_offer(offer_terms("O-1"));
  home->request(request_terms("R-1", "O-1"));
  EXPECT_EQ(refusal([&] { visited->accept(accept_terms("R-none")); }), "unknown-request");
  EXPECT_EQ(refusal([&] { outsider->accept(accept_terms("R-1")); }), "not-provider");
  EXPECT_EQ(refusal([&] { home->accept(accept_terms("R-1")); }), "not-provider");
  EXPECT_EQ(refusal([&] { stranger->accept(accept_terms("R-1")); }), "not-registered");
  EXPECT_EQ(refusal([&] { visited->accept({"R-1", crypto::random_bytes(10), crypto::random_bytes(31)}); }), "bad-hash");
  EXPECT_EQ(refusal([&] { visited->accept({"R-1", {}, crypto::random_bytes(32)}); }), "bad-terms");
  EXPECT_EQ(refusal([&] { visited->activate("R-1", "20801"); }), "wrong-state");  // not accepted yet
  visited->accept(accept_terms("R-1"));
  EXPECT_EQ(refusal([&] { visited->accept(accept_terms("R-1")); }), "wrong-state");
  EXPECT_EQ(refusal([&] { outsider->activate("R-1", "20801"); }), "not-provider");
  EXPECT_EQ(refusal([&] { visited->activate("R-1", "2080"); }), "bad-terms");
  EXPECT_EQ(refusal([&] { visited->activate("R-1", "2080123"); }), "bad-terms");
  EXPECT_EQ(refusal([&] { visited->activate("R-1", "20A01"); }), "bad-terms");
  visited->activate("R-1", "310260");
  EXPECT_EQ(home->find_request("R-1")->activation_plmn, "310260");
  EXPECT_EQ(refusal([&] { visited->activate("R-1", "20801"); }), "wrong-state");

  // request-expired: an Open request past its term cannot be accepted.
  visited->publish_offer(offer_terms("O-2", 10 * kSdrt, 5, /*term=*/30));
  home->request(request_terms("R-2", "O-2"));
  advance(60);
  EXPECT_EQ(refusal([&] { visited->accept(accept_terms("R-2")); }), "request-expired");
}

TEST_F(ChainMarketTest, UsageRules) {
  active_request();
  auto u = usage("R-1", 1, {1, 1, 1});
  EXPECT_EQ(refusal([&] { home->report_usage(u); }), "not-provider");
  EXPECT_EQ(refusal([&] { outsider->report_usage(u); }), "not-provider");
  EXPECT_EQ(refusal([&] { stranger->report_usage(u); }), "not-registered");
  EXPECT_EQ(refusal([&] { visited->report_usage(usage("R-none", 1, {1, 1, 1})); }), "unknown-request");
  EXPECT_EQ(refusal([&] { visited->report_usage(usage("R-1", 2, {1, 1, 1})); }), "report-out-of-order");
  EXPECT_EQ(refusal([&] { visited->report_usage(usage("R-1", 0, {1, 1, 1})); }), "report-out-of-order");
  EXPECT_EQ(refusal([&] { visited->report_usage(usage("R-1", 1, {-1, 0, 0})); }), "bad-terms");
  // 10 SDRt escrow = 10,000 MB at 0.001: one MB more is beyond it
  EXPECT_EQ(refusal([&] { visited->report_usage(usage("R-1", 1, {10'001, 0, 0})); }), "beyond-escrow");
  EXPECT_EQ(refusal([&] { visited->report_usage(usage("R-1", 1, {INT64_MAX, 0, 0})); }), "beyond-escrow");
  EXPECT_EQ(home->balance("OP-V").available, 0);

  visited->report_usage(usage("R-1", 1, {9'000, 0, 0}));
  // Report 1 again with other content: its record id (report-1) is taken.
  EXPECT_EQ(refusal([&] { visited->report_usage(usage("R-1", 1, {0, 0, 0})); }), "record-conflict");
  auto again = usage("R-1", 1, {0, 0, 0});
  again.record_id = "CDR-again";
  EXPECT_EQ(refusal([&] { visited->report_usage(again); }), "report-out-of-order");
  EXPECT_EQ(refusal([&] { visited->report_usage(usage("R-1", 2, {0, 0, 201})); }), "beyond-escrow");
  visited->report_usage(usage("R-1", 2, {0, 0, 200}));  // exactly the rest: 200 x 0.005
  EXPECT_EQ(home->balance("OP-V").available, 10 * kSdrt);
  EXPECT_EQ(home->balance("OP-H").escrowed, 0);
  visited->report_usage(usage("R-1", 3, {0, 0, 0}));  // a zero report is fine
  EXPECT_EQ(home->find_request("R-1")->usage_reports, 3);

  // Usage needs an Active request.
  visited->publish_offer(offer_terms("O-2"));
  home->request(request_terms("R-2", "O-2"));
  EXPECT_EQ(refusal([&] { visited->report_usage(usage("R-2", 1, {1, 0, 0})); }), "wrong-state");
}

TEST_F(ChainMarketTest, RefundRules) {
  active_request();
  visited->report_usage(usage("R-1", 1, {2'000, 0, 0}));  // 2 SDRt charged
  EXPECT_EQ(refusal([&] { home->refund("R-1"); }), "not-expired");
  EXPECT_EQ(refusal([&] { outsider->refund("R-1"); }), "forbidden");
  EXPECT_EQ(refusal([&] { stranger->refund("R-1"); }), "not-registered");
  EXPECT_EQ(refusal([&] { home->refund("R-none"); }), "unknown-request");

  advance(2 * 86400 + 1);  // past expires_at: the home operator may close it
  auto rf = home->refund("R-1");
  EXPECT_EQ(home->balance("OP-H").available, 98 * kSdrt);
  EXPECT_EQ(home->balance("OP-H").escrowed, 0);
  EXPECT_EQ(home->balance("OP-V").available, 2 * kSdrt);
  EXPECT_EQ(home->find_request("R-1")->refunded, 8 * kSdrt);
  EXPECT_EQ(refusal([&] { home->refund("R-1"); }), "wrong-state");
  EXPECT_EQ(refusal([&] { visited->refund("R-1"); }), "wrong-state");
  EXPECT_EQ(refusal([&] { visited->report_usage(usage("R-1", 2, {1, 0, 0})); }), "wrong-state");
  EXPECT_EQ(refusal([&] { visited->accept(accept_terms("R-1")); }), "wrong-state");
  auto ev = home->events_after(rf.position - 1);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, "refund");
  EXPECT_EQ(ev[0].author, "OP-H");
  EXPECT_EQ(ev[0].counterparty, "OP-H");  // a refund's counterparty is always the home (market.hpp)
  EXPECT_EQ(ev[0].amount, 8 * kSdrt);
}

// events_after is a cursor: pages of any size, and a fresh handle (another
// process) that starts from a saved position misses nothing.
TEST_F(ChainMarketTest, EventsCursor) {
  active_request();
  auto all = home->events_after(0);
  ASSERT_EQ(all.size(), 5u);  // mint, offer, request, accept, activation
  std::vector<Event> paged;
  std::int64_t cursor = 0;
  for (;;) {
    auto page = home->events_after(cursor, 2);
    if (page.empty()) break;
    EXPECT_LE(page.size(), 2u);
    cursor = page.back().position;
    paged.insert(paged.end(), page.begin(), page.end());
  }
  ASSERT_EQ(paged.size(), all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(paged[i].position, all[i].position);
    EXPECT_EQ(paged[i].type, all[i].type);
    EXPECT_EQ(paged[i].reference, all[i].reference);
  }
  const std::int64_t saved = all.back().position;

  visited->report_usage(usage("R-1", 1, {1, 0, 0}));
  admin->mint("OP-V", 5);
  visited->report_usage(usage("R-1", 2, {2, 0, 0}));
  visited->refund("R-1");

  auto fresh = market(eth::Secp256k1Key::generate());  // a reader with nothing cached
  auto news = fresh->events_after(saved);
  std::vector<std::string> types;
  for (const auto& e : news) types.push_back(e.type);
  EXPECT_EQ(types, (std::vector<std::string>{"usage", "mint", "usage", "refund"}));
  ASSERT_EQ(news.size(), 4u);
  EXPECT_EQ(news[0].amount, 1'000);
  EXPECT_EQ(news[1].counterparty, "OP-V");
  EXPECT_EQ(news[1].amount, 5);
  EXPECT_EQ(news[2].amount, 2'000);
  EXPECT_EQ(news[3].amount, 10 * kSdrt - 3'000);
  EXPECT_TRUE(fresh->events_after(news.back().position).empty());
  // The same events through the first handle.
  auto again = home->events_after(saved);
  ASSERT_EQ(again.size(), news.size());
  for (std::size_t i = 0; i < news.size(); ++i) EXPECT_EQ(again[i].position, news[i].position);
}

TEST_F(ChainMarketTest, FailuresThatAreNotRulesAreNotMarketErrors) {
  // A node on another chain id is refused at construction.
  auto c = d.config();
  c.chain_id = 1;
  EXPECT_THROW(ChainMarket(c, home_key), std::runtime_error);
  // No contract at the address.
  c = d.config();
  c.marketplace = home_key.address();
  EXPECT_THROW(ChainMarket(c, home_key), std::runtime_error);
  // A node that is not there: a transport error, not a MarketError.
  c = d.config();
  c.rpc_url = "http://127.0.0.1:1";
  try {
    ChainMarket m(c, home_key);
    FAIL() << "connected to nothing";
  } catch (const MarketError&) {
    FAIL() << "a transport failure became a MarketError";
  } catch (const std::exception&) {
  }
}

}  // namespace
