#include "rsp/ota/card_store.hpp"

#include "rsp/crypto.hpp"
#include "rsp/ota/algorithms.hpp"
#include "rsp/ota/receiving_entity.hpp"
#include "rsp/ota/status.hpp"

namespace rsp::ota {

namespace {

std::string tar_hex(const Tar& t) { return to_hex(ByteView(t.data(), t.size()), true); }

std::string counter_hex(std::uint64_t c) {
  Bytes b;
  for (int s = 32; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(c >> s));
  return to_hex(b, true);
}

bool is_crc(Algorithm a) { return a == Algorithm::Crc16 || a == Algorithm::Crc32; }

// What makes two requests under one command id the same logical command.
Bytes request_digest(const CommandRequest& r) {
  Bytes m(r.tar.begin(), r.tar.end());
  auto spi = r.spi.encode();
  m.insert(m.end(), spi.begin(), spi.end());
  m.push_back(static_cast<std::uint8_t>(r.checksum_length));
  m.insert(m.end(), r.secured_data.begin(), r.secured_data.end());
  return crypto::sha256(m);
}

// Each sealed value's place in the store is its associated data, so a value
// copied to another card, key set or counter does not open there.
std::string key_place(const std::string& iccid, std::uint8_t version, const char* which) {
  return std::string("ota:") + which + ":" + iccid + ":" + std::to_string(version);
}
std::string por_place(const std::string& iccid, std::uint8_t version, std::uint64_t cntr) {
  return "ota:por:" + iccid + ":" + std::to_string(version) + ":" + counter_hex(cntr);
}
std::string packet_place(const std::string& iccid, std::uint8_t version, std::uint64_t cntr) {
  return "ota:packet:" + iccid + ":" + std::to_string(version) + ":" + counter_hex(cntr);
}

// A key that cannot work with its algorithm is refused when stored, not
// found out when the first packet is built (the algorithms' own check).
void check_key_length(Algorithm a, ByteView key, const char* which) {
  if (a == Algorithm::Crc16 || a == Algorithm::Crc32) return;  // a redundancy check has no key
  if (a == Algorithm::Implicit) {
    if (key.empty()) throw std::invalid_argument(std::string(which) + " key is empty");
    return;
  }
  try {
    require_cipher_key(a, key);
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string(which) + ": " + e.what());
  }
}

}  // namespace

std::string key_check_value(Algorithm a, ByteView key) {
  if (key.empty()) return "";
  Bytes block;
  if (a == Algorithm::Aes) {
    block = crypto::aes_ecb_encrypt_block(key, Bytes(16, 0x01));
  } else if (a == Algorithm::Des || a == Algorithm::DesEcb || a == Algorithm::TripleDes2 || a == Algorithm::TripleDes3) {
    block = crypto::des_cbc_encrypt(key, Bytes(8, 0x00), Bytes(8, 0x00));  // one block of CBC with a zero IV is ECB
  } else {
    return "";  // "implicit": which check value would depend on an algorithm we do not know
  }
  return to_hex(ByteView(block).first(3), true);
}

