// The embedded ledger: append/verify round trip, tampering detected on open
// (named by seq), refused entries leave nothing written, concurrent writers.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "raw_sql.hpp"
#include "rsp/ledger/embedded.hpp"

using namespace rsp;
using namespace rsp::ledger;
using crypto::Curve;
using crypto::EcKey;

namespace {

struct LedgerTest : ::testing::Test {
  std::filesystem::path dir;
  std::string db;
  EcKey admin = EcKey::generate(Curve::P256);
  EcKey opa = EcKey::generate(Curve::P256);
  EcKey opb = EcKey::generate(Curve::BrainpoolP256r1);

  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          ("ledger_test_" + std::to_string(::getpid()) + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    db = (dir / "ledger.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  // genesis (1), register OP-A (2), register OP-B (3), then n offers by OP-A (4...).
  void build(int n) {
    EmbeddedLedger l(db);
    l.init("admin", admin);
    l.register_participant("admin", admin, "OP-A", "visited-operator", opa);
    l.register_participant("admin", admin, "OP-B", "home-operator", opb);
    for (int i = 0; i < n; ++i)
      l.append_signed("OP-A", opa, "note", to_bytes(R"({"note":)" + std::to_string(i) + R"(,"price_sdrt":"1.25"})"));
  }

  // Raw SQL on the file, as an attacker with write access would do.
  void sql(const std::string& s) { test_support::raw_sql(db, s); }

  // Opening must throw ChainError naming `seq`; returns the reason.
  std::string expect_broken_at(std::int64_t seq) {
    try {
      EmbeddedLedger l(db);
    } catch (const ChainError& e) {
      EXPECT_EQ(e.seq, seq) << e.what();
      return e.reason;
    }
    ADD_FAILURE() << "tampering not detected";
    return {};
  }

  std::int64_t count_rows(const std::string& table) {
    EmbeddedLedger l(db, {true, VerifyMode::None});
    return table == "entries" ? l.head().seq : static_cast<std::int64_t>(l.participants().size());
  }

  Entry draft(EmbeddedLedger& l, const std::string& author, const std::string& type, const std::string& nonce) {
    Head h = l.head();
    Entry e;
    e.seq = h.seq + 1;
    e.prev_hash = h.hash;
    e.type = type;
    e.author = author;
    e.nonce = nonce;
    e.timestamp_ms = now_ms();
    e.payload = to_bytes(R"({"x":1})");
    return e;
  }
};

}  // namespace

TEST(LedgerEncoding, LengthPrefixedAndUnambiguous) {
  Entry a;
  a.seq = 7;
  a.prev_hash = Bytes(32, 0xAB);
  a.type = "note";
  a.author = "OP-A";
  a.nonce = "n1";
  a.timestamp_ms = 1700000000000;
  a.payload = to_bytes("{}");
  Bytes enc = encode_for_hash(a);
  // "RSP-LEDGER-ENTRY-v1" | u64 seq | u32 len|prev | u32 len|type | u32 len|author | u32 len|nonce | u64 ts | u32 len|payload
  EXPECT_EQ(enc.size(), 19u + 8 + (4 + 32) + (4 + 4) + (4 + 4) + (4 + 2) + 8 + (4 + 2));
  EXPECT_EQ(to_hex(ByteView(enc).subspan(19, 8)), "0000000000000007");
  // Moving a byte between adjacent fields changes the hash.
  Entry b = a;
  b.type = "noteO";
  b.author = "P-A";
  EXPECT_NE(compute_hash(a), compute_hash(b));
  EXPECT_EQ(compute_hash(a), crypto::sha256(enc));
}

TEST_F(LedgerTest, AppendVerifyRoundTrip) {
  build(5);
  EmbeddedLedger l(db);  // full verification on open
  EXPECT_EQ(l.head().seq, 8);
  auto rep = l.verify();
  EXPECT_EQ(rep.entries_checked, 8);
  auto e = l.get(4);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, "note");
  EXPECT_EQ(e->author, "OP-A");
  EXPECT_EQ(to_string(e->payload), R"({"note":0,"price_sdrt":"1.25"})");
  EXPECT_EQ(e->prev_hash, l.get(3)->hash);
  EXPECT_TRUE(opa.verify(e->hash, e->signature));
  // cursor reads
  auto tail = l.entries_after(6);
  ASSERT_EQ(tail.size(), 2u);
  EXPECT_EQ(tail[0].seq, 7);
  EXPECT_EQ(l.entries_after(2, 2).size(), 2u);
  EXPECT_TRUE(l.entries_after(8).empty());
  // participants
  auto ps = l.participants();
  ASSERT_EQ(ps.size(), 3u);
  auto b = l.participant("OP-B");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->role, "home-operator");
  EXPECT_EQ(b->curve, Curve::BrainpoolP256r1);
  EXPECT_EQ(b->public_point, opb.public_point());
  // brainpool author appends and verifies
  l.append_signed("OP-B", opb, "note", to_bytes(R"({"escrow_sdrt":"10"})"));
  EmbeddedLedger again(db, {true, VerifyMode::FromCheckpoint});
  EXPECT_EQ(again.head().seq, 9);
}

