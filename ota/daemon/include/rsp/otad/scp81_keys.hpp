// otad's SCP81 keys: per card the PSK-TLS identity and key its admin agent
// opens sessions with (GlobalPlatform Amendment B 3.8.2: the PSK is a key of
// the security domain, named by key version and key identifier, which the
// trigger's '85' security parameters carry).
//
// Table otad_scp81_keys in otad's SQLite file. The PSK is sealed at rest as
// the card store seals KIc/KID (AES-256-GCM under the storage key, the row's
// place as associated data), never logged, shown as a KCV only. As the
// AdminServer's PskKeySource, a lookup by identity opens the key for the
// TLS handshake (on the server's I/O threads: store::Db serialises).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "rsp/bytes.hpp"
#include "rsp/ota/scp81_admin_server.hpp"
#include "rsp/store.hpp"

namespace rsp::otad {

struct Scp81Key {
  std::string psk_identity;  // 1..128 printable ASCII characters
  std::uint8_t key_version = 0;
  std::uint8_t key_id = 0;
  SecretBytes psk;  // 16 or 32 bytes
};

struct Scp81KeyInfo {
  std::string psk_identity;
  std::uint8_t key_version = 0, key_id = 0;
  std::string psk_kcv;  // AES KCV (GlobalPlatform: first 3 bytes of E(K, 01..01))
};

class Scp81Keys : public ota::scp81::PskKeySource {
 public:
  Scp81Keys(store::Db& db, ByteView storage_key);

  // std::invalid_argument for a value out of range; DuplicateIdentity when
  // another card has the identity (the handshake names the card by it).
  void add(const std::string& iccid, const Scp81Key& k);
  std::optional<Scp81KeyInfo> info(const std::string& iccid) const;
  bool identity_taken(const std::string& psk_identity) const;
  void forget(const std::string& iccid);

  std::optional<ota::scp81::CardPsk> lookup(std::string_view psk_identity) const override;

  struct DuplicateIdentity : std::runtime_error {
    using std::runtime_error::runtime_error;
  };
  static void check(const Scp81Key& k);  // std::invalid_argument

 private:
  store::Db& db_;
  SecretBytes key_;
};

}  // namespace rsp::otad
