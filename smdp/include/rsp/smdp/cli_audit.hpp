// smdpd's admin commands in the audit trail (issue 13), and `smdpd audit`
// to read the trail. Header-only CLI11 use, like rsp/cli.hpp.
#pragma once
#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "rsp/smdp/audit_trail.hpp"
#include "rsp/store.hpp"

namespace rsp::smdp {

// Put at smdpd's command dispatch, once the store is open. For a command that
// changes the store (anything but serve, show, list, stats, template list,
// qr, export-package, audit), it opens the transaction every change of the
// command nests in (store::Transaction savepoints) and, when the command
// returns, adds the command's audit row to it and commits: the change and its
// row are durable together or not at all. A command that throws is rolled
// back whole and leaves a `failed` row of its own. The exit code is written
// into the row when the process exits (glibc on_exit). The row holds the
// command line with the values of secret options (--cc, keys, PINs) and long
// hex strings redacted, and the local user (SUDO_USER too, when set).
class CliAudit {
 public:
  CliAudit(store::Db& db, const CLI::App& app, int argc, char** argv);
  ~CliAudit();
  CliAudit(const CliAudit&) = delete;
  CliAudit& operator=(const CliAudit&) = delete;

 private:
  store::Db& db_;
  std::optional<AuditEntry> entry_;
  std::optional<store::Transaction> tx_;
  int uncaught_ = 0;
};

// The subcommand path the user chose ("template add").
std::string chosen_command(const CLI::App& app);
// argv[1..] joined, secret values replaced by "[redacted]".
std::string redacted_arguments(int argc, char** argv);

// `smdpd audit [--since T] [--iccid X] [--json]`.
class AuditCommand {
 public:
  explicit AuditCommand(CLI::App& app);
  bool chosen() const { return cmd_->parsed(); }
  int run(store::Db& db, std::ostream& out) const;

 private:
  CLI::App* cmd_;
  std::string since_, iccid_;
  bool json_ = false;
};

}  // namespace rsp::smdp