TEST_F(LedgerTest, ExternallySealedEntryAndBatch) {
  build(0);
  EmbeddedLedger l(db);
  Entry e = draft(l, "OP-A", "note", "client-1");
  seal(e, opa);
  auto r = l.append(e);
  EXPECT_EQ(r.seq, 4);
  EXPECT_EQ(r.hash, e.hash);
  // batch of sealed entries chained to each other
  std::vector<Entry> batch;
  Head h = l.head();
  for (int i = 0; i < 10; ++i) {
    Entry x;
    x.seq = h.seq + 1;
    x.prev_hash = h.hash;
    x.type = "note";
    x.author = "OP-A";
    x.nonce = "u" + std::to_string(i);
    x.timestamp_ms = now_ms();
    x.payload = to_bytes(R"({"bytes":1})");
    seal(x, opa);
    h = {x.seq, x.hash};
    batch.push_back(x);
  }
  auto rs = l.append_batch(batch);
  ASSERT_EQ(rs.size(), 10u);
  EXPECT_EQ(l.head().seq, 14);
  // a batch with one bad entry writes nothing
  std::vector<EmbeddedLedger::Draft> drafts(3, {"note", to_bytes("{}"), ""});
  drafts[2].type = "bogus";
  EXPECT_THROW(l.append_signed_batch("OP-A", opa, drafts), AppendError);
  EXPECT_EQ(l.head().seq, 14);
  EXPECT_NO_THROW(EmbeddedLedger(db).verify());
}

TEST_F(LedgerTest, TamperedPayloadByteDetected) {
  build(5);
  // flip one byte of entry 6's payload (a JSON digit '2' -> '9')
  sql("UPDATE entries SET payload = CAST(replace(CAST(payload AS TEXT), ':2,', ':9,') AS BLOB) WHERE seq = 6");
  auto why = expect_broken_at(6);
  EXPECT_NE(why.find("altered"), std::string::npos) << why;
}

TEST_F(LedgerTest, SwappedPayloadsDetected) {
  build(5);
  sql("UPDATE entries SET payload = (SELECT CASE WHEN e.seq = 5 THEN (SELECT payload FROM entries WHERE seq = 7) "
      "ELSE (SELECT payload FROM entries WHERE seq = 5) END FROM entries e WHERE e.seq = entries.seq) WHERE seq IN (5, 7)");
  expect_broken_at(5);
}

TEST_F(LedgerTest, ReorderedEntriesDetected) {
  build(5);
  sql("UPDATE entries SET seq = -1 WHERE seq = 5; UPDATE entries SET seq = 5 WHERE seq = 6; UPDATE entries SET seq = 6 WHERE seq = -1");
  auto why = expect_broken_at(5);
  EXPECT_NE(why.find("prev_hash"), std::string::npos) << why;
}

TEST_F(LedgerTest, DeletedMiddleRowDetected) {
  build(5);
  sql("DELETE FROM entries WHERE seq = 6");
  auto why = expect_broken_at(6);
  EXPECT_NE(why.find("missing"), std::string::npos) << why;
}

// Deleting the tail leaves a valid shorter chain: only a participant that
// saw the longer one can tell (its witness file, docs/ledger.md "Trust model").
TEST_F(LedgerTest, DeletedLastRowDetectedByTheWitness) {
  build(5);
  EmbeddedLedger::Options opt;
  opt.witness_path = (dir / "witness").string();
  { EmbeddedLedger l(db, opt); }  // remembers seq 8
  sql("DELETE FROM entries WHERE seq = 8");
  EXPECT_NO_THROW(EmbeddedLedger l(db));  // without a witness: a valid chain of 7
  try {
    EmbeddedLedger l(db, opt);
    ADD_FAILURE() << "truncation not detected";
  } catch (const ChainError& e) {
    EXPECT_EQ(e.seq, 8);
    EXPECT_NE(e.reason.find("truncated"), std::string::npos) << e.reason;
  }
}

