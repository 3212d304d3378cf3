#include "rsp/store.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <array>
#include <cctype>
#include <cstring>
#include <regex>

namespace rsp::store {

bool is_postgres_uri(std::string_view path) {
  return path.rfind("postgresql://", 0) == 0 || path.rfind("postgres://", 0) == 0;
}

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

// ---- PostgreSQL (a postgresql:// path) -------------------------------------
// One connection per Db, like the SQLite engine; statements prepared once per
// connection (PQprepare), cached by SQL text and parameter types. The roles'
// SQL is written once, in SQLite's dialect; translate() rewrites the few
// differences it uses (docs/smdp.md lists them).

struct PgRow {
  const PGresult* res;
  int row;
};

namespace {
struct PgClear {
  void operator()(PGresult* r) const { PQclear(r); }
};
// Type OIDs of the results (pg_type.h; stable across PostgreSQL versions).
constexpr Oid kBoolOid = 16, kByteaOid = 17, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23, kFloat4Oid = 700,
              kFloat8Oid = 701, kNumericOid = 1700;

std::uint64_t big_endian(const char* p, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = v << 8 | static_cast<std::uint8_t>(p[i]);
  return v;
}

// The integer part of a NUMERIC in binary form (SUM over BIGINT gives one):
// int16 ndigits, weight, sign, dscale, then base-10000 digits.
std::int64_t numeric_integer(const char* p, int len) {
  if (len < 8) return 0;
  int ndigits = static_cast<std::int16_t>(big_endian(p, 2));
  int weight = static_cast<std::int16_t>(big_endian(p + 2, 2));
  auto sign = static_cast<std::uint16_t>(big_endian(p + 4, 2));
  std::int64_t v = 0;
  for (int i = 0; i <= weight; ++i) {
    int digit = i < ndigits && 8 + 2 * i + 2 <= len ? static_cast<std::int16_t>(big_endian(p + 8 + 2 * i, 2)) : 0;
    v = v * 10000 + digit;
  }
  return sign == 0x4000 ? -v : v;
}

bool is_number_oid(Oid t) {
  return t == kInt8Oid || t == kInt4Oid || t == kInt2Oid || t == kBoolOid || t == kNumericOid || t == kFloat4Oid ||
         t == kFloat8Oid;
}

std::string replace_regex(const std::string& s, const char* pattern, const std::string& with) {
  return std::regex_replace(s, std::regex(pattern, std::regex::icase), with);
}
}  // namespace

using PgResult = std::unique_ptr<PGresult, PgClear>;

namespace {
// Results come in binary form: bytea as its bytes, integers as int8/int4.
std::int64_t pg_i64(const PgRow& r, int c) {
  if (PQgetisnull(r.res, r.row, c)) return 0;
  const char* p = PQgetvalue(r.res, r.row, c);
  int len = PQgetlength(r.res, r.row, c);
  switch (PQftype(r.res, c)) {
    case kInt8Oid: return static_cast<std::int64_t>(big_endian(p, 8));
    case kInt4Oid: return static_cast<std::int32_t>(big_endian(p, 4));
    case kInt2Oid: return static_cast<std::int16_t>(big_endian(p, 2));
    case kBoolOid: return p[0] ? 1 : 0;
    case kNumericOid: return numeric_integer(p, len);
    case kFloat8Oid: {
      std::uint64_t u = big_endian(p, 8);
      double d;
      std::memcpy(&d, &u, sizeof d);
      return static_cast<std::int64_t>(d);
    }
    case kFloat4Oid: {
      auto u = static_cast<std::uint32_t>(big_endian(p, 4));
      float f;
      std::memcpy(&f, &u, sizeof f);
      return static_cast<std::int64_t>(f);
    }
    default: return std::strtoll(std::string(p, static_cast<std::size_t>(len)).c_str(), nullptr, 10);
  }
}
std::string pg_text(const PgRow& r, int c) {
  if (PQgetisnull(r.res, r.row, c)) return {};
  if (is_number_oid(PQftype(r.res, c))) return std::to_string(pg_i64(r, c));  // as SQLite converts
  return std::string(PQgetvalue(r.res, r.row, c), static_cast<std::size_t>(PQgetlength(r.res, r.row, c)));
}
Bytes pg_blob(const PgRow& r, int c) {
  if (PQgetisnull(r.res, r.row, c)) return {};
  if (is_number_oid(PQftype(r.res, c))) return to_bytes(pg_text(r, c));
  auto p = reinterpret_cast<const std::uint8_t*>(PQgetvalue(r.res, r.row, c));
  return Bytes(p, p + PQgetlength(r.res, r.row, c));
}
}  // namespace

struct Db::Pg {
  // Any constant: one key for every writer on the database (see store.hpp).
  static constexpr const char* kBegin = "BEGIN; SELECT pg_advisory_xact_lock(1381191729)";
  PGconn* conn = nullptr;
  std::unordered_map<std::string, std::string> prepared;  // SQL text + parameter types -> statement name
  std::unordered_map<std::string, std::string> primary_keys;  // table -> "col, col"
  int next_name = 0;

