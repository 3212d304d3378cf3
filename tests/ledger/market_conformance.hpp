// The marketplace rules (docs/ledger.md "Marketplace rules"), checked the same
// way on every backend: a backend's test supplies a MarketWorld with four
// registered participants and one unregistered key, then calls these.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "rsp/ledger/market.hpp"
#include "rsp/ledger/seal.hpp"

namespace rsp::ledger::conformance {

inline const std::string kIssuer = "issuer";      // admin: registers, mints SDRt
inline const std::string kVisited = "visited-a";  // visited-operator
inline const std::string kHome = "home-b";        // home-operator
inline const std::string kVisited2 = "visited-c"; // another visited-operator, registered naming no arbiter
inline const std::string kArbiter = "arbiter-x";  // arbiter: kVisited and kHome named it at registration

struct MarketWorld {
  virtual ~MarketWorld() = default;
  virtual Market& as(const std::string& participant) = 0;  // kIssuer, kVisited, kHome, kVisited2, kArbiter
  virtual Market& unregistered() = 0;                       // a key no admin registered
  virtual std::int64_t now() = 0;                           // the ledger's clock, Unix seconds
  virtual void advance(std::int64_t seconds) = 0;           // moves that clock forward
  // Key rotation: a fresh key of the kind this backend's participants use
  // (with its private part); the key `participant` writes with now (the
  // world's record of it); `now_uses` records a rotation the test made, so
  // handles made later (after a reopen) write with the new key; `with_key`
  // is one more handle writing as `participant` with `key` (an old one).
  virtual std::shared_ptr<crypto::EcKey> fresh_key() = 0;
  virtual std::shared_ptr<crypto::EcKey> key_of(const std::string& participant) = 0;
  virtual void now_uses(const std::string& participant, std::shared_ptr<crypto::EcKey> key) = 0;
  virtual std::unique_ptr<Market> with_key(const std::string& participant, std::shared_ptr<crypto::EcKey> key) = 0;
};

// The MarketError code `f` raises ("" when it raises none).
inline std::string code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const MarketError& e) {
    return e.code;
  }
  return "";
}

