// Card content management flows over an open Session (GP 2.3.1 chapter 9):
// list the registry with GET STATUS (following 6310), load a CAP file
// (INSTALL [for load] then LOAD blocks), install, delete, put a key set.
// What the CLI runs, and what tests run against the simulated card manager.
#pragma once
#include <vector>

#include "rsp/gp/cap_file.hpp"
#include "rsp/gp/commands.hpp"
#include "rsp/gp/dap.hpp"
#include "rsp/gp/session.hpp"

namespace rsp::gp {

// All entries of one scope, following "more data" (6310) with P2 03; a card
// that has none answers 6A88, which gives an empty list.
std::vector<RegistryEntry> get_status_all(Session& s, StatusScope scope);
// ISD, applications/SDs, then load files with their modules (or without, for cards without P1=10).
std::vector<RegistryEntry> list_registry(Session& s);

// A DAP for a load (dap.hpp): the security domain that verifies it, the
// P-256 private key it signs with, and the hash INSTALL [for load] carries.
struct LoadDap {
  Bytes sd_aid;
  const crypto::EcKey* key = nullptr;
  LoadFileHash hash = LoadFileHash::Sha256;
};

// INSTALL [for load] and the LOAD blocks of `cap` (11.5, 11.6). With `dap`:
// the Load File Data Block Hash in INSTALL [for load] and the DAP block in
// front of C4 (GP 2.3.1 9.2.1).
void load_cap(Session& s, const CapFile& cap, ByteView sd_aid = {}, std::size_t block_size = 200,
              const LoadDap* dap = nullptr);

// New key set: ENC, MAC, DEK with ids 1..3 (11.8), enciphered with the
// session's key-encryption key. `replace_version` 0 adds a key set.
// Returns the card's answer (new KVN and check values), already compared with ours.
Bytes put_key_set(Session& s, const StaticKeys& keys, std::uint8_t new_version, std::uint8_t replace_version,
                  std::uint8_t key_type);

}  // namespace rsp::gp
