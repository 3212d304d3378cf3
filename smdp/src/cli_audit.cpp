#include "rsp/smdp/cli_audit.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "rsp/log.hpp"
#include "rsp/time_text.hpp"

namespace rsp::smdp {

namespace {

// Commands that change nothing in the store: not operator actions to audit.
bool read_only(const std::string& command) {
  static const std::set<std::string> names = {"serve", "show", "list", "stats", "template list", "qr",
                                              "export-package", "audit"};
  if (names.count(command)) return true;
  auto last = command.substr(command.rfind(' ') == std::string::npos ? 0 : command.rfind(' ') + 1);
  return last == "list" || last == "show" || last == "stats";
}

// Options whose value is a secret (a confirmation code, a key, a PIN):
// their values never reach the audit row.
bool secret_option(const std::string& name) {
  static const std::vector<std::string> stems = {"--cc", "--confirmation-code", "--ki", "--opc", "--key", "--psk",
                                                 "--pin", "--puk", "--adm", "--password", "--secret", "--storage-key"};
  for (const auto& s : stems)
    if (name == s || (name.rfind(s, 0) == 0 && name.size() > s.size() &&
                      (name[s.size()] == '-' || std::isdigit(static_cast<unsigned char>(name[s.size()])))))
      return true;  // --pin, --pin1, --pin-file
  return false;
}

// Key material typed on the command line by mistake (a Ki, an AES key) is
// long hex: redacted whatever option it follows. All decimal digits is an
// ICCID or an EID (32 digits), which the row must keep.
bool looks_like_key(const std::string& v) {
  return v.size() >= 32 && v.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos &&
         v.find_first_not_of("0123456789") != std::string::npos;
}

std::string local_user() {
  std::string user;
  if (const passwd* pw = getpwuid(getuid())) user = pw->pw_name;
  else user = "uid " + std::to_string(getuid());
  if (const char* sudo = std::getenv("SUDO_USER"); sudo && *sudo && user != sudo) user += " (sudo by " + std::string(sudo) + ")";
  return user;
}

// The exit status reaches the row through glibc's on_exit, the one place that
// sees main's return value whatever path the command took.
struct PendingExit {
  std::string db_path;
  std::int64_t row = 0;
};
PendingExit* g_pending = nullptr;

void record_exit_status(int status, void*) {
  if (!g_pending) return;
  try {
    store::Db db(g_pending->db_path);
    db.run("UPDATE audit_log SET code = ?, status = CASE WHEN ? = 0 THEN status ELSE 'failed' END WHERE id = ?",
           {std::int64_t{status}, std::int64_t{status}, g_pending->row});
  } catch (const std::exception& e) {
    std::cerr << "smdpd: the audit row's exit code was not written: " << e.what() << "\n";
  }
}

void expect_exit_status(store::Db& db, std::int64_t row) {
  static PendingExit pending;
  if (db.is_postgres())
    pending.db_path = db.path();  // the same database from any working directory
  else
    db.query("SELECT file FROM pragma_database_list WHERE name = 'main'", {},
             [&](const store::Row& r) { pending.db_path = r.text(0); });
  if (pending.db_path.empty()) return;  // an in-memory store: nobody reads it after exit
  pending.row = row;
  if (!g_pending) on_exit(record_exit_status, nullptr);
  g_pending = &pending;
}

std::string option_value(int argc, char** argv, const std::string& name) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == name && i + 1 < argc) return argv[i + 1];
    if (a.rfind(name + "=", 0) == 0) return a.substr(name.size() + 1);
  }
  return {};
}

}  // namespace

std::string chosen_command(const CLI::App& app) {
  std::string out;
  const CLI::App* at = &app;
  for (;;) {
    auto subs = at->get_subcommands();
    if (subs.empty()) break;
    at = subs.front();
    out += (out.empty() ? "" : " ") + at->get_name();
  }
  return out;
}

std::string redacted_arguments(int argc, char** argv) {
  std::string out;
  bool hide_next = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i], shown = a;
    if (hide_next) {
      shown = "[redacted]";
      hide_next = false;
    } else if (a.rfind("--", 0) == 0) {
      auto eq = a.find('=');
      if (secret_option(a.substr(0, eq))) {
        if (eq == std::string::npos) hide_next = true;
        else shown = a.substr(0, eq + 1) + "[redacted]";
      }
    } else if (looks_like_key(a)) {
      shown = "[redacted]";
    }
    out += (out.empty() ? "" : " ") + shown;
  }
  return out;
}

