#pragma once
// Where an installed server finds its configuration (docs/operations.md,
// "Configuration lookup"), the same order for smdpd and otad: the
// --config option, else the file named by the environment variable, else the
// file under /etc/rsp -- what a systemd unit or an admin's shell expects.
#include <cstdlib>
#include <string>

namespace rsp {

// `from_option` when not empty, else $`env_var` when set and not empty,
// else `system_default`.
inline std::string config_path(const std::string& from_option, const char* env_var, const char* system_default) {
  if (!from_option.empty()) return from_option;
  const char* env = std::getenv(env_var);
  return env && *env ? env : system_default;
}

}  // namespace rsp
