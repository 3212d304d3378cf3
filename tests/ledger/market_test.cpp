// The marketplace on the embedded ledger: the backend-neutral conformance
// story and refusals, plus what only the embedded backend can show (a forged
// or replayed signed entry, tampering with a stored record found on open,
// the rules holding for raw appends and after a reopen).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "market_conformance.hpp"
#include "raw_sql.hpp"
#include "rsp/ledger/embedded_market.hpp"

using namespace rsp;
using namespace rsp::ledger;
using namespace rsp::ledger::conformance;
using crypto::Curve;
using crypto::EcKey;

namespace {

struct EmbeddedWorld : MarketWorld {
  std::filesystem::path dir;
  std::string db;
  std::atomic<std::int64_t> offset_ms{0};
  std::shared_ptr<EmbeddedLedger> ledger;
  std::map<std::string, std::shared_ptr<EcKey>> keys;
  std::map<std::string, std::unique_ptr<EmbeddedMarket>> markets;
  std::unique_ptr<EmbeddedMarket> stranger;

  explicit EmbeddedWorld(const std::string& name) {
    dir = std::filesystem::temp_directory_path() / ("market_test_" + std::to_string(::getpid()) + "_" + name);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    db = (dir / "ledger.db").string();
    for (const auto& id : {kIssuer, kVisited, kHome, kVisited2, kArbiter})
      keys[id] = std::make_shared<EcKey>(EcKey::generate(Curve::P256));
    open();
    ledger->init(kIssuer, *keys[kIssuer]);
    ledger->register_participant(kIssuer, *keys[kIssuer], kArbiter, "arbiter", *keys[kArbiter]);
    ledger->register_participant(kIssuer, *keys[kIssuer], kVisited, "visited-operator", *keys[kVisited], kArbiter);
    ledger->register_participant(kIssuer, *keys[kIssuer], kHome, "home-operator", *keys[kHome], kArbiter);
    ledger->register_participant(kIssuer, *keys[kIssuer], kVisited2, "visited-operator", *keys[kVisited2]);
  }
  ~EmbeddedWorld() override {
    markets.clear();
    stranger.reset();
    ledger.reset();
    std::filesystem::remove_all(dir);
  }
  void open() {
    markets.clear();
    stranger.reset();
    ledger.reset();
    EmbeddedLedger::Options opt;
    opt.clock_ms = [this] { return now_ms() + offset_ms.load(); };
    ledger = std::make_shared<EmbeddedLedger>(db, opt);
  }
  Market& as(const std::string& p) override {
    auto& m = markets[p];
    if (!m) m = std::make_unique<EmbeddedMarket>(ledger, p, keys.at(p));
    return *m;
  }
  Market& unregistered() override {
    if (!stranger)
      stranger = std::make_unique<EmbeddedMarket>(ledger, "outsider", std::make_shared<EcKey>(EcKey::generate(Curve::P256)));
    return *stranger;
  }
  std::int64_t now() override { return (now_ms() + offset_ms.load()) / 1000; }
  void advance(std::int64_t s) override { offset_ms += s * 1000; }
  std::shared_ptr<EcKey> fresh_key() override { return std::make_shared<EcKey>(EcKey::generate(Curve::P256)); }
  std::shared_ptr<EcKey> key_of(const std::string& p) override { return keys.at(p); }
  void now_uses(const std::string& p, std::shared_ptr<EcKey> k) override { keys[p] = std::move(k); }
  std::unique_ptr<Market> with_key(const std::string& p, std::shared_ptr<EcKey> k) override {
    return std::make_unique<EmbeddedMarket>(ledger, p, std::move(k));
  }

