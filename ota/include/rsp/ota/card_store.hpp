// The OTA server's card store: per card (ICCID) its key sets (KIc/KID of one
// key version, ETSI TS 102 225 Annex A), its TARs with their minimum security
// level (TS 102 226), and the counter of each key set (TS 102 225 5.1.1).
//
// SQLite through rsp::store. Keys are encrypted at rest with the storage key
// exactly as the SM-DP+ keeps profiles (AES-256-GCM, a random 12-byte IV per
// value, the value's place as associated data); they never leave this class
// except inside a KeySet handed to the packet builder, and are shown as key
// check values (KCV) only.
//
// Counters: reserve_command_packet moves the key set's counter forward, builds
// the packet with it and commits both in one transaction before returning the
// packet, so no packet can leave with a counter the store has not made
// durable. A retry of the same logical command (same command id) gets the
// very same packet bytes back, never a new counter; docs/ota.md says why.
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "rsp/bytes.hpp"
#include "rsp/ota/command_packet.hpp"
#include "rsp/ota/key_set.hpp"
#include "rsp/ota/response_packet.hpp"
#include "rsp/store.hpp"

namespace rsp::ota {

struct UnknownCard : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct DuplicateCard : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Everything else the store refuses (a duplicate key set or TAR, an unknown
// key version or TAR, a counter at FFFFFFFFFF, a command id reused for other
// content, an SPI below the TAR's MSL).
struct CardStoreError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A TAR the server addresses on a card, with the minimum security level its
// application demands (SPI first-byte coding, TS 102 226 8.2.1.3.2.4) and the
// key version the server secures its packets with.
struct CardTar {
  Tar tar{};
  std::uint8_t msl = 0;
  std::uint8_t key_version = 1;
};

// What `show` gives out about a key set: never the keys.
struct KeySetInfo {
  std::uint8_t version = 0;
  Algorithm cipher = Algorithm::Implicit, checksum = Algorithm::Implicit;
  std::size_t kic_length = 0, kid_length = 0;
  std::string kic_kcv, kid_kcv;  // hex, empty when there is no key
  std::uint64_t counter = 0;     // the last counter the server used (or the card's starting value)
};

struct CardInfo {
  std::string iccid;
  std::vector<KeySetInfo> key_sets;
  std::vector<CardTar> tars;
};

// One logical command to a card: the application (TAR), the security the
// server asks for (SPI; KIc/KID follow from the TAR's key set), the data.
struct CommandRequest {
  std::string iccid;
  Tar tar{};
  Spi spi;
  Bytes secured_data;
  std::size_t checksum_length = 0;  // as CommandPacket
  std::string command_id;           // identifies the logical command across retries; "" = never retried
};

struct ReservedPacket {
  std::uint8_t key_version = 0;
  std::uint64_t cntr = 0;
  Bytes packet;         // the command packet, CPL onwards
  bool retry = false;   // the command id had been reserved before: these are its original bytes
};

// The key check value of a key: the first three bytes of the key enciphering
// 16 bytes of 01 (AES) or 8 bytes of 00 (DES, 3DES) in ECB, as GlobalPlatform
// Card Specification. Empty for an empty key, a CRC, or an "implicit" algorithm.
std::string key_check_value(Algorithm a, ByteView key);

class CardStore {
 public:
  // The storage key is the 32-byte AES-256 key of the SM-DP+'s store.
  CardStore(store::Db& db, ByteView storage_key);

  // A card, with key sets and TARs if given, in one transaction: all or
  // nothing. DuplicateCard; std::invalid_argument for a key that does not fit
  // its algorithm.
  struct NewKeySet {
    KeySet keys;
    std::uint64_t counter = 0;
  };
  void add_card(const std::string& iccid, const std::vector<NewKeySet>& key_sets = {},
                const std::vector<CardTar>& tars = {});
  void add_key_set(const std::string& iccid, const KeySet& k, std::uint64_t counter = 0);
  void add_tar(const std::string& iccid, const CardTar& t);
  void delete_card(const std::string& iccid);               // UnknownCard; its keys, TARs and packets go with it
  CardInfo show(const std::string& iccid) const;            // UnknownCard
  std::vector<std::string> list() const;

  // Reserves the next counter of the key set the TAR names, builds the packet
  // with it and commits both; with a command id seen before, returns the
  // packet stored then (and checks the request is the same).
  ReservedPacket reserve_command_packet(const CommandRequest& r);
  // The packets reserved and not yet marked sent, oldest first: what a
  // restarted server must send (again, byte for byte) before anything new.
  std::vector<ReservedPacket> unsent(const std::string& iccid) const;
  void mark_sent(const std::string& iccid, std::uint8_t key_version, std::uint64_t cntr);

  // A PoR to a packet secured with key set `key_version`, opened (deciphered,
  // RC/CC checked) with that key set, which stays inside the store. Throws
  // PacketError as open_response_packet.
  OpenedResponsePacket open_response_packet(const std::string& iccid, std::uint8_t key_version,
                                            const CommandHeader& command, ByteView por) const;
  // The PoR the card answered a reserved packet with: its status and
  // additional data (a response script, which may carry file contents:
  // sealed at rest like the packets). A later PoR replaces an earlier one.
  struct PorRecord {
    std::uint8_t status = 0;
    Bytes additional_data;
  };
  void record_por(const std::string& iccid, std::uint8_t key_version, std::uint64_t cntr, const PorRecord& por);
  std::optional<PorRecord> por(const std::string& iccid, std::uint8_t key_version, std::uint64_t cntr) const;

  // Readiness (docs/ota.md, "Health and metrics"): "" when the storage key
  // opens a sealed key of the store (or there is none yet), else why not --
  // a server started with another storage key than the store's would
  // otherwise fail only at its first command.
  std::string check_storage_key() const;

 private:
  KeySet key_set(const std::string& iccid, std::uint8_t version) const;
  void insert_key_set(const std::string& iccid, const KeySet& k, std::uint64_t counter);  // in a transaction
  void insert_tar(const std::string& iccid, const CardTar& t);
  Bytes seal(const std::string& place, ByteView plain) const;
  SecretBytes open(const std::string& place, ByteView iv_and_cipher) const;
  bool has_card(const std::string& iccid) const;
  store::Db& db_;
  SecretBytes key_;
};

}  // namespace rsp::ota
