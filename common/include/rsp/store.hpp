// The store: SQLite in WAL mode (the embedded default) or, for a path that is
// a postgresql:// URI, PostgreSQL through libpq (several smdpd instances on one
// database; docs/smdp.md). A small RAII layer; roles keep their own tables;
// every multi-row change goes through a Transaction so a crash leaves nothing
// half-written.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "rsp/bytes.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace rsp::store {

struct StoreError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using Value = std::variant<std::nullptr_t, std::int64_t, double, std::string, Bytes>;

// True for a libpq connection URI (postgresql:// or postgres://): Db opens
// PostgreSQL for it, an SQLite file for anything else.
bool is_postgres_uri(std::string_view path);

struct PgRow;  // a row of a PostgreSQL result (store.cpp)

class Row {
 public:
  explicit Row(sqlite3_stmt* s) : s_(s) {}
  explicit Row(const PgRow* p) : p_(p) {}
  std::int64_t i64(int col) const;
  std::string text(int col) const;
  Bytes blob(int col) const;
  bool is_null(int col) const;
 private:
  sqlite3_stmt* s_ = nullptr;
  const PgRow* p_ = nullptr;
};

class Db {
 public:
  // Opens (creating) the database; ":memory:" works for tests. WAL journal,
  // synchronous=FULL by default (durability over speed; see docs/).
  // A postgresql:// URI connects to PostgreSQL instead (synchronous_full
  // does not apply: the server's own synchronous_commit does).
  explicit Db(const std::string& path, bool synchronous_full = true);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(const std::string& sql);  // DDL / statements without parameters
  // Runs a statement with bound parameters; returns rows changed.
  int run(const std::string& sql, const std::vector<Value>& params = {});
  // Runs a query, calling `on_row` for each row.
  void query(const std::string& sql, const std::vector<Value>& params, const std::function<void(const Row&)>& on_row);
  std::int64_t last_insert_rowid() const;

  bool is_postgres() const { return pg_ != nullptr; }
  const std::string& path() const { return path_; }  // as given (a URI may hold a password: do not log it)

  // Serializes access from several threads (one connection, one writer).
  std::recursive_mutex& mutex() { return mu_; }

 private:
  friend class Transaction;
  int tx_depth_ = 0;  // open Transactions on this connection (guarded by mu_)
  struct Cached {
    sqlite3_stmt* stmt;
    bool busy;
  };
  struct Lease;
  struct Pg;  // the PostgreSQL engine (store.cpp)
  std::unique_ptr<Pg> pg_;
  std::string path_;
  sqlite3* db_ = nullptr;
  std::recursive_mutex mu_;
  std::unordered_map<std::string, Cached> cache_;  // prepared statements by SQL text
};

// BEGIN IMMEDIATE ... COMMIT, rolled back unless commit() is called.
// On PostgreSQL: BEGIN, then pg_advisory_xact_lock on one constant key, so
// that writers are serialised across every process on the database exactly as
// SQLite's BEGIN IMMEDIATE serialises them on one file. The read-then-write
// sequences of the roles (allocate a profile, bind it, move a session on) rely
// on that and stay correct with several smdpd instances on one database.
// Nested inside another Transaction on the same Db (same thread: the lock is
// recursive), it is a SAVEPOINT: its commit() releases it into the outer
// transaction, which alone makes the change durable. So a caller can put a
// function that commits its own change and a record of that change (an audit
// row) into one transaction.
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  void commit();
 private:
  Db& db_;
  std::unique_lock<std::recursive_mutex> lock_;
  int level_ = 0;  // 0: the outermost (BEGIN/COMMIT); n: SAVEPOINT tx<n>
  bool done_ = false;
};

}  // namespace rsp::store