  void sql(const std::string& s) { test_support::raw_sql(db, s); }
  std::int64_t count() {
    std::int64_t n = 0;
    ledger->read_market([&](const MarketState& s) { n = s.last_seq(); });
    return n;
  }
};

TEST(EmbeddedMarket, Story) {
  EmbeddedWorld w("story");
  story(w);
  // The state rebuilt from the file on open (full verification) is the same.
  w.open();
  EXPECT_EQ(w.as(kHome).balance(kHome).available, 8'410'000);
  EXPECT_EQ(w.as(kHome).find_request("REQ-1")->charged, 1'590'000);
  EXPECT_EQ(w.as(kHome).events_after(0).size(), 8u);
}

TEST(EmbeddedMarket, ServiceOffers) {
  EmbeddedWorld w("service");
  service_offers(w);
  // Rebuilt from the file on open: the kind and the redemption place.
  w.open();
  EXPECT_EQ(w.as(kHome).offer("SP-1")->kind, OfferKind::Service);
  EXPECT_EQ(w.as(kHome).offer("MOBILE-1")->kind, OfferKind::Mobile);
  EXPECT_EQ(w.as(kHome).find_request("REQ-SP1")->activation_plmn, "FRPAR");
  EXPECT_EQ(w.as(kHome).balance(kHome).available, 9'000'000);
}

TEST(EmbeddedMarket, OfferWithdrawEdit) {
  EmbeddedWorld w("withdraw-edit");
  offer_withdraw_edit(w);
  w.open();
  EXPECT_TRUE(w.as(kHome).offer("OFFER-W")->withdrawn);
  EXPECT_EQ(w.as(kHome).offer("OFFER-E")->price, 8'000'000);
  EXPECT_EQ(w.as(kHome).balance(kHome).escrowed, 20'000'000);
}

TEST(EmbeddedMarket, Refusals) {
  EmbeddedWorld w("refusals");
  refusals(w);
}

TEST(EmbeddedMarket, Abuse) {
  EmbeddedWorld w("abuse");
  abuse(w);
}

TEST(EmbeddedMarket, Disputes) {
  EmbeddedWorld w("disputes");
  disputes(w);
  w.open();  // the same state after a full re-verification from the file
  EXPECT_EQ(w.as(kHome).find_request("REQ-D2")->state, RequestState::Closed);
  EXPECT_EQ(w.as(kVisited).balance(kVisited).available, 6'000'000);
}

TEST(EmbeddedMarket, HeldUsage) {
  EmbeddedWorld w("held");
  held_usage(w);
  w.open();  // the same state after a full re-verification from the file
  EXPECT_EQ(w.as(kVisited).balance(kVisited).available, 3'000'000);
}

TEST(EmbeddedMarket, Identity) {
  EmbeddedWorld w("identity");
  identity(w);
  w.open();  // revocations and the pause hold after a full re-verification
  EXPECT_EQ(code_of([&] { w.as(kHome).refund("REQ-P1"); }), "not-registered");
  EXPECT_FALSE(w.as(kIssuer).paused());
}

TEST(EmbeddedMarket, KeyRotation) {
  EmbeddedWorld w("rotation");
  key_rotation(w);
  // Every entry verifies with the key its author had at its seq: a full
  // walk and a reopen (full verification from the file) pass, with the same
  // state, and the participants view shows the new keys.
  const auto before = w.ledger->head();
  EXPECT_EQ(w.ledger->verify(VerifyMode::Full).head_seq, before.seq);
  w.open();
  EXPECT_EQ(w.as(kHome).balance(kHome).available, 19'000'000);
  EXPECT_EQ(w.as(kHome).balance(kHome).escrowed, 11'000'000);
  EXPECT_EQ(w.ledger->participant(kHome)->public_point, w.keys.at(kHome)->public_point());
  EXPECT_EQ(w.ledger->participant(kIssuer)->public_point, w.keys.at(kIssuer)->public_point());
  // After the reopen the new keys write, the rotated-out ones do not.
  w.as(kIssuer).mint(kVisited, 1);
  w.as(kHome).request(sample_request("REQ-K5", *w.as(kHome).offer("OFFER-K"), *w.fresh_key()));
}

// An entry signed with a key its author rotated out, inserted with raw SQL
// (an attacker holding the leaked old key and write access to the file),
// is refused by a running process and on open: a signature is checked
// against the key the author had at the entry's seq, never an older one.
TEST(EmbeddedMarket, RowSignedByARotatedOutKeyIsRefused) {
  EmbeddedWorld w("rotated-row");
  w.as(kIssuer).mint(kHome, 5'000'000);
  auto old = rotate(w, kHome);
  const std::int64_t head_before = w.count();
  // The leaked old key tries to take the id back by rotating it to the attacker's key.
  EcKey mallory = EcKey::generate(Curve::P256);
  Head h = w.ledger->head();
  Entry forged{h.seq + 1, h.hash, "rotate", kHome, "leak", now_ms() + w.offset_ms.load(), rotate_payload(kHome, mallory), {}, {}};
  seal(forged, *old);
  w.sql("INSERT INTO entries (seq, prev_hash, type, author, nonce, timestamp, payload, signature, hash) VALUES (" +
        std::to_string(forged.seq) + ", X'" + to_hex(forged.prev_hash) + "', 'rotate', '" + kHome + "', 'leak', " +
        std::to_string(forged.timestamp_ms) + ", X'" + to_hex(forged.payload) + "', X'" + to_hex(forged.signature) +
        "', X'" + to_hex(forged.hash) + "')");
  auto chain_error_of = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const ChainError& e) {
      return e;
    }
    return ChainError(-1, "no error");
  };
  // The running process refuses it and writes nothing on top.
  auto e = chain_error_of([&] { w.as(kHome).balance(kHome); });
  EXPECT_EQ(e.seq, forged.seq) << e.what();
  EXPECT_NE(std::string(e.what()).find("rotated out"), std::string::npos) << e.what();
  EXPECT_EQ(chain_error_of([&] { w.as(kIssuer).mint(kHome, 1); }).seq, forged.seq);
  EXPECT_EQ(w.ledger->head().seq, forged.seq);
  EXPECT_EQ(head_before, forged.seq - 1);
  // A fresh open names it too.
  EXPECT_EQ(chain_error_of([&] { w.open(); }).seq, forged.seq);
  // Removed, the ledger goes on with the new key only.
  w.sql("DELETE FROM entries WHERE seq = " + std::to_string(forged.seq));
  w.open();
  EXPECT_EQ(w.as(kHome).balance(kHome).available, 5'000'000);
  EXPECT_EQ(code_of([&] { w.with_key(kHome, old)->rotate_key(kHome, std::make_shared<EcKey>(std::move(mallory))); }),
            "not-registered");
  EXPECT_EQ(w.ledger->participant(kHome)->public_point, w.keys.at(kHome)->public_point());
  // Nor can the admin register a newcomer with it, or with a key in use.
  auto reason_of = [&](const EcKey& k) {
    try {
      w.ledger->register_participant(kIssuer, *w.keys.at(kIssuer), "late-comer", "home-operator", k);
    } catch (const AppendError& x) {
      return std::string(reason_name(x.reason));
    }
    return std::string("accepted");
  };
  EXPECT_EQ(reason_of(*old), "bad-participant");
  EXPECT_EQ(reason_of(*w.keys.at(kVisited)), "bad-participant");
  EXPECT_EQ(reason_of(EcKey::generate(Curve::P256)), "accepted");
}

