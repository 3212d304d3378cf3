// The ledger: an append-only, hash-chained, signed log of typed entries that
// operators share (Offer, Request, Accept, Activation, Usage, Settlement).
// `Ledger` is the interface every backend implements; `EmbeddedLedger`
// (embedded.hpp) keeps it in SQLite. The entry format and the validation rules
// are in docs/ledger.md.
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/bytes.hpp"
#include "rsp/crypto.hpp"
#include "rsp/json.hpp"

namespace rsp::ledger {

inline constexpr std::size_t kHashSize = 32;

// Entry types the ledger accepts. "genesis" and "register" are admin entries;
// "mint", "offer", "request", "accept", "activation", "usage" and "refund" are
// the marketplace records (market_state.hpp checks them); "note" is a signed
// free-form statement with no market meaning.
const std::vector<std::string>& known_types();
bool is_known_type(std::string_view type);

// Participant roles.
inline constexpr std::string_view kRoleAdmin = "admin";
const std::vector<std::string>& known_roles();  // admin, visited-operator, home-operator, service-provider
bool is_known_role(std::string_view role);

struct Entry {
  std::int64_t seq = 0;       // 1 for the genesis entry
  Bytes prev_hash;            // 32 bytes; all zero for the genesis entry
  std::string type;
  std::string author;         // participant id
  std::string nonce;          // client id, unique per author (replay guard)
  std::int64_t timestamp_ms = 0;  // author's clock, Unix milliseconds
  Bytes payload;              // JSON text (market records: docs/ledger.md)
  Bytes signature;            // author's ECDSA over `hash`, raw r||s
  Bytes hash;                 // SHA-256 of encode_for_hash(*this)
};

// The exact bytes that are hashed (docs/ledger.md: "Entry format").
Bytes encode_for_hash(const Entry& e);
Bytes compute_hash(const Entry& e);
// Fills e.hash and e.signature with `key` (seq, prev_hash, ... must be set).
void seal(Entry& e, const crypto::EcKey& key);

struct Participant {
  std::string id;
  std::string role;
  crypto::Curve curve = crypto::Curve::P256;
  Bytes public_point;  // uncompressed 04||X||Y
  std::int64_t registered_seq = 0;
  // The arbiter (a participant with role "arbiter") this participant accepts
  // for disputes, named when it is registered; empty: none.
  std::string arbiter;
  bool revoked = false;  // its key was revoked ("revoke" entry): it can no longer write
};

// JSON payload of "genesis" and "register" entries.
// `arbiter`: the arbiter the participant accepts for disputes (omitted when empty).
Bytes participant_payload(const std::string& id, const std::string& role, const crypto::EcKey& public_key,
                          const std::string& arbiter = "");
// JSON payload of a "rotate" entry: {"id", "curve", "public_key"} (the new key).
Bytes rotate_payload(const std::string& id, const crypto::EcKey& new_public_key);

struct Head {
  std::int64_t seq = 0;  // 0: empty ledger
  Bytes hash;            // 32 zero bytes when empty
  std::int64_t timestamp_ms = 0;  // of the head entry
};

// The marketplace rules judge time by entry timestamps; an entry may claim a
// time at most this far ahead of the verifying process's clock, behind the
// entry it follows, or behind the time this process last saw the head it
// follows (docs/ledger.md, "Time rules").
inline constexpr std::int64_t kClockSkewMs = 5 * 60 * 1000;

// The largest payload an entry of `type` may carry (docs/ledger.md, "Entry
// format"): the sealed profile of an Accept is the only large record.
std::size_t max_payload_size(std::string_view type);
// The bounds for parsing a JSON payload of `type` (rsp::parse_json): its size
// limit, and nesting and counts no record needs to exceed.
JsonLimits payload_json_limits(std::string_view type);

struct AppendResult {
  std::int64_t seq = 0;
  Bytes hash;
};

// An entry refused by append(): nothing of it (or of its batch) was written.
struct AppendError : std::runtime_error {
  enum class Reason { Malformed, UnknownType, UnknownAuthor, NotAdmin, BadSignature, StaleHead, Replay, BadParticipant, MarketRule,
                      BadTime, TooLarge, WrongGenesis };
  AppendError(Reason r, std::int64_t s, const std::string& what, std::string market_code = {})
      : std::runtime_error(what), reason(r), seq(s), code(std::move(market_code)) {}
  Reason reason;
  std::int64_t seq;  // the seq the entry claimed
  std::string code;  // MarketRule: the market rule's code (docs/ledger.md "Marketplace rules")
  // append_signed_batch: the refused draft's index in the batch (nothing of the batch was written).
  std::optional<std::size_t> batch_index;
};
std::string_view reason_name(AppendError::Reason r);

// The stored chain does not verify: `seq` is the first entry found wrong.
struct ChainError : std::runtime_error {
  ChainError(std::int64_t s, const std::string& why)
      : std::runtime_error("ledger chain broken at seq " + std::to_string(s) + ": " + why), seq(s), reason(why) {}
  std::int64_t seq;
  std::string reason;
};

class Ledger {
 public:
  virtual ~Ledger() = default;

  virtual Head head() = 0;
  // Validates and appends one sealed entry (seq/prev_hash must name the
  // current head: AppendError::StaleHead otherwise).
  virtual AppendResult append(const Entry& e) = 0;
  // Several sealed entries, chained to each other, in one transaction: all or none.
  virtual std::vector<AppendResult> append_batch(const std::vector<Entry>& entries) = 0;
  virtual std::optional<Entry> get(std::int64_t seq) = 0;
  // Cursor read: entries with seq > after, ascending, at most `limit`.
  virtual std::vector<Entry> entries_after(std::int64_t after, std::size_t limit = 1000) = 0;
  virtual std::vector<Participant> participants() = 0;
  virtual std::optional<Participant> participant(const std::string& id) = 0;

  // For a writer that holds its key locally: fills seq/prev_hash/timestamp
  // from the head under the writer lock, seals with `key` and appends, so
  // concurrent writers never race on the head. Empty nonce: a random one.
  virtual AppendResult append_signed(const std::string& author, const crypto::EcKey& key, const std::string& type,
                                     ByteView payload, const std::string& nonce = {}) = 0;
  struct Draft {
    std::string type;
    Bytes payload;
    std::string nonce;  // empty: random
  };
  virtual std::vector<AppendResult> append_signed_batch(const std::string& author, const crypto::EcKey& key,
                                                        const std::vector<Draft>& drafts) = 0;
};

std::int64_t now_ms();
std::string random_nonce();  // 16 random bytes, hex

}  // namespace rsp::ledger
