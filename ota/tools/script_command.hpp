// `ota script`: TS 102 226 command scripts built and response scripts read
// from the command line (script_command.cpp).
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <ostream>

#include "rsp/ota/command_script.hpp"

namespace rsp::ota::cli {
// Registers `script` on the app; the returned function, after parsing,
// gives the action to run (or none when `script` was not used).
std::function<std::function<int()>()> add_script_command(CLI::App& app);
// "executed: N", then "R-APDU: HEX" per response TLV (and "bad format: XX").
void print_response_script(std::ostream& out, const ResponseScript& r);
}  // namespace rsp::ota::cli
