// `ota card`: the OTA server's card store from the command line (docs/ota.md).
#pragma once
#include <CLI/CLI.hpp>
#include <functional>

namespace rsp::ota::cli {

// Adds `card` and its subcommands to the app; returns the action to run once
// parsed (empty when `card` was not given).
std::function<std::function<int()>()> add_card_command(CLI::App& app);

}  // namespace rsp::ota::cli
