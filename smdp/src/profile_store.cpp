#include "rsp/smdp/profile_store.hpp"

#include <algorithm>
#include <array>

#include "rsp/crypto.hpp"
#include "rsp/scp03t.hpp"

namespace rsp::smdp {

namespace {
constexpr std::array<std::string_view, 9> kStateNames = {"available", "allocated", "linked",    "confirmed",  "released",
                                                         "downloaded", "installed", "error", "unavailable"};

constexpr std::array<std::string_view, 4> kEventNames = {"install", "enable", "disable", "delete"};

// notification_config column: NULL for the default; otherwise
// "event=address" entries joined by ';' ("" = no notifications). Addresses
// are FQDNs (SGP.22 4.1), which hold neither '=' nor ';'.
store::Value notification_config_value(const std::optional<std::vector<NotificationConfiguration>>& nc) {
  if (!nc) return nullptr;
  std::string out;
  for (const auto& c : *nc) {
    if (c.address.find_first_of("=;") != std::string::npos)
      throw std::invalid_argument("notification address '" + c.address + "' is not an FQDN");
    if (!out.empty()) out += ';';
    out += std::string(to_string(c.event)) + "=" + c.address;
  }
  return out;
}

std::vector<NotificationConfiguration> parse_notification_config(std::string_view text) {
  std::vector<NotificationConfiguration> out;
  while (!text.empty()) {
    auto end = text.find(';');
    std::string_view item = text.substr(0, end);
    auto eq = item.find('=');
    if (eq == std::string_view::npos) throw store::StoreError("bad notification_config entry");
    out.push_back({notification_event_from(item.substr(0, eq)), std::string(item.substr(eq + 1))});
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
  }
  return out;
}

// The columns add_metadata_columns adds, from column `c` on.
void metadata_from(const store::Row& r, int c, Profile& p) {
  if (!r.is_null(c)) p.icon_type = static_cast<int>(r.i64(c));
  p.icon = r.blob(c + 1);
  if (!r.is_null(c + 2)) p.notification_configuration = parse_notification_config(r.text(c + 2));
}

Profile profile_from(const store::Row& r) {
  Profile p;
  p.iccid = r.text(0);
  p.matching_id = r.text(1);
  p.eid = r.text(2);
  p.state = profile_state_from(r.text(3));
  if (!r.is_null(4)) p.cc_hash = r.blob(4);
  p.cc_attempts = static_cast<int>(r.i64(5));
  p.download_attempts = static_cast<int>(r.i64(6));
  p.service_provider_name = r.text(7);
  p.profile_name = r.text(8);
  p.profile_class = static_cast<int>(r.i64(9));
  p.transaction_id = r.text(10);
  p.owner = r.text(11);
  p.profile_type = r.text(12);
  p.order_expires_at = r.i64(13);
  metadata_from(r, 14, p);
  return p;
}
constexpr const char* kProfileColumns =
    "iccid, matching_id, eid, state, cc_hash, cc_attempts, download_attempts, spn, profile_name, profile_class, "
    "transaction_id, owner, profile_type, order_expires_at";
// kProfileColumns and the columns add_metadata_columns adds, for reading.
const std::string kProfileSelect = std::string(kProfileColumns) + ", icon_type, icon, notification_config";
// The download path's statements, built once: rsp::store::Db prepares each
// SQL text once and keeps it (request_path_queries lists them for the
// query-plan test).
const std::string kByIccid = "SELECT " + kProfileSelect + " FROM profiles WHERE iccid = ?";
const std::string kByMatchingId = "SELECT " + kProfileSelect + " FROM profiles WHERE matching_id = ?";
const std::string kAllocate = "SELECT " + kProfileSelect +
                              " FROM profiles WHERE owner = ? AND profile_type = ? AND state = 'available' "
                              "ORDER BY iccid LIMIT 1";
const std::string kDefaultSmdpOrder =
    "SELECT " + kProfileSelect + " FROM profiles WHERE eid = ? AND state IN ('released','downloaded') LIMIT 1";
constexpr const char* kHasProfileType = "SELECT 1 FROM profiles WHERE owner = ? AND profile_type = ? LIMIT 1";
constexpr const char* kExpireRemember =
    "INSERT OR REPLACE INTO expired_orders (matching_id, iccid, expired_at) SELECT matching_id, iccid, ? "
    "FROM profiles WHERE state IN ('allocated','linked','confirmed','released') AND order_expires_at BETWEEN 1 AND ? "
    "AND matching_id IS NOT NULL";
constexpr const char* kExpireUpdate =
    "UPDATE profiles SET state='available', eid='', matching_id=NULL, cc_hash=NULL, cc_attempts=0, "
    "download_attempts=0, transaction_id='', order_expires_at=0, updated_at=strftime('%s','now') "
    "WHERE state IN ('allocated','linked','confirmed','released') AND order_expires_at BETWEEN 1 AND ?";
constexpr const char* kIsExpiredOrder = "SELECT 1 FROM expired_orders WHERE matching_id = ?";
constexpr const char* kUpp = "SELECT upp_iv, upp_enc FROM profiles WHERE iccid = ?";
constexpr const char* kProtectedPackage = "SELECT ppk_iv, ppk_enc, ppp FROM profiles WHERE iccid = ? AND ppp IS NOT NULL";
constexpr const char* kRequirements =
    "SELECT ppr_ids, profile_owner, profile_version, min_pp_version, nvm_bytes, device_capabilities "
    "FROM profile_requirements WHERE iccid = ?";
constexpr const char* kUpdateProfile =
    "UPDATE profiles SET matching_id=?, eid=?, state=?, cc_hash=?, cc_attempts=?, download_attempts=?, spn=?, "
    "profile_name=?, profile_class=?, transaction_id=?, owner=?, profile_type=?, order_expires_at=?, "
    "updated_at=strftime('%s','now') WHERE iccid=?";
constexpr const char* kSession =
    "SELECT transaction_id, state, created_at, euicc_challenge, server_challenge, server_address, credential_index, "
    "eid, euicc_certificate, iccid, smdp_signature2, euicc_otpk, signing_ci_index FROM sessions "
    "WHERE transaction_id = ?";
constexpr const char* kTransitionSession =
    "UPDATE sessions SET state=?, created_at=?, euicc_challenge=?, server_challenge=?, server_address=?, "
    "credential_index=?, eid=?, euicc_certificate=?, iccid=?, smdp_signature2=?, euicc_otpk=?, "
    "signing_ci_index=? WHERE transaction_id=? AND state=?";
constexpr const char* kEndSession = "UPDATE sessions SET state = ? WHERE transaction_id = ?";
constexpr const char* kPurgeSessions = "DELETE FROM sessions WHERE created_at < ? AND state <> 'bpp-sent'";
constexpr const char* kRecordNotification =
    "INSERT OR IGNORE INTO notifications (eid, seq_number, operation, iccid, received_at) VALUES (?,?,?,?,?)";

// A matching id is unique once set; profiles not yet ordered have none (NULL).
store::Value matching_id_value(const std::string& m) { return m.empty() ? store::Value(nullptr) : store::Value(m); }
}  // namespace

std::string_view to_string(NotificationConfiguration::Event e) { return kEventNames[static_cast<std::size_t>(e)]; }

NotificationConfiguration::Event notification_event_from(std::string_view s) {
  for (std::size_t i = 0; i < kEventNames.size(); ++i)
    if (kEventNames[i] == s) return static_cast<NotificationConfiguration::Event>(i);
  throw std::invalid_argument("unknown notification event '" + std::string(s) + "' (install, enable, disable, delete)");
}

std::string_view to_string(ProfileState s) { return kStateNames[static_cast<std::size_t>(s)]; }

ProfileState profile_state_from(std::string_view s) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i)
    if (kStateNames[i] == s) return static_cast<ProfileState>(i);
  throw store::StoreError("unknown profile state '" + std::string(s) + "'");
}