TEST_F(LedgerTest, ChangedSignatureDetected) {
  build(5);
  // a valid signature, but over another entry's hash
  sql("UPDATE entries SET signature = (SELECT signature FROM entries WHERE seq = 4) WHERE seq = 7");
  auto why = expect_broken_at(7);
  EXPECT_NE(why.find("signature"), std::string::npos) << why;
}

TEST_F(LedgerTest, RecomputedHashStillCaughtBySignature) {
  build(5);
  // The attacker rewrites payload AND stored hash of the head entry: the signature no longer matches.
  {
    EmbeddedLedger l(db);
    Entry e = *l.get(8);
    e.payload = to_bytes(R"({"note":99})");
    sql("UPDATE entries SET payload = X'" + to_hex(e.payload) + "', hash = X'" + to_hex(compute_hash(e)) + "' WHERE seq = 8");
  }
  sql("DELETE FROM ledger_meta");  // and removes the checkpoint
  auto why = expect_broken_at(8);
  EXPECT_NE(why.find("signature"), std::string::npos) << why;
}

TEST_F(LedgerTest, InjectedParticipantDetected) {
  build(1);
  sql("INSERT INTO participants (id, role, curve, public_key, registered_seq) VALUES ('EVIL', 'home-operator', 'P-256', X'" +
      to_hex(EcKey::generate(Curve::P256).public_point()) + "', 4)");
  auto why = expect_broken_at(4);
  EXPECT_NE(why.find("EVIL"), std::string::npos) << why;
}

TEST_F(LedgerTest, FastModeChecksTailAndWitness) {
  build(5);
  EmbeddedLedger::Options opt;
  opt.witness_path = (dir / "witness").string();
  { EmbeddedLedger l(db, opt); }  // witness at 8
  opt.verify_on_open = VerifyMode::FromCheckpoint;
  {
    EmbeddedLedger l(db, opt);
    EXPECT_EQ(l.verify(VerifyMode::FromCheckpoint).entries_checked, 0);  // nothing after the witness
    l.append_signed("OP-A", opa, "note", to_bytes("{}"));
    l.append_signed("OP-A", opa, "note", to_bytes("{}"));  // witness at 10
  }
  sql("UPDATE entries SET signature = (SELECT signature FROM entries WHERE seq = 9) WHERE seq = 10");
  EXPECT_NO_THROW(EmbeddedLedger l(db, opt));  // seq 10 was verified before: its hash is unchanged
  try {
    EmbeddedLedger l(db);
    ADD_FAILURE() << "not detected";
  } catch (const ChainError& e) {
    EXPECT_EQ(e.seq, 10);
  }
  sql("UPDATE entries SET payload = X'7B7D' WHERE seq = 8");  // an entry before the witness
  try {
    EmbeddedLedger l(db, opt);
    ADD_FAILURE() << "not detected";
  } catch (const ChainError& e) {
    EXPECT_EQ(e.seq, 8);
  }
}

TEST_F(LedgerTest, UnregisteredAuthorRejectedNothingWritten) {
  build(1);
  EmbeddedLedger l(db);
  EcKey stranger = EcKey::generate(Curve::P256);
  try {
    l.append_signed("OP-Z", stranger, "note", to_bytes("{}"));
    FAIL();
  } catch (const AppendError& e) {
    EXPECT_EQ(e.reason, AppendError::Reason::UnknownAuthor);
    EXPECT_NE(std::string(e.what()).find("OP-Z"), std::string::npos);
  }
  EXPECT_EQ(l.head().seq, 4);
}

TEST_F(LedgerTest, WrongSignatureRejectedNothingWritten) {
  build(1);
  EmbeddedLedger l(db);
  Entry e = draft(l, "OP-A", "note", "n-1");
  EcKey other = EcKey::generate(Curve::P256);
  seal(e, other);  // signed by another key
  try {
    l.append(e);
    FAIL();
  } catch (const AppendError& ex) {
    EXPECT_EQ(ex.reason, AppendError::Reason::BadSignature);
  }
  // Claiming OP-A while signing with OP-B's (registered) key is refused too.
  try {
    l.append_signed("OP-A", opb, "note", to_bytes("{}"));
    FAIL();
  } catch (const AppendError& ex) {
    EXPECT_EQ(ex.reason, AppendError::Reason::BadSignature);
  }
  EXPECT_EQ(l.head().seq, 4);
  EXPECT_EQ(l.entries_after(4).size(), 0u);
}