  explicit Pg(const std::string& uri) {
    conn = PQconnectdb(uri.c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
      // libpq's message names host, port and user, never the password.
      std::string msg = conn ? error_text(PQerrorMessage(conn)) : "out of memory";
      PQfinish(conn);
      throw StoreError("cannot connect to PostgreSQL: " + msg);
    }
    // CREATE ... IF NOT EXISTS says NOTICE "already exists, skipping" each time.
    PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  }
  ~Pg() { PQfinish(conn); }

  static std::string error_text(const char* m) {
    std::string s = m ? m : "unknown error";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }
  // The primary message only: DETAIL lines quote key values (an ICCID, a
  // matching id), which do not belong in logs.
  std::string result_error(const PGresult* r) const {
    if (PQstatus(conn) == CONNECTION_BAD) return "connection to PostgreSQL lost: " + error_text(PQerrorMessage(conn));
    const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    return error_text(primary ? primary : PQerrorMessage(conn));
  }
  void check(const PGresult* r, const char* what, bool in_tx) {
    auto st = PQresultStatus(r);
    if (r && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)) return;
    std::string msg = std::string(what) + ": " + result_error(r);
    // Outside a Transaction nothing may stay open (a failed multi-statement
    // exec leaves its BEGIN behind).
    if (!in_tx && PQtransactionStatus(conn) != PQTRANS_IDLE && PQstatus(conn) == CONNECTION_OK)
      PQclear(PQexec(conn, "ROLLBACK"));
    throw StoreError(msg);
  }
  // A lost connection is opened again before the next statement outside a
  // transaction (inside one the transaction is lost with it: the caller sees
  // the error, and the Transaction's rollback finds nothing to undo).
  void reconnect_if_lost(bool in_tx) {
    if (PQstatus(conn) == CONNECTION_OK || in_tx) return;
    PQreset(conn);
    prepared.clear();
    if (PQstatus(conn) != CONNECTION_OK)
      throw StoreError("connection to PostgreSQL lost: " + error_text(PQerrorMessage(conn)));
  }

  std::string primary_key(const std::string& table) {
    auto it = primary_keys.find(table);
    if (it != primary_keys.end()) return it->second;
    const char* v[] = {table.c_str()};
    PgResult r(PQexecParams(conn,
                            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = $1::regclass AND i.indisprimary",
                            1, nullptr, v, nullptr, nullptr, 0));
    check(r.get(), "SQL", true);
    std::string cols;
    for (int i = 0; i < PQntuples(r.get()); ++i) cols += (cols.empty() ? "" : ", ") + std::string(PQgetvalue(r.get(), i, 0));
    if (cols.empty()) throw StoreError("SQL: INSERT OR REPLACE into " + table + ", which has no primary key");
    return primary_keys[table] = cols;
  }