ProfileStore::ProfileStore(store::Db& db, ByteView storage_key) : db_(db), key_(Bytes(storage_key.begin(), storage_key.end())) {
  if (key_.size() != 32) throw std::invalid_argument("storage key must be 32 bytes (AES-256)");
  db_.exec(R"(
    CREATE TABLE IF NOT EXISTS profiles (
      iccid TEXT PRIMARY KEY,
      matching_id TEXT UNIQUE,
      owner TEXT NOT NULL DEFAULT '',
      profile_type TEXT NOT NULL DEFAULT '',
      order_expires_at INTEGER NOT NULL DEFAULT 0,
      eid TEXT NOT NULL DEFAULT '',
      state TEXT NOT NULL,
      cc_hash BLOB,
      cc_attempts INTEGER NOT NULL DEFAULT 0,
      download_attempts INTEGER NOT NULL DEFAULT 0,
      spn TEXT NOT NULL DEFAULT '',
      profile_name TEXT NOT NULL DEFAULT '',
      profile_class INTEGER NOT NULL DEFAULT 2,
      transaction_id TEXT NOT NULL DEFAULT '',
      upp_iv BLOB NOT NULL,
      upp_enc BLOB NOT NULL,
      ppk_iv BLOB, ppk_enc BLOB, ppp BLOB,
      updated_at INTEGER NOT NULL DEFAULT (strftime('%s','now')));
    CREATE TABLE IF NOT EXISTS templates (
      name TEXT PRIMARY KEY, owner TEXT NOT NULL DEFAULT '', upp_iv BLOB NOT NULL, upp_enc BLOB NOT NULL,
      updated_at INTEGER NOT NULL DEFAULT (strftime('%s','now')));
    CREATE TABLE IF NOT EXISTS notifications (
      eid TEXT NOT NULL, seq_number INTEGER NOT NULL, operation TEXT NOT NULL, iccid TEXT NOT NULL DEFAULT '',
      received_at INTEGER NOT NULL, PRIMARY KEY (eid, seq_number));
    CREATE TABLE IF NOT EXISTS expired_orders (
      matching_id TEXT PRIMARY KEY, iccid TEXT NOT NULL, expired_at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS sessions (
      transaction_id TEXT PRIMARY KEY,
      state TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      euicc_challenge BLOB, server_challenge BLOB, server_address TEXT,
      credential_index INTEGER NOT NULL DEFAULT 0,
      eid TEXT NOT NULL DEFAULT '', euicc_certificate BLOB, iccid TEXT NOT NULL DEFAULT '',
      smdp_signature2 BLOB, euicc_otpk BLOB, signing_ci_index INTEGER NOT NULL DEFAULT -1);
  )");
  // Stores created before a column existed get it added.
  bool has_signing_ci = false;
  db_.query("SELECT name FROM pragma_table_info('sessions')", {},
            [&](const store::Row& r) { has_signing_ci = has_signing_ci || r.text(0) == "signing_ci_index"; });
  if (!has_signing_ci) db_.exec("ALTER TABLE sessions ADD COLUMN signing_ci_index INTEGER NOT NULL DEFAULT -1");
  add_metadata_columns();
  create_requirements_table();
  // Every lookup of the request path by an index (issue 12): without them
  // each authenticateClient, ES2+ order and purge scans the inventory.
  // IF NOT EXISTS: stores from before get them when opened.
  // matching_id (UNIQUE), iccid, transaction_id and (eid, seq_number) are
  // primary or unique keys and indexed already.
  db_.exec(R"(
    CREATE INDEX IF NOT EXISTS profiles_eid_state ON profiles (eid, state);
    CREATE INDEX IF NOT EXISTS profiles_owner_type_state ON profiles (owner, profile_type, state, iccid);
    CREATE INDEX IF NOT EXISTS profiles_order_expiry ON profiles (order_expires_at);
    CREATE INDEX IF NOT EXISTS sessions_created_at ON sessions (created_at);
  )");
}

std::vector<std::string> ProfileStore::request_path_queries() {
  return {kByIccid,         kByMatchingId,   kAllocate,     kDefaultSmdpOrder, kHasProfileType,    kExpireRemember,
          kExpireUpdate,    kIsExpiredOrder, kUpp,          kProtectedPackage, kRequirements,      kUpdateProfile,
          kSession,         kTransitionSession, kEndSession, kPurgeSessions,   kRecordNotification};
}

std::optional<Profile> ProfileStore::default_smdp_order(const std::string& eid) {
  std::optional<Profile> out;
  db_.query(kDefaultSmdpOrder, {eid}, [&](const store::Row& r) { out = profile_from(r); });
  return out;
}

void ProfileStore::add_metadata_columns() {
  auto has_icon = [&] {
    bool found = false;
    db_.query("SELECT name FROM pragma_table_info('profiles')", {},
              [&](const store::Row& r) { found = found || r.text(0) == "icon"; });
    return found;
  };
  if (has_icon()) return;
  store::Transaction tx(db_);  // another process (smdpd serve and a CLI command) may be adding them too
  if (has_icon()) return;
  db_.exec(
      "ALTER TABLE profiles ADD COLUMN icon_type INTEGER; "
      "ALTER TABLE profiles ADD COLUMN icon BLOB; "
      "ALTER TABLE profiles ADD COLUMN notification_config TEXT;");
  tx.commit();
}

void ProfileStore::put_metadata(const Profile& p) {
  if (p.icon.empty() && !p.notification_configuration) return;
  db_.run("UPDATE profiles SET icon_type=?, icon=?, notification_config=? WHERE iccid=?",
          {p.icon.empty() ? store::Value(nullptr) : store::Value(std::int64_t{p.icon_type}),
           p.icon.empty() ? store::Value(nullptr) : store::Value(p.icon),
           notification_config_value(p.notification_configuration), p.iccid});
}

void ProfileStore::remember_expired_order(const std::string& matching_id, const std::string& iccid,
                                          std::int64_t expired_at) {
  db_.run("INSERT OR REPLACE INTO expired_orders (matching_id, iccid, expired_at) VALUES (?,?,?)",
          {matching_id, iccid, expired_at});
}


// A table of its own (not columns of profiles): stores from before it keep
// working, and a profile without a row has no requirements.
void ProfileStore::create_requirements_table() {
  db_.exec(R"(
    CREATE TABLE IF NOT EXISTS profile_requirements (
      iccid TEXT PRIMARY KEY,
      ppr_ids INTEGER NOT NULL DEFAULT 0,
      profile_owner BLOB,
      profile_version BLOB,
      min_pp_version BLOB,
      nvm_bytes INTEGER NOT NULL DEFAULT 0,
      device_capabilities TEXT NOT NULL DEFAULT '');
  )");
}

namespace {
// device_capabilities column: "name=15.0.0,name=..." (names from SGP.22 2.3.1).
std::string capabilities_text(const ProfileRequirements& r) {
  std::string out;
  for (const auto& [name, release] : r.device_capabilities)
    out += (out.empty() ? "" : ",") + name + "=" + version_string(release);
  return out;
}
void parse_capabilities(const std::string& text, ProfileRequirements& r) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::size_t eq = item.find('=');
    if (eq == std::string::npos) throw store::StoreError("bad device_capabilities '" + text + "'");
    r.device_capabilities.emplace_back(item.substr(0, eq), parse_version(item.substr(eq + 1)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
}
}  // namespace

void ProfileStore::set_requirements(const std::string& iccid, const ProfileRequirements& r) {
  std::int64_t ppr = 0;
  for (unsigned bit : r.ppr) {
    if (bit > 2) throw std::invalid_argument("PprIds has bits 0..2 (SGP.22 2.9.1)");
    ppr |= std::int64_t{1} << bit;
  }
  for (const auto& [name, release] : r.device_capabilities) {
    const auto& names = device_capability_names();
    if (std::find(names.begin(), names.end(), name) == names.end())
      throw std::invalid_argument("unknown DeviceCapabilities member '" + name + "'");
    if (release.size() != 3) throw std::invalid_argument(name + ": a release is 3 bytes (VersionType)");
  }
  auto blob = [](const Bytes& b) { return b.empty() ? store::Value(nullptr) : store::Value(b); };
  db_.run(
      "INSERT OR REPLACE INTO profile_requirements (iccid, ppr_ids, profile_owner, profile_version, min_pp_version, "
      "nvm_bytes, device_capabilities) VALUES (?,?,?,?,?,?,?)",
      {iccid, ppr, blob(r.profile_owner_mcc_mnc), blob(r.profile_version), blob(r.min_pp_version),
       static_cast<std::int64_t>(r.nvm_bytes), capabilities_text(r)});
}

ProfileRequirements ProfileStore::requirements(const std::string& iccid) {
  ProfileRequirements r;
  db_.query(
      kRequirements, {iccid}, [&](const store::Row& row) {
        for (unsigned bit = 0; bit <= 2; ++bit)
          if (row.i64(0) >> bit & 1) r.ppr.push_back(bit);
        if (!row.is_null(1)) r.profile_owner_mcc_mnc = row.blob(1);
        if (!row.is_null(2)) r.profile_version = row.blob(2);
        if (!row.is_null(3)) r.min_pp_version = row.blob(3);
        r.nvm_bytes = static_cast<std::uint64_t>(row.i64(4));
        parse_capabilities(row.text(5), r);
      });
  return r;
}

void ProfileStore::stage(const Profile& p, ByteView upp, bool protect, const ProfileRequirements& requirements) {
  ProfileRequirements r = requirements;
  ProfileRequirements from_upp;
  try {
    from_upp = requirements_from_upp(upp);
  } catch (const DecodeError&) {
    from_upp.nvm_bytes = upp.size();  // not a package we can read: its size still counts
  }
  if (r.profile_version.empty()) r.profile_version = from_upp.profile_version;
  if (r.nvm_bytes == 0) r.nvm_bytes = from_upp.nvm_bytes;
  // Both rows or neither; inside a caller's transaction (batch import) this
  // is a savepoint. (A bare SAVEPOINT outside a transaction is SQLite only.)
  store::Transaction tx(db_);
  insert_profile(p, upp, protect);
  set_requirements(p.iccid, r);
  tx.commit();
}

void ProfileStore::stage(const Profile& p, ByteView upp, bool protect) { stage(p, upp, protect, {}); }

void ProfileStore::insert_profile(const Profile& p, ByteView upp, bool protect) {
  if (p.icon.size() > kMaxIconBytes)
    throw std::invalid_argument("icon of " + std::to_string(p.icon.size()) + " bytes: SGP.22 allows at most " +
                                std::to_string(kMaxIconBytes));
  if (p.icon_type != kIconTypeJpg && p.icon_type != kIconTypePng)
    throw std::invalid_argument("iconType " + std::to_string(p.icon_type) + " is neither jpg(0) nor png(1)");
  notification_config_value(p.notification_configuration);  // checks the addresses
  // Named conflicts rather than the store's "UNIQUE constraint failed"
  // (the caller's transaction, if any, keeps check and insert together).
  if (auto other = by_iccid(p.iccid))
    throw DuplicateProfile("ICCID " + p.iccid + " is already staged (state " + std::string(to_string(other->state)) +
                           (other->matching_id.empty() ? "" : ", matching id " + other->matching_id) + ")");
  if (!p.matching_id.empty()) {
    if (auto other = by_matching_id(p.matching_id))
      throw DuplicateProfile("matching id " + p.matching_id + " is already used by ICCID " + other->iccid + " (state " +
                             std::string(to_string(other->state)) + ")");
    forget_expired_order(p.matching_id);
  }
  Bytes iv = crypto::random_bytes(12);
  Bytes enc = crypto::aes_gcm_encrypt(key_, iv, to_bytes(p.iccid), upp);
  store::Value ppk_iv = nullptr, ppk_enc = nullptr, ppp = nullptr;
  if (protect) {
    // PPK-ENC, PPK-MAC and the initial MAC chaining value, random per profile.
    SecretBytes keys = crypto::random_bytes(48);
    scp03t::Channel ch(ByteView(keys).first(16), ByteView(keys).subspan(16, 16), ByteView(keys).last(16));
    Bytes segments = ch.wrap_segments(scp03t::kTagEncryptedMac, upp);
    Bytes kiv = crypto::random_bytes(12);
    ppk_enc = crypto::aes_gcm_encrypt(key_, kiv, to_bytes("ppk:" + p.iccid), keys);
    ppk_iv = kiv;
    ppp = segments;
  }
  db_.run(std::string("INSERT INTO profiles (") + kProfileColumns +
              ", upp_iv, upp_enc, ppk_iv, ppk_enc, ppp) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
          {p.iccid, matching_id_value(p.matching_id), p.eid, std::string(to_string(p.state)),
           p.cc_hash ? store::Value(*p.cc_hash) : store::Value(nullptr), std::int64_t{p.cc_attempts},
           std::int64_t{p.download_attempts}, p.service_provider_name, p.profile_name, std::int64_t{p.profile_class},
           p.transaction_id, p.owner, p.profile_type, p.order_expires_at, iv, enc, ppk_iv, ppk_enc, ppp});
  put_metadata(p);
}

std::optional<ProtectedPackage> ProfileStore::protected_package(const std::string& iccid) {
  std::optional<ProtectedPackage> out;
  db_.query(kProtectedPackage, {iccid},
            [&](const store::Row& r) {
              SecretBytes keys = crypto::aes_gcm_decrypt(key_, r.blob(0), to_bytes("ppk:" + iccid), r.blob(1));
              ProtectedPackage pp;
              pp.ppk_enc.assign(keys.begin(), keys.begin() + 16);
              pp.ppk_mac.assign(keys.begin() + 16, keys.begin() + 32);
              pp.initial_mcv.assign(keys.begin() + 32, keys.end());
              pp.segments = r.blob(2);
              out = std::move(pp);
            });
  return out;
}

std::optional<Profile> ProfileStore::by_matching_id(const std::string& matching_id) {
  std::optional<Profile> out;
  db_.query(kByMatchingId, {matching_id},
            [&](const store::Row& r) { out = profile_from(r); });
  return out;
}

std::optional<Profile> ProfileStore::allocate(const std::string& owner, const std::string& profile_type,
                                              const std::string& eid, std::int64_t order_expires_at) {
  store::Transaction tx(db_);
  std::optional<Profile> p;
  db_.query(kAllocate, {owner, profile_type}, [&](const store::Row& r) { p = profile_from(r); });
  if (!p) return std::nullopt;
  p->eid = eid;
  p->state = eid.empty() ? ProfileState::Allocated : ProfileState::Linked;
  p->order_expires_at = order_expires_at;
  update(*p);
  tx.commit();
  return p;
}

bool ProfileStore::has_profile_type(const std::string& owner, const std::string& profile_type) {
  bool found = false;
  db_.query(kHasProfileType, {owner, profile_type},
            [&](const store::Row&) { found = true; });
  return found;
}

void ProfileStore::put_template(const std::string& name, const std::string& owner, ByteView upp) {
  Bytes iv = crypto::random_bytes(12);
  Bytes enc = crypto::aes_gcm_encrypt(key_, iv, to_bytes("template:" + name), upp);
  db_.run("INSERT OR REPLACE INTO templates (name, owner, upp_iv, upp_enc) VALUES (?,?,?,?)", {name, owner, iv, enc});
}

std::optional<Bytes> ProfileStore::template_package(const std::string& name) {
  std::optional<Bytes> out;
  db_.query("SELECT upp_iv, upp_enc FROM templates WHERE name = ?", {name}, [&](const store::Row& r) {
    out = crypto::aes_gcm_decrypt(key_, r.blob(0), to_bytes("template:" + name), r.blob(1));
  });
  return out;
}

std::vector<std::pair<std::string, std::string>> ProfileStore::templates() {
  std::vector<std::pair<std::string, std::string>> out;
  db_.query("SELECT name, owner FROM templates ORDER BY name", {},
            [&](const store::Row& r) { out.emplace_back(r.text(0), r.text(1)); });
  return out;
}

int ProfileStore::expire_orders(std::int64_t now) {
  store::Transaction tx(db_);
  // The matching ids of lapsed orders are remembered, so that an LPA still
  // holding one hears "download order expired" (SGP.22 5.6.3, 8.8.5/4.10),
  // not "unknown matching id".
  db_.run(kExpireRemember, {now, now});
  int n = db_.run(kExpireUpdate, {now});
  tx.commit();
  return n;
}

bool ProfileStore::record_notification(const std::string& eid, std::int64_t seq_number, const std::string& operation,
                                       const std::string& iccid, std::int64_t received_at) {
  return db_.run(kRecordNotification, {eid, seq_number, operation, iccid, received_at}) == 1;
}

bool ProfileStore::is_expired_order(const std::string& matching_id) {
  bool found = false;
  db_.query(kIsExpiredOrder, {matching_id},
            [&](const store::Row&) { found = true; });
  return found;
}

void ProfileStore::forget_expired_order(const std::string& matching_id) {
  db_.run("DELETE FROM expired_orders WHERE matching_id = ?", {matching_id});
}

std::optional<Profile> ProfileStore::by_iccid(const std::string& iccid) {
  std::optional<Profile> out;
  db_.query(kByIccid, {iccid},
            [&](const store::Row& r) { out = profile_from(r); });
  return out;
}

Bytes ProfileStore::upp(const std::string& iccid) {
  Bytes iv, enc;
  db_.query(kUpp, {iccid}, [&](const store::Row& r) {
    iv = r.blob(0);
    enc = r.blob(1);
  });
  if (enc.empty()) throw store::StoreError("no profile package for ICCID " + iccid);
  return crypto::aes_gcm_decrypt(key_, iv, to_bytes(iccid), enc);
}

void ProfileStore::update(const Profile& p) {
  db_.run(
      kUpdateProfile,
      {matching_id_value(p.matching_id), p.eid, std::string(to_string(p.state)), p.cc_hash ? store::Value(*p.cc_hash) : store::Value(nullptr),
       std::int64_t{p.cc_attempts}, std::int64_t{p.download_attempts}, p.service_provider_name, p.profile_name,
       std::int64_t{p.profile_class}, p.transaction_id, p.owner, p.profile_type, p.order_expires_at, p.iccid});
}

bool ProfileStore::transition_session(const Session& s, std::string_view from_state) {
  return db_.run(
             kTransitionSession,
             {s.state, std::int64_t{s.created_at}, s.euicc_challenge, s.server_challenge, s.server_address,
              std::int64_t{s.credential_index}, s.eid, s.euicc_certificate, s.iccid, s.smdp_signature2, s.euicc_otpk,
              std::int64_t{s.signing_ci_index}, s.transaction_id, std::string(from_state)}) == 1;
}

void ProfileStore::put_session(const Session& s) {
  db_.run(
      "INSERT OR REPLACE INTO sessions (transaction_id, state, created_at, euicc_challenge, server_challenge, "
      "server_address, credential_index, eid, euicc_certificate, iccid, smdp_signature2, euicc_otpk, signing_ci_index) "
      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
      {s.transaction_id, s.state, std::int64_t{s.created_at}, s.euicc_challenge, s.server_challenge, s.server_address,
       std::int64_t{s.credential_index}, s.eid, s.euicc_certificate, s.iccid, s.smdp_signature2, s.euicc_otpk,
       std::int64_t{s.signing_ci_index}});
}

std::optional<Session> ProfileStore::session(const std::string& transaction_id) {
  std::optional<Session> out;
  db_.query(
      kSession, {transaction_id}, [&](const store::Row& r) {
        Session s;
        s.transaction_id = r.text(0);
        s.state = r.text(1);
        s.created_at = static_cast<std::time_t>(r.i64(2));
        s.euicc_challenge = r.blob(3);
        s.server_challenge = r.blob(4);
        s.server_address = r.text(5);
        s.credential_index = static_cast<int>(r.i64(6));
        s.eid = r.text(7);
        s.euicc_certificate = r.blob(8);
        s.iccid = r.text(9);
        s.smdp_signature2 = r.blob(10);
        s.euicc_otpk = r.blob(11);
        s.signing_ci_index = static_cast<int>(r.i64(12));
        out = std::move(s);
      });
  return out;
}

void ProfileStore::end_session(const std::string& transaction_id, const std::string& state) {
  db_.run(kEndSession, {state, transaction_id});
}

int ProfileStore::purge_sessions(std::int64_t created_before) {
  return db_.run(kPurgeSessions, {created_before});
}

}  // namespace rsp::smdp
