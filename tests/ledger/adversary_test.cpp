// The embedded ledger against a dishonest participant (issue 16): programs
// linked against our own ledger library, or raw SQL on the shared file. Each
// test is one attack; each must be refused with a clear error naming the seq
// (docs/ledger.md, "Trust model" and "Rule table").
#include <gtest/gtest.h>

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

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;

// One shared ledger file; each participant runs its own process (its own
// EmbeddedLedger on the file) with its own clock.
struct Fixture : ::testing::Test {
  std::filesystem::path dir;
  std::string db;
  std::map<std::string, std::shared_ptr<EcKey>> keys;
  std::int64_t t0 = now_ms();

  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          ("adversary_test_" + std::to_string(::getpid()) + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    db = (dir / "ledger.db").string();
    for (const auto& id : {kIssuer, kVisited, kHome, kVisited2}) keys[id] = std::make_shared<EcKey>(EcKey::generate(Curve::P256));
    auto l = open_at(0);
    l->init(kIssuer, *keys[kIssuer]);
    l->register_participant(kIssuer, *keys[kIssuer], kVisited, "visited-operator", *keys[kVisited]);
    l->register_participant(kIssuer, *keys[kIssuer], kHome, "home-operator", *keys[kHome]);
    l->register_participant(kIssuer, *keys[kIssuer], kVisited2, "visited-operator", *keys[kVisited2]);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  // A process whose clock runs `offset_ms` from t0 plus real time elapsed.
  std::shared_ptr<EmbeddedLedger> open_at(std::int64_t offset_ms, EmbeddedLedger::Options opt = {}) {
    const std::int64_t start = now_ms();
    opt.clock_ms = [this, offset_ms, start] { return t0 + offset_ms + (now_ms() - start); };
    return std::make_shared<EmbeddedLedger>(db, opt);
  }
  EmbeddedMarket as(const std::shared_ptr<EmbeddedLedger>& l, const std::string& who) { return EmbeddedMarket(l, who, keys.at(who)); }

  void sql(const std::string& s) { test_support::raw_sql(db, s); }
  void remove_db() {
    for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(db + ext);
  }

  // Appends `e` with raw SQL, as someone with write access to the file
  // (and our library to compute hashes) would.
  void insert_raw(const Entry& e) {
    sql("INSERT INTO entries (seq, prev_hash, type, author, nonce, timestamp, payload, signature, hash) VALUES (" +
        std::to_string(e.seq) + ", X'" + to_hex(e.prev_hash) + "', '" + e.type + "', '" + e.author + "', '" + e.nonce + "', " +
        std::to_string(e.timestamp_ms) + ", X'" + to_hex(e.payload) + "', X'" + to_hex(e.signature) + "', X'" +
        to_hex(e.hash) + "')");
  }

  // The ChainError `f` raises (seq -1 when none).
  static ChainError chain_error_of(const std::function<void()>& f) {
    try {
      f();
    } catch (const ChainError& e) {
      return e;
    }
    return ChainError(-1, "no error");
  }
};

// Critical: a row inserted with raw SQL as an unsigned "ISSUER" mint is not
// applied by a process that has the ledger open, HOME-B cannot spend it, the
// visited operator's process does not see it, honest writers refuse to chain
// on it, and a fresh open names it.
TEST_F(Fixture, ForgedRowIsNeverApplied) {
  auto visited_proc = open_at(0);
  auto home_proc = open_at(0);
  auto visited = as(visited_proc, kVisited);
  auto home = as(home_proc, kHome);
  auto seal_key = EcKey::generate(Curve::P256);
  as(visited_proc, kIssuer).mint(kHome, 100'000);
  visited.publish_offer(sample_offer_at(t0 / 1000, "OFFER-1", seal_key));
  EXPECT_EQ(home.balance(kHome).available, 100'000);

  Head h = home_proc->head();
  Entry forged{h.seq + 1, h.hash, "mint", kIssuer, "forged", now_ms(), mint_payload(kHome, 1'000'000'000'000), Bytes(64, 0), {}};
  forged.hash = compute_hash(forged);
  insert_raw(forged);

  auto e = chain_error_of([&] { home.balance(kHome); });
  EXPECT_EQ(e.seq, forged.seq) << e.what();
  EXPECT_NE(std::string(e.what()).find("bad-signature"), std::string::npos) << e.what();
  // HOME-B cannot spend it: its write is refused before anything is written.
  auto offer = sample_offer_at(t0 / 1000, "OFFER-1", seal_key);
  Offer o;
  static_cast<OfferTerms&>(o) = offer;
  EXPECT_EQ(chain_error_of([&] { home.request(sample_request("REQ-1", o, seal_key)); }).seq, forged.seq);
  // The visited operator's running process does not see it either.
  EXPECT_EQ(chain_error_of([&] { visited.find_request("REQ-1"); }).seq, forged.seq);
  // Honest writers refuse to chain on it, naming the seq.
  auto w = chain_error_of([&] { visited.publish_offer(sample_offer_at(t0 / 1000, "OFFER-2", seal_key)); });
  EXPECT_EQ(w.seq, forged.seq) << w.what();
  EXPECT_EQ(home_proc->head().seq, forged.seq);  // nothing written on top
  // A fresh open names it too.
  EXPECT_EQ(chain_error_of([&] { open_at(0); }).seq, forged.seq);

  // A forged row signed by a key that is not the issuer's (or with a stale
  // link) is refused the same way once the first one is removed.
  sql("DELETE FROM entries WHERE seq = " + std::to_string(forged.seq));
  EXPECT_EQ(home.balance(kHome).available, 100'000);
  EcKey mallory = EcKey::generate(Curve::P256);
  Entry forged2{h.seq + 1, h.hash, "mint", kIssuer, "forged2", now_ms(), mint_payload(kHome, 5), {}, {}};
  seal(forged2, mallory);
  insert_raw(forged2);
  EXPECT_EQ(chain_error_of([&] { home.balance(kHome); }).seq, forged2.seq);
}

// A home operator whose process's clock is 30 days ahead refunds on day 0 of
// a 30-day term: its own library lets it through, but no honest process
// applies the refund (on read, on write, on open), so the escrow stays.
TEST_F(Fixture, RefundFromAClockThirtyDaysAheadIsRefused) {
  auto honest = open_at(0);
  auto seal_key = EcKey::generate(Curve::P256);
  as(honest, kIssuer).mint(kHome, 6'000'000);
  as(honest, kVisited).publish_offer(sample_offer_at(t0 / 1000, "OFFER-1", seal_key));
  auto o = *as(honest, kVisited).offer("OFFER-1");
  as(honest, kHome).request(sample_request("REQ-1", o, seal_key));

  auto cheat = open_at(30 * kDayMs + 60'000);
  auto rec = as(cheat, kHome).refund("REQ-1");  // its own clock says the term is over

  auto e = chain_error_of([&] { as(honest, kVisited).balance(kHome); });
  EXPECT_EQ(e.seq, rec.position) << e.what();
  EXPECT_NE(std::string(e.what()).find("bad-time"), std::string::npos) << e.what();
  EXPECT_EQ(chain_error_of([&] { as(honest, kVisited).accept({"REQ-1", Bytes(10, 1), Bytes(32, 2)}); }).seq, rec.position);
  EXPECT_EQ(chain_error_of([&] { open_at(0); }).seq, rec.position);
  // Once the row is gone, the escrow is where it was and honest writes go on.
  sql("DELETE FROM entries WHERE seq = " + std::to_string(rec.position));
  auto fresh = open_at(0);
  EXPECT_EQ(as(fresh, kHome).balance(kHome).escrowed, 6'000'000);
  EXPECT_NO_THROW(as(fresh, kVisited).accept({"REQ-1", Bytes(10, 1), Bytes(32, 2)}));
}

// Backdating on a quiet ledger: a provider whose clock is set back accepts a
// Request after its term, a home operator requests on an expired Offer. The
// other side's process saw the ledger after the deadline, so the entry was
// not there then: refused as backdated.
TEST_F(Fixture, BackdatingOnAQuietLedgerIsRefused) {
  auto seal_key = EcKey::generate(Curve::P256);
  {
    auto day0 = open_at(0);
    as(day0, kIssuer).mint(kHome, 12'000'000);
    auto terms = sample_offer_at(t0 / 1000, "OFFER-1", seal_key);
    terms.term_seconds = 3600;
    terms.valid_until = t0 / 1000 + 3600;
    as(day0, kVisited).publish_offer(terms);
    as(day0, kHome).request(sample_request("REQ-1", *as(day0, kHome).offer("OFFER-1"), seal_key));
  }
  // Two hours later: the Request's term and the Offer are over; both
  // parties' processes look at the (quiet) ledger.
  auto home_proc = open_at(2 * 3600 * 1000);
  auto visited_proc = open_at(2 * 3600 * 1000);
  EXPECT_EQ(as(home_proc, kHome).find_request("REQ-1")->state, RequestState::Open);
  EXPECT_EQ(as(visited_proc, kVisited).offers().size(), 1u);

  // The provider, clock set back to minute 30, accepts: its library agrees.
  auto backdated = open_at(30 * 60 * 1000);
  auto acc = as(backdated, kVisited).accept({"REQ-1", Bytes(10, 1), Bytes(32, 2)});
  auto e = chain_error_of([&] { as(home_proc, kHome).find_request("REQ-1"); });
  EXPECT_EQ(e.seq, acc.position) << e.what();
  EXPECT_NE(std::string(e.what()).find("backdated"), std::string::npos) << e.what();
  sql("DELETE FROM entries WHERE seq = " + std::to_string(acc.position));

  // The home operator, clock set back, requests on the expired Offer.
  auto backdated2 = open_at(30 * 60 * 1000);
  auto req = as(backdated2, kHome).request(sample_request("REQ-2", *as(backdated2, kHome).offer("OFFER-1"), seal_key));
  EXPECT_EQ(chain_error_of([&] { as(visited_proc, kVisited).find_request("REQ-2"); }).seq, req.position);
  sql("DELETE FROM entries WHERE seq = " + std::to_string(req.position));

  // The home operator refunds after the term: accepted by everyone.
  EXPECT_NO_THROW(as(home_proc, kHome).refund("REQ-1"));
  EXPECT_EQ(as(visited_proc, kVisited).find_request("REQ-1")->state, RequestState::Closed);
}

// The witness (a participant's own file) remembers the longest chain it
// verified: truncating the tail is found on open, and a process that has the
// ledger open finds it on its next read and refuses to write.
TEST_F(Fixture, TruncationIsFoundByAParticipantThatSawTheLongerChain) {
  EmbeddedLedger::Options opt;
  opt.witness_path = (dir / "home.witness").string();
  auto running = open_at(0);
  {
    auto home = open_at(0, opt);
    as(home, kIssuer).mint(kHome, 7);
    as(home, kIssuer).mint(kHome, 8);
    EXPECT_EQ(as(running, kHome).balance(kHome).available, 15);
  }
  const auto head = running->head().seq;
  // The old in-file checkpoint is also rewritten: it is no longer trusted at all.
  sql("DELETE FROM entries WHERE seq = " + std::to_string(head));
  sql("DELETE FROM ledger_meta");
  auto e = chain_error_of([&] { open_at(0, opt); });
  EXPECT_EQ(e.seq, head) << e.what();
  EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  e = chain_error_of([&] { open_at(0, opt)->verify(VerifyMode::FromCheckpoint); });
  EXPECT_EQ(e.seq, head);
  // The running process: no read of the shorter state, no write on top of it.
  EXPECT_EQ(chain_error_of([&] { as(running, kHome).balance(kHome); }).seq, head);
  EXPECT_EQ(chain_error_of([&] { as(running, kIssuer).mint(kHome, 1); }).seq, head);
  // Replacing the deleted entry by another one (same seq, new content) is a rewrite.
  auto writer = open_at(0);
  as(writer, kIssuer).mint(kHome, 9);
  e = chain_error_of([&] { open_at(0, opt); });
  EXPECT_EQ(e.seq, head);
  EXPECT_NE(std::string(e.what()).find("rewritten"), std::string::npos) << e.what();
}

// FromCheckpoint trusts neither the payloads before the checkpoint nor the
// participants table: an edited mint amount and a swapped issuer key are found.
TEST_F(Fixture, FastOpenTrustsNoEditedPrefixOrParticipantsTable) {
  EmbeddedLedger::Options opt;
  opt.witness_path = (dir / "visited.witness").string();
  opt.verify_on_open = VerifyMode::FromCheckpoint;
  std::int64_t mint_seq = 0;
  {
    auto l = open_at(0, opt);
    mint_seq = as(l, kIssuer).mint(kHome, 1'000).position;
    as(l, kIssuer).mint(kHome, 2'000);
  }
  // The mint amount edited, its hash recomputed (no key needed for that).
  {
    auto raw = open_at(0, {true, VerifyMode::None});
    Entry e = *raw->get(mint_seq);
    e.payload = mint_payload(kHome, 1'000'000'000);
    sql("UPDATE entries SET payload = X'" + to_hex(e.payload) + "', hash = X'" + to_hex(compute_hash(e)) +
        "' WHERE seq = " + std::to_string(mint_seq));
  }
  auto e = chain_error_of([&] { open_at(0, opt); });
  EXPECT_GT(e.seq, 0) << e.what();
  EXPECT_LE(e.seq, mint_seq + 1) << e.what();
  sql("UPDATE entries SET payload = X'" + to_hex(mint_payload(kHome, 1'000)) + "', hash = X'" +
      to_hex(open_at(0, {true, VerifyMode::None})->get(mint_seq + 1)->prev_hash) + "' WHERE seq = " + std::to_string(mint_seq));
  EXPECT_EQ(as(open_at(0, opt), kHome).balance(kHome).available, 3'000);

  // The issuer's key swapped in the participants table, then a mint signed
  // with the swapped-in key appended after the checkpoint.
  EcKey mallory = EcKey::generate(Curve::P256);
  sql("UPDATE participants SET public_key = X'" + to_hex(mallory.public_point()) + "' WHERE id = '" + kIssuer + "'");
  auto h = open_at(0, {true, VerifyMode::None})->head();
  Entry forged{h.seq + 1, h.hash, "mint", kIssuer, "mallory", t0, mint_payload(kHome, 1'000'000), {}, {}};
  seal(forged, mallory);
  insert_raw(forged);
  e = chain_error_of([&] { open_at(0, opt); });
  EXPECT_NE(e.seq, -1) << "swapped issuer key accepted";
}

// Each participant pins the genesis (hash and admin key): a substitute file
// with its own genesis and admin is refused on open.
TEST_F(Fixture, SubstituteLedgerRefusedByTheGenesisPin) {
  EmbeddedLedger::Options opt;
  opt.pin = GenesisPin{open_at(0)->genesis_hash(), keys[kIssuer]->public_point()};
  EXPECT_NO_THROW(open_at(0, opt));

  remove_db();
  EcKey mallory = EcKey::generate(Curve::P256);
  {
    auto l = open_at(0);
    l->init(kIssuer, mallory);
    l->register_participant(kIssuer, mallory, kHome, "home-operator", *keys[kHome]);
  }
  auto e = chain_error_of([&] { open_at(0, opt); });
  EXPECT_EQ(e.seq, 1) << e.what();
  EXPECT_NE(std::string(e.what()).find("wrong-genesis"), std::string::npos) << e.what();
  opt.pin->genesis_hash.clear();  // the admin key alone is pinned: still refused
  EXPECT_EQ(chain_error_of([&] { open_at(0, opt); }).seq, 1);
  // The witness pins the genesis it first saw, too.
  EmbeddedLedger::Options w;
  w.witness_path = (dir / "w").string();
  open_at(0, w);
  remove_db();
  open_at(0)->init(kIssuer, *keys[kIssuer]);
  EXPECT_EQ(chain_error_of([&] { open_at(0, w); }).seq, 1);
}

// Payloads are bounded per type: a 20 MiB note is refused before anything is written.
TEST_F(Fixture, OversizePayloadRefused) {
  auto l = open_at(0);
  const auto before = l->head().seq;
  try {
    l->append_signed(kVisited, *keys[kVisited], "note", Bytes(20 * 1024 * 1024, 'x'));
    FAIL() << "20 MiB note accepted";
  } catch (const AppendError& e) {
    EXPECT_EQ(e.reason, AppendError::Reason::TooLarge) << e.what();
  }
  EXPECT_EQ(l->head().seq, before);
  EXPECT_NO_THROW(l->append_signed(kVisited, *keys[kVisited], "note", Bytes(16 * 1024, 'x')));
}

}  // namespace