  // SQLite's dialect, as the roles write it, to PostgreSQL's.
  std::string translate(const std::string& sqlite_sql) {
    std::string s = sqlite_sql;
    // Forms that hold string literals first.
    s = replace_regex(s, R"(strftime\('%s',\s*'now'\))", "CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)");
    s = replace_regex(s, R"(pragma_table_info\('(\w+)'\))",
                      "(SELECT column_name::text AS name FROM information_schema.columns "
                      "WHERE table_schema = current_schema() AND table_name = '$1') AS pragma_table_info");
    s = replace_regex(s, R"(\bsqlite_master\b)",
                      "(SELECT 'table'::text AS type, table_name::text AS name FROM information_schema.tables "
                      "WHERE table_schema = current_schema()) AS sqlite_master");
    // Outside string literals: ? -> $n, and the DDL types (INTEGER is 32 bits
    // in PostgreSQL; the roles keep epoch milliseconds in theirs).
    std::string out, code;
    int n = 0;
    auto flush = [&] {
      std::string c;
      for (char ch : code) {
        if (ch == '?') c += "$" + std::to_string(++n);
        else c += ch;
      }
      c = replace_regex(c, R"(\bINTEGER\s+PRIMARY\s+KEY\s+AUTOINCREMENT\b)",
                        "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
      c = replace_regex(c, R"(\bINTEGER\b)", "BIGINT");
      c = replace_regex(c, R"(\bBLOB\b)", "BYTEA");
      out += c;
      code.clear();
    };
    for (std::size_t i = 0; i < s.size();) {
      if (s[i] != '\'') {
        code += s[i++];
        continue;
      }
      flush();
      std::size_t j = i + 1;
      while (j < s.size() && (s[j] != '\'' || (j + 1 < s.size() && s[j + 1] == '\'' && ++j))) ++j;
      out.append(s, i, j + 1 - i);
      i = j + 1;
    }
    flush();
    // INSERT OR IGNORE / OR REPLACE: ON CONFLICT on the table's primary key
    // (the only unique key of the tables written this way).
    std::smatch m;
    static const std::regex insert_or(R"(^\s*INSERT\s+OR\s+(IGNORE|REPLACE)\s+INTO\s+(\w+)\s*\(([^)]*)\))", std::regex::icase);
    if (std::regex_search(out, m, insert_or)) {
      bool replace = (m[1].str()[0] | 0x20) == 'r';
      std::string table = m[2].str(), columns = m[3].str();
      std::string tail = out.substr(static_cast<std::size_t>(m.position(0) + m.length(0)));
      while (!tail.empty() && (tail.back() == ';' || std::isspace(static_cast<unsigned char>(tail.back())))) tail.pop_back();
      std::string conflict = " ON CONFLICT DO NOTHING";
      if (replace) {
        std::string pk = primary_key(table), set;
        std::regex comma(R"(\s*,\s*)");
        std::string pk_list = "," + std::regex_replace(pk, comma, ",") + ",";
        for (std::sregex_token_iterator it(columns.begin(), columns.end(), comma, -1), end; it != end; ++it) {
          std::string col = std::regex_replace(it->str(), std::regex(R"(^\s+|\s+$)"), "");
          if (col.empty() || pk_list.find("," + col + ",") != std::string::npos) continue;
          set += (set.empty() ? "" : ", ") + col + " = EXCLUDED." + col;
        }
        conflict = " ON CONFLICT (" + pk + ") " + (set.empty() ? "DO NOTHING" : "DO UPDATE SET " + set);
      }
      out = "INSERT INTO " + table + " (" + columns + ")" + tail + conflict;
    }
    return out;
  }

  void exec(const std::string& sql, bool in_tx) {
    reconnect_if_lost(in_tx);
    std::string pgsql = sql == kBegin ? sql : translate(sql);
    // Schema changes outside a transaction take the writers' lock: two
    // instances starting together would otherwise race on CREATE TABLE.
    // (CREATE DATABASE cannot run in a transaction.)
    static const std::regex ddl(R"(^\s*(CREATE|ALTER|DROP)\s+(?!DATABASE))", std::regex::icase);
    bool wrapped = !in_tx && std::regex_search(sql, ddl);
    if (wrapped) pgsql = std::string(kBegin) + "; " + pgsql + "; COMMIT";
    PgResult r(PQexec(conn, pgsql.c_str()));
    check(r.get(), "SQL", in_tx && !wrapped);
    // COMMIT of a transaction a failed statement aborted answers ROLLBACK
    // without an error: the caller must hear that nothing was written.
    static const std::regex commit(R"(^\s*COMMIT\s*;?\s*$)", std::regex::icase);
    if ((wrapped || std::regex_search(sql, commit)) && std::strcmp(PQcmdStatus(r.get()), "COMMIT") != 0)
      throw StoreError("SQL: the transaction was rolled back (an earlier statement in it failed)");
  }

  PgResult execute(const std::string& sql, const std::vector<Value>& params, bool in_tx) {
    reconnect_if_lost(in_tx);
    std::string key = sql;
    key += '\0';
    std::vector<Oid> types;
    for (const auto& v : params) {
      // Strings and NULLs: type left to the server (from the column they meet).
      Oid t = std::holds_alternative<std::int64_t>(v) ? kInt8Oid
              : std::holds_alternative<double>(v)     ? kFloat8Oid
              : std::holds_alternative<Bytes>(v)      ? kByteaOid
                                                      : 0;
      types.push_back(t);
      key += std::to_string(t) + ",";
    }
    std::string name;
    if (auto it = prepared.find(key); it != prepared.end()) {
      name = it->second;
    } else {
      std::string pgsql = translate(sql);
      name = "rsp" + std::to_string(++next_name);
      PgResult r(PQprepare(conn, name.c_str(), pgsql.c_str(), static_cast<int>(types.size()), types.data()));
      check(r.get(), "SQL prepare", in_tx);
      prepared.emplace(key, name);
    }
    int n = static_cast<int>(params.size());
    std::vector<const char*> values(params.size());
    std::vector<int> lengths(params.size()), formats(params.size());
    std::vector<std::array<char, 8>> numbers(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
      std::visit(
          [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::nullptr_t>) {
              values[i] = nullptr;
            } else if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, double>) {
              std::uint64_t u;
              std::memcpy(&u, &x, 8);
              for (int b = 0; b < 8; ++b) numbers[i][static_cast<std::size_t>(b)] = static_cast<char>(u >> (56 - 8 * b));
              values[i] = numbers[i].data();
              lengths[i] = 8;
              formats[i] = 1;
            } else if constexpr (std::is_same_v<T, std::string>) {
              values[i] = x.c_str();  // text format
            } else {
              values[i] = x.empty() ? "" : reinterpret_cast<const char*>(x.data());
              lengths[i] = static_cast<int>(x.size());
              formats[i] = 1;
            }
          },
          params[i]);
    }
    PgResult r(PQexecPrepared(conn, name.c_str(), n, values.data(), lengths.data(), formats.data(), 1));
    check(r.get(), "SQL", in_tx);
    return r;
  }
};

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

