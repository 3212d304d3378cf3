#include "rsp/agents/account_inventory.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "rsp/crypto.hpp"

namespace rsp::agents {

namespace {
constexpr const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS visited_accounts (
  imsi TEXT PRIMARY KEY, secrets BLOB NOT NULL, request_id TEXT UNIQUE);
)SQL";

ByteView view(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }
}  // namespace

AccountInventory::AccountInventory(store::Db& db, ByteView storage_key)
    : db_(db), key_(Bytes(storage_key.begin(), storage_key.end())) {
  if (key_.size() != 32) throw std::invalid_argument("account inventory storage key must be 32 bytes");
  db_.exec(kSchema);
}

void AccountInventory::add(const std::string& imsi, ByteView ki, ByteView opc) {
  if (imsi.size() < 6 || imsi.size() > 15 || imsi.find_first_not_of("0123456789") != std::string::npos)
    throw std::invalid_argument("IMSI must be 6 to 15 digits");
  if (ki.size() != 16 || opc.size() != 16) throw std::invalid_argument("Ki and OPc are 16 bytes");
  SecretBytes plain = concat(ki, opc);
  Bytes iv = crypto::random_bytes(12);
  Bytes blob = concat(iv, crypto::aes_gcm_encrypt(key_, iv, view(imsi), plain));
  db_.run("INSERT OR IGNORE INTO visited_accounts (imsi, secrets, request_id) VALUES (?,?,NULL)", {imsi, blob});
}

std::size_t AccountInventory::generate(const std::string& plmn, std::size_t count, std::uint64_t first_msin) {
  if ((plmn.size() != 5 && plmn.size() != 6) || plmn.find_first_not_of("0123456789") != std::string::npos)
    throw std::invalid_argument("PLMN must be MCC+MNC, 5 or 6 digits");
  const int width = static_cast<int>(15 - plmn.size());
  std::size_t added = 0;
  store::Transaction tx(db_);
  for (std::size_t i = 0; i < count; ++i) {
    char msin[16];
    std::snprintf(msin, sizeof msin, "%0*llu", width, static_cast<unsigned long long>(first_msin + i));
    std::string imsi = plmn + msin;
    if (imsi.size() != 15) throw std::invalid_argument("MSIN does not fit the IMSI");
    bool exists = false;
    db_.query("SELECT 1 FROM visited_accounts WHERE imsi = ?", {imsi}, [&](const store::Row&) { exists = true; });
    if (exists) continue;
    Bytes ki = crypto::random_bytes(16), opc = crypto::random_bytes(16);
    add(imsi, ki, opc);
    std::fill(ki.begin(), ki.end(), 0);
    std::fill(opc.begin(), opc.end(), 0);
    ++added;
  }
  tx.commit();
  return added;
}

InventoryAccount AccountInventory::open(const std::string& imsi, ByteView blob) const {
  if (blob.size() < 12 + 32 + 16) throw std::runtime_error("account inventory: sealed keys of " + imsi + " malformed");
  SecretBytes plain = crypto::aes_gcm_decrypt(key_, blob.first(12), view(imsi), blob.subspan(12));
  return InventoryAccount{imsi, SecretBytes(plain.begin(), plain.begin() + 16), SecretBytes(plain.begin() + 16, plain.end())};
}

std::optional<InventoryAccount> AccountInventory::allocated(const std::string& request_id) {
  std::optional<std::pair<std::string, Bytes>> row;
  db_.query("SELECT imsi, secrets FROM visited_accounts WHERE request_id = ?", {request_id},
            [&](const store::Row& r) { row.emplace(r.text(0), r.blob(1)); });
  if (!row) return std::nullopt;
  return open(row->first, row->second);
}

std::optional<InventoryAccount> AccountInventory::allocate(const std::string& request_id) {
  store::Transaction tx(db_);
  if (auto a = allocated(request_id)) return a;
  std::optional<std::string> imsi;
  db_.query("SELECT imsi FROM visited_accounts WHERE request_id IS NULL ORDER BY imsi LIMIT 1", {},
            [&](const store::Row& r) { imsi = r.text(0); });
  if (!imsi) return std::nullopt;
  db_.run("UPDATE visited_accounts SET request_id = ? WHERE imsi = ?", {request_id, *imsi});
  tx.commit();
  return allocated(request_id);
}

void AccountInventory::release(const std::string& request_id) {
  db_.run("UPDATE visited_accounts SET request_id = NULL WHERE request_id = ?", {request_id});
}

std::size_t AccountInventory::free_count() {
  std::size_t n = 0;
  db_.query("SELECT COUNT(*) FROM visited_accounts WHERE request_id IS NULL", {},
            [&](const store::Row& r) { n = static_cast<std::size_t>(r.i64(0)); });
  return n;
}

}  // namespace rsp::agents