CardStore::CardStore(store::Db& db, ByteView storage_key) : db_(db), key_(Bytes(storage_key.begin(), storage_key.end())) {
  if (key_.size() != 32) throw std::invalid_argument("storage key must be 32 bytes (AES-256)");
  db_.exec(R"(
    CREATE TABLE IF NOT EXISTS ota_cards (
      iccid TEXT PRIMARY KEY,
      created_at INTEGER NOT NULL DEFAULT (strftime('%s','now')));
    CREATE TABLE IF NOT EXISTS ota_key_sets (
      iccid TEXT NOT NULL REFERENCES ota_cards(iccid) ON DELETE CASCADE,
      version INTEGER NOT NULL,
      cipher TEXT NOT NULL, kic BLOB NOT NULL, kic_kcv TEXT NOT NULL, kic_length INTEGER NOT NULL,
      checksum TEXT NOT NULL, kid BLOB NOT NULL, kid_kcv TEXT NOT NULL, kid_length INTEGER NOT NULL,
      counter INTEGER NOT NULL,
      PRIMARY KEY (iccid, version));
    CREATE TABLE IF NOT EXISTS ota_tars (
      iccid TEXT NOT NULL REFERENCES ota_cards(iccid) ON DELETE CASCADE,
      tar TEXT NOT NULL, msl INTEGER NOT NULL, key_version INTEGER NOT NULL,
      PRIMARY KEY (iccid, tar));
    CREATE TABLE IF NOT EXISTS ota_reservations (
      iccid TEXT NOT NULL REFERENCES ota_cards(iccid) ON DELETE CASCADE,
      key_version INTEGER NOT NULL, cntr INTEGER NOT NULL,
      command_id TEXT, request BLOB NOT NULL, packet BLOB NOT NULL,
      sent INTEGER NOT NULL DEFAULT 0,
      reserved_at INTEGER NOT NULL DEFAULT (strftime('%s','now')),
      PRIMARY KEY (iccid, key_version, cntr),
      UNIQUE (iccid, command_id));
    CREATE TABLE IF NOT EXISTS ota_pors (
      iccid TEXT NOT NULL REFERENCES ota_cards(iccid) ON DELETE CASCADE,
      key_version INTEGER NOT NULL, cntr INTEGER NOT NULL,
      status INTEGER NOT NULL, data BLOB NOT NULL,
      received_at INTEGER NOT NULL DEFAULT (strftime('%s','now')),
      PRIMARY KEY (iccid, key_version, cntr));
  )");
}

Bytes CardStore::seal(const std::string& place, ByteView plain) const {
  Bytes iv = crypto::random_bytes(12);
  Bytes out = iv;
  Bytes enc = crypto::aes_gcm_encrypt(key_, iv, to_bytes(place), plain);
  out.insert(out.end(), enc.begin(), enc.end());
  return out;
}

SecretBytes CardStore::open(const std::string& place, ByteView sealed) const {
  if (sealed.size() < 12) throw store::StoreError("sealed value too short at " + place);
  try {
    return crypto::aes_gcm_decrypt(key_, sealed.first(12), to_bytes(place), sealed.subspan(12));
  } catch (const std::exception&) {
    throw store::StoreError("cannot decrypt " + place + " with this storage key (wrong key, or the store was altered)");
  }
}

std::string CardStore::check_storage_key() const {
  std::string why;
  db_.query("SELECT iccid, version, kic FROM ota_key_sets ORDER BY rowid LIMIT 1", {}, [&](const store::Row& r) {
    try {
      open(key_place(r.text(0), static_cast<std::uint8_t>(r.i64(1)), "kic"), r.blob(2));
    } catch (const std::exception& e) {
      why = e.what();
    }
  });
  return why;
}

bool CardStore::has_card(const std::string& iccid) const {
  bool found = false;
  db_.query("SELECT 1 FROM ota_cards WHERE iccid = ?", {iccid}, [&](const store::Row&) { found = true; });
  return found;
}

void CardStore::add_card(const std::string& iccid, const std::vector<NewKeySet>& key_sets,
                         const std::vector<CardTar>& tars) {
  if (iccid.empty() || iccid.size() > 20 || iccid.find_first_not_of("0123456789fF") != std::string::npos)
    throw std::invalid_argument("ICCID '" + iccid + "' must be up to 20 digits");
  store::Transaction tx(db_);
  if (has_card(iccid)) throw DuplicateCard("card " + iccid + " is already in the store");
  db_.run("INSERT INTO ota_cards (iccid) VALUES (?)", {iccid});
  for (const auto& k : key_sets) insert_key_set(iccid, k.keys, k.counter);
  for (const auto& t : tars) insert_tar(iccid, t);
  tx.commit();
}

void CardStore::add_key_set(const std::string& iccid, const KeySet& k, std::uint64_t counter) {
  store::Transaction tx(db_);
  if (!has_card(iccid)) throw UnknownCard("no card " + iccid + " in the store");
  insert_key_set(iccid, k, counter);
  tx.commit();
}