TEST(EmbeddedMarket, UsageRecords) {
  EmbeddedWorld w("usage-records");
  usage_records(w);
  // The same state after a full re-verification from the file.
  w.open();
  EXPECT_EQ(w.as(kVisited).balance(kVisited).available, 312'000);
  EXPECT_EQ(w.as(kHome).find_request("REQ-U1")->period_end, w.as(kHome).find_request("REQ-U1")->activated_at + 20);
}

TEST(EmbeddedMarket, UsageBatches) {
  EmbeddedWorld w("usage-batches");
  usage_batches(w);
  // The same state after a full re-verification from the file.
  w.open();
  EXPECT_EQ(w.as(kHome).find_request("REQ-B1")->usage_reports, 4);
  EXPECT_EQ(w.as(kHome).find_request("REQ-B1")->charged, w.as(kHome).find_request("REQ-S1")->charged + 2'000);
}

// An entry claiming to be the visited operator's, signed with another key,
// is refused before any rule runs, and nothing is written.
TEST(EmbeddedMarket, ForgedSignerRefused) {
  EmbeddedWorld w("forged");
  auto seal_key = EcKey::generate(Curve::P256);
  auto before = w.ledger->head();
  auto forged = std::make_shared<EcKey>(EcKey::generate(Curve::P256));
  EmbeddedMarket impostor(w.ledger, kVisited, forged);
  try {
    impostor.publish_offer(sample_offer(w, "OFFER-F", seal_key));
    FAIL() << "forged entry accepted";
  } catch (const AppendError& e) {
    EXPECT_EQ(e.reason, AppendError::Reason::BadSignature);
  }
  // The home operator's key signing as the visited operator: same.
  EmbeddedMarket other(w.ledger, kVisited, w.keys[kHome]);
  EXPECT_THROW(other.publish_offer(sample_offer(w, "OFFER-F", seal_key)), AppendError);
  EXPECT_EQ(w.ledger->head().seq, before.seq);
  EXPECT_FALSE(w.as(kHome).offer("OFFER-F"));
}

// A signed Accept whose payload (within the 1 MiB limit of an Accept) is an
// array nested 100,000 deep: refused as bad-terms, like any malformed
// payload, with nothing written and no stack overflow (issue 9).
TEST(EmbeddedMarket, DeeplyNestedPayloadRefused) {
  EmbeddedWorld w("deep");
  auto before = w.ledger->head();
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  try {
    w.ledger->append_signed(kVisited, *w.keys[kVisited], "accept", to_bytes(deep));
    FAIL() << "deep payload accepted";
  } catch (const AppendError& e) {
    EXPECT_EQ(e.reason, AppendError::Reason::MarketRule) << e.what();
    EXPECT_EQ(e.code, "bad-terms");
    // Refused by the bounded parse, before any tree is built (an unbounded
    // parse builds the 100,000-deep tree and refuses it only as "not a JSON object").
    EXPECT_NE(std::string(e.what()).find("not JSON"), std::string::npos) << e.what();
  }
  EXPECT_EQ(w.ledger->head().seq, before.seq);
}

// The exact signed Request entry appended a second time: the ledger refuses
// the replay (same author and nonce) and no second escrow is taken.
TEST(EmbeddedMarket, ReplayedSignedRequestRefused) {
  EmbeddedWorld w("replay");
  auto seal_key = EcKey::generate(Curve::P256);
  auto reply_key = EcKey::generate(Curve::P256);
  w.as(kIssuer).mint(kHome, 20'000'000);
  w.as(kVisited).publish_offer(sample_offer(w, "OFFER-1", seal_key));
  auto rq = sample_request("REQ-1", *w.as(kHome).offer("OFFER-1"), reply_key);
  auto rec = w.as(kHome).request(rq);
  Entry sent = *w.ledger->get(rec.position);
  // Re-chained onto the new head (a replay that would pass linkage): the
  // signature no longer covers it.
  Entry replay = sent;
  auto h = w.ledger->head();
  replay.seq = h.seq + 1;
  replay.prev_hash = h.hash;
  replay.hash.clear();
  try {
    w.ledger->append(replay);
    FAIL() << "replayed request accepted";
  } catch (const AppendError& e) {
    EXPECT_EQ(e.reason, AppendError::Reason::BadSignature);
  }
  // Re-signed by the home operator itself with the same nonce: a replay.
  try {
    seal(replay, *w.keys[kHome]);
    w.ledger->append(replay);
    FAIL() << "replayed request accepted";
  } catch (const AppendError& e) {
    EXPECT_EQ(e.reason, AppendError::Reason::Replay);
  }
  // With a fresh nonce: the market rule refuses the duplicate request id.
  replay.nonce = "fresh";
  seal(replay, *w.keys[kHome]);
  try {
    w.ledger->append(replay);
    FAIL() << "duplicate request accepted";
  } catch (const AppendError& e) {
    EXPECT_EQ(e.reason, AppendError::Reason::MarketRule);
    EXPECT_EQ(e.code, "duplicate-request");
  }
  EXPECT_EQ(w.as(kHome).balance(kHome).available, 14'000'000);
  EXPECT_EQ(w.as(kHome).balance(kHome).escrowed, 6'000'000);
}

// Expiry rules use entry times, so an author cannot move an entry's time: a
// pre-signed refund dated after the term, or an Accept dated back, is refused.
TEST(EmbeddedMarket, EntryTimesCannotBeMovedToDodgeExpiry) {
  EmbeddedWorld w("time");
  auto seal_key = EcKey::generate(Curve::P256);
  w.as(kIssuer).mint(kHome, 6'000'000);
  w.as(kVisited).publish_offer(sample_offer(w, "OFFER-1", seal_key));
  w.as(kHome).request(sample_request("REQ-1", *w.as(kHome).offer("OFFER-1"), seal_key));
  auto sealed_entry = [&](const std::string& author, const std::string& type, Bytes payload, std::int64_t ts) {
    auto h = w.ledger->head();
    Entry e{h.seq + 1, h.hash, type, author, random_nonce(), ts, std::move(payload), {}, {}};
    seal(e, *w.keys[author]);
    return e;
  };
  std::int64_t now = w.now() * 1000;
  auto reason = [&](const Entry& e) {
    try {
      w.ledger->append(e);
    } catch (const AppendError& x) {
      return x.reason;
    }
    return AppendError::Reason::StaleHead;  // accepted: not what any test expects
  };
  EXPECT_EQ(reason(sealed_entry(kHome, "refund", refund_payload("REQ-1"), now + 31LL * 24 * 3600 * 1000)),
            AppendError::Reason::BadTime);
  EXPECT_EQ(reason(sealed_entry(kVisited, "accept", accept_payload({"REQ-1", Bytes(10, 1), Bytes(32, 2)}), now - 3600 * 1000)),
            AppendError::Reason::BadTime);
  EXPECT_EQ(w.as(kHome).find_request("REQ-1")->state, RequestState::Open);
  EXPECT_EQ(w.as(kHome).balance(kHome).escrowed, 6'000'000);
}

// A refused registration batch leaves no key behind in the ledger's cache.
TEST(EmbeddedMarket, RefusedRegistrationBatchLeavesNoKey) {
  EmbeddedWorld w("regbatch");
  auto a = EcKey::generate(Curve::P256);
  std::vector<Ledger::Draft> drafts{{"register", participant_payload("OP-NEW", "visited-operator", a), ""},
                                    {"register", participant_payload(kHome, "visited-operator", a), ""}};
  EXPECT_THROW(w.ledger->append_signed_batch(kIssuer, *w.keys[kIssuer], drafts), AppendError);
  EXPECT_THROW(w.ledger->append_signed("OP-NEW", a, "note", to_bytes("{}")), AppendError);
  EXPECT_NO_THROW(w.ledger->register_participant(kIssuer, *w.keys[kIssuer], "OP-NEW", "visited-operator", a));
  EXPECT_NO_THROW(w.open());
}

// A refused entry inside a batch leaves neither the batch nor its effects:
// the in-memory state is rebuilt, the balances are unchanged.
TEST(EmbeddedMarket, RefusedBatchLeavesNoEffect) {
  EmbeddedWorld w("batch");
  w.as(kIssuer).mint(kHome, 1'000'000);
  std::vector<Ledger::Draft> drafts{{"mint", mint_payload(kHome, 5), ""}, {"mint", mint_payload("nobody", 5), ""}};
  try {
    w.ledger->append_signed_batch(kIssuer, *w.keys[kIssuer], drafts);
    FAIL();
  } catch (const AppendError& e) {
    EXPECT_EQ(e.code, "not-registered");
  }
  EXPECT_EQ(w.as(kHome).balance(kHome).available, 1'000'000);
  EXPECT_EQ(w.as(kHome).events_after(0).size(), 1u);
}

// Tampering with a stored market record (the usage charge, the Accept's
// ciphertext) is found and named on open.
TEST(EmbeddedMarket, TamperedRecordFoundOnOpen) {
  EmbeddedWorld w("tamper");
  story(w);
  std::int64_t usage_seq = 0, accept_seq = 0;
  for (const auto& e : w.as(kHome).events_after(0)) {
    if (e.type == "usage" && !usage_seq) usage_seq = e.position;
    if (e.type == "accept") accept_seq = e.position;
  }
  w.markets.clear();
  w.ledger.reset();
  // 1234 MB -> 9234 MB in the first usage report.
  w.sql("UPDATE entries SET payload = CAST(replace(CAST(payload AS TEXT), '\"data_mb\":1234', '\"data_mb\":9234') AS BLOB) "
        "WHERE seq = " + std::to_string(usage_seq));
  try {
    w.open();
    FAIL() << "tampered usage not detected";
  } catch (const ChainError& e) {
    EXPECT_EQ(e.seq, usage_seq);
  }
  w.sql("UPDATE entries SET payload = CAST(replace(CAST(payload AS TEXT), '\"data_mb\":9234', '\"data_mb\":1234') AS BLOB) "
        "WHERE seq = " + std::to_string(usage_seq));
  EXPECT_NO_THROW(w.open());
  w.markets.clear();
  w.ledger.reset();
  // One flipped byte inside the Accept's ciphertext.
  w.sql("UPDATE entries SET payload = CAST(replace(CAST(payload AS TEXT), '\"sealed_profile\":\"A', '\"sealed_profile\":\"B') AS BLOB) "
        "WHERE seq = " + std::to_string(accept_seq));
  try {
    w.open();
    FAIL() << "tampered accept not detected";
  } catch (const ChainError& e) {
    EXPECT_EQ(e.seq, accept_seq);
  }
}

// Two handles on the same file (two processes in production): each sees the
// other's records and the rules hold across them.
TEST(EmbeddedMarket, SecondHandleSeesAndObeysTheSameState) {
  EmbeddedWorld w("two");
  w.as(kIssuer).mint(kHome, 6'000'000);
  auto other = std::make_shared<EmbeddedLedger>(w.db);
  EmbeddedMarket home2(other, kHome, w.keys[kHome]);
  EXPECT_EQ(home2.balance(kHome).available, 6'000'000);
  auto seal_key = EcKey::generate(Curve::P256);
  w.as(kVisited).publish_offer(sample_offer(w, "OFFER-1", seal_key));
  auto o = *home2.offer("OFFER-1");
  home2.request(sample_request("REQ-1", o, seal_key));
  EXPECT_EQ(w.as(kHome).balance(kHome).available, 0);
  EXPECT_EQ(code_of([&] { w.as(kHome).request(sample_request("REQ-2", o, seal_key)); }), "insufficient-funds");
}

// A Request's sealed target copied onto another ledger (same participant
// ids, same provider seal key, same Offer and Request ids) does not open
// there: the seal context names the ledger by its genesis hash.
TEST(EmbeddedMarket, SealedTargetDoesNotOpenOnAnotherLedger) {
  EmbeddedWorld a("seal-a"), b("seal-b");
  auto seal_key = EcKey::generate(Curve::P256);
  auto reply_key = EcKey::generate(Curve::P256);
  ASSERT_NE(a.as(kHome).ledger_id(), b.as(kHome).ledger_id());
  Bytes id_a{0x01};
  append(id_a, a.ledger->genesis_hash());
  EXPECT_EQ(a.as(kHome).ledger_id(), id_a);
  for (auto* w : {&a, &b}) {
    w->as(kIssuer).mint(kHome, 6'000'000);
    w->as(kVisited).publish_offer(sample_offer(*w, "OFFER-1", seal_key));
  }
  auto terms = sample_request("REQ-1", *a.as(kHome).offer("OFFER-1"), reply_key, a.as(kHome).ledger_id());
  a.as(kHome).request(terms);
  b.as(kHome).request(terms);  // the same terms on the other ledger
  auto ra = *a.as(kVisited).find_request("REQ-1");
  auto rb = *b.as(kVisited).find_request("REQ-1");
  EXPECT_NO_THROW(open_sealed(seal_key, target_context(a.as(kVisited).ledger_id(), ra, seal_key.public_point()), ra.sealed_target));
  EXPECT_THROW(open_sealed(seal_key, target_context(b.as(kVisited).ledger_id(), rb, seal_key.public_point()), rb.sealed_target),
               SealError);
}

TEST(Sdrt, FormatAndParseToTheUnit) {
  EXPECT_EQ(format_sdrt(12'500'000), "12.500000");
  EXPECT_EQ(format_sdrt(1), "0.000001");
  EXPECT_EQ(format_sdrt(-1'000'001), "-1.000001");
  EXPECT_EQ(parse_sdrt("12.5"), 12'500'000);
  EXPECT_EQ(parse_sdrt("0.000001"), 1);
  EXPECT_EQ(parse_sdrt("7"), 7'000'000);
  EXPECT_THROW(parse_sdrt("0.0000001"), std::invalid_argument);
  EXPECT_THROW(parse_sdrt("-1"), std::invalid_argument);
  EXPECT_THROW(parse_sdrt("1e3"), std::invalid_argument);
  EXPECT_THROW(parse_sdrt("99999999999999"), std::invalid_argument);
  EXPECT_EQ(charge_for({1234, 17, 3}, {1'000, 20'000, 5'000}), 1'589'000);
  EXPECT_THROW(charge_for({INT64_MAX, 0, 0}, {2, 0, 0}), MarketError);
}

}  // namespace
