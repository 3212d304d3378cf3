#include "rsp/store.hpp"

#include <sqlite3.h>

namespace rsp::store {

namespace {
struct Stmt {
  sqlite3_stmt* s = nullptr;
  Stmt(sqlite3* db, const std::string& sql) {
    if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &s, nullptr) != SQLITE_OK)
      throw StoreError(std::string("SQL prepare: ") + sqlite3_errmsg(db));
  }
  ~Stmt() { sqlite3_finalize(s); }
  void bind(const std::vector<Value>& params) {
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
};
}  // namespace

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

Db::~Db() { sqlite3_close(db_); }

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
  Stmt st(db_, sql);
  st.bind(params);
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) throw StoreError(std::string("SQL step: ") + sqlite3_errmsg(db_));
  return sqlite3_changes(db_);
}

void Db::query(const std::string& sql, const std::vector<Value>& params, const std::function<void(const Row&)>& on_row) {
  std::lock_guard l(mu_);
  Stmt st(db_, sql);
  st.bind(params);
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) on_row(Row(st.s));
  if (rc != SQLITE_DONE) throw StoreError(std::string("SQL step: ") + sqlite3_errmsg(db_));
}

std::int64_t Db::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

Transaction::Transaction(Db& db) : db_(db), lock_(db.mutex()) { db_.exec("BEGIN IMMEDIATE"); }
Transaction::~Transaction() {
  if (!done_) {
    try {
      db_.exec("ROLLBACK");
    } catch (...) {
    }
  }
}
void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace rsp::store