void CardStore::insert_key_set(const std::string& iccid, const KeySet& k, std::uint64_t counter) {
  if (k.version < 1 || k.version > 15) throw std::invalid_argument("key version must be 1..15");
  if (counter > kMaxCounter) throw std::invalid_argument("counter does not fit 5 bytes");
  check_key_length(k.cipher, k.kic, "KIc");
  check_key_length(k.checksum, k.kid, "KID");
  bool exists = false;
  db_.query("SELECT 1 FROM ota_key_sets WHERE iccid = ? AND version = ?", {iccid, std::int64_t{k.version}},
            [&](const store::Row&) { exists = true; });
  if (exists) throw CardStoreError("card " + iccid + " already has key set version " + std::to_string(k.version));
  db_.run(
      "INSERT INTO ota_key_sets (iccid, version, cipher, kic, kic_kcv, kic_length, checksum, kid, kid_kcv, kid_length, "
      "counter) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
      {iccid, std::int64_t{k.version}, std::string(algorithm_name(k.cipher)), seal(key_place(iccid, k.version, "kic"), k.kic),
       key_check_value(k.cipher, k.kic), static_cast<std::int64_t>(k.kic.size()), std::string(algorithm_name(k.checksum)),
       seal(key_place(iccid, k.version, "kid"), k.kid), is_crc(k.checksum) ? std::string() : key_check_value(k.checksum, k.kid),
       static_cast<std::int64_t>(k.kid.size()), static_cast<std::int64_t>(counter)});
}

void CardStore::add_tar(const std::string& iccid, const CardTar& t) {
  store::Transaction tx(db_);
  if (!has_card(iccid)) throw UnknownCard("no card " + iccid + " in the store");
  insert_tar(iccid, t);
  tx.commit();
}

void CardStore::insert_tar(const std::string& iccid, const CardTar& t) {
  if (t.key_version < 1 || t.key_version > 15) throw std::invalid_argument("key version must be 1..15");
  bool exists = false;
  db_.query("SELECT 1 FROM ota_tars WHERE iccid = ? AND tar = ?", {iccid, tar_hex(t.tar)},
            [&](const store::Row&) { exists = true; });
  if (exists) throw CardStoreError("card " + iccid + " already has TAR " + tar_hex(t.tar));
  db_.run("INSERT INTO ota_tars (iccid, tar, msl, key_version) VALUES (?,?,?,?)",
          {iccid, tar_hex(t.tar), std::int64_t{t.msl}, std::int64_t{t.key_version}});
}

void CardStore::delete_card(const std::string& iccid) {
  store::Transaction tx(db_);
  if (!has_card(iccid)) throw UnknownCard("no card " + iccid + " in the store");
  // Foreign keys cascade; deleting explicitly keeps it true should they be off.
  for (const char* t : {"ota_pors", "ota_reservations", "ota_tars", "ota_key_sets", "ota_cards"})
    db_.run(std::string("DELETE FROM ") + t + " WHERE iccid = ?", {iccid});
  tx.commit();
}

CardInfo CardStore::show(const std::string& iccid) const {
  std::lock_guard lock(db_.mutex());
  if (!has_card(iccid)) throw UnknownCard("no card " + iccid + " in the store");
  CardInfo c;
  c.iccid = iccid;
  db_.query(
      "SELECT version, cipher, kic_length, kic_kcv, checksum, kid_length, kid_kcv, counter FROM ota_key_sets WHERE "
      "iccid = ? ORDER BY version",
      {iccid}, [&](const store::Row& r) {
        KeySetInfo k;
        k.version = static_cast<std::uint8_t>(r.i64(0));
        k.cipher = algorithm_from_name(r.text(1));
        k.kic_length = static_cast<std::size_t>(r.i64(2));
        k.kic_kcv = r.text(3);
        k.checksum = algorithm_from_name(r.text(4));
        k.kid_length = static_cast<std::size_t>(r.i64(5));
        k.kid_kcv = r.text(6);
        k.counter = static_cast<std::uint64_t>(r.i64(7));
        c.key_sets.push_back(std::move(k));
      });
  db_.query("SELECT tar, msl, key_version FROM ota_tars WHERE iccid = ? ORDER BY tar", {iccid},
            [&](const store::Row& r) {
              Bytes t = from_hex(r.text(0));
              c.tars.push_back({{t.at(0), t.at(1), t.at(2)},
                                static_cast<std::uint8_t>(r.i64(1)),
                                static_cast<std::uint8_t>(r.i64(2))});
            });
  return c;
}

std::vector<std::string> CardStore::list() const {
  std::vector<std::string> out;
  db_.query("SELECT iccid FROM ota_cards ORDER BY iccid", {}, [&](const store::Row& r) { out.push_back(r.text(0)); });
  return out;
}

