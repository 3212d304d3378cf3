#include "rsp/store.hpp"

#include <sqlite3.h>

namespace rsp::store {

namespace {
void bind_all(sqlite3_stmt* s, const std::vector<Value>& params) {
  int i = 1;
  for (const auto& v : params) {
    int rc = std::visit(
        [&](const auto& x) -> int {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::nullptr_t>) return sqlite3_bind_null(s, i);
          else if constexpr (std::is_same_v<T, std::int64_t>) return sqlite3_bind_int64(s, i, x);
          else if constexpr (std::is_same_v<T, double>) return sqlite3_bind_double(s, i, x);
          else if constexpr (std::is_same_v<T, std::string>)
            return sqlite3_bind_text(s, i, x.data(), static_cast<int>(x.size()), SQLITE_TRANSIENT);
          else return sqlite3_bind_blob(s, i, x.data(), static_cast<int>(x.size()), SQLITE_TRANSIENT);
        },
        v);
    if (rc != SQLITE_OK) throw StoreError("SQL bind failed");
    ++i;
  }
}
}  // namespace

// A prepared statement from the cache (prepared once per SQL text: preparing
// costs more than running the small statements the roles use), or a fresh one
// when the cached one is in use by an enclosing query on this connection.
struct Db::Lease {
  Db& db;
  sqlite3_stmt* s = nullptr;
  Db::Cached* cached = nullptr;  // element pointers of an unordered_map stay valid
  Lease(Db& d, const std::string& sql) : db(d) {
    auto it = db.cache_.find(sql);
    if (it != db.cache_.end() && !it->second.busy) {
      cached = &it->second;
      cached->busy = true;
      s = cached->stmt;
      return;
    }
    if (sqlite3_prepare_v2(db.db_, sql.c_str(), static_cast<int>(sql.size()), &s, nullptr) != SQLITE_OK)
      throw StoreError(std::string("SQL prepare: ") + sqlite3_errmsg(db.db_));
    if (it == db.cache_.end() && db.cache_.size() < 256) cached = &db.cache_.emplace(sql, Db::Cached{s, true}).first->second;
  }
  ~Lease() {
    if (!cached) {
      sqlite3_finalize(s);
      return;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    cached->busy = false;
  }
};

std::int64_t Row::i64(int c) const { return sqlite3_column_int64(s_, c); }
std::string Row::text(int c) const {
  auto p = sqlite3_column_text(s_, c);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s_, c))) : std::string();
}
Bytes Row::blob(int c) const {
  auto p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_, c));
  return p ? Bytes(p, p + sqlite3_column_bytes(s_, c)) : Bytes();
}
bool Row::is_null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }

Db::Db(const std::string& path, bool synchronous_full) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw StoreError("cannot open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 5000);
  exec("PRAGMA journal_mode=WAL");
  exec(synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  exec("PRAGMA foreign_keys=ON");
}

Db::~Db() {
  for (auto& [sql, c] : cache_) sqlite3_finalize(c.stmt);
  sqlite3_close(db_);
}

void Db::exec(const std::string& sql) {
  std::lock_guard l(mu_);
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown";
    sqlite3_free(err);
    throw StoreError("SQL: " + msg);
  }
}

int Db::run(const std::string& sql, const std::vector<Value>& params) {
  std::lock_guard l(mu_);
  Lease st(*this, sql);
  bind_all(st.s, params);
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) throw StoreError(std::string("SQL step: ") + sqlite3_errmsg(db_));
  return sqlite3_changes(db_);
}

void Db::query(const std::string& sql, const std::vector<Value>& params, const std::function<void(const Row&)>& on_row) {
  std::lock_guard l(mu_);
  Lease st(*this, sql);
  bind_all(st.s, params);
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) on_row(Row(st.s));
  if (rc != SQLITE_DONE) throw StoreError(std::string("SQL step: ") + sqlite3_errmsg(db_));
}

std::int64_t Db::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

Transaction::Transaction(Db& db) : db_(db), lock_(db.mutex()), level_(db.tx_depth_) {
  db_.exec(level_ == 0 ? std::string("BEGIN IMMEDIATE") : "SAVEPOINT tx" + std::to_string(level_));
  ++db_.tx_depth_;
}
Transaction::~Transaction() {
  if (!done_) {
    try {
      std::string sp = "tx" + std::to_string(level_);
      db_.exec(level_ == 0 ? std::string("ROLLBACK") : "ROLLBACK TO " + sp + "; RELEASE " + sp);
    } catch (...) {
    }
    --db_.tx_depth_;
  }
}
void Transaction::commit() {
  db_.exec(level_ == 0 ? std::string("COMMIT") : "RELEASE tx" + std::to_string(level_));
  done_ = true;
  --db_.tx_depth_;
}

}  // namespace rsp::store
