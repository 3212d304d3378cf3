#include "rsp/smdp/audit_trail.hpp"

#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace rsp::smdp {

AuditTrail::AuditTrail(store::Db& db) : db_(db) {
  // CREATE IF NOT EXISTS: a store from before the table gets it when smdpd
  // (server or command) next opens it; nothing else of the schema changes.
  db_.exec(R"(
    CREATE TABLE IF NOT EXISTS audit_log (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at INTEGER NOT NULL,
      interface TEXT NOT NULL,
      actor TEXT NOT NULL DEFAULT '',
      action TEXT NOT NULL,
      iccid TEXT NOT NULL DEFAULT '',
      matching_id TEXT NOT NULL DEFAULT '',
      status TEXT NOT NULL,
      subject_code TEXT NOT NULL DEFAULT '',
      reason_code TEXT NOT NULL DEFAULT '',
      code INTEGER,
      client TEXT NOT NULL DEFAULT '',
      detail TEXT NOT NULL DEFAULT '');
    CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at);
    CREATE INDEX IF NOT EXISTS audit_log_iccid ON audit_log (iccid);
  )");
}

std::int64_t AuditTrail::record(const AuditEntry& e) {
  std::lock_guard l(db_.mutex());  // the insert and its rowid, together
  db_.run(
      "INSERT INTO audit_log (at, interface, actor, action, iccid, matching_id, status, subject_code, reason_code, "
      "code, client, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
      {e.at ? e.at : static_cast<std::int64_t>(std::time(nullptr)), e.interface, e.actor, e.action, e.iccid,
       e.matching_id, e.status, e.subject_code, e.reason_code,
       e.code ? store::Value(std::int64_t{*e.code}) : store::Value(nullptr), e.client, e.detail});
  return db_.last_insert_rowid();
}

void AuditTrail::finish(std::int64_t id, const std::string& status, std::optional<int> code) {
  db_.run("UPDATE audit_log SET status = ?, code = ? WHERE id = ?",
          {status, code ? store::Value(std::int64_t{*code}) : store::Value(nullptr), id});
}

std::vector<AuditEntry> AuditTrail::list(const AuditFilter& f) const {
  std::string sql =
      "SELECT id, at, interface, actor, action, iccid, matching_id, status, subject_code, reason_code, code, client, "
      "detail FROM audit_log WHERE at >= ?";
  std::vector<store::Value> params{f.since};
  if (!f.iccid.empty()) {
    // An ES2+ request may name a 19-digit ICCID with its padding F (pySim
    // does): both spellings are the one profile.
    std::string digits = f.iccid;
    if (digits.size() == 20 && (digits.back() == 'F' || digits.back() == 'f')) digits.pop_back();
    sql += " AND (iccid = ? OR iccid = ? OR iccid = ?)";
    params.emplace_back(digits);
    params.emplace_back(digits + "F");
    params.emplace_back(digits + "f");
  }
  std::vector<AuditEntry> out;
  db_.query(sql + " ORDER BY id", params, [&](const store::Row& r) {
    AuditEntry e;
    e.id = r.i64(0);
    e.at = r.i64(1);
    e.interface = r.text(2);
    e.actor = r.text(3);
    e.action = r.text(4);
    e.iccid = r.text(5);
    e.matching_id = r.text(6);
    e.status = r.text(7);
    e.subject_code = r.text(8);
    e.reason_code = r.text(9);
    if (!r.is_null(10)) e.code = static_cast<int>(r.i64(10));
    e.client = r.text(11);
    e.detail = r.text(12);
    out.push_back(std::move(e));
  });
  return out;
}

}  // namespace rsp::smdp