std::int64_t Row::i64(int c) const {
  if (p_) return pg_i64(*p_, c);
  return sqlite3_column_int64(s_, c);
}
std::string Row::text(int c) const {
  if (p_) return pg_text(*p_, c);
  auto p = sqlite3_column_text(s_, c);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s_, c))) : std::string();
}
Bytes Row::blob(int c) const {
  if (p_) return pg_blob(*p_, c);
  auto p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_, c));
  return p ? Bytes(p, p + sqlite3_column_bytes(s_, c)) : Bytes();
}
bool Row::is_null(int c) const {
  if (p_) return PQgetisnull(p_->res, p_->row, c) != 0;
  return sqlite3_column_type(s_, c) == SQLITE_NULL;
}

Db::Db(const std::string& path, bool synchronous_full) : path_(path) {
  if (is_postgres_uri(path)) {
    pg_ = std::make_unique<Pg>(path);
    return;
  }
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
  if (pg_) return;  // ~Pg closes the connection
  for (auto& [sql, c] : cache_) sqlite3_finalize(c.stmt);
  sqlite3_close(db_);
}

void Db::exec(const std::string& sql) {
  std::lock_guard l(mu_);
  if (pg_) return pg_->exec(sql, tx_depth_ > 0);
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown";
    sqlite3_free(err);
    throw StoreError("SQL: " + msg);
  }
}

int Db::run(const std::string& sql, const std::vector<Value>& params) {
  std::lock_guard l(mu_);
  if (pg_) {
    PgResult r = pg_->execute(sql, params, tx_depth_ > 0);
    const char* n = PQcmdTuples(r.get());
    return n && *n ? std::atoi(n) : 0;
  }
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
  if (pg_) {
    // The whole result is in memory: on_row may run other statements.
    PgResult r = pg_->execute(sql, params, tx_depth_ > 0);
    PgRow row{r.get(), 0};
    for (int n = PQntuples(r.get()); row.row < n; ++row.row) on_row(Row(&row));
    return;
  }
  Lease st(*this, sql);
  bind_all(st.s, params);
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) on_row(Row(st.s));
  if (rc != SQLITE_DONE) throw StoreError(std::string("SQL step: ") + sqlite3_errmsg(db_));
}

std::int64_t Db::last_insert_rowid() const {
  if (pg_) {
    // lastval(): the identity value the last INSERT on this connection drew,
    // as sqlite3_last_insert_rowid is per connection.
    std::lock_guard l(const_cast<std::recursive_mutex&>(mu_));
    PgResult r = pg_->execute("SELECT lastval()", {}, tx_depth_ > 0);
    PgRow row{r.get(), 0};
    return PQntuples(r.get()) ? pg_i64(row, 0) : 0;
  }
  return sqlite3_last_insert_rowid(db_);
}

Transaction::Transaction(Db& db) : db_(db), lock_(db.mutex()), level_(db.tx_depth_) {
  if (level_ == 0 && db_.pg_)
    db_.pg_->exec(Db::Pg::kBegin, false);  // BEGIN + the writers' advisory lock (see store.hpp)
  else
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
