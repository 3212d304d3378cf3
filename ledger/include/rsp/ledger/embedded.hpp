// The embedded ledger backend: the chain in one SQLite file (rsp::store).
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "rsp/ledger/ledger.hpp"
#include "rsp/ledger/market_state.hpp"
#include "rsp/store.hpp"

namespace rsp::ledger {

namespace detail {
struct KnownParticipant {
  Participant p;
  std::shared_ptr<crypto::EcKey> key;
};
using ParticipantMap = std::map<std::string, KnownParticipant>;
}  // namespace detail

enum class VerifyMode {
  Full,            // walk the whole chain from genesis (default)
  FromCheckpoint,  // check the checkpointed entry still hashes the same, then walk only the tail after it
  None,            // trust the file (tools that only read)
};

struct VerifyReport {
  std::int64_t entries_checked = 0;
  std::int64_t head_seq = 0;
  Bytes head_hash;
};

class EmbeddedLedger final : public Ledger {
 public:
  struct Options {
    bool synchronous_full = true;  // PRAGMA synchronous=FULL (NORMAL when false)
    VerifyMode verify_on_open = VerifyMode::Full;
    // Timestamps of entries this process seals (tests move it forward to
    // reach expiry rules); empty: the system clock.
    std::function<std::int64_t()> clock_ms;
  };
  // Opens (creating the schema if needed) and verifies per `opt.verify_on_open`;
  // throws ChainError naming the first bad entry.
  explicit EmbeddedLedger(const std::string& path);
  EmbeddedLedger(const std::string& path, Options opt);
  ~EmbeddedLedger() override;

  // Writes the genesis entry (seq 1), self-signed by the admin key; the ledger must be empty.
  AppendResult init(const std::string& admin_id, const crypto::EcKey& admin_key);
  // An admin "register" entry for a participant; signed by the admin key.
  AppendResult register_participant(const std::string& admin_id, const crypto::EcKey& admin_key, const std::string& id,
                                    const std::string& role, const crypto::EcKey& participant_public_key);

  // Full walk (or tail walk since the checkpoint); throws ChainError. A
  // successful full walk records a checkpoint at the head.
  VerifyReport verify(VerifyMode mode = VerifyMode::Full);

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
  // on file (other processes may have appended), under the writer lock.
  void read_market(const std::function<void(const MarketState&)>& f);
  std::vector<AppendResult> append_signed_batch(const std::string& author, const crypto::EcKey& key,
                                                const std::vector<Draft>& drafts) override;

 private:
  Head head_locked();
  // Validates `e` against `h` and inserts it (caller holds a Transaction); a
  // participant a register/genesis entry adds goes into `pending` (cached
  // after commit). Returns the entry's hash.
  Bytes validate_and_insert(const Entry& e, const Head& h, detail::ParticipantMap& pending);
  const detail::KnownParticipant* find_author(const std::string& id, const detail::ParticipantMap& pending);
  VerifyReport walk(std::int64_t after_seq, Bytes prev_hash, detail::ParticipantMap known,
                    std::optional<std::pair<std::int64_t, Bytes>> checkpoint);
  std::optional<std::pair<std::int64_t, Bytes>> read_checkpoint();
  void write_checkpoint(std::int64_t seq, const Bytes& hash);
  detail::ParticipantMap load_participants(std::optional<std::int64_t> up_to_seq);
  // Applies entries on file after market_.last_seq() (or replays all when the
  // state may hold a refused batch's entries); throws ChainError on a broken rule.
  void sync_market_locked();

  std::string path_;
  std::function<std::int64_t()> clock_ms_;
  store::Db db_;
  std::mutex write_mu_;  // one writer in this process (BEGIN IMMEDIATE across processes)
  detail::ParticipantMap keys_;  // cache of the participants table
  MarketState market_;
  bool market_stale_ = false;  // a refused batch may have left its first entries applied
};

}  // namespace rsp::ledger
