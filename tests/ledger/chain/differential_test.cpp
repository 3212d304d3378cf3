// The two backends, differentially (issue 16): one random sequence of market
// operations, honest and malicious, is run against the embedded ledger and
// against the contracts on anvil; after every step both must have given the
// same outcome (accepted, or refused with the same MarketError code) and hold
// the same balances and escrow for every participant, and the same state for
// the Request and Offer the step touched; at the end, the same event stream.
//
//   RSP_DIFF_OPS   number of operations (default kDefaultOps, what CI runs)
//   RSP_DIFF_SEED  the seed (default kDefaultSeed); printed either way
//   RSP_DIFF_TRACE 1: print every step and its outcome
//
// Time: both backends judge a step at the same virtual time T. The embedded
// ledger's clock returns T; on anvil the test mines a block at T before the
// step (evm_setNextBlockTimestamp + evm_mine), so the step's transactions
// land a second or two after T. T moves 10 s per step and by the "advance"
// operation; it is kept kMargin seconds away from every deadline on the
// ledger (Offer valid_until, Request answer_by and expires_at), and usage
// periods are chosen kMargin away from the period rules' bounds, so those
// seconds never decide an outcome.
//
// A new operation is one entry in the table of make_ops(): a name, a weight,
// and a function that builds one Step from the generator's view.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <sstream>

#include "rsp/ledger/chain_deploy.hpp"
#include "rsp/ledger/chain_market.hpp"
#include "rsp/ledger/chain_testnode.hpp"
#include "rsp/ledger/embedded_market.hpp"

using namespace rsp;
using namespace rsp::ledger;

namespace {

constexpr int kDefaultOps = 500;
constexpr std::uint64_t kDefaultSeed = 16;
constexpr std::int64_t kStepSeconds = 10;
constexpr std::int64_t kMargin = 60;

const std::string kIssuer = "issuer";
const std::string kVisitedA = "visited-a";
const std::string kVisitedC = "visited-c";
const std::string kProviderD = "provider-d";
const std::string kHomeB = "home-b";
const std::string kHomeX = "home-x";
const std::string kArbiterZ = "arbiter-z";
const std::string kArbiterY = "arbiter-y";
// A key no admin registered. (A registered id written with a key that is not
// its own and never was is left out on purpose: the embedded ledger refuses
// it as AppendError bad-signature, the chain as not-registered, since there
// the key is the account; both refuse it, with different codes. A key the id
// rotated out is in: both refuse it as not-registered.)
const std::string kOutsider = "outsider";

struct Party {
  std::string id;
  std::string role;     // "" for the outsider
  std::string arbiter;  // the arbiter it names at registration ("" none)
};
// visited-a, provider-d and home-b name arbiter-z (disputes between them can
// be resolved); home-x names arbiter-y and visited-c none (`no-arbiter`).
const std::vector<Party> kParties = {{kIssuer, "admin", ""},
                                     {kArbiterZ, "arbiter", ""},
                                     {kArbiterY, "arbiter", ""},
                                     {kVisitedA, "visited-operator", kArbiterZ},
                                     {kVisitedC, "visited-operator", ""},
                                     {kProviderD, "service-provider", kArbiterZ},
                                     {kHomeB, "home-operator", kArbiterZ},
                                     {kHomeX, "home-operator", kArbiterY},
                                     {kOutsider, "", ""}};

// One backend under test: a Market per party, and its clock. Keys have
// labels the generator uses on both backends alike: a party's registration
// key is labelled with its id, the keys it rotates to "key-<n>"; each
// backend makes its own key for a label (P-256 embedded, secp256k1 chain).
struct Backend {
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual Market& as(const std::string& party) = 0;
  virtual void set_time(std::int64_t t) = 0;  // the next writes are judged at (about) t
  virtual std::shared_ptr<crypto::EcKey> make_key() = 0;
  std::shared_ptr<crypto::EcKey> key(const std::string& label) {
    auto& k = keys[label];
    if (!k) k = make_key();
    return k;
  }
  // One more handle writing as `party` with the key `label` (an old one).
  virtual std::unique_ptr<Market> handle(const std::string& party, std::shared_ptr<crypto::EcKey> key) = 0;
  Market& with_key(const std::string& party, const std::string& label) {
    auto& m = stale[party + "/" + label];
    if (!m) m = handle(party, key(label));
    return *m;
  }
  std::map<std::string, std::shared_ptr<crypto::EcKey>> keys;
  std::map<std::string, std::unique_ptr<Market>> stale;
};

eth::Secp256k1Key as_eth(const crypto::EcKey& k) {
  auto s = k.private_scalar();
  return eth::Secp256k1Key::from_private(ByteView(s.data(), s.size()));
}

struct EmbeddedBackend final : Backend {
  std::filesystem::path dir;
  std::atomic<std::int64_t> now_s;
  std::shared_ptr<EmbeddedLedger> ledger;
  std::map<std::string, std::unique_ptr<EmbeddedMarket>> markets;

