// The visited operator's account inventory for multi-account SIMs (issue 10):
// subscriptions (IMSI in its own PLMN's range, Ki, OPc) it can hand to a home
// operator whose subscriber's card takes several accounts. Kept in the
// visited agent's SQLite file with Ki/OPc sealed at rest (AES-256-GCM under a
// storage key, AAD = the IMSI, as sim::Hss does); never logged.
//
// An account is allocated to one Request and recorded with its id before
// the Accept leaves, so a restart finds the same account again (an Accept
// never carries an account someone else has); closing the Request releases
// it.
#pragma once
#include <cstddef>
#include <optional>
#include <string>

#include "rsp/bytes.hpp"
#include "rsp/store.hpp"

namespace rsp::agents {

struct InventoryAccount {
  std::string imsi;
  SecretBytes ki, opc;  // 16 bytes each (Milenage, TS 35.206)
};

class AccountInventory {
 public:
  // `storage_key`: 32 bytes (AES-256).
  AccountInventory(store::Db& db, ByteView storage_key);

  // Adds `count` accounts with fresh Ki/OPc (crypto::random_bytes) and IMSIs
  // PLMN || MSIN (15 digits, TS 23.003 2.2), the MSIN counting up from
  // `first_msin`. An IMSI already there is kept as it is. Returns how many
  // were added.
  std::size_t generate(const std::string& plmn, std::size_t count, std::uint64_t first_msin = 1);
  // Adds one account with the given keys (from a SIM vendor's file).
  void add(const std::string& imsi, ByteView ki, ByteView opc);

  // The account allocated to `request_id`, allocating a free one first if it
  // has none. nullopt when the inventory is exhausted.
  std::optional<InventoryAccount> allocate(const std::string& request_id);
  // The account allocated to `request_id`, if any (no allocation).
  std::optional<InventoryAccount> allocated(const std::string& request_id);
  // Frees the Request's account (the Request was closed before use).
  void release(const std::string& request_id);
  std::size_t free_count();

 private:
  InventoryAccount open(const std::string& imsi, ByteView blob) const;
  store::Db& db_;
  SecretBytes key_;
};

}  // namespace rsp::agents
