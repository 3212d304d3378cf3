// The multi-account UICC's state file (JSON, rewritten atomically: tmp +
// fsync + rename): the accounts, the active one, SQNms per account and the
// OTA counter per key version. Ki/OPc are sealed with AES-256-GCM (random
// 12-byte IV, the ICCID and account id as associated data) when a state key
// is given; without one they are stored in clear and the file's mode 0600
// is all that protects them (docs/multi-account-applet.md).
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "rsp/masim/multi_account_applet.hpp"

namespace rsp::masim {

struct MasimState {
  std::string iccid;
  AccountTable table;
  std::map<std::uint8_t, std::uint64_t> sqn_ms;
  std::map<std::uint8_t, std::uint64_t> ota_counters;

  // A missing file is a new state; one that does not parse or whose sealed
  // secrets do not open under `key` throws std::runtime_error.
  static MasimState load(const std::string& path, ByteView key, const std::string& iccid);
  // Throws std::runtime_error; the previous file stays as it was. "" : no-op.
  void save(const std::string& path, ByteView key) const;
};

}  // namespace rsp::masim
