#include "rsp/ledger/embedded.hpp"

#include <nlohmann/json.hpp>

#include "rsp/log.hpp"

namespace rsp::ledger {

using detail::KnownParticipant;
using detail::ParticipantMap;
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

// Clears the participant-key cache unless the write it guards committed.
struct KeyCacheGuard {
  ParticipantMap& keys;
  bool committed = false;
  explicit KeyCacheGuard(ParticipantMap& k) : keys(k) {}
  ~KeyCacheGuard() {
    if (!committed) keys.clear();
  }
};

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
    auto j = nlohmann::json::parse(e.payload.begin(), e.payload.end());
    k.p.id = j.at("id").get<std::string>();
    k.p.role = j.at("role").get<std::string>();
    k.p.curve = crypto::curve_from_name(j.at("curve").get<std::string>());
    k.p.public_point = from_hex(j.at("public_key").get<std::string>());
    k.p.registered_seq = e.seq;
    k.key = std::make_shared<crypto::EcKey>(crypto::EcKey::from_public_point(k.p.curve, k.p.public_point));
  } catch (const std::exception& ex) {
    throw AppendError(Reason::BadParticipant, e.seq, std::string("participant payload: ") + ex.what());
  }
  if (k.p.id.empty() || k.p.id.size() > 128) throw AppendError(Reason::BadParticipant, e.seq, "participant id empty or too long");
  if (!is_known_role(k.p.role)) throw AppendError(Reason::BadParticipant, e.seq, "unknown role '" + k.p.role + "'");
  return k;
}

using Lookup = std::function<const KnownParticipant*(const std::string&)>;

// Rules shared by append and the chain walk (everything but linkage and
// replay). `h` is compute_hash(e), done once by the caller. Returns the
// participant a genesis/register entry introduces.
std::optional<KnownParticipant> check_entry(const Entry& e, const Bytes& h, const Lookup& lookup) {
  if (!is_known_type(e.type)) throw AppendError(Reason::UnknownType, e.seq, "unknown entry type '" + e.type + "'");
  if (e.author.empty() || e.author.size() > 128) throw AppendError(Reason::Malformed, e.seq, "author empty or too long");
  if (e.nonce.empty() || e.nonce.size() > 128) throw AppendError(Reason::Malformed, e.seq, "nonce empty or too long");
  if (e.timestamp_ms <= 0) throw AppendError(Reason::Malformed, e.seq, "timestamp missing");
  if (e.prev_hash.size() != kHashSize) throw AppendError(Reason::Malformed, e.seq, "prev_hash is not 32 bytes");

  if (!e.hash.empty() && e.hash != h) throw AppendError(Reason::Malformed, e.seq, "hash does not match the entry content");

  std::optional<KnownParticipant> added;
  std::shared_ptr<crypto::EcKey> key;  // owned copy: lookup() may reload the cache
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
    key = a->key;
    const std::string author_role = a->p.role;
    if (e.type == "register") {
      if (author_role != kRoleAdmin) throw AppendError(Reason::NotAdmin, e.seq, "only the admin may register participants");
      added = parse_participant(e);
      if (added->p.role == kRoleAdmin) throw AppendError(Reason::BadParticipant, e.seq, "a second admin cannot be registered");
      if (lookup(added->p.id)) throw AppendError(Reason::BadParticipant, e.seq, "participant '" + added->p.id + "' already registered");
    }
  }
  if (e.signature.size() != 64 || !key->verify(h, e.signature))
    throw AppendError(Reason::BadSignature, e.seq, "signature of '" + e.author + "' does not verify");
  return added;
}

}  // namespace

EmbeddedLedger::EmbeddedLedger(const std::string& path) : EmbeddedLedger(path, Options{}) {}

