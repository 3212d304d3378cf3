// The PostgreSQL engine of store::Db (issue 12) against a private cluster:
// the SQLite dialect the roles write is translated (placeholders, INSERT OR
// IGNORE/REPLACE, DDL types, strftime, pragma_table_info, sqlite_master),
// values round-trip exactly (bytea with NUL and 0xFF bytes, 64-bit integers),
// and Transactions serialise writers across connections as BEGIN IMMEDIATE
// does across processes on one SQLite file.
#include <gtest/gtest.h>

#include <thread>

#include "pg_cluster.hpp"
#include "rsp/store.hpp"

using rsp::store::Db;
using rsp::store::Row;
using rsp::store::StoreError;
using rsp::store::Transaction;

namespace {

struct StorePg : ::testing::Test {
  std::string uri;
  void SetUp() override {
    auto& c = rsp::test::shared_pg_cluster();
    if (!c.available()) GTEST_SKIP() << c.skip_reason();
    uri = c.create_database();
  }
};

std::int64_t scalar(Db& db, const std::string& sql, const std::vector<rsp::store::Value>& p = {}) {
  std::int64_t v = -1;
  db.query(sql, p, [&](const Row& r) { v = r.i64(0); });
  return v;
}

TEST_F(StorePg, UriChoosesTheEngine) {
  EXPECT_TRUE(rsp::store::is_postgres_uri("postgresql://u@h/db"));
  EXPECT_TRUE(rsp::store::is_postgres_uri("postgres://h"));
  EXPECT_FALSE(rsp::store::is_postgres_uri("smdp.db"));
  EXPECT_FALSE(rsp::store::is_postgres_uri("/var/lib/postgresql.db"));
  Db db(uri);
  EXPECT_TRUE(db.is_postgres());
  Db lite(":memory:");
  EXPECT_FALSE(lite.is_postgres());
}

TEST_F(StorePg, ValuesRoundTripExactly) {
  Db db(uri);
  db.exec(R"(CREATE TABLE v (id INTEGER PRIMARY KEY AUTOINCREMENT, b BLOB, n INTEGER, s TEXT,
             at INTEGER NOT NULL DEFAULT (strftime('%s','now')));)");
  rsp::Bytes blob = {0x00, 0xff, 0x27, 0x3f, 0x00, 0x80};  // NUL, 0xFF, a quote and a '?'
  std::int64_t big = (std::int64_t{1} << 40) + 7;  // beyond INTEGER's 32 bits in PostgreSQL
  EXPECT_EQ(db.run("INSERT INTO v (b, n, s) VALUES (?, ?, ?)", {blob, big, std::string("it's a '?'")}), 1);
  std::int64_t id1 = db.last_insert_rowid();
  db.run("INSERT INTO v (b, n, s) VALUES (?, ?, ?)", {nullptr, std::int64_t{-5}, std::string()});
  EXPECT_EQ(db.last_insert_rowid(), id1 + 1);
  int rows = 0;
  db.query("SELECT b, n, s, at, id FROM v WHERE id = ? AND s <> 'x?'", {id1}, [&](const Row& r) {
    ++rows;
    EXPECT_EQ(r.blob(0), blob);
    EXPECT_EQ(r.i64(1), big);
    EXPECT_EQ(r.text(1), std::to_string(big));
    EXPECT_EQ(r.text(2), "it's a '?'");
    EXPECT_NEAR(static_cast<double>(r.i64(3)), static_cast<double>(std::time(nullptr)), 60.0);
    EXPECT_FALSE(r.is_null(0));
  });
  EXPECT_EQ(rows, 1);
  db.query("SELECT b, n FROM v WHERE id = ?", {id1 + 1}, [&](const Row& r) {
    EXPECT_TRUE(r.is_null(0));
    EXPECT_EQ(r.i64(1), -5);
  });
  // SUM over BIGINT is NUMERIC in PostgreSQL (binary numeric decoding).
  db.run("INSERT INTO v (n) VALUES (?)", {std::int64_t{123456789012}});
  EXPECT_EQ(scalar(db, "SELECT SUM(n) FROM v"), big - 5 + 123456789012);
  EXPECT_EQ(scalar(db, "SELECT COALESCE(SUM(CASE WHEN n < 0 THEN 1 ELSE 0 END), 0) FROM v"), 1);
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM v"), 3);
}

TEST_F(StorePg, InsertOrIgnoreAndOrReplaceKeepSqliteMeaning) {
  Db db(uri);
  db.exec("CREATE TABLE k (a TEXT, b INTEGER, c TEXT NOT NULL DEFAULT '', PRIMARY KEY (a, b))");
  EXPECT_EQ(db.run("INSERT OR IGNORE INTO k (a, b, c) VALUES (?,?,?)", {std::string("x"), std::int64_t{1}, std::string("one")}), 1);
  EXPECT_EQ(db.run("INSERT OR IGNORE INTO k (a, b, c) VALUES (?,?,?)", {std::string("x"), std::int64_t{1}, std::string("two")}), 0);
  db.run("INSERT OR REPLACE INTO k (a, b, c) VALUES (?,?,?)", {std::string("x"), std::int64_t{1}, std::string("three")});
  db.run("INSERT OR REPLACE INTO k (a, b, c) VALUES (?,?,?)", {std::string("x"), std::int64_t{2}, std::string("four")});
  std::string all;
  db.query("SELECT a, b, c FROM k ORDER BY b", {}, [&](const Row& r) { all += r.text(0) + r.text(1) + r.text(2) + ";"; });
  EXPECT_EQ(all, "x1three;x2four;");
  // INSERT OR REPLACE ... SELECT (expire_orders' form), placeholders in the select list.
  db.exec("CREATE TABLE e (a TEXT PRIMARY KEY, at INTEGER NOT NULL)");
  // (One key once per statement: PostgreSQL refuses to update a row twice in
  // one ON CONFLICT, where SQLite's REPLACE lets the last win.)
  db.run("INSERT OR REPLACE INTO e (a, at) SELECT a, ? FROM k WHERE b BETWEEN 1 AND ?", {std::int64_t{77}, std::int64_t{1}});
  EXPECT_EQ(scalar(db, "SELECT at FROM e WHERE a = 'x'"), 77);
  db.run("INSERT OR REPLACE INTO e (a, at) SELECT a, ? FROM k WHERE b = ?", {std::int64_t{78}, std::int64_t{2}});
  EXPECT_EQ(scalar(db, "SELECT at FROM e WHERE a = 'x'"), 78);
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM e"), 1);
}

