#include "rsp/ledger/embedded.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "rsp/file.hpp"
#include "rsp/json.hpp"

#include "rsp/log.hpp"

namespace rsp::ledger {

using detail::KnownParticipant;
using detail::ParticipantMap;
using detail::UsedKeys;
using Reason = AppendError::Reason;

namespace {

const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS entries (
  seq INTEGER PRIMARY KEY,
  prev_hash BLOB NOT NULL,
  type TEXT NOT NULL,
  author TEXT NOT NULL,
  nonce TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  payload BLOB NOT NULL,
  signature BLOB NOT NULL,
  hash BLOB NOT NULL,
  UNIQUE (author, nonce)
);
CREATE TABLE IF NOT EXISTS participants (
  id TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  curve TEXT NOT NULL,
  public_key BLOB NOT NULL,
  registered_seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_meta (
  k TEXT PRIMARY KEY,
  v BLOB NOT NULL
);
)SQL";

constexpr const char* kEntryCols = "seq, prev_hash, type, author, nonce, timestamp, payload, signature, hash";

Entry entry_from_row(const store::Row& r) {
  Entry e;
  e.seq = r.i64(0);
  e.prev_hash = r.blob(1);
  e.type = r.text(2);
  e.author = r.text(3);
  e.nonce = r.text(4);
  e.timestamp_ms = r.i64(5);
  e.payload = r.blob(6);
  e.signature = r.blob(7);
  e.hash = r.blob(8);
  return e;
}

Bytes zero_hash() { return Bytes(kHashSize, 0); }

// Parses the payload of a genesis/register entry into a participant with its key.
KnownParticipant parse_participant(const Entry& e) {
  KnownParticipant k;
  try {
    auto j = parse_json(rsp::to_string(e.payload), payload_json_limits(e.type));
    k.p.id = j.at("id").get<std::string>();
    k.p.role = j.at("role").get<std::string>();
    k.p.curve = crypto::curve_from_name(j.at("curve").get<std::string>());
    k.p.public_point = from_hex(j.at("public_key").get<std::string>());
    k.p.registered_seq = e.seq;
    if (j.contains("arbiter")) k.p.arbiter = j.at("arbiter").get<std::string>();
    k.key = std::make_shared<crypto::EcKey>(crypto::EcKey::from_public_point(k.p.curve, k.p.public_point));
  } catch (const std::exception& ex) {
    throw AppendError(Reason::BadParticipant, e.seq, std::string("participant payload: ") + ex.what());
  }
  if (k.p.id.empty() || k.p.id.size() > 128) throw AppendError(Reason::BadParticipant, e.seq, "participant id empty or too long");
  if (!is_known_role(k.p.role)) throw AppendError(Reason::BadParticipant, e.seq, "unknown role '" + k.p.role + "'");
  return k;
}

// Rules that need no state but the participants: type, fields, size,
// author, signature. `h` is compute_hash(e), done once by the caller.
// Returns the participant a genesis/register entry introduces.
std::optional<KnownParticipant> check_entry(const Entry& e, const Bytes& h, const ParticipantMap& known,
                                            const UsedKeys& used, bool check_signature) {
  if (!is_known_type(e.type)) throw AppendError(Reason::UnknownType, e.seq, "unknown entry type '" + e.type + "'");
  if (e.author.empty() || e.author.size() > 128) throw AppendError(Reason::Malformed, e.seq, "author empty or too long");
  if (e.nonce.empty() || e.nonce.size() > 128) throw AppendError(Reason::Malformed, e.seq, "nonce empty or too long");
  if (e.timestamp_ms <= 0) throw AppendError(Reason::Malformed, e.seq, "timestamp missing");
  if (e.prev_hash.size() != kHashSize) throw AppendError(Reason::Malformed, e.seq, "prev_hash is not 32 bytes");
  if (e.payload.size() > max_payload_size(e.type))
    throw AppendError(Reason::TooLarge, e.seq,
                      "a '" + e.type + "' payload is limited to " + std::to_string(max_payload_size(e.type)) +
                          " bytes (got " + std::to_string(e.payload.size()) + ")");

  if (!e.hash.empty() && e.hash != h) throw AppendError(Reason::Malformed, e.seq, "hash does not match the entry content");

  auto lookup = [&](const std::string& id) -> const KnownParticipant* {
    auto it = known.find(id);
    return it == known.end() ? nullptr : &it->second;
  };
  std::optional<KnownParticipant> added;
  std::shared_ptr<crypto::EcKey> key;
  if (e.type == "genesis") {
    if (e.seq != 1) throw AppendError(Reason::Malformed, e.seq, "genesis entry after seq 1");
    added = parse_participant(e);
    if (added->p.role != kRoleAdmin) throw AppendError(Reason::BadParticipant, e.seq, "genesis must register the admin");
    if (added->p.id != e.author) throw AppendError(Reason::BadParticipant, e.seq, "genesis must be self-signed by the admin it registers");
    key = added->key;
  } else {
    if (e.seq == 1) throw AppendError(Reason::Malformed, e.seq, "seq 1 must be the genesis entry");
    const KnownParticipant* a = lookup(e.author);
    if (!a) throw AppendError(Reason::UnknownAuthor, e.seq, "author '" + e.author + "' is not a registered participant");
    if (a->p.revoked) throw AppendError(Reason::UnknownAuthor, e.seq, "the key of '" + e.author + "' was revoked");
    key = a->key;
    if (e.type == "register") {
      if (a->p.role != kRoleAdmin) throw AppendError(Reason::NotAdmin, e.seq, "only the admin may register participants");
      added = parse_participant(e);
      if (added->p.role == kRoleAdmin) throw AppendError(Reason::BadParticipant, e.seq, "a second admin cannot be registered");
      if (lookup(added->p.id)) throw AppendError(Reason::BadParticipant, e.seq, "participant '" + added->p.id + "' already registered");
      // A key is never reused, not even one rotated out or revoked (docs/ledger.md "Key rotation").
      if (used.count({added->p.curve, added->p.public_point}))
        throw AppendError(Reason::BadParticipant, e.seq, "the key of '" + added->p.id + "' was used by a participant before");
      if (!added->p.arbiter.empty()) {
        const KnownParticipant* arb = lookup(added->p.arbiter);
        if (!arb || arb->p.role != "arbiter")
          throw AppendError(Reason::BadParticipant, e.seq, "arbiter '" + added->p.arbiter + "' is not a registered arbiter");
      }
    }
  }
  if (check_signature && (e.signature.size() != 64 || !key->verify(h, e.signature))) {
    // Signed with a key the author rotated out: that key writes nothing
    // any more, like a revoked one (both backends: not-registered).
    if (const KnownParticipant* a = e.type == "genesis" ? nullptr : lookup(e.author); a && e.signature.size() == 64)
      for (const auto& [seq, old] : a->retired)
        if (old->verify(h, e.signature))
          throw AppendError(Reason::UnknownAuthor, e.seq, "the key that signed this entry of '" + e.author +
                                                               "' was rotated out at seq " + std::to_string(seq));
    throw AppendError(Reason::BadSignature, e.seq, "signature of '" + e.author + "' does not verify");
  }
  return added;
}

std::string ms_text(std::int64_t ms) { return std::to_string(ms / 1000) + " s"; }

[[noreturn]] void rotation_refused(const Entry& e, const std::string& code, const std::string& why) {
  throw AppendError(Reason::MarketRule, e.seq, code + ": " + why, code);
}

// The rules of a "rotate" entry, in the chain's order (Marketplace.rotateKey):
// the author is registered and not revoked (check_entry, not-registered);
// it rotates its own key (forbidden); the new key is a key (bad-terms) that
// no participant ever had (bad-participant). Returns the new key.
KnownParticipant check_rotation(const Entry& e, const ParticipantMap& known, const UsedKeys& used) {
  nlohmann::json j;
  try {
    j = parse_json(rsp::to_string(e.payload), payload_json_limits(e.type));
  } catch (const std::exception& ex) {
    rotation_refused(e, "bad-terms", std::string("payload is not JSON: ") + ex.what());
  }
  auto id = j.is_object() ? j.find("id") : j.end();
  if (!j.is_object() || id == j.end() || !id->is_string()) rotation_refused(e, "bad-terms", "'id' missing");
  if (id->get<std::string>() != e.author)
    rotation_refused(e, "forbidden", "'" + e.author + "' may rotate only its own key");
  KnownParticipant k = known.at(e.author);
  try {
    k.p.curve = crypto::curve_from_name(j.at("curve").get<std::string>());
    k.p.public_point = from_hex(j.at("public_key").get<std::string>());
    k.key = std::make_shared<crypto::EcKey>(crypto::EcKey::from_public_point(k.p.curve, k.p.public_point));
  } catch (const std::exception& ex) {
    rotation_refused(e, "bad-terms", std::string("new key: ") + ex.what());
  }
  if (used.count({k.p.curve, k.p.public_point}))
    rotation_refused(e, "bad-participant", "the new key was a participant's key before (keys are never reused)");
  return k;
}

}  // namespace

EmbeddedLedger::EmbeddedLedger(const std::string& path) : EmbeddedLedger(path, Options{}) {}

EmbeddedLedger::EmbeddedLedger(const std::string& path, Options opt)
    : path_(path), opt_(std::move(opt)), clock_ms_(opt_.clock_ms ? opt_.clock_ms : now_ms), db_(path, opt_.synchronous_full) {
  db_.exec(kSchema);
  if (opt_.verify_on_open != VerifyMode::None) verify(opt_.verify_on_open);
}

EmbeddedLedger::~EmbeddedLedger() = default;

Head EmbeddedLedger::head_locked() {
  Head h{0, zero_hash(), 0};
  db_.query("SELECT seq, hash, timestamp FROM entries ORDER BY seq DESC LIMIT 1", {}, [&](const store::Row& r) {
    h.seq = r.i64(0);
    h.hash = r.blob(1);
    h.timestamp_ms = r.i64(2);
  });
  return h;
}

Head EmbeddedLedger::head() {
  std::lock_guard l(db_.mutex());
  return head_locked();
}

Bytes EmbeddedLedger::genesis_hash() {
  std::lock_guard wl(write_mu_);
  if (v_.genesis_hash.empty()) {
    auto e = get(1);
    if (e) return e->hash;
  }
  return v_.genesis_hash;
}

void EmbeddedLedger::check_and_apply(const Entry& e, const Bytes& h, Verified& v, bool check_signature,
                                     std::int64_t seen_at_ms, const std::function<void()>& before_apply) {
  auto added = check_entry(e, h, v.known, v.used_keys, check_signature);
  if (e.seq == 1) {
    // The genesis this participant's configuration (or its witness) pins.
    if (opt_.pin && !opt_.pin->genesis_hash.empty() && opt_.pin->genesis_hash != h)
      throw AppendError(Reason::WrongGenesis, e.seq, "genesis " + to_hex(h) + " is not the pinned " + to_hex(opt_.pin->genesis_hash));
    if (opt_.pin && !opt_.pin->admin_public_point.empty() && opt_.pin->admin_public_point != added->p.public_point)
      throw AppendError(Reason::WrongGenesis, e.seq, "the genesis admin key is not the pinned admin key");
  } else if (check_signature) {
    // Time rules (docs/ledger.md, "Time rules"): the expiry rules use entry
    // times, so no entry may claim a time ahead of this process's clock, or
    // behind the entry it follows or the moment this process saw that entry
    // as the head (it did not exist then: it was dated back).
    if (e.timestamp_ms > clock_ms_() + kClockSkewMs)
      throw AppendError(Reason::BadTime, e.seq, "timestamp " + ms_text(e.timestamp_ms) + " is ahead of this process's clock (" +
                                                    ms_text(clock_ms_()) + ") by more than 5 minutes");
    if (e.timestamp_ms < v.head.timestamp_ms - kClockSkewMs)
      throw AppendError(Reason::BadTime, e.seq, "timestamp is more than 5 minutes before the entry it follows");
    if (e.timestamp_ms < seen_at_ms - kClockSkewMs)
      throw AppendError(Reason::BadTime, e.seq, "dated " + ms_text(e.timestamp_ms) + ", more than 5 minutes before this process saw seq " +
                                                    std::to_string(v.head.seq) + " as the head (" + ms_text(seen_at_ms) + "): backdated");
  }
  std::optional<KnownParticipant> rotated;
  if (e.type == "rotate") rotated = check_rotation(e, v.known, v.used_keys);
  if (before_apply) before_apply();
  try {
    v.market.apply(e, [&](const std::string& id) -> std::optional<std::string> {
      if (auto it = v.known.find(id); it != v.known.end() && !it->second.p.revoked) return it->second.p.role;
      return std::nullopt;
    });
  } catch (const MarketError& m) {
    throw AppendError(Reason::MarketRule, e.seq, m.what(), m.code);
  }
  if (e.type == "revoke")  // checked by the market rules just above
    v.known.at(parse_json(rsp::to_string(e.payload), payload_json_limits(e.type)).at("id").get<std::string>()).p.revoked = true;
  if (rotated) {
    // From the next seq on, this participant's entries verify with the new key.
    KnownParticipant& k = v.known.at(e.author);
    k.retired.emplace_back(e.seq, k.key);
    k.key = rotated->key;
    k.p.curve = rotated->p.curve;
    k.p.public_point = rotated->p.public_point;
    v.used_keys.insert({k.p.curve, k.p.public_point});
  }
  if (added) {
    v.used_keys.insert({added->p.curve, added->p.public_point});
    v.known.emplace(added->p.id, std::move(*added));
  }
  if (e.seq == 1) v.genesis_hash = h;
  v.head = Head{e.seq, h, e.timestamp_ms};
}

Bytes EmbeddedLedger::validate_and_insert(const Entry& e) {
  const Head& h = v_.head;
  if (e.seq != h.seq + 1 || e.prev_hash != h.hash)
    throw AppendError(Reason::StaleHead, e.seq,
                      "entry does not extend the head (head is seq " + std::to_string(h.seq) + ", entry claims seq " +
                          std::to_string(e.seq) + (e.prev_hash != h.hash ? " with another prev_hash)" : ")"));
  Bytes hash = compute_hash(e);
  const std::size_t known_before = v_.known.size();
  check_and_apply(e, hash, v_, true, seen_at_ms_, [&] {
    bool replay = false;
    db_.query("SELECT 1 FROM entries WHERE author = ? AND nonce = ?", {e.author, e.nonce},
              [&](const store::Row&) { replay = true; });
    if (replay)
      throw AppendError(Reason::Replay, e.seq, "nonce '" + e.nonce + "' already used by '" + e.author + "'");
  });
  db_.run(std::string("INSERT INTO entries (") + kEntryCols + ") VALUES (?,?,?,?,?,?,?,?,?)",
          {e.seq, e.prev_hash, e.type, e.author, e.nonce, e.timestamp_ms, e.payload, e.signature, hash});
  if (v_.known.size() != known_before) {
    // The participants table is a materialised view for tools; the chain is the authority.
    const KnownParticipant* k = nullptr;
    for (const auto& [id, kp] : v_.known)
      if (kp.p.registered_seq == e.seq) k = &kp;
    db_.run("INSERT INTO participants (id, role, curve, public_key, registered_seq) VALUES (?,?,?,?,?)",
            {k->p.id, k->p.role, std::string(crypto::curve_name(k->p.curve)), k->p.public_point, e.seq});
  }
  if (e.type == "rotate") {  // the view shows the key the participant writes with now
    const KnownParticipant& k = v_.known.at(e.author);
    db_.run("UPDATE participants SET curve = ?, public_key = ? WHERE id = ?",
            {std::string(crypto::curve_name(k.p.curve)), k.p.public_point, e.author});
  }
  return hash;
}

std::vector<AppendResult> EmbeddedLedger::append_batch(const std::vector<Entry>& entries) {
  std::lock_guard wl(write_mu_);
  std::vector<AppendResult> out;
  out.reserve(entries.size());
  store::Transaction tx(db_);
  sync_locked();
  committed_ = Witness{v_.genesis_hash, v_.head.seq, v_.head.hash, seen_at_ms_};
  // From the first entry on, v_ holds uncommitted entries: if anything fails
  // before the commit, the state is rebuilt from the file.
  stale_ = true;
  for (const auto& e : entries) {
    Bytes h = validate_and_insert(e);
    out.push_back({e.seq, h});
  }
  tx.commit();
  stale_ = false;
  write_witness();
  return out;
}

AppendResult EmbeddedLedger::append(const Entry& e) { return append_batch({e}).front(); }

std::vector<AppendResult> EmbeddedLedger::append_signed_batch(const std::string& author, const crypto::EcKey& key,
                                                              const std::vector<Draft>& drafts) {
  std::lock_guard wl(write_mu_);
  std::vector<AppendResult> out;
  out.reserve(drafts.size());
  store::Transaction tx(db_);
  sync_locked();
  committed_ = Witness{v_.genesis_hash, v_.head.seq, v_.head.hash, seen_at_ms_};
  stale_ = true;
  for (std::size_t i = 0; i < drafts.size(); ++i) {
    const auto& d = drafts[i];
    Entry e;
    e.seq = v_.head.seq + 1;
    e.prev_hash = v_.head.hash;
    e.type = d.type;
    e.author = author;
    e.nonce = d.nonce.empty() ? random_nonce() : d.nonce;
    e.timestamp_ms = clock_ms_();
    e.payload = d.payload;
    seal(e, key);
    try {
      validate_and_insert(e);
    } catch (AppendError& refused) {
      refused.batch_index = i;  // which draft: the caller names it (report_usage_batch)
      throw;
    }
    out.push_back({e.seq, e.hash});
  }
  tx.commit();
  stale_ = false;
  write_witness();
  return out;
}

AppendResult EmbeddedLedger::append_signed(const std::string& author, const crypto::EcKey& key, const std::string& type,
                                           ByteView payload, const std::string& nonce) {
  return append_signed_batch(author, key, {Draft{type, Bytes(payload.begin(), payload.end()), nonce}}).front();
}

AppendResult EmbeddedLedger::init(const std::string& admin_id, const crypto::EcKey& admin_key) {
  std::lock_guard wl(write_mu_);
  Entry e;
  store::Transaction tx(db_);
  Head h = head_locked();
  if (h.seq != 0) throw AppendError(Reason::StaleHead, 1, "ledger already initialised (head is seq " + std::to_string(h.seq) + ")");
  v_ = Verified{};
  committed_ = Witness{};
  stale_ = true;
  e.seq = 1;
  e.prev_hash = h.hash;
  e.type = "genesis";
  e.author = admin_id;
  e.nonce = "genesis";
  e.timestamp_ms = clock_ms_();
  e.payload = participant_payload(admin_id, std::string(kRoleAdmin), admin_key);
  seal(e, admin_key);
  validate_and_insert(e);
  tx.commit();
  stale_ = false;
  seen_at_ms_ = e.timestamp_ms;
  write_witness();
  return {e.seq, e.hash};
}

AppendResult EmbeddedLedger::register_participant(const std::string& admin_id, const crypto::EcKey& admin_key,
                                                  const std::string& id, const std::string& role,
                                                  const crypto::EcKey& participant_public_key,
                                                  const std::string& arbiter) {
  return append_signed(admin_id, admin_key, "register", participant_payload(id, role, participant_public_key, arbiter),
                       "register:" + id);
}

std::optional<Entry> EmbeddedLedger::get(std::int64_t seq) {
  std::optional<Entry> out;
  db_.query(std::string("SELECT ") + kEntryCols + " FROM entries WHERE seq = ?", {seq},
            [&](const store::Row& r) { out = entry_from_row(r); });
  return out;
}

std::vector<Entry> EmbeddedLedger::entries_after(std::int64_t after, std::size_t limit) {
  std::vector<Entry> out;
  db_.query(std::string("SELECT ") + kEntryCols + " FROM entries WHERE seq > ? ORDER BY seq LIMIT ?",
            {after, static_cast<std::int64_t>(limit)}, [&](const store::Row& r) { out.push_back(entry_from_row(r)); });
  return out;
}

std::vector<Participant> EmbeddedLedger::participants() {
  std::vector<Participant> out;
  read_known([&](const ParticipantMap& known) {
    for (const auto& [id, k] : known) out.push_back(k.p);
  });
  return out;
}

std::optional<Participant> EmbeddedLedger::participant(const std::string& id) {
  std::optional<Participant> out;
  read_known([&](const ParticipantMap& known) {
    if (auto it = known.find(id); it != known.end()) out = it->second.p;
  });
  return out;
}

void EmbeddedLedger::read_known(const std::function<void(const ParticipantMap&)>& f) {
  std::lock_guard wl(write_mu_);
  sync_locked();
  f(v_.known);
}

// ---- keeping up with other writers ----

void EmbeddedLedger::refuse(const ChainError& e) {
  if (logged_bad_seq_ != e.seq) {
    logged_bad_seq_ = e.seq;
    log::error("ledger", std::string("REFUSED ") + e.what() + " (" + path_ +
                             "): this process does not apply it and will not write on top of it");
  }
  throw e;
}

void EmbeddedLedger::sync_locked() {
  if (stale_) {
    // A refused batch: rebuild what the file holds up to the last committed head.
    auto known = committed_;
    stale_ = false;
    if (known.seq == 0) {
      v_ = Verified{};
    } else {
      walk(known, true);
    }
  }
  const std::int64_t started = clock_ms_();
  const std::int64_t from = v_.head.seq;
  for (;;) {
    std::vector<Entry> batch = entries_after(v_.head.seq, 1000);
    if (batch.empty()) break;
    for (const auto& e : batch) {
      if (e.seq != v_.head.seq + 1)
        refuse(ChainError(v_.head.seq + 1, "entry missing (deleted?): the next stored entry is seq " + std::to_string(e.seq)));
      if (e.prev_hash != v_.head.hash)
        refuse(ChainError(e.seq, "prev_hash does not link to entry " + std::to_string(v_.head.seq) +
                                     " as this process verified it (history rewritten)"));
      Bytes h = compute_hash(e);
      if (h != e.hash) refuse(ChainError(e.seq, "content does not match the stored hash (payload or fields altered)"));
      try {
        check_and_apply(e, h, v_, true, seen_at_ms_);
      } catch (const AppendError& x) {
        refuse(ChainError(e.seq, std::string(reason_name(x.reason)) + ": " + x.what()));
      }
    }
  }
  // The head this process verified must still be on file, unchanged.
  Head fh = head_locked();
  if (fh.seq < v_.head.seq)
    refuse(ChainError(fh.seq + 1, "chain truncated: this process verified seq " + std::to_string(v_.head.seq) +
                                      " but the file ends at seq " + std::to_string(fh.seq)));
  if (fh.seq == v_.head.seq && fh.hash != v_.head.hash)
    refuse(ChainError(fh.seq, "entry differs from the one this process verified (history rewritten)"));
  seen_at_ms_ = started;
  if (v_.head.seq != from) write_witness();
}

void EmbeddedLedger::read_market(const std::function<void(const MarketState&)>& f) {
  std::lock_guard wl(write_mu_);
  // No write transaction for a read: entries are append-only, so pages read
  // one after another are a prefix of the chain whatever other writers do
  // (and a prefix that is not is refused as rewritten).
  sync_locked();
  f(v_.market);
}

// ---- the participant's witness ----

std::optional<EmbeddedLedger::Witness> EmbeddedLedger::read_witness() {
  if (opt_.witness_path.empty() || !std::filesystem::exists(opt_.witness_path)) return std::nullopt;
  try {
    auto raw = read_file(opt_.witness_path);
    auto j = parse_json(rsp::to_string(raw), JsonLimits{4096, 2, 16, 256});  // four flat members
    Witness w;
    w.genesis_hash = from_hex(j.at("genesis").get<std::string>());
    w.seq = j.at("seq").get<std::int64_t>();
    w.hash = from_hex(j.at("hash").get<std::string>());
    w.seen_at_ms = j.at("seen_at_ms").get<std::int64_t>();
    return w;
  } catch (const std::exception& ex) {
    throw std::runtime_error("ledger witness " + opt_.witness_path + " unreadable: " + ex.what());
  }
}

void EmbeddedLedger::write_witness() {
  if (opt_.witness_path.empty() || v_.head.seq <= witness_seq_) return;
  nlohmann::json j{{"genesis", to_hex(v_.genesis_hash)},
                   {"seq", v_.head.seq},
                   {"hash", to_hex(v_.head.hash)},
                   {"seen_at_ms", seen_at_ms_}};
  // Written aside and renamed: a crash leaves the old witness or the new one.
  const std::string tmp = opt_.witness_path + ".tmp";
  write_private_file(tmp, to_bytes(j.dump()));
  std::filesystem::rename(tmp, opt_.witness_path);
  witness_seq_ = v_.head.seq;
}

std::optional<EmbeddedLedger::Witness> EmbeddedLedger::best_known() {
  auto w = read_witness();
  if (v_.head.seq > 0 && (!w || v_.head.seq > w->seq))
    return Witness{v_.genesis_hash, v_.head.seq, v_.head.hash, seen_at_ms_};
  return w;
}

// ---- verification ----

VerifyReport EmbeddedLedger::walk(const std::optional<Witness>& known, bool trust_known) {
  Verified v;
  VerifyReport rep;
  rep.head_hash = zero_hash();
  std::int64_t expected = 1;
  const std::int64_t known_seq = known ? known->seq : 0;
  {
    std::lock_guard l(db_.mutex());
    db_.query(std::string("SELECT ") + kEntryCols + " FROM entries ORDER BY seq", {}, [&](const store::Row& r) {
      Entry e = entry_from_row(r);
      if (e.seq != expected)
        throw ChainError(expected, "entry missing (deleted?): the next stored entry is seq " + std::to_string(e.seq));
      if (e.prev_hash != v.head.hash)
        throw ChainError(e.seq, "prev_hash does not link to entry " + std::to_string(e.seq - 1) +
                                    " (entry reordered, replaced or inserted)");
      Bytes h = compute_hash(e);
      if (h != e.hash) throw ChainError(e.seq, "content does not match the stored hash (payload or fields altered)");
      if (known && e.seq == 1 && !known->genesis_hash.empty() && known->genesis_hash != h)
        throw ChainError(1, "wrong-genesis: not the genesis this participant joined (" + to_hex(known->genesis_hash) + ")");
      // Entries up to the known head were verified by this participant
      // before: their hashes chain up to it, so their content is the same.
      const bool trusted = trust_known && e.seq <= known_seq;
      try {
        check_and_apply(e, h, v, !trusted, e.seq > known_seq && known ? known->seen_at_ms : 0);
      } catch (const AppendError& ex) {
        throw ChainError(e.seq, std::string(reason_name(ex.reason)) + ": " + ex.what());
      }
      if (known && e.seq == known_seq && h != known->hash)
        throw ChainError(e.seq, "entry differs from the one this participant verified before (history rewritten)");
      if (!trusted) ++rep.entries_checked;
      ++expected;
    });
  }
  rep.head_seq = v.head.seq;
  rep.head_hash = v.head.hash;
  if (known && rep.head_seq < known_seq)
    throw ChainError(rep.head_seq + 1, "chain truncated: this participant verified seq " + std::to_string(known_seq) +
                                           " but the file ends at seq " + std::to_string(rep.head_seq));
  // The participants table (a view for tools) must be exactly what the chain registers.
  ParticipantMap table;
  db_.query("SELECT id, role, curve, public_key, registered_seq FROM participants", {}, [&](const store::Row& r) {
    KnownParticipant k;
    k.p.id = r.text(0);
    k.p.role = r.text(1);
    k.p.curve = crypto::curve_from_name(r.text(2));
    k.p.public_point = r.blob(3);
    k.p.registered_seq = r.i64(4);
    table.emplace(k.p.id, std::move(k));
  });
  for (const auto& [id, k] : v.known) {
    auto it = table.find(id);
    if (it == table.end() || it->second.p.role != k.p.role || it->second.p.public_point != k.p.public_point ||
        it->second.p.curve != k.p.curve || it->second.p.registered_seq != k.p.registered_seq)
      throw ChainError(k.p.registered_seq, "participants table differs from the chain for '" + id + "'");
  }
  for (const auto& [id, k] : table)
    if (!v.known.count(id)) throw ChainError(k.p.registered_seq, "participant '" + id + "' is not registered by the chain");
  v_ = std::move(v);
  return rep;
}

VerifyReport EmbeddedLedger::verify(VerifyMode mode) {
  std::lock_guard wl(write_mu_);
  const std::int64_t started = clock_ms_();
  auto known = best_known();
  VerifyReport rep;
  try {
    rep = walk(known, mode == VerifyMode::FromCheckpoint);
  } catch (const ChainError& e) {
    refuse(e);
  }
  stale_ = false;
  seen_at_ms_ = started;
  write_witness();
  return rep;
}

}  // namespace rsp::ledger