EmbeddedLedger::EmbeddedLedger(const std::string& path, Options opt)
    : path_(path), clock_ms_(opt.clock_ms ? opt.clock_ms : now_ms), db_(path, opt.synchronous_full) {
  db_.exec(kSchema);
  if (opt.verify_on_open != VerifyMode::None) verify(opt.verify_on_open);
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

ParticipantMap EmbeddedLedger::load_participants(std::optional<std::int64_t> up_to_seq) {
  ParticipantMap out;
  std::string sql = "SELECT id, role, curve, public_key, registered_seq FROM participants";
  std::vector<store::Value> params;
  if (up_to_seq) {
    sql += " WHERE registered_seq <= ?";
    params.emplace_back(*up_to_seq);
  }
  db_.query(sql, params, [&](const store::Row& r) {
    KnownParticipant k;
    k.p.id = r.text(0);
    k.p.role = r.text(1);
    k.p.curve = crypto::curve_from_name(r.text(2));
    k.p.public_point = r.blob(3);
    k.p.registered_seq = r.i64(4);
    k.key = std::make_shared<crypto::EcKey>(crypto::EcKey::from_public_point(k.p.curve, k.p.public_point));
    out.emplace(k.p.id, std::move(k));
  });
  return out;
}

const KnownParticipant* EmbeddedLedger::find_author(const std::string& id, const ParticipantMap& pending) {
  if (auto it = pending.find(id); it != pending.end()) return &it->second;
  if (auto it = keys_.find(id); it != keys_.end()) return &it->second;
  // Another process may have registered it: reload the cache.
  keys_ = load_participants(std::nullopt);
  if (auto it = keys_.find(id); it != keys_.end()) return &it->second;
  return nullptr;
}

Bytes EmbeddedLedger::validate_and_insert(const Entry& e, const Head& h, ParticipantMap& pending) {
  if (e.seq != h.seq + 1 || e.prev_hash != h.hash)
    throw AppendError(Reason::StaleHead, e.seq,
                      "entry does not extend the head (head is seq " + std::to_string(h.seq) + ", entry claims seq " +
                          std::to_string(e.seq) + (e.prev_hash != h.hash ? " with another prev_hash)" : ")"));
  Bytes hash = compute_hash(e);
  auto added = check_entry(e, hash, [&](const std::string& id) { return find_author(id, pending); });
  // Expiry rules use the entry's time: an author may not move it forward
  // (a refund "after" the term) or back (an Accept "before" expiry) by more
  // than the allowed clock skew.
  if (e.seq > 1) {
    if (e.timestamp_ms > clock_ms_() + kClockSkewMs)
      throw AppendError(Reason::Malformed, e.seq, "timestamp is ahead of the ledger's clock by more than 5 minutes");
    if (e.timestamp_ms < h.timestamp_ms - kClockSkewMs)
      throw AppendError(Reason::Malformed, e.seq, "timestamp is more than 5 minutes before the entry it follows");
  }
  bool replay = false;
  db_.query("SELECT 1 FROM entries WHERE author = ? AND nonce = ?", {e.author, e.nonce},
            [&](const store::Row&) { replay = true; });
  if (replay)
    throw AppendError(Reason::Replay, e.seq, "nonce '" + e.nonce + "' already used by '" + e.author + "'");
  try {
    market_.apply(e, [&](const std::string& id) -> std::optional<std::string> {
      const KnownParticipant* k = find_author(id, pending);
      if (!k) return std::nullopt;
      return k->p.role;
    });
  } catch (const MarketError& m) {
    throw AppendError(Reason::MarketRule, e.seq, m.what(), m.code);
  }
  // From here the state holds this entry: if anything later in this
  // transaction fails, the state must be rebuilt from the file.
  market_stale_ = true;
  db_.run(std::string("INSERT INTO entries (") + kEntryCols + ") VALUES (?,?,?,?,?,?,?,?,?)",
          {e.seq, e.prev_hash, e.type, e.author, e.nonce, e.timestamp_ms, e.payload, e.signature, hash});
  if (added) {
    db_.run("INSERT INTO participants (id, role, curve, public_key, registered_seq) VALUES (?,?,?,?,?)",
            {added->p.id, added->p.role, std::string(crypto::curve_name(added->p.curve)), added->p.public_point, e.seq});
    pending.emplace(added->p.id, std::move(*added));
  }
  return hash;
}

std::vector<AppendResult> EmbeddedLedger::append_batch(const std::vector<Entry>& entries) {
  std::lock_guard wl(write_mu_);
  std::vector<AppendResult> out;
  out.reserve(entries.size());
  ParticipantMap pending;
  // A refused batch rolls back: the key cache may have read its uncommitted
  // registrations (find_author reloads inside the transaction).
  KeyCacheGuard guard(keys_);
  {
    store::Transaction tx(db_);
    sync_market_locked();
    Head h = head_locked();
    for (const auto& e : entries) {
      h = Head{e.seq, validate_and_insert(e, h, pending), e.timestamp_ms};
      out.push_back({h.seq, h.hash});
    }
    tx.commit();
    market_stale_ = false;
  }
  guard.committed = true;
  for (auto& [id, k] : pending) keys_.insert_or_assign(id, std::move(k));
  return out;
}

AppendResult EmbeddedLedger::append(const Entry& e) { return append_batch({e}).front(); }

std::vector<AppendResult> EmbeddedLedger::append_signed_batch(const std::string& author, const crypto::EcKey& key,
                                                              const std::vector<Draft>& drafts) {
  std::lock_guard wl(write_mu_);
  std::vector<AppendResult> out;
  out.reserve(drafts.size());
  ParticipantMap pending;
  KeyCacheGuard guard(keys_);
  {
    store::Transaction tx(db_);
    sync_market_locked();
    Head h = head_locked();
    for (const auto& d : drafts) {
      Entry e;
      e.seq = h.seq + 1;
      e.prev_hash = h.hash;
      e.type = d.type;
      e.author = author;
      e.nonce = d.nonce.empty() ? random_nonce() : d.nonce;
      e.timestamp_ms = clock_ms_();
      e.payload = d.payload;
      seal(e, key);
      validate_and_insert(e, h, pending);
      h = Head{e.seq, e.hash, e.timestamp_ms};
      out.push_back({h.seq, h.hash});
    }
    tx.commit();
    market_stale_ = false;
  }
  guard.committed = true;
  for (auto& [id, k] : pending) keys_.insert_or_assign(id, std::move(k));
  return out;
}

AppendResult EmbeddedLedger::append_signed(const std::string& author, const crypto::EcKey& key, const std::string& type,
                                           ByteView payload, const std::string& nonce) {
  return append_signed_batch(author, key, {Draft{type, Bytes(payload.begin(), payload.end()), nonce}}).front();
}

AppendResult EmbeddedLedger::init(const std::string& admin_id, const crypto::EcKey& admin_key) {
  std::lock_guard wl(write_mu_);
  ParticipantMap pending;
  KeyCacheGuard guard(keys_);
  Entry e;
  {
    store::Transaction tx(db_);
    Head h = head_locked();
    if (h.seq != 0) throw AppendError(Reason::StaleHead, 1, "ledger already initialised (head is seq " + std::to_string(h.seq) + ")");
    e.seq = 1;
    e.prev_hash = h.hash;
    e.type = "genesis";
    e.author = admin_id;
    e.nonce = "genesis";
    e.timestamp_ms = clock_ms_();
    e.payload = participant_payload(admin_id, std::string(kRoleAdmin), admin_key);
    seal(e, admin_key);
    validate_and_insert(e, h, pending);
    tx.commit();
    market_stale_ = false;
  }
  guard.committed = true;
  for (auto& [id, k] : pending) keys_.insert_or_assign(id, std::move(k));
  return {e.seq, e.hash};
}

AppendResult EmbeddedLedger::register_participant(const std::string& admin_id, const crypto::EcKey& admin_key,
                                                  const std::string& id, const std::string& role,
                                                  const crypto::EcKey& participant_public_key) {
  return append_signed(admin_id, admin_key, "register", participant_payload(id, role, participant_public_key),
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
  for (auto& [id, k] : load_participants(std::nullopt)) out.push_back(k.p);
  return out;
}

std::optional<Participant> EmbeddedLedger::participant(const std::string& id) {
  auto all = load_participants(std::nullopt);
  if (auto it = all.find(id); it != all.end()) return it->second.p;
  return std::nullopt;
}

// ---- marketplace state ----

void EmbeddedLedger::sync_market_locked() {
  if (market_stale_) {
    market_ = MarketState{};
    market_stale_ = false;
  }
  ParticipantMap none;
  auto role_of = [&](const std::string& id) -> std::optional<std::string> {
    const KnownParticipant* k = find_author(id, none);
    if (!k) return std::nullopt;
    return k->p.role;
  };
  for (;;) {
    auto batch = entries_after(market_.last_seq(), 1000);
    if (batch.empty()) return;
    for (const auto& e : batch) {
      try {
        market_.apply(e, role_of);
      } catch (const MarketError& m) {
        throw ChainError(e.seq, std::string("market rule broken: ") + m.what());
      }
    }
  }
}

void EmbeddedLedger::read_market(const std::function<void(const MarketState&)>& f) {
  std::lock_guard wl(write_mu_);
  // No write transaction for a read: entries are append-only, so pages read
  // one after another are a prefix of the chain whatever other writers do.
  sync_market_locked();
  f(market_);
}

// ---- verification ----

std::optional<std::pair<std::int64_t, Bytes>> EmbeddedLedger::read_checkpoint() {
  std::optional<std::int64_t> seq;
  Bytes hash;
  db_.query("SELECT k, v FROM ledger_meta WHERE k IN ('checkpoint_seq', 'checkpoint_hash')", {}, [&](const store::Row& r) {
    if (r.text(0) == "checkpoint_seq") seq = std::stoll(r.text(1));
    else hash = r.blob(1);
  });
  if (!seq || hash.size() != kHashSize) return std::nullopt;
  return std::make_pair(*seq, hash);
}

void EmbeddedLedger::write_checkpoint(std::int64_t seq, const Bytes& hash) {
  store::Transaction tx(db_);
  db_.run("INSERT OR REPLACE INTO ledger_meta (k, v) VALUES ('checkpoint_seq', ?)", {std::to_string(seq)});
  db_.run("INSERT OR REPLACE INTO ledger_meta (k, v) VALUES ('checkpoint_hash', ?)", {hash});
  tx.commit();
}

VerifyReport EmbeddedLedger::walk(std::int64_t after_seq, Bytes prev_hash, ParticipantMap known,
                                  std::optional<std::pair<std::int64_t, Bytes>> checkpoint) {
  VerifyReport rep;
  rep.head_seq = after_seq;
  rep.head_hash = prev_hash;
  std::int64_t expected = after_seq + 1;
  auto lookup = [&](const std::string& id) -> const KnownParticipant* {
    auto it = known.find(id);
    return it == known.end() ? nullptr : &it->second;
  };
  std::lock_guard l(db_.mutex());
  db_.query(std::string("SELECT ") + kEntryCols + " FROM entries WHERE seq > ? ORDER BY seq", {after_seq},
            [&](const store::Row& r) {
              Entry e = entry_from_row(r);
              if (e.seq != expected)
                throw ChainError(expected, "entry missing (deleted?): the next stored entry is seq " + std::to_string(e.seq));
              if (e.prev_hash != rep.head_hash)
                throw ChainError(e.seq, "prev_hash does not link to entry " + std::to_string(e.seq - 1) +
                                            " (entry reordered, replaced or inserted)");
              Bytes h = compute_hash(e);
              if (h != e.hash)
                throw ChainError(e.seq, "content does not match the stored hash (payload or fields altered)");
              std::optional<KnownParticipant> added;
              try {
                added = check_entry(e, h, lookup);
              } catch (const AppendError& ex) {
                throw ChainError(e.seq, std::string(reason_name(ex.reason)) + ": " + ex.what());
              }
              if (added) known.emplace(added->p.id, std::move(*added));
              if (checkpoint && checkpoint->first == e.seq && checkpoint->second != h)
                throw ChainError(e.seq, "entry differs from the recorded checkpoint");
              rep.head_seq = e.seq;
              rep.head_hash = h;
              ++rep.entries_checked;
              ++expected;
            });
  if (checkpoint && rep.head_seq < checkpoint->first)
    throw ChainError(rep.head_seq + 1, "chain truncated: checkpoint records seq " + std::to_string(checkpoint->first) +
                                           " but the head is seq " + std::to_string(rep.head_seq));
  // The participants table must be exactly what the chain registers.
  auto table = load_participants(std::nullopt);
  for (const auto& [id, k] : known) {
    auto it = table.find(id);
    if (it == table.end() || it->second.p.role != k.p.role || it->second.p.public_point != k.p.public_point ||
        it->second.p.curve != k.p.curve || it->second.p.registered_seq != k.p.registered_seq)
      throw ChainError(k.p.registered_seq, "participants table differs from the chain for '" + id + "'");
  }
  for (const auto& [id, k] : table)
    if (!known.count(id)) throw ChainError(k.p.registered_seq, "participant '" + id + "' is not registered by the chain");
  return rep;
}

VerifyReport EmbeddedLedger::verify(VerifyMode mode) {
  std::lock_guard wl(write_mu_);
  auto ckpt = read_checkpoint();
  VerifyReport rep;
  if (mode == VerifyMode::FromCheckpoint && ckpt) {
    auto e = get(ckpt->first);
    if (!e) throw ChainError(ckpt->first, "checkpointed entry missing (chain truncated or row deleted)");
    if (compute_hash(*e) != ckpt->second || e->hash != ckpt->second)
      throw ChainError(ckpt->first, "checkpointed entry altered");
    rep = walk(ckpt->first, ckpt->second, load_participants(ckpt->first), ckpt);
  } else {
    rep = walk(0, zero_hash(), {}, ckpt);
  }
  if (rep.head_seq > 0 && (!ckpt || ckpt->first != rep.head_seq)) write_checkpoint(rep.head_seq, rep.head_hash);
  keys_.clear();
  // The market rules over the whole chain (no signatures: cheap), so a
  // record that breaks them is named like any other broken entry.
  market_stale_ = true;
  sync_market_locked();
  return rep;
}

}  // namespace rsp::ledger