TEST_F(StorePg, SchemaIntrospectionAsSqliteSpellsIt) {
  Db db(uri);
  db.exec("CREATE TABLE IF NOT EXISTS s (x TEXT); CREATE INDEX IF NOT EXISTS s_x ON s (x);");
  db.exec("CREATE TABLE IF NOT EXISTS s (x TEXT)");  // again: no error, no notice on stderr
  db.exec("ALTER TABLE s ADD COLUMN y INTEGER NOT NULL DEFAULT -1");
  std::string cols;
  db.query("SELECT name FROM pragma_table_info('s')", {}, [&](const Row& r) { cols += r.text(0) + ","; });
  EXPECT_EQ(cols, "x,y,");
  EXPECT_EQ(scalar(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 's'"), 1);
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'nope'"), 0);
}

TEST_F(StorePg, ErrorsAreStoreErrorsWithoutTheValues) {
  Db db(uri);
  db.exec("CREATE TABLE u (k TEXT PRIMARY KEY)");
  db.run("INSERT INTO u (k) VALUES (?)", {std::string("SECRET-MATCHING-ID")});
  try {
    db.run("INSERT INTO u (k) VALUES (?)", {std::string("SECRET-MATCHING-ID")});
    FAIL() << "duplicate accepted";
  } catch (const StoreError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("duplicate key"), std::string::npos) << m;
    EXPECT_EQ(m.find("SECRET"), std::string::npos) << "the key value leaked: " << m;
  }
  // The connection is usable afterwards (no transaction left open).
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM u"), 1);
  EXPECT_THROW(db.exec("SELECT * FROM no_such_table"), StoreError);
  EXPECT_THROW(Db("postgresql://rsp@127.0.0.1:1/none?connect_timeout=2"), StoreError);
}

TEST_F(StorePg, AFailedStatementMakesTheCommitFailLoudly) {
  Db db(uri);
  db.exec("CREATE TABLE u (k TEXT PRIMARY KEY)");
  {
    Transaction tx(db);
    db.run("INSERT INTO u (k) VALUES ('a')");
    EXPECT_THROW(db.run("INSERT INTO u (k) VALUES ('a')"), StoreError);
    // PostgreSQL answers COMMIT of an aborted transaction with ROLLBACK.
    EXPECT_THROW(tx.commit(), StoreError);
  }
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM u"), 0);
}

TEST_F(StorePg, NestedTransactionsAreSavepoints) {
  Db db(uri);
  db.exec("CREATE TABLE t (v INTEGER)");
  {
    Transaction outer(db);
    db.run("INSERT INTO t VALUES (1)");
    {
      Transaction inner(db);
      db.run("INSERT INTO t VALUES (2)");
    }  // rolled back to its savepoint
    outer.commit();
  }
  EXPECT_EQ(scalar(db, "SELECT SUM(v) FROM t"), 1);
}

// The reason for the advisory lock: read-then-write on two connections
// (two smdpd instances) loses no update. Without it, READ COMMITTED lets both
// read the same value.
TEST_F(StorePg, TransactionsSerialiseWritersAcrossConnections) {
  {
    Db db(uri);
    db.exec("CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
    db.run("INSERT INTO c VALUES (1, 0)");
  }
  constexpr int kPerThread = 40;
  auto worker = [&] {
    Db db(uri);
    for (int i = 0; i < kPerThread; ++i) {
      Transaction tx(db);
      std::int64_t n = scalar(db, "SELECT n FROM c WHERE id = 1");
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      db.run("UPDATE c SET n = ? WHERE id = 1", {n + 1});
      tx.commit();
    }
  };
  std::thread a(worker), b(worker), c(worker);
  a.join();
  b.join();
  c.join();
  Db db(uri);
  EXPECT_EQ(scalar(db, "SELECT n FROM c WHERE id = 1"), 3 * kPerThread);
}

TEST_F(StorePg, ALostConnectionIsAnErrorThenReopened) {
  Db db(uri);
  db.exec("CREATE TABLE t (v INTEGER)");
  std::int64_t backend = scalar(db, "SELECT pg_backend_pid()");
  Db other(uri);
  other.query("SELECT pg_terminate_backend(?::int)", {backend}, [](const Row&) {});
  try {
    db.run("INSERT INTO t VALUES (1)");
    FAIL() << "a statement on a terminated connection succeeded";
  } catch (const StoreError& e) {
    EXPECT_FALSE(std::string(e.what()).empty());
  }
  db.run("INSERT INTO t VALUES (2)");  // the next one opens it again
  EXPECT_NE(scalar(db, "SELECT pg_backend_pid()"), backend);
  EXPECT_EQ(scalar(db, "SELECT SUM(v) FROM t"), 2);
}

}  // namespace