CliAudit::CliAudit(store::Db& db, const CLI::App& app, int argc, char** argv) : db_(db) {
  std::string command = chosen_command(app);
  if (command.empty() || read_only(command)) return;
  AuditTrail trail(db_);  // creates the table in an older store
  AuditEntry e;
  e.at = static_cast<std::int64_t>(std::time(nullptr));
  e.interface = "cli";
  e.actor = local_user();
  e.action = command;
  e.iccid = option_value(argc, argv, "--iccid");
  e.matching_id = option_value(argc, argv, "--matching-id");
  e.detail = redacted_arguments(argc, argv);
  entry_ = std::move(e);
  tx_.emplace(db_);
  uncaught_ = std::uncaught_exceptions();
}

CliAudit::~CliAudit() {
  if (!entry_) return;
  AuditTrail trail(db_);
  if (std::uncaught_exceptions() > uncaught_) {
    // The command failed: everything it did is undone, and the attempt is
    // recorded on its own.
    tx_.reset();
    try {
      entry_->status = "failed";
      expect_exit_status(db_, trail.record(*entry_));
    } catch (const std::exception& x) {
      std::cerr << "smdpd: the audit row of the failed command was not written: " << x.what() << "\n";
    }
    return;
  }
  try {
    entry_->status = "ok";
    std::int64_t row = trail.record(*entry_);
    tx_->commit();
    expect_exit_status(db_, row);
  } catch (const std::exception& x) {
    // The command's change is not stored either (one transaction): say so
    // and do not exit 0 after its output claimed success.
    std::cout.flush();
    std::cerr << "smdpd: nothing was stored: the change and its audit row could not be committed: " << x.what()
              << "\n";
    std::_Exit(1);
  }
}

AuditCommand::AuditCommand(CLI::App& app) {
  cmd_ = app.add_subcommand("audit", "the audit trail: every ES2+ call and state-changing admin command (docs/smdp.md)");
  cmd_->add_option("--since", since_, "from this time on: ISO 8601 (2026-12-03T10:15:00Z, 2026-12-03, +01:00 offsets; UTC if none) or Unix seconds");
  cmd_->add_option("--iccid", iccid_, "only rows naming this ICCID");
  cmd_->add_flag("--json", json_, "one JSON array of rows");
}

int AuditCommand::run(store::Db& db, std::ostream& out) const {
  AuditFilter f;
  if (!since_.empty()) f.since = time_text::parse(since_);
  f.iccid = iccid_;
  auto rows = AuditTrail(db).list(f);
  if (json_) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& e : rows) {
      nlohmann::json j = {{"id", e.id},         {"at", time_text::iso8601_utc(e.at)}, {"interface", e.interface},
                          {"actor", e.actor},   {"action", e.action},            {"iccid", e.iccid},
                          {"matchingId", e.matching_id}, {"status", e.status},   {"client", e.client},
                          {"detail", e.detail}};
      if (!e.subject_code.empty()) j["subjectCode"] = e.subject_code, j["reasonCode"] = e.reason_code;
      j["code"] = e.code ? nlohmann::json(*e.code) : nlohmann::json(nullptr);
      a.push_back(std::move(j));
    }
    out << a.dump(1) << "\n";
    return 0;
  }
  auto dash = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
  for (const auto& e : rows) {
    std::string result = e.status;
    if (!e.subject_code.empty()) result += " " + e.subject_code + "/" + e.reason_code;
    if (e.code) result += (e.interface == "cli" ? " exit " : " http ") + std::to_string(*e.code);
    out << time_text::iso8601_utc(e.at) << "  " << e.interface << "  " << dash(e.actor) << "  " << e.action << "  "
        << "iccid " << dash(e.iccid) << "  matchingId " << dash(e.matching_id) << "  " << result << "  "
        << dash(e.client) << "  " << dash(e.detail) << "\n";
  }
  return 0;
}

}  // namespace rsp::smdp