  explicit EmbeddedBackend(std::int64_t t0) : now_s(t0) {
    dir = std::filesystem::temp_directory_path() / ("rsp-differential-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    EmbeddedLedger::Options opt;
    opt.synchronous_full = false;
    opt.clock_ms = [this] { return now_s.load() * 1000; };
    ledger = std::make_shared<EmbeddedLedger>((dir / "ledger.db").string(), opt);
    for (const auto& p : kParties) key(p.id);
    ledger->init(kIssuer, *keys[kIssuer]);
    for (const auto& p : kParties)
      if (!p.role.empty() && p.role != "admin")
        ledger->register_participant(kIssuer, *keys[kIssuer], p.id, p.role, *keys[p.id], p.arbiter);
    for (const auto& p : kParties) markets[p.id] = std::make_unique<EmbeddedMarket>(ledger, p.id, keys[p.id]);
  }
  ~EmbeddedBackend() override {
    stale.clear();
    markets.clear();
    ledger.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string name() const override { return "embedded"; }
  Market& as(const std::string& p) override { return *markets.at(p); }
  void set_time(std::int64_t t) override { now_s = t; }
  std::shared_ptr<crypto::EcKey> make_key() override {
    return std::make_shared<crypto::EcKey>(crypto::EcKey::generate(crypto::Curve::P256));
  }
  std::unique_ptr<Market> handle(const std::string& p, std::shared_ptr<crypto::EcKey> k) override {
    return std::make_unique<EmbeddedMarket>(ledger, p, std::move(k));
  }
};

struct ChainBackend final : Backend {
  AnvilNode node;
  eth::JsonRpc rpc;
  std::map<std::string, std::unique_ptr<ChainMarket>> markets;
  ChainDeployment d;

  ChainBackend() : rpc(node.url()) {
    auto acct = [this](const std::string& label) { return as_eth(*key(label)); };
    ChainDeployment free;
    free.free_gas = true;
    free.chain_id = node.chain_id();
    eth::Sender admin(rpc, acct(kIssuer), sender_config(free));
    d = deploy_marketplace(admin, kIssuer);
    d.free_gas = true;
    for (const auto& p : kParties)
      if (!p.role.empty() && p.role != "admin")
        register_participant(admin, d, acct(p.id).address(), p.id, parse_chain_role(p.role),
                             p.arbiter.empty() ? eth::Address{} : acct(p.arbiter).address());
    for (const auto& p : kParties) markets[p.id] = std::make_unique<ChainMarket>(d.config(), acct(p.id));
  }
  std::shared_ptr<crypto::EcKey> make_key() override {
    return std::make_shared<crypto::EcKey>(crypto::EcKey::generate(crypto::Curve::Secp256k1));
  }
  std::unique_ptr<Market> handle(const std::string&, std::shared_ptr<crypto::EcKey> k) override {
    return std::make_unique<ChainMarket>(d.config(), as_eth(*k));
  }
  std::string name() const override { return "chain"; }
  Market& as(const std::string& p) override { return *markets.at(p); }
  std::int64_t latest() { return static_cast<std::int64_t>(rpc.get_latest_block_timestamp()); }
  void set_time(std::int64_t t) override {
    rpc.call("evm_setNextBlockTimestamp", nlohmann::json::array({t}));
    rpc.call("evm_mine");
  }
};

// What a write did: "ok", "refused <code>", or "error <what>" (anything that
// is not a MarketError: never expected).
std::string outcome_of(const std::function<void()>& f) {
  try {
    f();
    return "ok";
  } catch (const UsageBatchError& e) {
    return "refused " + e.code + " at report " + std::to_string(e.index);
  } catch (const MarketError& e) {
    return "refused " + e.code;
  } catch (const std::exception& e) {
    return std::string("error ") + e.what();
  }
}

struct Step {
  std::string text;                       // printed on divergence
  std::function<void(Backend&)> run;      // the same write on either backend (empty: nothing to write)
  std::vector<std::string> requests;      // touched records whose state is compared after the step
  std::vector<std::string> offers;
};

// The generator's view: its random source, the virtual time, the ids it made,
// and the embedded backend to read the state from (both backends hold the
// same state, or the test has already failed).
struct Gen {
  std::mt19937_64 rng;
  std::int64_t now = 0;
  Market& view;
  std::vector<std::string> offers, requests;
  std::map<std::string, std::vector<UsageReport>> reports;  // every usage report tried, per Request
  int serial = 0;
  int step = 0, steps = 0;  // this step, and how many the run has
  // Key labels (see Backend): the one each party writes with now, and the
  // ones it rotated out.
  std::map<std::string, std::string> key_now;
  std::map<std::string, std::vector<std::string>> rotated_out;
  std::function<void()> on_ok;  // set by the step being made: run when both backends accepted it
  Bytes seal_key = crypto::EcKey::generate(crypto::Curve::P256).public_point();
  Bytes reply_key = crypto::EcKey::generate(crypto::Curve::P256).public_point();

  Gen(std::uint64_t seed, std::int64_t t0, Market& v) : rng(seed), now(t0), view(v) {
    for (const auto& p : kParties) key_now[p.id] = p.id;
  }

  std::int64_t uniform(std::int64_t lo, std::int64_t hi) { return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng); }
  bool chance(int percent) { return uniform(1, 100) <= percent; }
  template <typename T>
  T pick(const std::vector<T>& v) { return v[static_cast<std::size_t>(uniform(0, static_cast<std::int64_t>(v.size()) - 1))]; }
  std::string party() { return pick(kParties).id; }
  std::string fresh(const std::string& prefix) { return prefix + std::to_string(++serial); }
  // Mostly a known id, sometimes one no record has, sometimes not an id at all.
  std::string known_or_not(const std::vector<std::string>& known, const std::string& prefix) {
    if (!known.empty() && chance(92)) return pick(known);
    if (chance(50)) return fresh(prefix + "NONE-");
    return pick(std::vector<std::string>{std::string(33, 'z'), "", "with space", std::string("ctl\x01"), "tab\t",
                                         std::string("nul\0x", 5), "caf\xc3\xa9", std::string(32, 'q')});
  }
  // A Request the ledger holds, mostly one in `state` (where the operation
  // has a chance to pass), else any id.
  std::string request_in(RequestState state) {
    std::vector<std::string> in;
    for (const auto& id : requests)
      if (auto r = view.find_request(id); r && r->state == state && (r->expires_at > now || chance(20))) in.push_back(id);
    if (!in.empty() && chance(75)) return pick(in);
    return known_or_not(requests, "REQ-");
  }
  // An Offer that can still be bought, mostly; else any id.
  std::string offer_for_sale() {
    std::vector<std::string> open;
    for (const auto& id : offers)
      if (auto o = view.offer(id); o && o->valid_until > now && o->sold < o->stock) open.push_back(id);
    if (!open.empty() && chance(80)) return pick(open);
    return known_or_not(offers, "OFFER-");
  }
  std::optional<Request> request(const std::string& id) { return view.find_request(id); }
  // After a step: the records it created join the known ids.
  void learn(const Step& s);
};

void Gen::learn(const Step& s) {
  for (const auto& id : s.offers)
    if (std::find(offers.begin(), offers.end(), id) == offers.end() && view.offer(id)) offers.push_back(id);
  for (const auto& id : s.requests)
    if (std::find(requests.begin(), requests.end(), id) == requests.end() && view.find_request(id)) requests.push_back(id);
}

std::string fmt(const Allowance& a) {
  return "{" + std::to_string(a.data_mb) + "," + std::to_string(a.voice_minutes) + "," + std::to_string(a.sms) + "}";
}

// One usage report on `rid` as the generator makes it, honest or not; `r`
// is the Request as the report will find it (in a batch: as the reports
// before it would leave it, if they pass). `note` says what is odd about it.
UsageReport make_usage(Gen& g, const std::string& rid, const std::optional<Request>& r, std::string& note) {
  UsageReport u;
  u.request_id = rid;
  const std::int64_t done = r ? r->usage_reports : 0;
  u.report_no = g.chance(75) ? done + 1 : g.pick(std::vector<std::int64_t>{done, done + 2, 0});
  u.used = {g.uniform(0, 400), g.uniform(0, 30), g.uniform(0, 10)};
  if (g.chance(15)) {
    switch (g.uniform(0, 3)) {
      case 0: u.used = {1001, 0, 0}; note = "beyond allowance"; break;
      case 1: u.used = {INT64_MAX / 2, 0, 0}; note = "huge"; break;
      case 2: u.used = {-1, 0, 0}; note = "negative"; break;
      default: u.used = {1000, 100, 50}; note = "whole allowance"; break;
    }
  }
  // Periods kMargin away from the bounds that differ by a second or two
  // between the backends (activated_at, now + 300); the bounds set by
  // earlier reports are the same values on both.
  const std::int64_t act = r && r->activated_at > 0 ? r->activated_at : g.now - 1000;
  switch (g.chance(60) ? g.uniform(0, 1) : g.uniform(2, 5)) {
    case 0: u.period_start = act + kMargin; u.period_end = g.now - kMargin; break;
    case 1: u.period_start = act + kMargin; u.period_end = g.now + kPeriodSlackSeconds - 2 * kMargin; break;
    case 2: u.period_start = act - 600; u.period_end = act - 2 * kMargin; note += " period before activation"; break;
    case 3: u.period_start = g.now; u.period_end = g.now - 2 * kMargin; note += " period reversed"; break;
    case 4: u.period_start = act + kMargin; u.period_end = g.now + kPeriodSlackSeconds + 2 * kMargin; note += " period in the future"; break;
    default: u.period_start = -5; u.period_end = g.now - kMargin; note += " negative start"; break;
  }
  if (u.period_end < act + kMargin && u.period_end >= act - kMargin) u.period_end = act + kMargin;  // never on the bound
  // Periods after the last one charged, mostly; sometimes overlapping it
  // (kMargin away from its end, which is the same value on both).
  if (r && r->period_end > 0) {
    if (g.chance(85) && u.period_start < r->period_end) {
      u.period_start = r->period_end;
      if (u.period_end < u.period_start) u.period_end = u.period_start;
    } else if (g.chance(50)) {
      u.period_start = r->period_end - kMargin;
      note += " overlaps the last period";
    }
  }
  // The network's record id: fresh, or (re-delivery) one tried before on
  // this Request, with the same content or other content.
  u.record_id = g.fresh("REC-");
  auto& tried = g.reports[u.request_id];
  if (!tried.empty() && g.chance(20)) {
    const UsageReport old = g.pick(tried);
    if (g.chance(60)) {
      u = old;
      u.report_no = g.chance(50) ? old.report_no : done + 1;  // the visited agent may renumber it
      note += " re-delivered " + old.record_id;
    } else {
      u.record_id = old.record_id;
      note += " other content under " + old.record_id;
    }
  } else if (g.chance(3)) {
    u.record_id = g.pick(std::vector<std::string>{"", std::string(33, 'r'), "rec id"});
    note += " record id '" + u.record_id + "'";
  }
  tried.push_back(u);
  return u;
}

std::string describe(const UsageReport& u, const std::string& note) {
  return u.request_id + " #" + std::to_string(u.report_no) + " " + u.record_id + " used " + fmt(u.used) + " period [" +
         std::to_string(u.period_start) + "," + std::to_string(u.period_end) + "]" + (note.empty() ? "" : " [" + note + "]");
}

// ---- the operations: one entry each ----
struct OpKind {
  std::string name;
  int weight;
  std::function<Step(Gen&)> make;
};

std::vector<OpKind> make_ops() {
  std::vector<OpKind> ops;

  ops.push_back({"mint", 7, [](Gen& g) {
    std::string by = g.chance(85) ? kIssuer : g.party();
    std::string to = g.party();
    Amount amount = g.chance(75) ? g.uniform(1, 30) * kUnitsPerSdrt
                                 : g.pick(std::vector<Amount>{0, -1, INT64_MAX, INT64_MAX / 2, 1});
    if (g.chance(80) && to == kIssuer) to = g.pick(std::vector<std::string>{kHomeB, kHomeX});
    return Step{"mint by " + by + " to " + to + " amount " + std::to_string(amount),
                [=](Backend& b) { b.as(by).mint(to, amount); }, {}, {}};
  }});

  ops.push_back({"offer", 6, [](Gen& g) {
    std::string by = g.chance(80) ? g.pick(std::vector<std::string>{kVisitedA, kVisitedC, kProviderD}) : g.party();
    OfferTerms o;
    o.offer_id = g.chance(85) ? g.fresh("OFFER-") : g.known_or_not(g.offers, "OFFER-");
    o.service = "data+voice";
    o.coverage = {"20801", "20810"};
    o.allowance = {1000, 100, 50};
    o.tariff = {1000, 20000, 5000};
    o.price = g.pick(std::vector<Amount>{1'000'000, 2'000'000, 6'000'000});
    o.term_seconds = g.pick(std::vector<std::int64_t>{2 * 3600, 26 * 3600, 30 * 86400, 30 * 86400});
    o.valid_until = g.now + g.pick(std::vector<std::int64_t>{2 * 86400, 40 * 86400, 40 * 86400});
    o.stock = g.uniform(1, 3);
    o.seal_key = g.seal_key;
    std::string bad;
    if (g.chance(25)) {
      switch (g.uniform(0, 15)) {
        case 0: o.stock = 0; bad = "stock 0"; break;
        case 1: o.price = 0; bad = "price 0"; break;
        case 2: o.price = -1; bad = "price -1"; break;
        case 3: o.term_seconds = 0; bad = "term 0"; break;
        case 4: o.term_seconds = kMaxTermSeconds + 1; bad = "term > 10 y"; break;
        case 5: o.valid_until = g.now - 3600; bad = "valid_until past"; break;
        case 6: o.coverage = {"2080"}; bad = "coverage 2080"; break;
        case 7: o.service = ""; bad = "no service"; break;
        case 8: o.seal_key.pop_back(); bad = "seal key 64 bytes"; break;
        case 10: o.coverage = {}; bad = "no coverage"; break;
        case 11: o.service = std::string(33, 's'); bad = "service 33 bytes"; break;
        case 12: o.allowance.sms = -1; bad = "allowance -1"; break;
        case 13: o.tariff.per_mb = -1; bad = "tariff -1"; break;
        case 14: o.term_seconds = -3600; bad = "term negative"; break;
        case 15: o.coverage = {"20801", "208012"}; bad = "coverage 6 digits"; break;
        default: o.stock = -2; bad = "stock -2"; break;
      }
    }
    return Step{"offer " + o.offer_id + " by " + by + " price " + std::to_string(o.price) + " term " +
                    std::to_string(o.term_seconds) + " stock " + std::to_string(o.stock) + (bad.empty() ? "" : " [" + bad + "]"),
                [=](Backend& b) { b.as(by).publish_offer(o); }, {}, {o.offer_id}};
  }});

  ops.push_back({"request", 14, [](Gen& g) {
    std::string by = g.chance(80) ? g.pick(std::vector<std::string>{kHomeB, kHomeX}) : g.party();
    RequestTerms t;
    t.request_id = g.chance(80) ? g.fresh("REQ-") : g.known_or_not(g.requests, "REQ-");
    t.offer_id = g.offer_for_sale();
    auto o = g.view.offer(t.offer_id);
    t.subscriber = "sub-" + t.request_id.substr(0, 20);
    t.sealed_target = crypto::random_bytes(80);
    t.escrow = o ? o->price : 1'000'000;
    t.reply_key = g.reply_key;
    std::string bad;
    if (g.chance(15)) {
      switch (g.uniform(0, 6)) {
        case 5: t.subscriber = std::string(65, 's'); bad = "subscriber 65 bytes"; break;
        case 6: t.escrow = -t.escrow; bad = "escrow negative"; break;
        case 0: t.escrow += 1; bad = "escrow +1"; break;
        case 1: t.escrow -= 1; bad = "escrow -1"; break;
        case 2: t.subscriber = ""; bad = "no subscriber"; break;
        case 3: t.sealed_target.clear(); bad = "no target"; break;
        default: t.reply_key.resize(33); bad = "reply key 33 bytes"; break;
      }
    }
    return Step{"request " + t.request_id + " by " + by + " on " + t.offer_id + " escrow " + std::to_string(t.escrow) +
                    (bad.empty() ? "" : " [" + bad + "]"),
                [=](Backend& b) { b.as(by).request(t); }, {t.request_id}, {t.offer_id}};
  }});

  ops.push_back({"accept", 10, [](Gen& g) {
    AcceptTerms a;
    a.request_id = g.request_in(RequestState::Open);
    auto r = g.request(a.request_id);
    std::string by = r && g.chance(75) ? r->provider : g.party();
    a.sealed_profile = crypto::random_bytes(120);
    a.package_hash = crypto::random_bytes(32);
    std::string bad;
    if (g.chance(10)) {
      if (g.chance(50)) {
        a.package_hash.resize(31);
        bad = "hash 31 bytes";
      } else {
        a.sealed_profile.clear();
        bad = "no profile";
      }
    }
    return Step{"accept " + a.request_id + " by " + by + (bad.empty() ? "" : " [" + bad + "]"),
                [=](Backend& b) { b.as(by).accept(a); }, {a.request_id}, {}};
  }});

  ops.push_back({"activate", 8, [](Gen& g) {
    std::string rid = g.request_in(RequestState::Accepted);
    auto r = g.request(rid);
    std::string by = r && g.chance(75) ? r->provider : g.party();
    std::string plmn = g.chance(90) ? "20801" : g.pick(std::vector<std::string>{"2080x", "2080", "2080123", "208012", ""});
    return Step{"activate " + rid + " by " + by + " on " + plmn, [=](Backend& b) { b.as(by).activate(rid, plmn); }, {rid}, {}};
  }});

  ops.push_back({"usage", 16, [](Gen& g) {
    const std::string rid = g.request_in(RequestState::Active);
    auto r = g.request(rid);
    std::string by = r && g.chance(80) ? r->provider : g.party();
    std::string note;
    UsageReport u = make_usage(g, rid, r, note);
    return Step{"usage " + describe(u, note) + " by " + by, [=](Backend& b) { b.as(by).report_usage(u); }, {rid}, {}};
  }});

  // Several reports in one write (issue 12), on one or several Requests:
  // the same outcome on both (applied, or refused with the same code and
  // the same report index).
  ops.push_back({"usage-batch", 6, [](Gen& g) {
    std::vector<UsageReport> batch;
    std::vector<std::string> rids;
    std::map<std::string, Request> after;  // each Request as the reports before would leave it
    std::string by, text;
    const int k = static_cast<int>(g.uniform(2, 4));
    for (int j = 0; j < k; ++j) {
      const std::string rid = g.request_in(RequestState::Active);
      std::optional<Request> r = after.count(rid) ? std::optional<Request>(after.at(rid)) : g.request(rid);
      if (j == 0) by = r && g.chance(85) ? r->provider : g.party();
      std::string note;
      UsageReport u = make_usage(g, rid, r, note);
      if (r) {
        Request next = *r;
        next.usage_reports += 1;
        next.period_end = std::max(next.period_end, u.period_end);
        after.insert_or_assign(rid, next);
      }
      text += " | " + describe(u, note);
      batch.push_back(u);
      if (std::find(rids.begin(), rids.end(), rid) == rids.end()) rids.push_back(rid);
    }
    return Step{"usage batch by " + by + text, [=](Backend& b) { b.as(by).report_usage_batch(batch); }, rids, {}};
  }});

  ops.push_back({"refund", 8, [](Gen& g) {
    std::string rid = g.request_in(g.pick(std::vector<RequestState>{RequestState::Open, RequestState::Accepted,
                                                                    RequestState::Active}));
    auto r = g.request(rid);
    std::string by = g.party();
    if (r && g.chance(80)) by = g.chance(50) ? r->home : r->provider;
    return Step{"refund " + rid + " by " + by, [=](Backend& b) { b.as(by).refund(rid); }, {rid}, {}};
  }});

  ops.push_back({"dispute", 5, [](Gen& g) {
    // Mostly an Accept still in its window, where a dispute can pass.
    std::vector<std::string> in_window;
    for (const auto& id : g.requests)
      if (auto r = g.view.find_request(id); r && (r->state == RequestState::Accepted || r->state == RequestState::Active) &&
                                            r->accepted_at + kDisputeSeconds > g.now)
        in_window.push_back(id);
    std::string rid = !in_window.empty() && g.chance(70)
                          ? g.pick(in_window)
                          : g.request_in(g.pick(std::vector<RequestState>{RequestState::Accepted, RequestState::Active,
                                                                          RequestState::Open, RequestState::Disputed}));
    auto r = g.request(rid);
    std::string by = r && g.chance(80) ? r->home : g.party();
    std::string reason = g.chance(90) ? "package does not open"
                                      : g.pick(std::vector<std::string>{"", std::string(65, 'x'), std::string(64, 'y')});
    return Step{"dispute " + rid + " by " + by + " reason '" + reason.substr(0, 24) + "' (" + std::to_string(reason.size()) + ")",
                [=](Backend& b) { b.as(by).dispute(rid, reason); }, {rid}, {}};
  }});

  ops.push_back({"resolve", 4, [](Gen& g) {
    std::string rid = g.request_in(RequestState::Disputed);
    auto r = g.request(rid);
    std::string by = r && !r->arbiter.empty() && g.chance(75) ? r->arbiter : g.party();
    Resolution res = g.chance(50) ? Resolution::RefundHome : Resolution::ReleaseToProvider;
    return Step{"resolve " + rid + " by " + by + (res == Resolution::RefundHome ? " refund-home" : " release-to-provider"),
                [=](Backend& b) { b.as(by).resolve(rid, res); }, {rid}, {}};
  }});

  // Revocation kills a party for the rest of the run: only home-x and
  // visited-c are ever revoked, and only in the last third of the run, so
  // the others keep trading; before that every revoke is one that fails.
  ops.push_back({"revoke", 1, [](Gen& g) {
    const bool late = g.step > g.steps * 2 / 3;
    std::string target = late && g.chance(60) ? g.pick(std::vector<std::string>{kHomeX, kVisitedC})
                                              : g.pick(std::vector<std::string>{kIssuer, kOutsider, "nobody", kHomeB});
    std::string by = g.chance(40) ? target : g.chance(50) ? kIssuer : g.party();
    if (target == kHomeB && by != kIssuer && by != kHomeB) by = kVisitedA;  // never actually revoke home-b
    if (target == kHomeB && (by == kIssuer || by == kHomeB)) by = kProviderD;
    if (by == "nobody") by = kOutsider;
    return Step{"revoke " + target + " by " + by, [=](Backend& b) { b.as(by).revoke(target); }, {}, {}};
  }});

  // A pause lasts a few steps: while paused, the main loop picks this
  // operation one step in six.
  ops.push_back({"pause", 2, [](Gen& g) {
    std::string by = g.chance(75) ? kIssuer : g.party();
    bool on = g.chance(85) ? !g.view.paused() : g.view.paused();
    return Step{std::string(on ? "pause" : "resume") + " by " + by, [=](Backend& b) { b.as(by).set_paused(on); }, {}, {}};
  }});

  // Key rotation (issue 16): mostly a party rotating its own key to a fresh
  // one (the admin too: the issuer role follows), else someone else's or an
  // unknown id (forbidden), or a key some party has or had, revoked or not
  // (bad-participant); the outsider and revoked parties (not-registered).
  ops.push_back({"rotate", 4, [](Gen& g) {
    std::string by = g.chance(88) ? g.pick(std::vector<std::string>{kIssuer, kVisitedA, kVisitedC, kProviderD, kHomeB,
                                                                    kHomeX, kArbiterZ, kArbiterY})
                                  : kOutsider;
    std::string target = g.chance(80) ? by : g.chance(70) ? g.party() : "nobody";
    std::string label, bad;
    if (g.chance(60)) {
      label = g.fresh("key-");
    } else {
      // A key already used: any party's now (its own included) or one rotated out.
      std::vector<std::string> used;
      for (const auto& p : kParties)
        if (p.id != kOutsider) used.push_back(g.key_now.at(p.id));  // the outsider's key was never a participant's
      for (const auto& [p, labels] : g.rotated_out) used.insert(used.end(), labels.begin(), labels.end());
      label = g.pick(used);
      bad = " [reused]";
    }
    const std::string from = g.key_now.at(by);
    g.on_ok = [&g, by, from, label] {
      g.rotated_out[by].push_back(from);
      g.key_now[by] = label;
    };
    return Step{"rotate " + target + " by " + by + " (key " + from + ") to key " + label + bad,
                [=](Backend& b) { b.as(by).rotate_key(target, b.key(label)); }, {}, {}};
  }});

  // A write with a key its party rotated out: refused as not-registered on
  // both, whatever the write (a mint, an Offer, a Request, a refund, a
  // revocation, a rotation back, a pause).
  ops.push_back({"stale-key", 2, [](Gen& g) {
    std::vector<std::string> rotated;
    for (const auto& [p, labels] : g.rotated_out) rotated.push_back(p);
    if (rotated.empty()) return Step{"stale key: nothing rotated yet", {}, {}, {}};
    const std::string by = g.pick(rotated);
    const std::string label = g.pick(g.rotated_out.at(by));
    const std::string rid = g.known_or_not(g.requests, "REQ-");
    const std::string oid = g.offer_for_sale();
    const std::string fresh_key = g.fresh("key-");
    const auto what = g.uniform(0, 6);
    const std::string names[] = {"mint", "offer", "request", "refund", "revoke", "rotate", "pause"};
    OfferTerms o;
    o.offer_id = g.fresh("OFFER-");
    o.service = "data";
    o.coverage = {"20801"};
    o.allowance = {1000, 100, 50};
    o.tariff = {1000, 20000, 5000};
    o.price = 1'000'000;
    o.term_seconds = 30 * 86400;
    o.valid_until = g.now + 40 * 86400;
    o.stock = 1;
    o.seal_key = g.seal_key;
    RequestTerms t;
    t.request_id = g.fresh("REQ-");
    t.offer_id = oid;
    t.subscriber = "sub-stale";
    t.sealed_target = crypto::random_bytes(40);
    auto offer = g.view.offer(oid);
    t.escrow = offer ? offer->price : 1'000'000;
    t.reply_key = g.reply_key;
    return Step{"stale key " + label + " of " + by + ": " + names[what],
                [=](Backend& b) {
                  Market& m = b.with_key(by, label);
                  switch (what) {
                    case 0: m.mint(kHomeB, 1'000'000); break;
                    case 1: m.publish_offer(o); break;
                    case 2: m.request(t); break;
                    case 3: m.refund(rid); break;
                    case 4: m.revoke(by); break;
                    case 5: m.rotate_key(by, b.key(fresh_key)); break;
                    default: m.set_paused(true); break;
                  }
                },
                {rid, t.request_id}, {o.offer_id}};
  }});

  ops.push_back({"advance", 4, [](Gen& g) {
    std::int64_t s = g.pick(std::vector<std::int64_t>{300, 300, 1800, 1800, 3 * 3600, 3 * 3600, 25 * 3600, 31 * 86400});
    g.now += s;
    return Step{"advance time by " + std::to_string(s) + " s", {}, {}, {}};
  }});

  return ops;
}

// Every deadline a rule compares the time with, from the embedded state.
std::vector<std::int64_t> deadlines(Gen& g) {
  std::vector<std::int64_t> d;
  for (const auto& id : g.offers)
    if (auto o = g.view.offer(id)) d.push_back(o->valid_until);
  for (const auto& id : g.requests)
    if (auto r = g.view.find_request(id); r && r->state != RequestState::Closed) {
      d.push_back(r->answer_by);
      d.push_back(r->expires_at);
      if (r->accepted_at > 0) d.push_back(r->accepted_at + kDisputeSeconds);
    }
  return d;
}

// Moves T past any deadline closer than kMargin (a bounded walk: each move
// clears one deadline for good).
void keep_off_deadlines(Gen& g) {
  auto d = deadlines(g);
  for (std::size_t i = 0; i <= d.size(); ++i) {
    bool moved = false;
    for (auto t : d)
      if (g.now > t - kMargin && g.now < t + kMargin) {
        g.now = t + kMargin;
        moved = true;
      }
    if (!moved) return;
  }
}

std::string describe(const Balance& b) { return std::to_string(b.available) + "/" + std::to_string(b.escrowed); }

// Everything but positions, references and the recorded times (which differ
// by the second or two a chain transaction lands after T).
std::string describe(const std::optional<Request>& r, const std::optional<Accept>& a) {
  if (!r) return "none";
  std::string out = std::string(to_string(r->state)) + " charged " + std::to_string(r->charged) + " held " + std::to_string(r->held) + " refunded " +
                    std::to_string(r->refunded) + " escrow " + std::to_string(r->escrow) + " reports " +
                    std::to_string(r->usage_reports) + " used " + fmt(r->used) + " plmn '" + r->activation_plmn +
                    "' home " + r->home + " provider " + r->provider + " offer " + r->offer_id + " subscriber " +
                    r->subscriber + " target " + to_hex(crypto::sha256(r->sealed_target)).substr(0, 16) + " reply " +
                    to_hex(r->reply_key).substr(0, 16) + " period_end " + std::to_string(r->period_end) + " arbiter '" +
                    r->arbiter + "'";
  if (a)
    out += " accept by " + a->provider + " hash " + to_hex(a->package_hash).substr(0, 16) + " profile " +
           to_hex(crypto::sha256(a->sealed_profile)).substr(0, 16);
  return out;
}

std::string describe(const std::optional<Offer>& o) {
  if (!o) return "none";
  std::string coverage;
  for (const auto& c : o->coverage) coverage += c + ",";
  return "sold " + std::to_string(o->sold) + "/" + std::to_string(o->stock) + " price " + std::to_string(o->price) +
         " provider " + o->provider + " service " + o->service + " coverage " + coverage + " allowance " +
         fmt(o->allowance) + " tariff " + std::to_string(o->tariff.per_mb) + "," + std::to_string(o->tariff.per_minute) +
         "," + std::to_string(o->tariff.per_sms) + " term " + std::to_string(o->term_seconds) + " valid_until " +
         std::to_string(o->valid_until) + " seal_key " + to_hex(o->seal_key).substr(0, 16);
}

int env_int(const char* name, long long fallback) {
  const char* v = std::getenv(name);
  return v && *v ? static_cast<int>(std::strtoll(v, nullptr, 10)) : static_cast<int>(fallback);
}

TEST(ChainDifferential, RandomOperationsAgree) {
  if (auto why = AnvilNode::unavailable_reason()) GTEST_SKIP() << "chain tests need anvil: " << *why;
  const int n = env_int("RSP_DIFF_OPS", kDefaultOps);
  const char* seed_env = std::getenv("RSP_DIFF_SEED");
  const std::uint64_t seed = seed_env && *seed_env ? std::strtoull(seed_env, nullptr, 10) : kDefaultSeed;
  const bool trace = env_int("RSP_DIFF_TRACE", 0) != 0;  // print every step and its outcome
  std::printf("differential test: seed %llu, %d operations (RSP_DIFF_SEED, RSP_DIFF_OPS)\n",
              static_cast<unsigned long long>(seed), n);

  ChainBackend chain;
  const std::int64_t t0 = chain.latest() + 100;
  EmbeddedBackend embedded(t0);
  Backend* backends[] = {&embedded, &chain};
  Gen g(seed, t0, embedded.as(kIssuer));
  const auto ops = make_ops();
  int total_weight = 0;
  for (const auto& op : ops) total_weight += op.weight;
  std::map<std::string, std::map<std::string, int>> tally;  // op -> outcome -> count

  for (int step = 1; step <= n; ++step) {
    g.now += kStepSeconds;
    int w = static_cast<int>(g.uniform(1, total_weight));
    const OpKind* kind = &ops.front();
    g.step = step;
    g.steps = n;
    const bool to_pause = g.view.paused() && g.chance(16);  // -> the pause operation (resume, mostly)
    for (const auto& op : ops) {
      if (to_pause) {
        if (op.name != "pause") continue;
        kind = &op;
        break;
      }
      if (w <= op.weight) {
        kind = &op;
        break;
      }
      w -= op.weight;
    }
    // Anvil's clock moves with the wall clock after the block mined at T: a
    // slow step could have taken it past the next T.
    g.now = std::max(g.now, chain.latest() + 1);
    keep_off_deadlines(g);
    const std::int64_t before = g.now;
    Step s = kind->make(g);
    if (g.now != before) keep_off_deadlines(g);  // time advanced
    auto fail = [&](const std::string& what, const std::string& e, const std::string& c) {
      ADD_FAILURE() << "backends diverge: seed " << seed << ", step " << step << ": " << s.text << "\n  " << what
                    << "\n  embedded: " << e << "\n  chain:    " << c;
    };
    std::string out[2];
    for (int i = 0; i < 2; ++i) {
      backends[i]->set_time(g.now);
      out[i] = s.run ? outcome_of([&] { s.run(*backends[i]); }) : "ok";
    }
    ++tally[kind->name][out[0]];
    if (trace) std::printf("  step %d: %s -> %s\n", step, s.text.c_str(), out[0].c_str());
    g.learn(s);
    if (g.on_ok && out[0] == "ok" && out[1] == "ok") g.on_ok();
    g.on_ok = nullptr;
    if (out[0] != out[1] || out[0].rfind("error", 0) == 0) return fail("outcome", out[0], out[1]);
    for (const auto& p : kParties) {
      auto e = describe(embedded.as(kIssuer).balance(p.id)), c = describe(chain.as(kIssuer).balance(p.id));
      if (e != c) return fail("balance of " + p.id + " (available/escrowed)", e, c);
    }
    if (embedded.as(kIssuer).paused() != chain.as(kIssuer).paused())
      return fail("paused", embedded.as(kIssuer).paused() ? "paused" : "running", chain.as(kIssuer).paused() ? "paused" : "running");
    for (const auto& id : s.requests) {
      Market& em = embedded.as(kIssuer);
      Market& cm = chain.as(kIssuer);
      auto e = describe(em.find_request(id), em.find_accept(id)), c = describe(cm.find_request(id), cm.find_accept(id));
      if (e != c) return fail("request " + id, e, c);
    }
    for (const auto& id : s.offers) {
      auto e = describe(embedded.as(kIssuer).offer(id)), c = describe(chain.as(kIssuer).offer(id));
      if (e != c) return fail("offer " + id, e, c);
    }
  }
  // The event streams (what statements are built from) agree too, in order.
  auto events = [](Market& m) {
    std::vector<std::string> out;
    std::int64_t pos = 0;
    for (int page = 0; page < 100; ++page) {
      auto batch = m.events_after(pos, 1000);
      if (batch.empty()) break;
      for (const auto& e : batch)
        out.push_back(e.type + " " + e.author + " " + e.id + " " + e.counterparty + " " + std::to_string(e.amount));
      pos = batch.back().position;
    }
    return out;
  };
  auto ee = events(embedded.as(kIssuer)), ce = events(chain.as(kIssuer));
  for (std::size_t i = 0; i < std::max(ee.size(), ce.size()); ++i) {
    std::string e = i < ee.size() ? ee[i] : "(none)", c = i < ce.size() ? ce[i] : "(none)";
    if (e != c) {
      ADD_FAILURE() << "event streams diverge (seed " << seed << ") at event " << i << "\n  embedded: " << e
                    << "\n  chain:    " << c;
      return;
    }
  }
  std::ostringstream summary;
  for (const auto& [op, outcomes] : tally) {
    summary << "  " << op << ":";
    for (const auto& [o, count] : outcomes) summary << " " << o << " x" << count << ";";
    summary << "\n";
  }
  std::printf("differential test: %d operations agree (seed %llu), %zu events alike\n%s", n,
              static_cast<unsigned long long>(seed), ee.size(), summary.str().c_str());
}

}  // namespace
