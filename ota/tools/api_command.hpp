// `ota api` and `ota campaign`: otad's operator API from the command line
// (docs/ota.md, "The operator API"), over HTTPS with our client certificate.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>

namespace rsp::ota::cli {

// Adds `api` and `campaign`; returns the action to run once parsed (empty
// when neither was given).
std::function<std::function<int()>()> add_api_command(CLI::App& app);

}  // namespace rsp::ota::cli