inline OfferTerms sample_offer_at(std::int64_t now_s, const std::string& id, const crypto::EcKey& seal_key) {
  OfferTerms o;
  o.offer_id = id;
  o.service = "data+voice";
  o.coverage = {"20801", "20810"};
  o.allowance = {10000, 100, 50};
  o.tariff = {1'000, 20'000, 5'000};  // 0.001 SDRt/MB, 0.02 SDRt/min, 0.005 SDRt/SMS
  o.price = 6'000'000;                // 6 SDRt escrow
  o.term_seconds = 30 * 24 * 3600;
  o.valid_until = now_s + 365 * 24 * 3600;
  o.stock = 2;
  o.seal_key = seal_key.public_point();
  return o;
}

inline OfferTerms sample_offer(MarketWorld& w, const std::string& id, const crypto::EcKey& seal_key) {
  return sample_offer_at(w.now(), id, seal_key);
}

// `ledger` and `home`: the seal context of the target (only the story opens it).
inline RequestTerms sample_request(const std::string& id, const Offer& o, const crypto::EcKey& reply_key,
                                   ByteView ledger = {}, const std::string& home = kHome) {
  RequestTerms r;
  r.request_id = id;
  r.offer_id = o.offer_id;
  r.subscriber = "sub-" + id;
  r.escrow = o.price;
  r.reply_key = reply_key.public_point();
  r.sealed_target = seal(o.seal_key, target_context(ledger, o, home, r), to_bytes(R"({"eid":"89049032123451234512345678901235"})"));
  return r;
}

// Offer -> Request (escrow) -> Accept (ciphertext) -> Activation -> Usage -> Refund,
// with balances exact to the unit after each step.
inline void story(MarketWorld& w) {
  auto seal_key = crypto::EcKey::generate(crypto::Curve::P256);
  auto reply_key = crypto::EcKey::generate(crypto::Curve::P256);
  Market& issuer = w.as(kIssuer);
  Market& visited = w.as(kVisited);
  Market& home = w.as(kHome);

  issuer.mint(kHome, 10'000'000);
  EXPECT_EQ(home.balance(kHome).available, 10'000'000);

  visited.publish_offer(sample_offer(w, "OFFER-1", seal_key));
  auto offers = home.offers();
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].provider, kVisited);
  EXPECT_EQ(offers[0].coverage, (std::vector<std::string>{"20801", "20810"}));
  EXPECT_EQ(offers[0].tariff.per_minute, 20'000);

  const Bytes ledger = home.ledger_id();
  EXPECT_EQ(visited.ledger_id(), ledger);  // every participant names the same ledger
  auto rq = sample_request("REQ-1", offers[0], reply_key, ledger);
  home.request(rq);
  EXPECT_EQ(home.balance(kHome).available, 4'000'000);
  EXPECT_EQ(home.balance(kHome).escrowed, 6'000'000);
  auto r = visited.find_request("REQ-1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->home, kHome);
  EXPECT_EQ(r->provider, kVisited);
  EXPECT_EQ(r->state, RequestState::Open);
  EXPECT_EQ(r->sealed_target, rq.sealed_target);
  EXPECT_EQ(r->expires_at - r->requested_at, 30 * 24 * 3600);
  // The provider opens the target in the Request the ledger holds.
  EXPECT_EQ(rsp::to_string(open_sealed(seal_key, target_context(ledger, *r, seal_key.public_point()), r->sealed_target)),
            R"({"eid":"89049032123451234512345678901235"})");

  Bytes profile = to_bytes(R"({"activation_code":"LPA:1$smdp.example$ABC"})");
  const Bytes hash = crypto::sha256(profile);
  Bytes sealed = seal(r->reply_key, accept_context(ledger, *r, seal_key.public_point(), hash), profile);
  visited.accept(AcceptTerms{"REQ-1", sealed, hash});
  auto a = home.find_accept("REQ-1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->sealed_profile, sealed);
  EXPECT_EQ(a->package_hash, hash);
  auto rr = *home.find_request("REQ-1");
  EXPECT_EQ(open_sealed(reply_key, accept_context(ledger, rr, home.offer("OFFER-1")->seal_key, a->package_hash),
                        a->sealed_profile),
            profile);
  // Under another package hash it does not open.
  EXPECT_THROW(open_sealed(reply_key, accept_context(ledger, rr, seal_key.public_point(), Bytes(32, 0)), a->sealed_profile),
               SealError);
  EXPECT_EQ(home.find_request("REQ-1")->state, RequestState::Accepted);

  visited.activate("REQ-1", "20801");
  EXPECT_EQ(home.find_request("REQ-1")->state, RequestState::Active);
  EXPECT_EQ(home.find_request("REQ-1")->activation_plmn, "20801");

  // The dispute window after the Accept passes: from then on usage is paid
  // at once (before it, it is held: see held_usage).
  w.advance(kDisputeSeconds);
  // 1,234 MB, 17 min, 3 SMS = 1,234,000 + 340,000 + 15,000 = 1,589,000 units
  const std::int64_t act = home.find_request("REQ-1")->activated_at;
  const std::int64_t end1 = std::max(act, w.now());
  visited.report_usage(UsageReport{"REQ-1", 1, {1234, 17, 3}, act, end1, "CDR-1"});
  EXPECT_EQ(visited.balance(kVisited).available, 1'589'000);
  EXPECT_EQ(home.balance(kHome).escrowed, 6'000'000 - 1'589'000);
  EXPECT_EQ(home.find_request("REQ-1")->period_end, end1);
  visited.report_usage(UsageReport{"REQ-1", 2, {1, 0, 0}, end1, std::max(end1, w.now()), "CDR-2"});
  EXPECT_EQ(visited.balance(kVisited).available, 1'590'000);
  EXPECT_EQ(home.find_request("REQ-1")->charged, 1'590'000);
  EXPECT_EQ(home.find_request("REQ-1")->usage_reports, 2);
  EXPECT_EQ(home.find_request("REQ-1")->used.data_mb, 1235);
  EXPECT_EQ(home.find_request("REQ-1")->used.voice_minutes, 17);

  visited.refund("REQ-1");  // the provider may close at any time
  EXPECT_EQ(home.balance(kHome).available, 4'000'000 + 4'410'000);
  EXPECT_EQ(home.balance(kHome).escrowed, 0);
  EXPECT_EQ(home.find_request("REQ-1")->state, RequestState::Closed);
  EXPECT_EQ(home.find_request("REQ-1")->refunded, 4'410'000);
  // Money is conserved: minted = home + visited.
  EXPECT_EQ(home.balance(kHome).available + visited.balance(kVisited).available, 10'000'000);

  // The events, in order, with their amounts.
  std::vector<std::string> types;
  std::vector<Amount> amounts;
  std::int64_t last = 0;
  for (const auto& e : home.events_after(0)) {
    EXPECT_GT(e.position, last);
    last = e.position;
    types.push_back(e.type);
    amounts.push_back(e.amount);
  }
  EXPECT_EQ(types, (std::vector<std::string>{"mint", "offer", "request", "accept", "activation", "usage", "usage", "refund"}));
  EXPECT_EQ(amounts, (std::vector<Amount>{10'000'000, 0, 6'000'000, 0, 0, 1'589'000, 1'000, 4'410'000}));
  // A cursor in the middle gives only what follows.
  auto all = home.events_after(0);
  auto tail = home.events_after(all[3].position);
  ASSERT_EQ(tail.size(), 4u);
  EXPECT_EQ(tail[0].type, "activation");

  // Statements: the home operator's view of the period.
  auto st = make_statement(home, kHome, 0, w.now() + 10);
  EXPECT_EQ(st.closing.available, 8'410'000);
  EXPECT_EQ(st.closing.escrowed, 0);
  auto sv = make_statement(visited, kVisited, 0, w.now() + 10);
  EXPECT_EQ(sv.closing.available, 1'590'000);
  EXPECT_EQ(sv.lines.size(), 7u);  // offer, request, accept, activation, 2 usage, refund (not the mint)
}

// Each rule refused with its code; a refused write changes nothing.
inline void refusals(MarketWorld& w) {
  auto seal_key = crypto::EcKey::generate(crypto::Curve::P256);
  auto reply_key = crypto::EcKey::generate(crypto::Curve::P256);
  Market& issuer = w.as(kIssuer);
  Market& visited = w.as(kVisited);
  Market& visited2 = w.as(kVisited2);
  Market& home = w.as(kHome);

  EXPECT_EQ(code_of([&] { home.mint(kHome, 1); }), "not-issuer");
  // A key no admin registered is refused as unregistered first, as for any
  // write (the differential test found the chain saying not-issuer).
  EXPECT_EQ(code_of([&] { w.unregistered().mint(kHome, 1); }), "not-registered");
  issuer.mint(kHome, 7'000'000);

  auto terms = sample_offer(w, "OFFER-R", seal_key);
  EXPECT_EQ(code_of([&] { home.publish_offer(terms); }), "wrong-role");
  EXPECT_EQ(code_of([&] { w.unregistered().publish_offer(terms); }), "not-registered");
  auto bad = terms;
  bad.stock = 0;
  EXPECT_EQ(code_of([&] { visited.publish_offer(bad); }), "bad-terms");
  bad = terms;
  bad.term_seconds = kMaxTermSeconds + 1;
  EXPECT_EQ(code_of([&] { visited.publish_offer(bad); }), "bad-terms");
  bad = terms;
  bad.offer_id = std::string(33, 'x');
  EXPECT_EQ(code_of([&] { visited.publish_offer(bad); }), "bad-id");
  visited.publish_offer(terms);
  EXPECT_EQ(code_of([&] { visited2.publish_offer(terms); }), "duplicate-offer");
  Offer o = *home.offer("OFFER-R");

  auto rq = sample_request("REQ-R", o, reply_key);
  EXPECT_EQ(code_of([&] { visited.request(rq); }), "wrong-role");
  auto r2 = rq;
  r2.escrow = o.price - 1;
  EXPECT_EQ(code_of([&] { home.request(r2); }), "escrow-mismatch");
  r2 = rq;
  r2.offer_id = "NO-SUCH-OFFER";
  EXPECT_EQ(code_of([&] { home.request(r2); }), "unknown-offer");
  home.request(rq);
  // The same Request again (a replay): refused, and no second escrow is taken.
  EXPECT_EQ(code_of([&] { home.request(rq); }), "duplicate-request");
  EXPECT_EQ(home.balance(kHome).available, 1'000'000);
  EXPECT_EQ(home.balance(kHome).escrowed, 6'000'000);
  r2 = sample_request("REQ-R2", o, reply_key);
  EXPECT_EQ(code_of([&] { home.request(r2); }), "insufficient-funds");

  Bytes sealed = seal(reply_key.public_point(), SealContext{}, to_bytes("{}"));  // opaque to the rules
  EXPECT_EQ(code_of([&] { visited2.accept({"REQ-R", sealed, Bytes(32, 1)}); }), "not-provider");
  EXPECT_EQ(code_of([&] { visited.accept({"REQ-R", sealed, Bytes(31, 1)}); }), "bad-hash");
  EXPECT_EQ(code_of([&] { visited.accept({"NO-SUCH", sealed, Bytes(32, 1)}); }), "unknown-request");
  EXPECT_EQ(code_of([&] { visited.activate("REQ-R", "20801"); }), "wrong-state");
  visited.accept({"REQ-R", sealed, Bytes(32, 1)});
  EXPECT_EQ(code_of([&] { visited.accept({"REQ-R", sealed, Bytes(32, 1)}); }), "wrong-state");
  EXPECT_EQ(code_of([&] { visited.report_usage({"REQ-R", 1, {1, 0, 0}, 0, 0}); }), "wrong-state");
  visited.activate("REQ-R", "20801");
  const std::int64_t act = home.find_request("REQ-R")->activated_at;
  auto usage = [&](std::int64_t no, Allowance used) { return UsageReport{"REQ-R", no, used, act, act}; };
  w.advance(kDisputeSeconds);  // past the dispute window: usage is paid at once

  // Usage only from the provider, in order, within the escrow.
  EXPECT_EQ(code_of([&] { home.report_usage(usage(1, {1, 0, 0})); }), "not-provider");
  EXPECT_EQ(code_of([&] { visited2.report_usage(usage(1, {1, 0, 0})); }), "not-provider");
  EXPECT_EQ(code_of([&] { visited.report_usage(usage(2, {1, 0, 0})); }), "report-out-of-order");
  EXPECT_EQ(code_of([&] { visited.report_usage(usage(1, {6001, 0, 0})); }), "beyond-escrow");
  EXPECT_EQ(code_of([&] { visited.report_usage(usage(1, {INT64_MAX, 0, 0})); }), "beyond-escrow");
  EXPECT_EQ(visited.balance(kVisited).available, 0);
  visited.report_usage(usage(1, {6000, 0, 0}));  // exactly the escrow
  EXPECT_EQ(code_of([&] { visited.report_usage(usage(2, {0, 0, 1})); }), "beyond-escrow");
  EXPECT_EQ(visited.balance(kVisited).available, 6'000'000);
  EXPECT_EQ(home.balance(kHome).escrowed, 0);

  // Closing: not the home operator before expiry, not a stranger, then after expiry.
  EXPECT_EQ(code_of([&] { home.refund("REQ-R"); }), "not-expired");
  EXPECT_EQ(code_of([&] { visited2.refund("REQ-R"); }), "forbidden");
  w.advance(30 * 24 * 3600 + 5);
  home.refund("REQ-R");
  EXPECT_EQ(code_of([&] { home.refund("REQ-R"); }), "wrong-state");
  EXPECT_EQ(code_of([&] { visited.accept({"REQ-R", sealed, Bytes(32, 1)}); }), "wrong-state");
  EXPECT_EQ(home.balance(kHome).available, 1'000'000);
  EXPECT_EQ(home.find_request("REQ-R")->refunded, 0);

  // A Request that was never accepted can be refunded by the home at expiry.
  issuer.mint(kHome, 5'000'000);
  Offer o2 = *home.offer("OFFER-R");
  EXPECT_EQ(o2.sold, 1);
  home.request(sample_request("REQ-S", o2, reply_key));
  EXPECT_EQ(code_of([&] { w.as(kHome).refund("REQ-S"); }), "not-expired");
  w.advance(30 * 24 * 3600 + 5);
  EXPECT_EQ(code_of([&] { visited.accept({"REQ-S", sealed, Bytes(32, 1)}); }), "request-expired");
  home.refund("REQ-S");
  EXPECT_EQ(home.balance(kHome).available, 6'000'000);
  // REQ-S ended without service: its unit of stock is back (REQ-R's is not).
  EXPECT_EQ(home.offer("OFFER-R")->sold, 1);
  home.request(sample_request("REQ-T", o2, reply_key));
  issuer.mint(kHome, 6'000'000);
  EXPECT_EQ(code_of([&] { home.request(sample_request("REQ-U", o2, reply_key)); }), "out-of-stock");
}

// What one party could do alone to take or lock value (issue 16), refused
// the same way on both backends.
inline void abuse(MarketWorld& w) {
  auto seal_key = crypto::EcKey::generate(crypto::Curve::P256);
  auto reply_key = crypto::EcKey::generate(crypto::Curve::P256);
  Market& issuer = w.as(kIssuer);
  Market& visited = w.as(kVisited);
  Market& home = w.as(kHome);
  Bytes sealed = seal(reply_key.public_point(), SealContext{}, to_bytes("{}"));  // opaque to the rules

  // The SDRt supply stays below 2^63 units: no balance can overflow.
  issuer.mint(kHome, 30'000'000);
  EXPECT_EQ(code_of([&] { issuer.mint(kVisited, INT64_MAX - 10'000'000); }), "bad-terms");
  EXPECT_EQ(home.balance(kVisited).available, 0);

  auto terms = sample_offer(w, "OFFER-A", seal_key);
  terms.stock = 3;
  visited.publish_offer(terms);
  Offer o = *home.offer("OFFER-A");

  // A Request the provider never answers: the home operator withdraws it
  // with its escrow after the answer deadline (not before), and the unit of
  // stock is back; a late Accept is refused.
  home.request(sample_request("REQ-A1", o, reply_key));
  auto r = *home.find_request("REQ-A1");
  EXPECT_EQ(r.answer_by - r.requested_at, kAnswerSeconds);
  EXPECT_EQ(code_of([&] { home.refund("REQ-A1"); }), "not-expired");
  w.advance(kAnswerSeconds + 5);
  EXPECT_EQ(code_of([&] { visited.accept({"REQ-A1", sealed, Bytes(32, 1)}); }), "answer-late");
  home.refund("REQ-A1");
  EXPECT_EQ(home.balance(kHome).available, 30'000'000);
  EXPECT_EQ(home.balance(kHome).escrowed, 0);
  EXPECT_EQ(home.offer("OFFER-A")->sold, 0);

  // Junk Requests refunded by the provider do not sell the Offer out.
  for (int i = 0; i < 4; ++i) {
    std::string id = "REQ-J" + std::to_string(i);
    home.request(sample_request(id, o, reply_key));
    visited.refund(id);
  }
  EXPECT_EQ(home.offer("OFFER-A")->sold, 0);

  // An accepted Request the home operator cannot withdraw early (it was answered).
  home.request(sample_request("REQ-A2", o, reply_key));
  visited.accept({"REQ-A2", sealed, Bytes(32, 1)});
  w.advance(kAnswerSeconds + 5);
  EXPECT_EQ(code_of([&] { home.refund("REQ-A2"); }), "not-expired");
  visited.activate("REQ-A2", "20801");
  const std::int64_t act = home.find_request("REQ-A2")->activated_at;

  // Usage: sane periods, within the Offer's allowance (10,000 MB, 100 min, 50 SMS).
  EXPECT_EQ(code_of([&] { visited.report_usage({"REQ-A2", 1, {1, 0, 0}, act + 10, act}); }), "bad-period");
  EXPECT_EQ(code_of([&] { visited.report_usage({"REQ-A2", 1, {1, 0, 0}, act - 7200, act - 3600}); }), "bad-period");
  EXPECT_EQ(code_of([&] { visited.report_usage({"REQ-A2", 1, {1, 0, 0}, act, w.now() + 3600}); }), "bad-period");
  EXPECT_EQ(code_of([&] { visited.report_usage({"REQ-A2", 1, {0, 101, 0}, act, act}); }), "beyond-allowance");
  visited.report_usage({"REQ-A2", 1, {0, 60, 0}, act, act});
  EXPECT_EQ(code_of([&] { visited.report_usage({"REQ-A2", 2, {0, 41, 0}, act, act}); }), "beyond-allowance");
  visited.report_usage({"REQ-A2", 2, {0, 40, 50}, act, act});
  EXPECT_EQ(home.find_request("REQ-A2")->used.voice_minutes, 100);

  // After the term: no activation, no usage (no front-running the home's
  // refund); the home operator gets the rest of its escrow.
  home.request(sample_request("REQ-A3", o, reply_key));
  visited.accept({"REQ-A3", sealed, Bytes(32, 1)});
  w.advance(30 * 24 * 3600 + 5);
  EXPECT_EQ(code_of([&] { visited.report_usage({"REQ-A2", 3, {1, 0, 0}, act, act}); }), "request-expired");
  EXPECT_EQ(code_of([&] { visited.activate("REQ-A3", "20801"); }), "request-expired");
  const Amount before = home.balance(kHome).available;
  home.refund("REQ-A2");
  EXPECT_EQ(home.balance(kHome).available, before + 6'000'000 - 2'000'000 - 250'000);
  home.refund("REQ-A3");
  EXPECT_EQ(home.offer("OFFER-A")->sold, 1);  // REQ-A2 was served; REQ-A3 was not
}

// Usage records (issue 16): sane periods that do not overlap, each record
// id applied once per Request; a record delivered again answers with the
// first receipt and charges nothing, the same id with other content is refused.
inline void usage_records(MarketWorld& w) {
  auto seal_key = crypto::EcKey::generate(crypto::Curve::P256);
  auto reply_key = crypto::EcKey::generate(crypto::Curve::P256);
  Market& issuer = w.as(kIssuer);
  Market& visited = w.as(kVisited);
  Market& home = w.as(kHome);
  issuer.mint(kHome, 20'000'000);
  visited.publish_offer(sample_offer(w, "OFFER-U", seal_key));
  Offer o = *home.offer("OFFER-U");
  home.request(sample_request("REQ-U1", o, reply_key));
  home.request(sample_request("REQ-U2", o, reply_key));
  Bytes sealed = seal(reply_key.public_point(), SealContext{}, to_bytes("{}"));
  visited.accept({"REQ-U1", sealed, Bytes(32, 1)});
  visited.accept({"REQ-U2", sealed, Bytes(32, 1)});
  visited.activate("REQ-U1", "20801");
  const std::int64_t act = home.find_request("REQ-U1")->activated_at;
  auto rec = [&](const std::string& id, std::int64_t no, Allowance used, std::int64_t from, std::int64_t to) {
    return UsageReport{"REQ-U1", no, used, from, to, id};
  };
  w.advance(kDisputeSeconds);  // past the dispute window: usage is paid at once

  // 100 MB = 0.1 SDRt.
  Receipt first = visited.report_usage(rec("CDR-1", 1, {100, 0, 0}, act, act + 10));
  EXPECT_FALSE(first.already_applied);
  EXPECT_EQ(visited.balance(kVisited).available, 100'000);
  // Delivered again, as it was or renumbered after a crash: applied once.
  for (std::int64_t no : {1, 2}) {
    Receipt again = visited.report_usage(rec("CDR-1", no, {100, 0, 0}, act, act + 10));
    EXPECT_TRUE(again.already_applied);
    EXPECT_EQ(again.position, first.position);
    EXPECT_EQ(again.reference, first.reference);
  }
  EXPECT_EQ(visited.balance(kVisited).available, 100'000);
  EXPECT_EQ(home.find_request("REQ-U1")->usage_reports, 1);
  // The same id with other content is refused.
  EXPECT_EQ(code_of([&] { visited.report_usage(rec("CDR-1", 2, {101, 0, 0}, act, act + 10)); }), "record-conflict");
  EXPECT_EQ(code_of([&] { visited.report_usage(rec("CDR-1", 2, {100, 0, 0}, act + 10, act + 20)); }), "record-conflict");
  EXPECT_EQ(code_of([&] { visited.report_usage(rec(std::string(33, 'c'), 2, {1, 0, 0}, act + 10, act + 20)); }), "bad-id");
  // A period that overlaps one already charged, under a new id, is refused:
  // the same traffic cannot be charged twice by renaming it.
  EXPECT_EQ(code_of([&] { visited.report_usage(rec("CDR-1b", 2, {100, 0, 0}, act, act + 10)); }), "period-overlap");
  EXPECT_EQ(code_of([&] { visited.report_usage(rec("CDR-2", 2, {1, 0, 0}, act + 9, act + 20)); }), "period-overlap");
  // Sane periods: not from before the subscription.
  EXPECT_EQ(code_of([&] { visited.report_usage(rec("CDR-2", 2, {1, 0, 0}, 0, act + 20)); }), "bad-period");
  EXPECT_EQ(code_of([&] { visited.report_usage(rec("CDR-2", 2, {1, 0, 0}, act + 20, act + 10)); }), "bad-period");
  // Only the provider, and the id check does not leak: a stranger learns nothing.
  EXPECT_EQ(code_of([&] { home.report_usage(rec("CDR-1", 1, {100, 0, 0}, act, act + 10)); }), "not-provider");
  // Consecutive periods ([start, end) touching) are fine.
  visited.report_usage(rec("CDR-2", 2, {200, 0, 0}, act + 10, act + 20));
  EXPECT_EQ(home.find_request("REQ-U1")->period_end, act + 20);
  // Record ids are per Request: another Request may use CDR-1.
  visited.activate("REQ-U2", "20801");
  const std::int64_t act2 = home.find_request("REQ-U2")->activated_at;
  visited.report_usage(UsageReport{"REQ-U2", 1, {5, 0, 0}, act2, act2, "CDR-1"});
  // Without a record id, the report number is the id: a resent report is applied once.
  visited.report_usage(UsageReport{"REQ-U2", 2, {7, 0, 0}, act2, act2});
  EXPECT_TRUE(visited.report_usage(UsageReport{"REQ-U2", 2, {7, 0, 0}, act2, act2}).already_applied);
  EXPECT_TRUE(visited.report_usage(UsageReport{"REQ-U2", 2, {7, 0, 0}, act2, act2, "report-2"}).already_applied);
  EXPECT_EQ(code_of([&] { visited.report_usage(UsageReport{"REQ-U2", 2, {8, 0, 0}, act2, act2}); }), "record-conflict");
  EXPECT_EQ(visited.balance(kVisited).available, 300'000 + 12'000);

  // After the Request is closed, a late re-delivery is still answered (the
  // agent does not retry it for ever), and still charges nothing.
  visited.refund("REQ-U1");
  EXPECT_TRUE(visited.report_usage(rec("CDR-2", 2, {200, 0, 0}, act + 10, act + 20)).already_applied);
  EXPECT_EQ(code_of([&] { visited.report_usage(rec("CDR-3", 3, {1, 0, 0}, act + 20, act + 30)); }), "wrong-state");
  EXPECT_EQ(visited.balance(kVisited).available, 312'000);
  EXPECT_EQ(home.balance(kHome).available, 20'000'000 - 12'000'000 + 6'000'000 - 300'000);
  int usage_events = 0;
  for (const auto& e : home.events_after(0)) usage_events += e.type == "usage";
  EXPECT_EQ(usage_events, 4);
}

// The code and the report index a usage batch is refused with ("" when it
// is not refused; a MarketError that is not a UsageBatchError gives index -1).
inline std::pair<std::string, long> batch_refusal(const std::function<void()>& f) {
  try {
    f();
  } catch (const UsageBatchError& e) {
    return {e.code, static_cast<long>(e.index)};
  } catch (const MarketError& e) {
    return {e.code, -1};
  }
  return {"", -1};
}

// Usage reports in batches (issue 12): a batch applies exactly what the same
// reports applied one by one apply (Requests, balances, events), across
// several Requests and with a report following one earlier in the batch;
// a refused report refuses the whole batch and is named by its index;
// replayed records in a batch are answered as report_usage answers them.
inline void usage_batches(MarketWorld& w) {
  auto seal_key = crypto::EcKey::generate(crypto::Curve::P256);
  auto reply_key = crypto::EcKey::generate(crypto::Curve::P256);
  Market& issuer = w.as(kIssuer);
  Market& visited = w.as(kVisited);
  Market& home = w.as(kHome);
  issuer.mint(kHome, 30'000'000);
  auto terms = sample_offer(w, "OFFER-B", seal_key);
  terms.stock = 4;
  visited.publish_offer(terms);
  Offer o = *home.offer("OFFER-B");
  Bytes sealed = seal(reply_key.public_point(), SealContext{}, to_bytes("{}"));
  // S1, S2 get their reports one by one (the reference), B1, B2 the same reports in batches.
  for (const auto* id : {"REQ-S1", "REQ-S2", "REQ-B1", "REQ-B2"}) {
    home.request(sample_request(id, o, reply_key));
    visited.accept({id, sealed, Bytes(32, 1)});
    visited.activate(id, "20801");
  }
  auto act = [&](const std::string& id) { return home.find_request(id)->activated_at; };
  // Report k (1-based) of a Request: its own period [act + 10(k-1), act + 10k).
  auto rep = [&](const std::string& rid, std::int64_t no, Allowance used) {
    const std::int64_t a = act(rid);
    return UsageReport{rid, no, used, a + 10 * (no - 1), a + 10 * no, "CDR-" + std::to_string(no)};
  };
  // Phase 1, within the dispute window (charges held), then phase 2 after it (paid, held ones too).
  auto phase1 = [&](const std::string& x1, const std::string& x2) {
    return std::vector<UsageReport>{rep(x1, 1, {100, 0, 0}), rep(x2, 1, {0, 5, 0}), rep(x1, 2, {10, 1, 1})};
  };
  auto phase2 = [&](const std::string& x1, const std::string& x2) {
    return std::vector<UsageReport>{rep(x2, 2, {1, 0, 2}), rep(x1, 3, {5, 0, 0})};
  };

  auto count_usage = [&] {
    int n = 0;
    for (const auto& e : home.events_after(0)) n += e.type == "usage";
    return n;
  };
  // One by one.
  Amount v0 = visited.balance(kVisited).available;
  for (const auto& u : phase1("REQ-S1", "REQ-S2")) visited.report_usage(u);
  Amount v1 = visited.balance(kVisited).available;
  // Batched: one Receipt per report, in order, each a new record.
  auto b1 = visited.report_usage_batch(phase1("REQ-B1", "REQ-B2"));
  ASSERT_EQ(b1.size(), 3u);
  for (std::size_t i = 0; i < b1.size(); ++i) {
    EXPECT_FALSE(b1[i].already_applied);
    if (i > 0) {
      EXPECT_GT(b1[i].position, b1[i - 1].position);
    }
    // On the chain the batch is one transaction.
    if (i > 0 && visited.backend() == "chain") {
      EXPECT_EQ(b1[i].reference, b1[0].reference);
    }
  }
  EXPECT_EQ(visited.balance(kVisited).available, v1);  // held, like S1 and S2's
  EXPECT_EQ(v1, v0);
  w.advance(kDisputeSeconds);
  for (const auto& u : phase2("REQ-S1", "REQ-S2")) visited.report_usage(u);
  Amount v2 = visited.balance(kVisited).available;
  auto b2 = visited.report_usage_batch(phase2("REQ-B1", "REQ-B2"));
  ASSERT_EQ(b2.size(), 2u);
  Amount v3 = visited.balance(kVisited).available;
  EXPECT_GT(v2, v1);
  EXPECT_EQ(v3 - v2, v2 - v1);  // the batch paid what the single reports paid
  EXPECT_EQ(v3 + home.balance(kHome).available + home.balance(kHome).escrowed, 30'000'000);

  // The same Requests.
  for (const auto& [s, b] : {std::pair<std::string, std::string>{"REQ-S1", "REQ-B1"}, {"REQ-S2", "REQ-B2"}}) {
    Request rs = *home.find_request(s), rb = *home.find_request(b);
    EXPECT_EQ(rb.usage_reports, rs.usage_reports) << b;
    EXPECT_EQ(rb.charged, rs.charged) << b;
    EXPECT_EQ(rb.held, rs.held) << b;
    EXPECT_EQ(rb.used.data_mb, rs.used.data_mb) << b;
    EXPECT_EQ(rb.used.voice_minutes, rs.used.voice_minutes) << b;
    EXPECT_EQ(rb.used.sms, rs.used.sms) << b;
    EXPECT_EQ(rb.period_end - rb.activated_at, rs.period_end - rs.activated_at) << b;
  }
  EXPECT_EQ(home.find_request("REQ-B1")->usage_reports, 3);
  EXPECT_GT(home.find_request("REQ-B1")->charged, 0);
  EXPECT_EQ(home.find_request("REQ-B1")->held, 0);
  // The same events: one usage event per report, with the same amounts, in the same order.
  std::vector<std::pair<std::string, Amount>> single, batched;
  for (const auto& e : home.events_after(0)) {
    if (e.type != "usage") continue;
    EXPECT_EQ(e.author, kVisited);
    EXPECT_EQ(e.counterparty, kHome);
    std::string key = e.id.substr(e.id.size() - 1);
    if (e.id.rfind("REQ-S", 0) == 0) single.emplace_back(key, e.amount);
    if (e.id.rfind("REQ-B", 0) == 0) batched.emplace_back(key, e.amount);
  }
  EXPECT_EQ(batched, single);
  EXPECT_EQ(batched.size(), 5u);
  // Each batched record is on the ledger under its receipt.
  auto events = home.events_after(0);
  for (const auto& r : b2) {
    auto it = std::find_if(events.begin(), events.end(), [&](const Event& e) { return e.position == r.position; });
    ASSERT_NE(it, events.end());
    EXPECT_EQ(it->type, "usage");
    EXPECT_EQ(it->reference, r.reference);
  }

  // All or nothing: one bad report refuses the batch, names its index, and
  // nothing of it is written (the good reports before it included).
  const int usage_before = count_usage();
  const Request before1 = *home.find_request("REQ-B1"), before2 = *home.find_request("REQ-B2");
  const Amount vb = visited.balance(kVisited).available;
  const auto bad_period = batch_refusal([&] {
    auto bad = rep("REQ-B1", 5, {1, 0, 0});
    bad.period_start = bad.period_end + 1;
    visited.report_usage_batch({rep("REQ-B1", 4, {1, 0, 0}), rep("REQ-B2", 3, {0, 1, 0}), bad});
  });
  EXPECT_EQ(bad_period, (std::pair<std::string, long>{"bad-period", 2}));
  EXPECT_EQ(batch_refusal([&] {
              visited.report_usage_batch({rep("REQ-B1", 4, {1, 0, 0}), rep("REQ-B2", 3, {0, 96, 0})});
            }),
            (std::pair<std::string, long>{"beyond-allowance", 1}));
  // A record id already applied with other content: record-conflict, as for one report.
  EXPECT_EQ(batch_refusal([&] {
              visited.report_usage_batch({rep("REQ-B1", 4, {1, 0, 0}), rep("REQ-B2", 3, {0, 1, 0}),
                                          UsageReport{"REQ-B2", 4, {1, 0, 0}, act("REQ-B2"), act("REQ-B2") + 10, "CDR-1"}});
            }),
            (std::pair<std::string, long>{"record-conflict", 2}));
  // Out of order within the batch (report 4 twice).
  EXPECT_EQ(batch_refusal([&] {
              visited.report_usage_batch({rep("REQ-B1", 4, {1, 0, 0}), UsageReport{"REQ-B1", 4, {1, 0, 0},
                                          act("REQ-B1") + 40, act("REQ-B1") + 50, "CDR-X"}});
            }),
            (std::pair<std::string, long>{"report-out-of-order", 1}));
  // Refusals of the author name the first report.
  EXPECT_EQ(batch_refusal([&] { home.report_usage_batch({rep("REQ-B1", 4, {1, 0, 0})}); }),
            (std::pair<std::string, long>{"not-provider", 0}));
  issuer.set_paused(true);
  EXPECT_EQ(batch_refusal([&] { visited.report_usage_batch({rep("REQ-B1", 4, {1, 0, 0})}); }),
            (std::pair<std::string, long>{"paused", 0}));
  issuer.set_paused(false);
  EXPECT_EQ(count_usage(), usage_before);
  EXPECT_EQ(visited.balance(kVisited).available, vb);
  EXPECT_EQ(home.find_request("REQ-B1")->usage_reports, before1.usage_reports);
  EXPECT_EQ(home.find_request("REQ-B1")->charged, before1.charged);
  EXPECT_EQ(home.find_request("REQ-B2")->usage_reports, before2.usage_reports);
  EXPECT_EQ(home.find_request("REQ-B2")->period_end, before2.period_end);

  // Replays: a batch sent again whole is answered with the first receipts
  // and charges nothing.
  auto again = visited.report_usage_batch(phase2("REQ-B1", "REQ-B2"));
  ASSERT_EQ(again.size(), b2.size());
  for (std::size_t i = 0; i < again.size(); ++i) {
    EXPECT_TRUE(again[i].already_applied);
    EXPECT_EQ(again[i].position, b2[i].position);
    EXPECT_EQ(again[i].reference, b2[i].reference);
  }
  // Partly applied (a renumbered replay first), then new reports, one of
  // them twice: the replays are answered, the new ones applied once.
  auto replayed = rep("REQ-B1", 3, {5, 0, 0});
  replayed.report_no = 4;  // renumbered after a crash: still the same record
  auto mixed = visited.report_usage_batch({replayed, rep("REQ-B1", 4, {2, 0, 0}), rep("REQ-B2", 3, {0, 0, 1}),
                                           rep("REQ-B1", 4, {2, 0, 0})});
  ASSERT_EQ(mixed.size(), 4u);
  EXPECT_TRUE(mixed[0].already_applied);
  EXPECT_EQ(mixed[0].position, b2[1].position);
  EXPECT_FALSE(mixed[1].already_applied);
  EXPECT_FALSE(mixed[2].already_applied);
  EXPECT_TRUE(mixed[3].already_applied);
  EXPECT_EQ(mixed[3].position, mixed[1].position);
  EXPECT_EQ(home.find_request("REQ-B1")->usage_reports, 4);
  EXPECT_EQ(home.find_request("REQ-B2")->usage_reports, 3);
  EXPECT_EQ(count_usage(), usage_before + 2);
  // 2 MB (0.002) + 1 SMS (0.005), paid at once.
  EXPECT_EQ(visited.balance(kVisited).available, vb + 2'000 + 5'000);
  EXPECT_TRUE(visited.report_usage_batch({}).empty());
}

// Disputes (issue 16): the home operator disputes an Accept within
// kDisputeSeconds; the escrow is frozen until the arbiter both named at
// registration resolves it, to the home or to the provider.
inline void disputes(MarketWorld& w) {
  auto seal_key = crypto::EcKey::generate(crypto::Curve::P256);
  auto reply_key = crypto::EcKey::generate(crypto::Curve::P256);
  Market& issuer = w.as(kIssuer);
  Market& visited = w.as(kVisited);
  Market& visited2 = w.as(kVisited2);
  Market& home = w.as(kHome);
  Market& arbiter = w.as(kArbiter);
  Bytes junk = seal(reply_key.public_point(), SealContext{}, to_bytes("random bytes, no profile"));
  issuer.mint(kHome, 30'000'000);
  auto terms = sample_offer(w, "OFFER-D", seal_key);
  terms.stock = 4;
  visited.publish_offer(terms);
  auto terms2 = sample_offer(w, "OFFER-D2", seal_key);
  visited2.publish_offer(terms2);
  Offer o = *home.offer("OFFER-D"), o2 = *home.offer("OFFER-D2");

  // REQ-D1: a junk Accept, disputed at once, refunded by the arbiter.
  home.request(sample_request("REQ-D1", o, reply_key));
  EXPECT_EQ(code_of([&] { home.dispute("REQ-D1", "package does not open"); }), "wrong-state");  // nothing to dispute yet
  visited.accept({"REQ-D1", junk, Bytes(32, 1)});
  EXPECT_EQ(code_of([&] { visited2.dispute("REQ-D1", "x"); }), "forbidden");
  EXPECT_EQ(code_of([&] { visited.dispute("REQ-D1", "x"); }), "forbidden");
  EXPECT_EQ(code_of([&] { arbiter.dispute("REQ-D1", "x"); }), "forbidden");
  EXPECT_EQ(code_of([&] { w.unregistered().dispute("REQ-D1", "x"); }), "not-registered");
  EXPECT_EQ(code_of([&] { home.dispute("NO-SUCH", "x"); }), "unknown-request");
  EXPECT_EQ(code_of([&] { home.dispute("REQ-D1", ""); }), "bad-terms");
  EXPECT_EQ(code_of([&] { arbiter.resolve("REQ-D1", Resolution::RefundHome); }), "wrong-state");  // not disputed
  home.dispute("REQ-D1", "package does not open");
  auto r = *home.find_request("REQ-D1");
  EXPECT_EQ(r.state, RequestState::Disputed);
  EXPECT_EQ(r.arbiter, kArbiter);
  EXPECT_EQ(code_of([&] { home.dispute("REQ-D1", "again"); }), "wrong-state");
  // Frozen: no activation, no usage, no refund by either side (even after the term).
  EXPECT_EQ(code_of([&] { visited.activate("REQ-D1", "20801"); }), "disputed");
  EXPECT_EQ(code_of([&] { visited.refund("REQ-D1"); }), "disputed");
  EXPECT_EQ(code_of([&] { home.refund("REQ-D1"); }), "disputed");
  EXPECT_EQ(code_of([&] { visited2.refund("REQ-D1"); }), "forbidden");
  // Only the arbiter resolves.
  EXPECT_EQ(code_of([&] { visited.resolve("REQ-D1", Resolution::ReleaseToProvider); }), "not-arbiter");
  EXPECT_EQ(code_of([&] { home.resolve("REQ-D1", Resolution::RefundHome); }), "not-arbiter");
  EXPECT_EQ(code_of([&] { issuer.resolve("REQ-D1", Resolution::RefundHome); }), "not-arbiter");
  EXPECT_EQ(home.balance(kHome).escrowed, 6'000'000);
  arbiter.resolve("REQ-D1", Resolution::RefundHome);
  EXPECT_EQ(home.find_request("REQ-D1")->state, RequestState::Closed);
  EXPECT_EQ(home.find_request("REQ-D1")->refunded, 6'000'000);
  EXPECT_EQ(home.balance(kHome).available, 30'000'000);
  EXPECT_EQ(home.balance(kHome).escrowed, 0);
  EXPECT_EQ(home.offer("OFFER-D")->sold, 0);  // never served: the unit is back
  EXPECT_EQ(code_of([&] { arbiter.resolve("REQ-D1", Resolution::RefundHome); }), "wrong-state");

  // REQ-D2: activated and charged 1 SDRt, disputed; the arbiter releases the rest to the provider.
  home.request(sample_request("REQ-D2", o, reply_key));
  visited.accept({"REQ-D2", junk, Bytes(32, 2)});
  visited.activate("REQ-D2", "20801");
  const std::int64_t act = home.find_request("REQ-D2")->activated_at;
  visited.report_usage({"REQ-D2", 1, {1000, 0, 0}, act, act, "CDR-D2-1"});
  home.dispute("REQ-D2", "hash does not match");
  EXPECT_EQ(code_of([&] { visited.report_usage({"REQ-D2", 2, {1, 0, 0}, act, act, "CDR-D2-2"}); }), "disputed");
  // A record already applied is still answered as such.
  EXPECT_TRUE(visited.report_usage({"REQ-D2", 1, {1000, 0, 0}, act, act, "CDR-D2-1"}).already_applied);
  arbiter.resolve("REQ-D2", Resolution::ReleaseToProvider);
  EXPECT_EQ(visited.balance(kVisited).available, 6'000'000);
  EXPECT_EQ(home.balance(kHome).available, 24'000'000);
  EXPECT_EQ(home.balance(kHome).escrowed, 0);
  EXPECT_EQ(home.find_request("REQ-D2")->charged, 6'000'000);
  EXPECT_EQ(home.find_request("REQ-D2")->refunded, 0);
  EXPECT_EQ(home.offer("OFFER-D")->sold, 1);

  // REQ-D3: the window closes kDisputeSeconds after the Accept.
  home.request(sample_request("REQ-D3", o, reply_key));
  visited.accept({"REQ-D3", junk, Bytes(32, 3)});
  w.advance(kDisputeSeconds + 5);
  EXPECT_EQ(code_of([&] { home.dispute("REQ-D3", "too late"); }), "dispute-late");

  // REQ-D4: visited-c named no arbiter: nobody could resolve, so no dispute.
  home.request(sample_request("REQ-D4", o2, reply_key));
  visited2.accept({"REQ-D4", junk, Bytes(32, 4)});
  EXPECT_EQ(code_of([&] { home.dispute("REQ-D4", "package does not open"); }), "no-arbiter");

  // The events and statements account for the resolutions.
  std::vector<std::string> types;
  for (const auto& e : home.events_after(0))
    if (e.type == "dispute" || e.type == "resolve") types.push_back(e.type + ":" + e.counterparty);
  EXPECT_EQ(types, (std::vector<std::string>{"dispute:" + kVisited, "resolve:" + kHome, "dispute:" + kVisited,
                                             "resolve:" + kVisited}));
  auto st = make_statement(home, kHome, 0, w.now() + 10);
  EXPECT_EQ(st.closing.available, home.balance(kHome).available);
  EXPECT_EQ(st.closing.escrowed, home.balance(kHome).escrowed);
  auto sv = make_statement(visited, kVisited, 0, w.now() + 10);
  EXPECT_EQ(sv.closing.available, 6'000'000);
}

// The drain (issue 16): a provider with a junk Accept activates and reports
// one usage record for the whole escrow within seconds. Its charges are held
// in the home's escrow until the dispute window after the Accept has passed,
// so the home's dispute still freezes them and the arbiter gives them back.
// Undisputed, the held charges are paid by the first usage report or the
// refund after the window.
inline void held_usage(MarketWorld& w) {
  auto seal_key = crypto::EcKey::generate(crypto::Curve::P256);
  auto reply_key = crypto::EcKey::generate(crypto::Curve::P256);
  Market& issuer = w.as(kIssuer);
  Market& visited = w.as(kVisited);
  Market& home = w.as(kHome);
  Market& arbiter = w.as(kArbiter);
  Bytes junk = seal(reply_key.public_point(), SealContext{}, to_bytes("random bytes, no profile"));
  issuer.mint(kHome, 30'000'000);
  auto terms = sample_offer(w, "OFFER-H", seal_key);
  terms.stock = 3;
  terms.term_seconds = 2 * 3600;  // shorter than the window: the home's refund must wait for it
  visited.publish_offer(terms);
  Offer o = *home.offer("OFFER-H");

  // REQ-H1: the attack.
  home.request(sample_request("REQ-H1", o, reply_key));
  visited.accept({"REQ-H1", junk, Bytes(32, 1)});
  visited.activate("REQ-H1", "20801");
  std::int64_t act = home.find_request("REQ-H1")->activated_at;
  visited.report_usage({"REQ-H1", 1, {6000, 0, 0}, act, act, "CDR-H1-1"});  // the whole escrow
  EXPECT_EQ(visited.balance(kVisited).available, 0);  // held, not paid
  EXPECT_EQ(home.balance(kHome).escrowed, 6'000'000);
  EXPECT_EQ(home.find_request("REQ-H1")->charged, 6'000'000);
  EXPECT_EQ(home.find_request("REQ-H1")->held, 6'000'000);
  EXPECT_EQ(code_of([&] { visited.refund("REQ-H1"); }), "held");  // nobody closes before the window ends
  home.dispute("REQ-H1", "package does not open");
  arbiter.resolve("REQ-H1", Resolution::RefundHome);
  EXPECT_EQ(home.balance(kHome).available, 30'000'000);
  EXPECT_EQ(home.balance(kHome).escrowed, 0);
  EXPECT_EQ(visited.balance(kVisited).available, 0);
  EXPECT_EQ(home.find_request("REQ-H1")->refunded, 6'000'000);
  EXPECT_EQ(home.find_request("REQ-H1")->charged, 0);
  EXPECT_EQ(home.find_request("REQ-H1")->held, 0);

  // REQ-H2: honest usage, undisputed: held, then paid by the next report after the window.
  home.request(sample_request("REQ-H2", o, reply_key));
  visited.accept({"REQ-H2", junk, Bytes(32, 2)});
  visited.activate("REQ-H2", "20801");
  act = home.find_request("REQ-H2")->activated_at;
  visited.report_usage({"REQ-H2", 1, {1000, 0, 0}, act, act, "CDR-H2-1"});
  // REQ-H3: the same, and the Request runs out before the window.
  home.request(sample_request("REQ-H3", o, reply_key));
  visited.accept({"REQ-H3", junk, Bytes(32, 3)});
  visited.activate("REQ-H3", "20801");
  const std::int64_t act3 = home.find_request("REQ-H3")->activated_at;
  visited.report_usage({"REQ-H3", 1, {2000, 0, 0}, act3, act3, "CDR-H3-1"});
  EXPECT_EQ(visited.balance(kVisited).available, 0);
  EXPECT_EQ(home.balance(kHome).escrowed, 12'000'000);
  w.advance(3 * 3600);  // both terms over, the window not
  EXPECT_EQ(code_of([&] { home.refund("REQ-H3"); }), "held");
  w.advance(kDisputeSeconds);
  EXPECT_EQ(code_of([&] { home.dispute("REQ-H2", "late"); }), "dispute-late");
  home.refund("REQ-H3");  // 2 SDRt to the provider, 4 back to the home
  EXPECT_EQ(visited.balance(kVisited).available, 2'000'000);
  EXPECT_EQ(home.find_request("REQ-H3")->refunded, 4'000'000);
  EXPECT_EQ(home.find_request("REQ-H3")->held, 0);
  home.refund("REQ-H2");
  EXPECT_EQ(visited.balance(kVisited).available, 3'000'000);
  EXPECT_EQ(home.balance(kHome).available, 27'000'000);
  EXPECT_EQ(home.balance(kHome).escrowed, 0);

  // Statements follow the money: usage paid nothing while held, the releases paid it.
  std::vector<std::string> moves;
  for (const auto& e : home.events_after(0))
    if (e.type == "usage" || e.type == "release") moves.push_back(e.type + ":" + std::to_string(e.amount));
  EXPECT_EQ(moves, (std::vector<std::string>{"usage:0", "usage:0", "usage:0", "release:2000000", "release:1000000"}));
  auto st = make_statement(home, kHome, 0, w.now() + 10);
  EXPECT_EQ(st.closing.available, home.balance(kHome).available);
  EXPECT_EQ(st.closing.escrowed, home.balance(kHome).escrowed);
  auto sv = make_statement(visited, kVisited, 0, w.now() + 10);
  EXPECT_EQ(sv.closing.available, visited.balance(kVisited).available);
}

// Identity and pause (issue 16): a revoked key (by itself or the admin)
// writes nothing more; the admin's pause refuses the writes that create
// value or service, and leaves refund, dispute and resolve open.
inline void identity(MarketWorld& w) {
  auto seal_key = crypto::EcKey::generate(crypto::Curve::P256);
  auto reply_key = crypto::EcKey::generate(crypto::Curve::P256);
  Market& issuer = w.as(kIssuer);
  Market& visited = w.as(kVisited);
  Market& visited2 = w.as(kVisited2);
  Market& home = w.as(kHome);
  Market& arbiter = w.as(kArbiter);
  Bytes sealed = seal(reply_key.public_point(), SealContext{}, to_bytes("{}"));
  issuer.mint(kHome, 30'000'000);
  auto terms = sample_offer(w, "OFFER-P", seal_key);
  terms.stock = 5;
  visited.publish_offer(terms);
  Offer o = *home.offer("OFFER-P");
  home.request(sample_request("REQ-P1", o, reply_key));
  visited.accept({"REQ-P1", sealed, Bytes(32, 1)});
  visited.activate("REQ-P1", "20801");
  const std::int64_t act = home.find_request("REQ-P1")->activated_at;
  home.request(sample_request("REQ-P2", o, reply_key));
  home.request(sample_request("REQ-P3", o, reply_key));
  visited.accept({"REQ-P3", sealed, Bytes(32, 3)});

  // Pause: the admin only.
  EXPECT_FALSE(home.paused());
  EXPECT_EQ(code_of([&] { home.set_paused(true); }), "forbidden");
  EXPECT_EQ(code_of([&] { visited.set_paused(true); }), "forbidden");
  EXPECT_EQ(code_of([&] { w.unregistered().set_paused(true); }), "not-registered");
  issuer.set_paused(true);
  EXPECT_TRUE(home.paused());
  EXPECT_EQ(code_of([&] { issuer.mint(kHome, 1); }), "paused");
  EXPECT_EQ(code_of([&] { home.mint(kHome, 1); }), "not-issuer");
  EXPECT_EQ(code_of([&] { visited.publish_offer(sample_offer(w, "OFFER-P2", seal_key)); }), "paused");
  EXPECT_EQ(code_of([&] { home.request(sample_request("REQ-P4", o, reply_key)); }), "paused");
  EXPECT_EQ(code_of([&] { visited.accept({"REQ-P2", sealed, Bytes(32, 2)}); }), "paused");
  EXPECT_EQ(code_of([&] { visited.activate("REQ-P3", "20801"); }), "paused");
  EXPECT_EQ(code_of([&] { visited.report_usage({"REQ-P1", 1, {1, 0, 0}, act, act, "CDR-P"}); }), "paused");
  // ... but nobody's value is locked: refund, dispute and resolve go on.
  visited.refund("REQ-P2");
  home.dispute("REQ-P3", "package does not open");
  arbiter.resolve("REQ-P3", Resolution::RefundHome);
  EXPECT_EQ(home.balance(kHome).escrowed, 6'000'000);
  issuer.set_paused(false);
  EXPECT_FALSE(home.paused());
  w.advance(kDisputeSeconds);  // past the dispute window: usage is paid at once
  visited.report_usage({"REQ-P1", 1, {1000, 0, 0}, act, act, "CDR-P"});
  EXPECT_EQ(visited.balance(kVisited).available, 1'000'000);

  // Revocation: the participant itself or the admin; never the admin's key.
  EXPECT_EQ(code_of([&] { visited2.revoke(kVisited); }), "forbidden");
  EXPECT_EQ(code_of([&] { home.revoke(kIssuer); }), "forbidden");
  EXPECT_EQ(code_of([&] { issuer.revoke(kIssuer); }), "bad-terms");
  EXPECT_EQ(code_of([&] { issuer.revoke("nobody"); }), "not-registered");
  EXPECT_EQ(code_of([&] { w.unregistered().revoke(kVisited2); }), "not-registered");
  visited2.publish_offer(sample_offer(w, "OFFER-C", seal_key));
  visited2.revoke(kVisited2);  // a participant that knows its key leaked
  EXPECT_EQ(code_of([&] { visited2.publish_offer(sample_offer(w, "OFFER-C2", seal_key)); }), "not-registered");
  EXPECT_EQ(code_of([&] { visited2.revoke(kVisited2); }), "not-registered");
  // A revoked key is named before the issuer rule, like any other write of it
  // (the chain client once said not-issuer: differential test, seed 4).
  EXPECT_EQ(code_of([&] { visited2.mint(kVisited, 1); }), "not-registered");
  EXPECT_EQ(home.offer("OFFER-C")->provider, kVisited2);  // its records still name it
  // The admin revokes the home operator's key: it writes nothing more, and
  // receives no new money.
  issuer.revoke(kHome);
  EXPECT_EQ(code_of([&] { home.request(sample_request("REQ-P5", o, reply_key)); }), "not-registered");
  EXPECT_EQ(code_of([&] { home.refund("REQ-P1"); }), "not-registered");
  EXPECT_EQ(code_of([&] { issuer.mint(kHome, 1); }), "not-registered");
  // Its counterparties still close what it left open: the escrow goes back to its balance.
  visited.refund("REQ-P1");
  EXPECT_EQ(home.balance(kHome).escrowed, 0);
  EXPECT_EQ(home.balance(kHome).available, 29'000'000);
}

// Rotates `participant` to a fresh key through its own handle; returns the old key.
inline std::shared_ptr<crypto::EcKey> rotate(MarketWorld& w, const std::string& participant) {
  auto old = w.key_of(participant);
  auto next = w.fresh_key();
  w.as(participant).rotate_key(participant, next);
  w.now_uses(participant, next);
  return old;
}

// Key rotation (issue 16, docs/ledger.md "Key rotation"): a participant
// moves to a new key and keeps its id, balances, Requests (made before,
// accepted, refunded, settled and disputed after), escrow and arbiter; the
// old key writes nothing (not-registered); no key is ever named again; only
// the participant rotates its own key (forbidden), a revoked one cannot
// (not-registered); the admin rotates and the issuer role follows; a pause
// does not block it.
inline void key_rotation(MarketWorld& w) {
  auto seal_key = crypto::EcKey::generate(crypto::Curve::P256);
  auto reply_key = crypto::EcKey::generate(crypto::Curve::P256);
  Market& issuer = w.as(kIssuer);
  Market& visited = w.as(kVisited);
  Market& visited2 = w.as(kVisited2);
  Market& home = w.as(kHome);
  Market& arbiter = w.as(kArbiter);
  Bytes sealed = seal(reply_key.public_point(), SealContext{}, to_bytes("{}"));
  issuer.mint(kHome, 30'000'000);
  auto terms = sample_offer(w, "OFFER-K", seal_key);
  terms.stock = 5;
  visited.publish_offer(terms);
  Offer o = *home.offer("OFFER-K");
  home.request(sample_request("REQ-K1", o, reply_key));  // settled by usage after the rotations
  home.request(sample_request("REQ-K2", o, reply_key));  // refunded after
  home.request(sample_request("REQ-K3", o, reply_key));  // accepted, disputed and resolved after
  visited.accept({"REQ-K1", sealed, Bytes(32, 1)});
  visited.activate("REQ-K1", "20801");
  const std::int64_t act = home.find_request("REQ-K1")->activated_at;
  EXPECT_EQ(home.balance(kHome).available, 12'000'000);
  EXPECT_EQ(home.balance(kHome).escrowed, 18'000'000);

  // Only the participant rotates its own key, to a key nobody ever had.
  EXPECT_EQ(code_of([&] { home.rotate_key(kVisited, w.fresh_key()); }), "forbidden");
  EXPECT_EQ(code_of([&] { issuer.rotate_key(kHome, w.fresh_key()); }), "forbidden");  // not even the admin
  EXPECT_EQ(code_of([&] { home.rotate_key("nobody", w.fresh_key()); }), "forbidden");
  EXPECT_EQ(code_of([&] { home.rotate_key(kHome, w.key_of(kVisited)); }), "bad-participant");  // another's key
  EXPECT_EQ(code_of([&] { home.rotate_key(kHome, w.key_of(kHome)); }), "bad-participant");     // its own
  EXPECT_EQ(code_of([&] { w.unregistered().rotate_key(w.unregistered().me(), w.fresh_key()); }), "not-registered");

  // The home operator rotates, while the market is paused: a pause (the
  // admin's answer to a leaked key) must not keep the owner from moving away.
  issuer.set_paused(true);
  auto home_old = rotate(w, kHome);
  issuer.set_paused(false);
  auto home_stale = w.with_key(kHome, home_old);
  EXPECT_EQ(code_of([&] { home_stale->request(sample_request("REQ-K9", o, reply_key)); }), "not-registered");
  EXPECT_EQ(code_of([&] { home_stale->dispute("REQ-K1", "package does not open"); }), "not-registered");
  EXPECT_EQ(code_of([&] { home_stale->rotate_key(kHome, w.fresh_key()); }), "not-registered");
  EXPECT_EQ(code_of([&] { home_stale->revoke(kHome); }), "not-registered");
  // Same id, same balance and escrow, same Requests.
  EXPECT_EQ(home.me(), kHome);
  EXPECT_EQ(home.balance(kHome).available, 12'000'000);
  EXPECT_EQ(home.balance(kHome).escrowed, 18'000'000);
  EXPECT_EQ(home.find_request("REQ-K2")->home, kHome);
  // A rotated-out key is never named again, by anyone.
  EXPECT_EQ(code_of([&] { home.rotate_key(kHome, home_old); }), "bad-participant");
  EXPECT_EQ(code_of([&] { visited2.rotate_key(kVisited2, home_old); }), "bad-participant");

  // The provider rotates too; its Requests made before go on with the new key.
  auto visited_old = rotate(w, kVisited);
  auto visited_stale = w.with_key(kVisited, visited_old);
  EXPECT_EQ(code_of([&] { visited_stale->accept({"REQ-K3", sealed, Bytes(32, 3)}); }), "not-registered");
  EXPECT_EQ(code_of([&] { visited_stale->refund("REQ-K2"); }), "not-registered");
  visited.accept({"REQ-K3", sealed, Bytes(32, 3)});
  EXPECT_EQ(home.find_accept("REQ-K3")->provider, kVisited);
  visited.refund("REQ-K2");  // the escrow goes back to the home's new key
  EXPECT_EQ(home.balance(kHome).available, 18'000'000);
  EXPECT_EQ(home.balance(kHome).escrowed, 12'000'000);
  home.request(sample_request("REQ-K4", o, reply_key));  // the new key spends the balance it inherited
  EXPECT_EQ(home.find_request("REQ-K4")->home, kHome);
  EXPECT_EQ(home.balance(kHome).available, 12'000'000);
  // The arbiter both named at registration is still theirs, after its own rotation too.
  rotate(w, kArbiter);
  home.dispute("REQ-K3", "package does not open");
  EXPECT_EQ(home.find_request("REQ-K3")->arbiter, kArbiter);
  arbiter.resolve("REQ-K3", Resolution::RefundHome);
  EXPECT_EQ(home.balance(kHome).available, 18'000'000);
  // The Request made before both rotations is settled after them.
  w.advance(kDisputeSeconds);
  visited.report_usage({"REQ-K1", 1, {1000, 0, 0}, act, act, "CDR-K"});
  EXPECT_EQ(visited.balance(kVisited).available, 1'000'000);
  EXPECT_EQ(home.balance(kHome).escrowed, 11'000'000);

  // A revoked participant cannot rotate, and its key is never named again.
  auto visited2_key = w.key_of(kVisited2);
  visited2.revoke(kVisited2);
  EXPECT_EQ(code_of([&] { visited2.rotate_key(kVisited2, w.fresh_key()); }), "not-registered");
  EXPECT_EQ(code_of([&] { home.rotate_key(kHome, visited2_key); }), "bad-participant");

  // The admin rotates its own key: the issuer role and the admin's powers
  // move with it; the old admin key mints and pauses nothing.
  auto admin_old = rotate(w, kIssuer);
  auto admin_stale = w.with_key(kIssuer, admin_old);
  EXPECT_EQ(code_of([&] { admin_stale->mint(kHome, 1); }), "not-registered");
  EXPECT_EQ(code_of([&] { admin_stale->set_paused(true); }), "not-registered");
  EXPECT_EQ(code_of([&] { admin_stale->revoke(kHome); }), "not-registered");
  issuer.mint(kHome, 1'000'000);
  EXPECT_EQ(home.balance(kHome).available, 19'000'000);
  issuer.set_paused(true);
  EXPECT_TRUE(home.paused());
  issuer.set_paused(false);
  EXPECT_EQ(code_of([&] { home.mint(kHome, 1); }), "not-issuer");
  // The mints before and after the admin's rotation are the same issuer's.
  std::size_t mints = 0;
  for (const auto& e : home.events_after(0))
    if (e.type == "mint") {
      ++mints;
      EXPECT_EQ(e.author, kIssuer);
      EXPECT_EQ(e.counterparty, kHome);
    }
  EXPECT_EQ(mints, 2u);
}

}  // namespace rsp::ledger::conformance

namespace rsp::ledger::conformance {

// Whether events_after has an event of `type` by `author` for `id`.
inline bool has_event(Market& m, const std::string& type, const std::string& author, const std::string& id) {
  for (const auto& e : m.events_after(0, 100000))
    if (e.type == type && e.author == author && e.id == id && e.amount == 0) return true;
  return false;
}

// A service provider's Offer (kind service, issue 14): no coverage, its
// Accept carries a sealed SP code, its activation is the redemption (a
// UN/LOCODE or nothing, never a PLMN), usage counts units of service in
// data_mb at per_mb and settles SDRt exactly as a mobile Offer's, to the unit.
inline void service_offers(MarketWorld& w) {
  auto seal_key = crypto::EcKey::generate(crypto::Curve::P256);
  auto reply_key = crypto::EcKey::generate(crypto::Curve::P256);
  Market& issuer = w.as(kIssuer);
  Market& sp = w.as(kVisited);
  Market& home = w.as(kHome);
  issuer.mint(kHome, 18'000'000);

  OfferTerms t = sample_offer(w, "SP-1", seal_key);
  t.kind = OfferKind::Service;
  t.service = "museum-pass";
  t.coverage = {};                 // optional
  t.allowance = {3, 0, 0};         // 3 units (entries)
  t.tariff = {1'500'000, 0, 0};    // 1.5 SDRt a unit
  t.price = 6'000'000;
  t.term_seconds = 7 * 24 * 3600;
  auto bad = t;
  bad.kind = static_cast<OfferKind>(2);
  EXPECT_EQ(code_of([&] { sp.publish_offer(bad); }), "bad-terms");
  sp.publish_offer(t);
  sp.publish_offer(sample_offer(w, "MOBILE-1", seal_key));
  Offer o = *home.offer("SP-1");
  EXPECT_EQ(o.kind, OfferKind::Service);
  EXPECT_TRUE(o.coverage.empty());
  EXPECT_EQ(home.offer("MOBILE-1")->kind, OfferKind::Mobile);
  auto listed = home.offers();
  ASSERT_EQ(listed.size(), 2u);

  const Bytes ledger = home.ledger_id();
  home.request(sample_request("REQ-SP1", o, reply_key, ledger));
  home.request(sample_request("REQ-SP2", o, reply_key, ledger));
  home.request(sample_request("REQ-MB1", *home.offer("MOBILE-1"), reply_key, ledger));

  // The SP code, sealed to the home operator's reply key like a profile.
  const Bytes code = to_bytes(R"({"sp_code":"K7Q2-XW9P","entitles":"1 museum pass, 3 entries"})");
  const Bytes hash = crypto::sha256(code);
  for (const char* id : {"REQ-SP1", "REQ-SP2", "REQ-MB1"}) {
    auto r = *sp.find_request(id);
    sp.accept({id, seal(r.reply_key, accept_context(ledger, r, seal_key.public_point(), hash), code), hash});
  }
  auto a = *home.find_accept("REQ-SP1");
  auto r1 = *home.find_request("REQ-SP1");
  EXPECT_EQ(open_sealed(reply_key, accept_context(ledger, r1, o.seal_key, a.package_hash), a.sealed_profile), code);

  // Redemption: a UN/LOCODE or nothing; a PLMN is a mobile Offer's.
  EXPECT_EQ(code_of([&] { sp.activate("REQ-SP1", "20801"); }), "bad-terms");
  EXPECT_EQ(code_of([&] { sp.activate("REQ-SP1", "frpar"); }), "bad-terms");
  EXPECT_EQ(code_of([&] { sp.activate("REQ-SP1", "FR1AR"); }), "bad-terms");
  EXPECT_EQ(code_of([&] { sp.activate("REQ-MB1", "FRPAR"); }), "bad-terms");
  EXPECT_EQ(code_of([&] { sp.activate("REQ-MB1", ""); }), "bad-terms");
  sp.activate("REQ-SP1", "FRPAR");
  sp.activate("REQ-SP2", "");
  sp.activate("REQ-MB1", "20801");
  EXPECT_EQ(home.find_request("REQ-SP1")->activation_plmn, "FRPAR");
  EXPECT_EQ(home.find_request("REQ-SP2")->state, RequestState::Active);
  EXPECT_EQ(home.find_request("REQ-SP2")->activation_plmn, "");

  w.advance(kDisputeSeconds);  // usage is paid at once after the window
  const std::int64_t act = home.find_request("REQ-SP1")->activated_at;
  sp.report_usage({"REQ-SP1", 1, {2, 0, 0}, act, act + 60, "visit-1"});
  EXPECT_EQ(sp.balance(kVisited).available, 3'000'000);
  EXPECT_EQ(home.balance(kHome).escrowed, 15'000'000);
  EXPECT_EQ(code_of([&] { sp.report_usage({"REQ-SP1", 2, {2, 0, 0}, act + 60, act + 120, "visit-2"}); }),
            "beyond-allowance");
  w.advance(7 * 24 * 3600);
  home.refund("REQ-SP1");   // after the term: 6 - 3 back
  sp.refund("REQ-SP2");     // the provider closes: 6 back
  EXPECT_EQ(home.balance(kHome).available, 9'000'000);
  EXPECT_EQ(home.balance(kHome).escrowed, 6'000'000);  // REQ-MB1
  EXPECT_EQ(sp.balance(kVisited).available, 3'000'000);
  EXPECT_EQ(home.offer("SP-1")->sold, 2);  // both were redeemed: no unit back
}

// Withdraw and edit of an Offer by its provider (issue 14): refusals by
// code, Requests made before keep their terms, events in events_after.
inline void offer_withdraw_edit(MarketWorld& w) {
  auto seal_key = crypto::EcKey::generate(crypto::Curve::P256);
  auto reply_key = crypto::EcKey::generate(crypto::Curve::P256);
  Market& issuer = w.as(kIssuer);
  Market& visited = w.as(kVisited);
  Market& visited2 = w.as(kVisited2);
  Market& home = w.as(kHome);
  issuer.mint(kHome, 20'000'000);
  visited.publish_offer(sample_offer(w, "OFFER-W", seal_key));
  visited.publish_offer(sample_offer(w, "OFFER-E", seal_key));
  home.request(sample_request("REQ-W1", *home.offer("OFFER-W"), reply_key));

  // Withdraw: only the provider, only a known Offer, once.
  EXPECT_EQ(code_of([&] { home.withdraw_offer("OFFER-W"); }), "not-provider");
  EXPECT_EQ(code_of([&] { visited2.withdraw_offer("OFFER-W"); }), "not-provider");
  EXPECT_EQ(code_of([&] { visited.withdraw_offer("NO-SUCH"); }), "unknown-offer");
  EXPECT_EQ(code_of([&] { w.unregistered().withdraw_offer("OFFER-W"); }), "not-registered");
  EXPECT_FALSE(home.offer("OFFER-W")->withdrawn);
  visited.withdraw_offer("OFFER-W");
  EXPECT_TRUE(home.offer("OFFER-W")->withdrawn);
  EXPECT_EQ(code_of([&] { home.request(sample_request("REQ-W2", *home.offer("OFFER-W"), reply_key)); }),
            "offer-withdrawn");
  EXPECT_EQ(home.balance(kHome).available, 14'000'000);  // nothing escrowed by the refused Request
  EXPECT_EQ(code_of([&] { visited.withdraw_offer("OFFER-W"); }), "offer-withdrawn");
  EXPECT_EQ(code_of([&] { visited.edit_offer({"OFFER-W", 1, 5, w.now() + 3600}); }), "offer-withdrawn");
  // The Request made before goes on: accept and activation.
  Bytes sealed = seal(reply_key.public_point(), SealContext{}, to_bytes("{}"));
  visited.accept({"REQ-W1", sealed, Bytes(32, 1)});
  visited.activate("REQ-W1", "20801");
  EXPECT_EQ(home.find_request("REQ-W1")->state, RequestState::Active);
  EXPECT_TRUE(has_event(home, "offer-withdrawn", kVisited, "OFFER-W"));

  // Edit: price, stock, valid_until for future Requests only.
  home.request(sample_request("REQ-E1", *home.offer("OFFER-E"), reply_key));
  home.request(sample_request("REQ-E2", *home.offer("OFFER-E"), reply_key));  // sold 2 of 2
  const auto e1 = *home.find_request("REQ-E1");
  const std::int64_t later = w.now() + 3600;
  EXPECT_EQ(code_of([&] { home.edit_offer({"OFFER-E", 8'000'000, 3, later}); }), "not-provider");
  EXPECT_EQ(code_of([&] { visited2.edit_offer({"OFFER-E", 8'000'000, 3, later}); }), "not-provider");
  EXPECT_EQ(code_of([&] { visited.edit_offer({"NO-SUCH", 8'000'000, 3, later}); }), "unknown-offer");
  EXPECT_EQ(code_of([&] { visited.edit_offer({"OFFER-E", 0, 3, later}); }), "bad-terms");
  EXPECT_EQ(code_of([&] { visited.edit_offer({"OFFER-E", -1, 3, later}); }), "bad-terms");
  EXPECT_EQ(code_of([&] { visited.edit_offer({"OFFER-E", 8'000'000, 1, later}); }), "bad-terms");  // below sold
  EXPECT_EQ(code_of([&] { visited.edit_offer({"OFFER-E", 8'000'000, 3, w.now() - 10}); }), "bad-terms");
  EXPECT_EQ(code_of([&] { home.request(sample_request("REQ-E3", *home.offer("OFFER-E"), reply_key)); }), "out-of-stock");
  issuer.set_paused(true);
  EXPECT_EQ(code_of([&] { visited.edit_offer({"OFFER-E", 8'000'000, 3, later}); }), "paused");
  issuer.set_paused(false);
  visited.edit_offer({"OFFER-E", 8'000'000, 3, later});
  auto oe = *home.offer("OFFER-E");
  EXPECT_EQ(oe.price, 8'000'000);
  EXPECT_EQ(oe.stock, 3);
  EXPECT_EQ(oe.valid_until, later);
  EXPECT_EQ(oe.sold, 2);
  EXPECT_EQ(oe.tariff.per_mb, 1'000);  // not editable
  EXPECT_TRUE(has_event(home, "offer-edited", kVisited, "OFFER-E"));
  // The Requests made before keep what they escrowed and their deadlines.
  const auto e1_after = *home.find_request("REQ-E1");
  EXPECT_EQ(e1_after.escrow, 6'000'000);
  EXPECT_EQ(e1_after.expires_at, e1.expires_at);
  EXPECT_EQ(e1_after.answer_by, e1.answer_by);
  EXPECT_EQ(home.balance(kHome).escrowed, 18'000'000);
  // Future Requests escrow the new price.
  auto r3 = sample_request("REQ-E3", oe, reply_key);
  r3.escrow = 6'000'000;
  EXPECT_EQ(code_of([&] { home.request(r3); }), "escrow-mismatch");
  EXPECT_EQ(code_of([&] { home.request(sample_request("REQ-E3", oe, reply_key)); }), "insufficient-funds");
  issuer.mint(kHome, 6'000'000);
  home.request(sample_request("REQ-E3", oe, reply_key));
  EXPECT_EQ(home.balance(kHome).available, 0);
  EXPECT_EQ(home.balance(kHome).escrowed, 26'000'000);
  EXPECT_EQ(home.find_request("REQ-E3")->escrow, 8'000'000);
  // A pause does not stop a withdrawal (it creates nothing).
  issuer.set_paused(true);
  visited.withdraw_offer("OFFER-E");
  issuer.set_paused(false);
  // Closed before service: the unit goes back to a withdrawn Offer too, and it still takes no Request.
  visited.refund("REQ-E2");
  EXPECT_EQ(home.offer("OFFER-E")->sold, 2);
  EXPECT_EQ(code_of([&] { home.request(sample_request("REQ-E4", *home.offer("OFFER-E"), reply_key)); }),
            "offer-withdrawn");
  // The refused writes wrote no event: exactly one of each.
  int withdrawn = 0, edited = 0;
  for (const auto& e : home.events_after(0, 100000)) {
    withdrawn += e.type == "offer-withdrawn";
    edited += e.type == "offer-edited";
  }
  EXPECT_EQ(withdrawn, 2);
  EXPECT_EQ(edited, 1);
}

}  // namespace rsp::ledger::conformance
