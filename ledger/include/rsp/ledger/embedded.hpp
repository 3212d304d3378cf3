// The embedded ledger backend: the chain in one SQLite file (rsp::store).
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "rsp/ledger/ledger.hpp"
#include "rsp/ledger/market_state.hpp"
#include "rsp/store.hpp"

namespace rsp::ledger {

namespace detail {
struct KnownParticipant {
  Participant p;
  std::shared_ptr<crypto::EcKey> key;  // the key it writes with now (p.curve, p.public_point)
  // Keys it rotated out, with the seq of the rotation: an entry signed by
  // one after that is refused as written by no participant.
  std::vector<std::pair<std::int64_t, std::shared_ptr<crypto::EcKey>>> retired;
};
using ParticipantMap = std::map<std::string, KnownParticipant>;
// Every key any participant has had (curve, 04||X||Y): never named again.
using UsedKeys = std::set<std::pair<crypto::Curve, Bytes>>;
}  // namespace detail

enum class VerifyMode {
  Full,            // walk the whole chain from genesis, every signature (default)
  FromCheckpoint,  // entries up to this participant's witness (Options::witness_path) are re-hashed and
                   // linked but their signatures not re-checked; Full without a witness
  None,            // no walk on open (tools that show raw entries); reads and writes still verify what they apply
};

struct VerifyReport {
  std::int64_t entries_checked = 0;
  std::int64_t head_seq = 0;
  Bytes head_hash;
};

// What a participant's configuration pins about the ledger it joins: open
// refuses a file whose genesis differs (docs/ledger.md, "Trust model").
struct GenesisPin {
  Bytes genesis_hash;        // hash of entry 1 (empty: not pinned)
  Bytes admin_public_point;  // 04||X||Y of the admin key the genesis registers (empty: not pinned)
};

class EmbeddedLedger final : public Ledger {
 public:
  struct Options {
    bool synchronous_full = true;  // PRAGMA synchronous=FULL (NORMAL when false)
    VerifyMode verify_on_open = VerifyMode::Full;
    // Timestamps of entries this process seals (tests move it forward to
    // reach expiry rules); empty: the system clock.
    std::function<std::int64_t()> clock_ms;
    std::optional<GenesisPin> pin;
    // A file of this participant's own (not the shared ledger): the genesis
    // and the highest head this process verified, with the time it saw it.
    // Open refuses a ledger shorter than it, with another entry at its seq,
    // or with another genesis; entries after it must not be dated before it
    // was seen. Empty: only the running process remembers.
    std::string witness_path;
  };
  // Opens (creating the schema if needed) and verifies per `opt.verify_on_open`;
  // throws ChainError naming the first bad entry.
  explicit EmbeddedLedger(const std::string& path);
  EmbeddedLedger(const std::string& path, Options opt);
  ~EmbeddedLedger() override;

  // Writes the genesis entry (seq 1), self-signed by the admin key; the ledger must be empty.
  AppendResult init(const std::string& admin_id, const crypto::EcKey& admin_key);
  // An admin "register" entry for a participant; signed by the admin key.
  // `arbiter`: a registered participant with role "arbiter" that this one
  // accepts for disputes (docs/ledger.md "Disputes"), or empty.
  AppendResult register_participant(const std::string& admin_id, const crypto::EcKey& admin_key, const std::string& id,
                                    const std::string& role, const crypto::EcKey& participant_public_key,
                                    const std::string& arbiter = "");

  // Walks the chain (VerifyMode) and rebuilds the verified state; throws
  // ChainError naming the first entry that fails.
  VerifyReport verify(VerifyMode mode = VerifyMode::Full);
  // The genesis entry's hash (what a participant's configuration pins); empty when not initialised.
  Bytes genesis_hash();

  Head head() override;
  AppendResult append(const Entry& e) override;
  std::vector<AppendResult> append_batch(const std::vector<Entry>& entries) override;
  std::optional<Entry> get(std::int64_t seq) override;
  std::vector<Entry> entries_after(std::int64_t after, std::size_t limit = 1000) override;
  std::vector<Participant> participants() override;
  std::optional<Participant> participant(const std::string& id) override;
  AppendResult append_signed(const std::string& author, const crypto::EcKey& key, const std::string& type,
                             ByteView payload, const std::string& nonce = {}) override;

  // Runs `f` on the marketplace state, brought up to date with every entry
  // on file (other processes may have appended), each verified before it is
  // applied, under the writer lock. ChainError when a new entry fails.
  void read_market(const std::function<void(const MarketState&)>& f);
  std::vector<AppendResult> append_signed_batch(const std::string& author, const crypto::EcKey& key,
                                                const std::vector<Draft>& drafts) override;

 private:
  // What this process has verified: the head, the participants the chain
  // registers and the marketplace state, all up to `head`.
  struct Verified {
    Head head{0, Bytes(kHashSize, 0), 0};
    Bytes genesis_hash;
    detail::ParticipantMap known;
    detail::UsedKeys used_keys;
    MarketState market;
  };
  struct Witness {
    Bytes genesis_hash;
    std::int64_t seq = 0;
    Bytes hash;
    std::int64_t seen_at_ms = 0;
  };

  Head head_locked();
  // Every rule for `e` as the successor of `v.head` (hash `h` already
  // computed): type, fields, size, author and signature (unless
  // `check_signature` is false), time, genesis pin, market rules; then
  // applies it to `v`. Throws AppendError and leaves `v` unchanged.
  // `before_apply` runs once the entry's own checks passed (append: the replay check).
  void check_and_apply(const Entry& e, const Bytes& h, Verified& v, bool check_signature, std::int64_t seen_at_ms,
                       const std::function<void()>& before_apply = {});
  Bytes validate_and_insert(const Entry& e);
  // Walks the file from genesis into a fresh state. Entries up to `known`
  // (a head this participant verified before) skip the signature check when
  // `trust_known`; the file must contain `known`.
  VerifyReport walk(const std::optional<Witness>& known, bool trust_known);
  // Verifies and applies the entries other processes appended since the
  // verified head; ChainError (logged) when one fails or the verified head
  // is no longer on file.
  void sync_locked();
  void read_known(const std::function<void(const detail::ParticipantMap&)>& f);
  [[noreturn]] void refuse(const ChainError& e);
  std::optional<Witness> read_witness();
  void write_witness();
  std::optional<Witness> best_known();  // the witness or the in-memory head, the higher

  std::string path_;
  Options opt_;
  std::function<std::int64_t()> clock_ms_;
  store::Db db_;
  std::mutex write_mu_;  // one writer in this process (BEGIN IMMEDIATE across processes)
  Verified v_;
  std::int64_t seen_at_ms_ = 0;  // this process's clock when it last found v_.head to be the file's head
  bool stale_ = false;           // a refused batch may have left entries in v_: rebuild up to `committed_`
  Witness committed_;
  std::int64_t witness_seq_ = 0;  // last seq written to the witness file
  std::int64_t logged_bad_seq_ = -1;
};

}  // namespace rsp::ledger