TEST_F(LedgerTest, ReplayedNonceRejectedNothingWritten) {
  build(0);
  EmbeddedLedger l(db);
  l.append_signed("OP-A", opa, "note", to_bytes("{}"), "order-42");
  try {
    l.append_signed("OP-A", opa, "note", to_bytes("{}"), "order-42");
    FAIL();
  } catch (const AppendError& e) {
    EXPECT_EQ(e.reason, AppendError::Reason::Replay);
    EXPECT_NE(std::string(e.what()).find("order-42"), std::string::npos);
  }
  EXPECT_EQ(l.head().seq, 4);
  // another author may use the same nonce
  EXPECT_NO_THROW(l.append_signed("OP-B", opb, "note", to_bytes("{}"), "order-42"));
  // re-submitting the exact sealed entry fails (stale head) and writes nothing
  Entry again = *l.get(4);
  EXPECT_THROW(l.append(again), AppendError);
  EXPECT_EQ(l.head().seq, 5);
}

TEST_F(LedgerTest, OtherRejections) {
  build(0);
  EmbeddedLedger l(db);
  auto reason_of = [&](auto&& fn) {
    try {
      fn();
    } catch (const AppendError& e) {
      return e.reason;
    }
    ADD_FAILURE() << "not rejected";
    return AppendError::Reason::Malformed;
  };
  using R = AppendError::Reason;
  EXPECT_EQ(reason_of([&] { l.append_signed("OP-A", opa, "mint-money", to_bytes("{}")); }), R::UnknownType);
  EXPECT_EQ(reason_of([&] { l.register_participant("OP-A", opa, "OP-C", "home-operator", opa); }), R::NotAdmin);
  EXPECT_EQ(reason_of([&] { l.register_participant("admin", admin, "OP-A", "home-operator", opa); }), R::BadParticipant);
  EXPECT_EQ(reason_of([&] { l.register_participant("admin", admin, "OP-C", "pirate", opa); }), R::BadParticipant);
  EXPECT_EQ(reason_of([&] { l.init("admin", admin); }), R::StaleHead);
  Entry e = draft(l, "OP-A", "note", "n");
  e.seq += 1;  // skips a seq
  seal(e, opa);
  EXPECT_EQ(reason_of([&] { l.append(e); }), R::StaleHead);
  Entry f = draft(l, "OP-A", "note", "n");
  f.prev_hash[0] ^= 1;
  seal(f, opa);
  EXPECT_EQ(reason_of([&] { l.append(f); }), R::StaleHead);
  Entry g = draft(l, "OP-A", "note", "n");
  seal(g, opa);
  g.payload = to_bytes(R"({"x":2})");  // content changed after sealing
  EXPECT_EQ(reason_of([&] { l.append(g); }), R::Malformed);
  EXPECT_EQ(l.head().seq, 3);
  EXPECT_NO_THROW(EmbeddedLedger(db).verify());
}

TEST_F(LedgerTest, ConcurrentAppendersKeepChainConsistent) {
  build(0);
  EmbeddedLedger l(db, {false, VerifyMode::Full});
  constexpr int kThreads = 4, kPer = 50;
  std::vector<EcKey> keys;
  for (int t = 0; t < kThreads; ++t) {
    keys.push_back(EcKey::generate(Curve::P256));
    l.register_participant("admin", admin, "T" + std::to_string(t), "service-provider", keys.back());
  }
  std::atomic<int> stale_retries{0};
  std::vector<std::thread> th;
  for (int t = 0; t < kThreads; ++t)
    th.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) {
        if (i % 2 == 0) {
          l.append_signed("T" + std::to_string(t), keys[t], "note", to_bytes(R"({"i":)" + std::to_string(i) + "}"));
        } else {
          // optimistic writer: seal against the head seen, retry when it moved
          for (;;) {
            Head h = l.head();
            Entry e{h.seq + 1, h.hash, "note", "T" + std::to_string(t), "t" + std::to_string(t) + "-" + std::to_string(i),
                    now_ms(), to_bytes("{}"), {}, {}};
            seal(e, keys[t]);
            try {
              l.append(e);
              break;
            } catch (const AppendError& ex) {
              ASSERT_EQ(ex.reason, AppendError::Reason::StaleHead) << ex.what();
              ++stale_retries;
            }
          }
        }
      }
    });
  for (auto& t : th) t.join();
  EXPECT_EQ(l.head().seq, 3 + kThreads + kThreads * kPer);
  EmbeddedLedger reopened(db);  // full walk
  EXPECT_EQ(reopened.verify().entries_checked, 3 + kThreads + kThreads * kPer);
  std::cout << "stale-head retries: " << stale_retries << "\n";
}
