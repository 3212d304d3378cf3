// The embedded store: SQLite in WAL mode with a small RAII layer. Roles keep
// their own tables; every multi-row change goes through a Transaction so a
// crash leaves nothing half-written.
#pragma once
#include <cstdint>
#include <functional>
#include <mutex>
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

class Row {
 public:
  explicit Row(sqlite3_stmt* s) : s_(s) {}
  std::int64_t i64(int col) const;
  std::string text(int col) const;
  Bytes blob(int col) const;
  bool is_null(int col) const;
 private:
  sqlite3_stmt* s_;
};

class Db {
 public:
  // Opens (creating) the database; ":memory:" works for tests. WAL journal,
  // synchronous=FULL by default (durability over speed; see docs/).
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
  sqlite3* db_ = nullptr;
  std::recursive_mutex mu_;
  std::unordered_map<std::string, Cached> cache_;  // prepared statements by SQL text
};

// BEGIN IMMEDIATE ... COMMIT, rolled back unless commit() is called.
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