KeySet CardStore::key_set(const std::string& iccid, std::uint8_t version) const {
  std::optional<KeySet> k;
  db_.query("SELECT cipher, kic, checksum, kid FROM ota_key_sets WHERE iccid = ? AND version = ?",
            {iccid, std::int64_t{version}}, [&](const store::Row& r) {
              KeySet s;
              s.version = version;
              s.cipher = algorithm_from_name(r.text(0));
              s.kic = open(key_place(iccid, version, "kic"), r.blob(1));
              s.checksum = algorithm_from_name(r.text(2));
              s.kid = open(key_place(iccid, version, "kid"), r.blob(3));
              k = std::move(s);
            });
  if (!k) throw CardStoreError("card " + iccid + " has no key set version " + std::to_string(version));
  return std::move(*k);
}

ReservedPacket CardStore::reserve_command_packet(const CommandRequest& r) {
  Bytes digest = request_digest(r);
  // BEGIN IMMEDIATE: the write lock is taken before the counter is read, so
  // two servers on one store (threads or processes) serialize here.
  store::Transaction tx(db_);
  if (!has_card(r.iccid)) throw UnknownCard("no card " + r.iccid + " in the store");

  if (!r.command_id.empty()) {
    std::optional<ReservedPacket> before;
    Bytes before_request;
    db_.query("SELECT key_version, cntr, request, packet FROM ota_reservations WHERE iccid = ? AND command_id = ?",
              {r.iccid, r.command_id}, [&](const store::Row& row) {
                ReservedPacket p;
                p.key_version = static_cast<std::uint8_t>(row.i64(0));
                p.cntr = static_cast<std::uint64_t>(row.i64(1));
                before_request = row.blob(2);
                p.packet = open(packet_place(r.iccid, p.key_version, p.cntr), row.blob(3));
                p.retry = true;
                before = std::move(p);
              });
    if (before) {
      if (before_request != digest)
        throw CardStoreError("command id '" + r.command_id + "' was used for another command to card " + r.iccid);
      return std::move(*before);  // nothing written: the transaction rolls back
    }
  }

  std::optional<CardTar> tar;
  db_.query("SELECT msl, key_version FROM ota_tars WHERE iccid = ? AND tar = ?", {r.iccid, tar_hex(r.tar)},
            [&](const store::Row& row) {
              tar = CardTar{r.tar, static_cast<std::uint8_t>(row.i64(0)), static_cast<std::uint8_t>(row.i64(1))};
            });
  if (!tar) throw CardStoreError("card " + r.iccid + " has no TAR " + tar_hex(r.tar) + " (the card would answer 09)");
  if (!meets_minimum_security_level(r.spi, tar->msl))
    throw CardStoreError("SPI " + to_hex(Bytes{r.spi.encode()[0], r.spi.encode()[1]}, true) + " is below TAR " +
                         tar_hex(r.tar) + "'s minimum security level " + to_hex(Bytes{tar->msl}, true) +
                         " (the card would answer 0A)");

  KeySet keys = key_set(r.iccid, tar->key_version);
  std::uint64_t counter = 0;
  db_.query("SELECT counter FROM ota_key_sets WHERE iccid = ? AND version = ?", {r.iccid, std::int64_t{keys.version}},
            [&](const store::Row& row) { counter = static_cast<std::uint64_t>(row.i64(0)); });
  if (counter >= kMaxCounter)
    throw CardStoreError("card " + r.iccid + " key set " + std::to_string(keys.version) +
                         ": counter is at FFFFFFFFFF (the card would answer 04, CNTR blocked); replace the key set");

  ReservedPacket out;
  out.key_version = keys.version;
  out.cntr = counter + 1;
  CommandPacket p;
  p.header.spi = r.spi;
  p.header.tar = r.tar;
  try {
    p.header.kic = encode_kic({keys.cipher, keys.version});
    RcCcDs kid_mode = r.spi.rc_cc_ds != RcCcDs::None ? r.spi.rc_cc_ds : (is_crc(keys.checksum) ? RcCcDs::Rc : RcCcDs::Cc);
    p.header.kid = encode_kid({keys.checksum, keys.version}, kid_mode);
  } catch (const std::invalid_argument& e) {
    throw CardStoreError("card " + r.iccid + " key set " + std::to_string(keys.version) + " does not fit SPI: " + e.what());
  }
  p.cntr = out.cntr;
  p.secured_data = r.secured_data;
  p.checksum_length = r.checksum_length;
  out.packet = build_command_packet(p, keys);

  db_.run("UPDATE ota_key_sets SET counter = ? WHERE iccid = ? AND version = ?",
          {static_cast<std::int64_t>(out.cntr), r.iccid, std::int64_t{keys.version}});
  db_.run(
      "INSERT INTO ota_reservations (iccid, key_version, cntr, command_id, request, packet) VALUES (?,?,?,?,?,?)",
      {r.iccid, std::int64_t{keys.version}, static_cast<std::int64_t>(out.cntr),
       r.command_id.empty() ? store::Value(nullptr) : store::Value(r.command_id), digest,
       seal(packet_place(r.iccid, keys.version, out.cntr), out.packet)});
  tx.commit();  // durable (synchronous=FULL) before the packet is handed out
  return out;
}

