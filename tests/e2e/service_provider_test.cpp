// A service provider's story end to end (issue 14): the SP publishes a
// service Offer (a transit pass), the home operator's agent buys it for a
// subscriber, the SP's agent accepts with an SP code sealed to the home
// operator, the home agent opens it (the code the subscriber is shown), the
// SP redeems the code (the Activation) and reports the rides as usage, and
// SDRt settles: balances checked to the unit. In process, on the embedded
// ledger and (where anvil is installed) on the chain.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "rsp/agents/home_operator_agent.hpp"
#include "rsp/agents/service_provider_agent.hpp"
#include "rsp/ledger/embedded_market.hpp"
#include "rsp/store.hpp"
#ifdef RSP_WITH_CHAIN
#include "rsp/ledger/chain_deploy.hpp"
#include "rsp/ledger/chain_market.hpp"
#include "rsp/ledger/chain_testnode.hpp"
#endif

using namespace rsp;
using namespace rsp::ledger;
namespace fs = std::filesystem;

namespace {

void print(const std::string& who, const std::string& what) { std::printf("  [%-7s] %s\n", who.c_str(), what.c_str()); }

struct Dir {
  fs::path path;
  explicit Dir(const std::string& name)
      : path(fs::temp_directory_path() / ("rsp-sp-" + name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~Dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// 10 rides at 0.25 SDRt a ride, escrow 3 SDRt (more than the allowance
// can draw, so the allowance is what stops an 11th ride), for 3 days.
OfferTerms transit_pass(const crypto::EcKey& seal_key, std::int64_t now) {
  OfferTerms o;
  o.offer_id = "TRANSIT-PARIS-10";
  o.kind = OfferKind::Service;
  o.service = "transit-pass";
  o.allowance = {10, 0, 0};
  o.tariff = {250'000, 0, 0};
  o.price = 3'000'000;
  o.term_seconds = 3 * 24 * 3600;
  o.valid_until = now + 3600;
  o.stock = 5;
  o.seal_key = seal_key.public_point();
  return o;
}

// The story on any backend; `advance` moves the ledger's clock on; `codes`
// is the SP's code source; returns the SP code the home operator opened.
std::string sp_story(Market& issuer, Market& sp, Market& home, const std::function<void(std::int64_t)>& advance,
                     const std::function<std::int64_t()>& now, agents::SpCodeSource codes, const fs::path& dir) {
  auto seal_key = crypto::EcKey::generate(crypto::Curve::P256);
  auto reply_key = crypto::EcKey::generate(crypto::Curve::P256);
  store::Db sp_db((dir / "sp-agent.db").string()), home_db((dir / "home-agent.db").string());
  agents::AgentState sp_state(sp_db), home_state(home_db);
  agents::ServiceProviderAgent sp_agent(sp, seal_key, std::move(codes), sp_state);
  agents::HomeOperatorAgent home_agent(home, reply_key, home_state);
  sp_agent.say = [](const std::string& s) { print("SP", s); };
  home_agent.say = [](const std::string& s) { print("home", s); };
  std::vector<agents::DeliveredServiceCode> shown;
  home_agent.service_code_delivered = [&](const agents::DeliveredServiceCode& d) { shown.push_back(d); };

  issuer.mint(home.me(), 10'000'000);
  sp.publish_offer(transit_pass(seal_key, now()));
  auto offer = home.offer("TRANSIT-PARIS-10");
  EXPECT_TRUE(offer && offer->kind == OfferKind::Service);
  if (!offer) return "";
  const std::string rid = home_agent.buy_service(*offer, "sub-7f3a");
  EXPECT_EQ(home.balance(home.me()).escrowed, 3'000'000);

  EXPECT_EQ(sp_agent.poll(), 1);
  EXPECT_EQ(home_agent.poll(), 1);
  EXPECT_EQ(home_agent.poll(), 0);  // delivered once
  EXPECT_EQ(shown.size(), 1u);
  if (shown.empty()) return "";
  const std::string code = shown[0].code.sp_code;
  EXPECT_EQ(shown[0].request_id, rid);
  EXPECT_EQ(shown[0].code.offer_id, "TRANSIT-PARIS-10");
  EXPECT_EQ(shown[0].code.entitles, "transit-pass, 10 unit(s)");
  // The code is on the ledger only sealed: no entry or event names it.
  for (const auto& e : home.events_after(0, 10000)) EXPECT_EQ(e.id.find(code), std::string::npos);

  EXPECT_THROW(sp_agent.redeem("NOT-A-CODE", "FRPAR"), std::runtime_error);
  EXPECT_EQ(sp_agent.redeem(code, "FRPAR"), rid);
  EXPECT_THROW(sp_agent.redeem(code, "FRPAR"), std::runtime_error);  // once
  auto r = *home.find_request(rid);
  EXPECT_EQ(r.state, RequestState::Active);
  EXPECT_EQ(r.activation_plmn, "FRPAR");

  advance(kDisputeSeconds + 10);  // usage is paid once the dispute window has passed
  const std::int64_t t0 = r.activated_at;
  EXPECT_TRUE(sp_agent.report_units(code, 4, t0, t0 + 600, "ride-0001"));
  EXPECT_TRUE(sp_agent.report_units(code, 4, t0, t0 + 600, "ride-0001"));  // delivered again: charged once
  EXPECT_FALSE(sp_agent.report_units(code, 7, t0 + 600, t0 + 900, "ride-0002"));  // 11 > 10 rides
  EXPECT_EQ(sp.balance(sp.me()).available, 1'000'000);  // 4 rides x 0.25
  EXPECT_EQ(home.balance(home.me()).escrowed, 2'000'000);
  EXPECT_EQ(home.find_request(rid)->used.data_mb, 4);

  EXPECT_TRUE(sp_agent.report_units(code, 6, t0 + 600, t0 + 900, "ride-0003"));  // 10 of 10
  EXPECT_EQ(sp.balance(sp.me()).available, 2'500'000);
  advance(3 * 24 * 3600);  // the term is over: the home takes the rest back
  home.refund(rid);
  EXPECT_EQ(home.balance(home.me()).available, 7'500'000);  // 10 - 3 + 0.5
  EXPECT_EQ(home.balance(home.me()).escrowed, 0);
  EXPECT_EQ(sp.balance(sp.me()).available, 2'500'000);
  auto st = make_statement(sp, sp.me(), 0, now() + 3600);
  EXPECT_EQ(st.closing.available, 2'500'000);
  auto hs = make_statement(home, home.me(), 0, now() + 3600);
  EXPECT_EQ(hs.closing.available, 7'500'000);
  EXPECT_EQ(hs.closing.escrowed, 0);
  return code;
}

TEST(ServiceProvider, StoryOnTheEmbeddedLedger) {
  Dir dir("embedded");
  auto skipped_ms = std::make_shared<std::int64_t>(0);
  EmbeddedLedger::Options lo;
  lo.clock_ms = [s = skipped_ms] { return static_cast<std::int64_t>(std::time(nullptr)) * 1000 + *s; };
  auto ledger = std::make_shared<EmbeddedLedger>((dir.path / "ledger.db").string(), lo);
  auto ik = std::make_shared<crypto::EcKey>(crypto::EcKey::generate(crypto::Curve::P256));
  auto sk = std::make_shared<crypto::EcKey>(crypto::EcKey::generate(crypto::Curve::P256));
  auto hk = std::make_shared<crypto::EcKey>(crypto::EcKey::generate(crypto::Curve::P256));
  ledger->init("SDR-ISSUER", *ik);
  ledger->register_participant("SDR-ISSUER", *ik, "SP-TRANSIT", "service-provider", *sk);
  ledger->register_participant("SDR-ISSUER", *ik, "HOME-B", "home-operator", *hk);
  EmbeddedMarket issuer(ledger, "SDR-ISSUER", ik), sp(ledger, "SP-TRANSIT", sk), home(ledger, "HOME-B", hk);
  // A code list file: the first code not given out is the one sealed.
  const fs::path list = dir.path / "codes.txt";
  std::ofstream(list) << "# transit passes\nPASS-0001-QX\nPASS-0002-ZK\n";
  const std::string code = sp_story(
      issuer, sp, home, [&](std::int64_t s) { *skipped_ms += s * 1000; },
      [&] { return lo.clock_ms() / 1000; }, agents::SpCodeSource::from_file(list.string()), dir.path);
  EXPECT_EQ(code, "PASS-0001-QX");
  // Nowhere on the ledger in clear.
  for (const auto& e : ledger->entries_after(0, 100000))
    EXPECT_EQ(rsp::to_string(e.payload).find(code), std::string::npos) << "seq " << e.seq;
}

#ifdef RSP_WITH_CHAIN
TEST(ServiceProvider, StoryOnTheChain) {
  if (auto why = AnvilNode::unavailable_reason()) GTEST_SKIP() << "the chain backend needs anvil: " << *why;
  Dir dir("chain");
  AnvilNode node;
  eth::JsonRpc rpc(node.url());
  auto ik = eth::Secp256k1Key::generate(), sk = eth::Secp256k1Key::generate(), hk = eth::Secp256k1Key::generate();
  ChainDeployment free;
  free.free_gas = true;
  free.chain_id = node.chain_id();
  eth::Sender admin(rpc, ik, sender_config(free));
  ChainDeployment d = deploy_marketplace(admin, "SDR-ISSUER");
  d.free_gas = true;
  register_participant(admin, d, sk.address(), "SP-TRANSIT", ChainRole::ServiceProvider);
  register_participant(admin, d, hk.address(), "HOME-B", ChainRole::HomeOperator);
  ChainMarket issuer(d.config(), ik), sp(d.config(), sk), home(d.config(), hk);
  const std::string code = sp_story(
      issuer, sp, home,
      [&](std::int64_t s) {
        rpc.call("evm_increaseTime", nlohmann::json::array({s}));
        rpc.call("evm_mine");
      },
      [&] { return static_cast<std::int64_t>(rpc.get_latest_block_timestamp()); },
      agents::SpCodeSource::random("ABCDEFGHJKLMNPQRSTUVWXYZ23456789", 12), dir.path);
  EXPECT_EQ(code.size(), 12u);
  EXPECT_EQ(code.find_first_not_of("ABCDEFGHJKLMNPQRSTUVWXYZ23456789"), std::string::npos);
}
#endif

}  // namespace
