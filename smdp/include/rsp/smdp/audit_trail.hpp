// The audit trail (issue 13): one row per operator action on the SM-DP+,
// each ES2+ call (SGP.22 5.3) and each state-changing admin command of
// smdpd, in the store's `audit_log` table. A row never holds key material:
// ES2+ rows carry identifiers only (ICCID, matching id, status codes), CLI
// rows the command's arguments with secret values redacted.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rsp/store.hpp"

namespace rsp::smdp {

struct AuditEntry {
  std::int64_t id = 0;
  std::int64_t at = 0;    // Unix seconds
  std::string interface;  // "ES2+" or "cli"
  std::string actor;      // the operator id of the client certificate (ES2+), the local user (cli)
  std::string action;     // ES2+ function ("downloadOrder"), or the command ("template add")
  std::string iccid, matching_id;
  // ES2+: Executed-Success, Failed (SGP.22 6.5.1.4, with subject/reason
  // code), Refused (not executed: HTTP error, `code` is its status), Error
  // (internal error). cli: ok, failed, started (the process ended before it
  // could say: killed, or crashed).
  std::string status;
  std::string subject_code, reason_code;
  std::optional<int> code;  // HTTP status (ES2+), exit code (cli)
  std::string client;       // the client's address and port (ES2+)
  std::string detail;       // cli: arguments (secrets redacted); ES2+: why a call was refused
};

struct AuditFilter {
  std::int64_t since = 0;  // Unix seconds, inclusive
  std::string iccid;       // exact, or the 19 digits of a 20-character ICCID with its padding F
};

class AuditTrail {
 public:
  // Creates the table in stores made before it existed.
  explicit AuditTrail(store::Db& db);

  // Inserts a row; inside the caller's transaction when one is open (so it
  // commits, or not, with the change it records). Returns its id.
  std::int64_t record(const AuditEntry& e);
  // Sets the outcome of a row written before the outcome was known.
  void finish(std::int64_t id, const std::string& status, std::optional<int> code);
  std::vector<AuditEntry> list(const AuditFilter& f) const;

  store::Db& db() { return db_; }

 private:
  store::Db& db_;
};

}  // namespace rsp::smdp
