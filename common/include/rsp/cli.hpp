#pragma once
// The command-line conventions every program in the project follows
// (docs/operations.md, issue 13): --version prints rsp::version_line and
// exits 0; --help exits 0; any usage error (unknown option, missing or
// invalid value) prints CLI11's message on stderr and exits 2, instead of
// CLI11's own 100-127 range, so scripts see one usage code across tools.
//
// Header-only on purpose: the programs already include CLI11 (a header-only
// Debian package, libcli11-dev) and rsp_common does not depend on it.
#include <CLI/CLI.hpp>

#include <optional>
#include <string_view>

#include "rsp/version.hpp"

namespace rsp::cli {

// The exit codes shared by every program (docs/operations.md has the table;
// codes above 2 are per program and listed there).
inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;
inline constexpr int exit_usage = 2;

// Every option's default shown in --help ("--port UINT=8443"), once for all
// tools (issue 13): the value the bound variable holds before parsing is the
// default. Flags and options that say theirs already are left alone; empty
// values and empty lists show nothing.
inline void show_defaults(CLI::App& app) {
  for (CLI::Option* o : app.get_options()) {
    if (o->get_expected_min() == 0 || !o->get_default_str().empty()) continue;
    o->capture_default_str();
    if (o->get_default_str() == "[]" || o->get_default_str() == "\"\"") o->default_str("");
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) show_defaults(*sub);
}

// Adds --version, parses, and returns the exit code when the program must
// stop now (help, version, usage error); std::nullopt to go on. Use as
//   if (auto rc = rsp::cli::parse(app, argc, argv, "smdpd")) return *rc;
inline std::optional<int> parse(CLI::App& app, int argc, char** argv, std::string_view program) {
  app.set_version_flag("--version", version_line(program), "print the version and git revision, then exit");
  show_defaults(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // app.exit prints help/version on stdout and errors on stderr.
    int rc = app.exit(e);
    return rc == 0 ? exit_ok : exit_usage;
  }
  return std::nullopt;
}

}  // namespace rsp::cli