std::vector<ReservedPacket> CardStore::unsent(const std::string& iccid) const {
  std::lock_guard lock(db_.mutex());
  if (!has_card(iccid)) throw UnknownCard("no card " + iccid + " in the store");
  std::vector<ReservedPacket> out;
  db_.query(
      "SELECT key_version, cntr, packet FROM ota_reservations WHERE iccid = ? AND sent = 0 ORDER BY key_version, cntr",
      {iccid}, [&](const store::Row& row) {
        ReservedPacket p;
        p.key_version = static_cast<std::uint8_t>(row.i64(0));
        p.cntr = static_cast<std::uint64_t>(row.i64(1));
        p.packet = open(packet_place(iccid, p.key_version, p.cntr), row.blob(2));
        p.retry = true;
        out.push_back(std::move(p));
      });
  return out;
}

void CardStore::mark_sent(const std::string& iccid, std::uint8_t key_version, std::uint64_t cntr) {
  store::Transaction tx(db_);
  if (db_.run("UPDATE ota_reservations SET sent = 1 WHERE iccid = ? AND key_version = ? AND cntr = ?",
              {iccid, std::int64_t{key_version}, static_cast<std::int64_t>(cntr)}) == 0)
    throw CardStoreError("card " + iccid + " has no packet reserved with key set " + std::to_string(key_version) +
                         " and counter " + counter_hex(cntr));
  tx.commit();
}

OpenedResponsePacket CardStore::open_response_packet(const std::string& iccid, std::uint8_t key_version,
                                                     const CommandHeader& command, ByteView por) const {
  std::lock_guard lock(db_.mutex());
  KeySet keys = key_set(iccid, key_version);
  return rsp::ota::open_response_packet(por, command, keys);
}

void CardStore::record_por(const std::string& iccid, std::uint8_t key_version, std::uint64_t cntr, const PorRecord& p) {
  store::Transaction tx(db_);
  if (!has_card(iccid)) throw UnknownCard("no card " + iccid + " in the store");
  db_.run("INSERT OR REPLACE INTO ota_pors (iccid, key_version, cntr, status, data) VALUES (?,?,?,?,?)",
          {iccid, std::int64_t{key_version}, static_cast<std::int64_t>(cntr), std::int64_t{p.status},
           seal(por_place(iccid, key_version, cntr), p.additional_data)});
  tx.commit();
}

std::optional<CardStore::PorRecord> CardStore::por(const std::string& iccid, std::uint8_t key_version,
                                                   std::uint64_t cntr) const {
  std::lock_guard lock(db_.mutex());
  std::optional<PorRecord> out;
  db_.query("SELECT status, data FROM ota_pors WHERE iccid = ? AND key_version = ? AND cntr = ?",
            {iccid, std::int64_t{key_version}, static_cast<std::int64_t>(cntr)}, [&](const store::Row& r) {
              PorRecord p;
              p.status = static_cast<std::uint8_t>(r.i64(0));
              SecretBytes d = open(por_place(iccid, key_version, cntr), r.blob(1));
              p.additional_data.assign(d.begin(), d.end());
              out = std::move(p);
            });
  return out;
}

}  // namespace rsp::ota
