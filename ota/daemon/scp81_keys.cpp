#include "rsp/otad/scp81_keys.hpp"

#include <algorithm>
#include <stdexcept>

#include "rsp/crypto.hpp"
#include "rsp/ota/card_store.hpp"

namespace rsp::otad {

namespace {
std::string psk_place(const std::string& iccid) { return "otad:scp81-psk:" + iccid; }
}  // namespace

Scp81Keys::Scp81Keys(store::Db& db, ByteView storage_key) : db_(db), key_(storage_key.begin(), storage_key.end()) {
  if (key_.size() != 32) throw std::invalid_argument("the storage key must be 32 bytes");
  db_.exec(
      "CREATE TABLE IF NOT EXISTS otad_scp81_keys (iccid TEXT PRIMARY KEY, psk_identity TEXT NOT NULL UNIQUE,"
      " key_version INTEGER NOT NULL, key_id INTEGER NOT NULL, psk BLOB NOT NULL, psk_kcv TEXT NOT NULL)");
}

void Scp81Keys::check(const Scp81Key& k) {
  if (k.psk_identity.empty() || k.psk_identity.size() > 128)
    throw std::invalid_argument("scp81.psk_identity must be 1 to 128 characters");
  for (char ch : k.psk_identity)
    if (ch < 0x21 || ch > 0x7E) throw std::invalid_argument("scp81.psk_identity must be printable ASCII without blanks");
  // Amendment B's PSK suites run AES-128; a 32-byte PSK is the other size
  // GlobalPlatform key sets have (AES-256).
  if (k.psk.size() != 16 && k.psk.size() != 32) throw std::invalid_argument("scp81.psk must be 16 or 32 bytes");
  if (k.key_version < 1 || k.key_version > 0x7F) throw std::invalid_argument("scp81.key_version must be 1 to 127");
  if (k.key_id < 1) throw std::invalid_argument("scp81.key_id must be 1 to 255");
}

void Scp81Keys::add(const std::string& iccid, const Scp81Key& k) {
  check(k);
  if (identity_taken(k.psk_identity)) throw DuplicateIdentity("scp81.psk_identity is another card's");
  Bytes iv = crypto::random_bytes(12);
  Bytes sealed = crypto::aes_gcm_encrypt(key_, iv, to_bytes(psk_place(iccid)), k.psk);
  sealed.insert(sealed.begin(), iv.begin(), iv.end());
  db_.run("INSERT INTO otad_scp81_keys (iccid, psk_identity, key_version, key_id, psk, psk_kcv) VALUES (?, ?, ?, ?, ?, ?)",
          {iccid, k.psk_identity, std::int64_t{k.key_version}, std::int64_t{k.key_id}, sealed,
           ota::key_check_value(ota::Algorithm::Aes, k.psk)});
}

std::optional<Scp81KeyInfo> Scp81Keys::info(const std::string& iccid) const {
  std::optional<Scp81KeyInfo> out;
  db_.query("SELECT psk_identity, key_version, key_id, psk_kcv FROM otad_scp81_keys WHERE iccid = ?", {iccid},
            [&](const store::Row& r) {
              out = Scp81KeyInfo{r.text(0), static_cast<std::uint8_t>(r.i64(1)), static_cast<std::uint8_t>(r.i64(2)),
                                 r.text(3)};
            });
  return out;
}

bool Scp81Keys::identity_taken(const std::string& psk_identity) const {
  bool taken = false;
  db_.query("SELECT 1 FROM otad_scp81_keys WHERE psk_identity = ?", {psk_identity},
            [&](const store::Row&) { taken = true; });
  return taken;
}

void Scp81Keys::forget(const std::string& iccid) { db_.run("DELETE FROM otad_scp81_keys WHERE iccid = ?", {iccid}); }

std::optional<ota::scp81::CardPsk> Scp81Keys::lookup(std::string_view psk_identity) const {
  std::optional<ota::scp81::CardPsk> out;
  std::string iccid;
  Bytes sealed;
  db_.query("SELECT iccid, psk FROM otad_scp81_keys WHERE psk_identity = ?", {std::string(psk_identity)},
            [&](const store::Row& r) {
              iccid = r.text(0);
              sealed = r.blob(1);
            });
  if (iccid.empty() || sealed.size() < 12) return out;
  try {
    Bytes plain = crypto::aes_gcm_decrypt(key_, ByteView(sealed).first(12), to_bytes(psk_place(iccid)),
                                          ByteView(sealed).subspan(12));
    out = ota::scp81::CardPsk{iccid, SecretBytes(plain.begin(), plain.end())};
    std::fill(plain.begin(), plain.end(), 0);
  } catch (const std::exception&) {
    return std::nullopt;  // not this storage key's: the handshake fails, as for an unknown identity
  }
  return out;
}

}  // namespace rsp::otad
