// The marketplace records (Offer, Request, Accept, Activation, Usage,
// Refund) and SDRt accounting, the same on every ledger backend. `Market` is
// one participant's handle on the shared ledger: it writes as that
// participant and reads everyone's records. The rules each write must pass
// are listed in docs/ledger.md ("Marketplace rules"); every backend enforces
// them itself (the embedded ledger on append, the chain in its contract), so
// a participant cannot bypass them by writing to the ledger directly.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/bytes.hpp"
#include "rsp/crypto.hpp"

namespace rsp::ledger {

// SDRt amounts in the smallest unit: 1 SDRt (= 1 IMF SDR) = 1,000,000 units
// (6 decimals, like the ERC-20 contract's `decimals()`).
using Amount = std::int64_t;
inline constexpr Amount kUnitsPerSdrt = 1'000'000;
std::string format_sdrt(Amount units);      // "12.500000"
Amount parse_sdrt(std::string_view text);   // "12.5" -> 12'500'000; throws std::invalid_argument

struct Allowance {
  std::int64_t data_mb = 0, voice_minutes = 0, sms = 0;
};
struct Tariff {  // price per unit of Allowance, in SDRt units
  Amount per_mb = 0, per_minute = 0, per_sms = 0;
};
Amount charge_for(const Allowance& used, const Tariff& t);  // throws MarketError "overflow"

// The longest subscription term an Offer may set (10 years): expiry times
// stay far inside 64 bits on both backends.
inline constexpr std::int64_t kMaxTermSeconds = 10LL * 365 * 24 * 3600;

// How long the provider has to answer (Accept) a Request, from the Request,
// at most the term: after it an unanswered Request can be withdrawn by the
// home operator with its escrow, and an Accept is refused (`answer-late`).
inline constexpr std::int64_t kAnswerSeconds = 24 * 3600;
// How far a usage report's period may end after the time of the record that
// reports it (the embedded ledger's clock tolerance, kept on both backends).
inline constexpr std::int64_t kPeriodSlackSeconds = 300;
// How long after the Accept the home operator may dispute it (the package
// does not open, or its hash does not match).
inline constexpr std::int64_t kDisputeSeconds = 24 * 3600;

// Record identifiers (offer_id, request_id) are chosen by their author:
// 1..32 printable ASCII bytes (a bytes32 on the chain backend).
bool valid_record_id(std::string_view id);

// ---- records ----
// What an Offer sells (docs/ledger.md "Offer kinds"). Mobile: connectivity;
// its Accept carries the sealed profile, its activation names the PLMN of
// the first attach. Service: a service provider's (content, insurance,
// transport, hotel...); its Accept carries the sealed SP code (a JSON
// document, its SHA-256 as package_hash), its activation is the redemption
// (first use) and names a UN/LOCODE or nothing, its usage counts units of
// service in Allowance::data_mb at Tariff::per_mb. Coverage is optional for
// both. A record without a kind (before kinds existed) is Mobile.
enum class OfferKind : std::uint8_t { Mobile = 0, Service = 1 };
std::string_view to_string(OfferKind k);                       // "mobile", "service"
std::optional<OfferKind> offer_kind_from(std::string_view s);  // nullopt: unknown
// A UN/LOCODE (UNECE Recommendation 16): 2 letters (ISO 3166-1 country),
// then 3 of A-Z or 2-9, e.g. "FRPAR": where a service Offer was redeemed.
bool valid_locode(std::string_view s);

struct OfferTerms {
  std::string offer_id;
  OfferKind kind = OfferKind::Mobile;
  std::string service;                // what is sold: "data", "data+voice", "activation-code", ... (1..32)
  std::vector<std::string> coverage;  // PLMN ids "MCCMNC" (5 or 6 digits) where the service works
  Allowance allowance;
  Tariff tariff;
  Amount price = 0;                   // the escrow a Request locks: the most its usage can draw
  std::int64_t term_seconds = 0;      // how long a bought subscription runs (from the Request)
  std::int64_t valid_until = 0;       // Unix seconds: the Offer can be bought until then
  std::int64_t stock = 0;             // how many Requests it takes
  Bytes seal_key;                     // P-256 point (04||X||Y): Requests seal their target to it
};
struct Offer : OfferTerms {
  std::string provider;               // visited operator or service provider that published it
  std::int64_t sold = 0;
  bool withdrawn = false;             // the provider withdrew it: no more Requests (offer-withdrawn)
  std::int64_t position = 0;
};

// What the provider may change in a published Offer (Market::edit_offer):
// only terms no existing Request depends on. A Request keeps the price it
// escrowed, the expiry and answer deadline computed when it was made; the
// tariff, allowance and term are read from the Offer by every usage report,
// so they are not editable (a new tariff is a new Offer).
struct OfferEdit {
  std::string offer_id;
  Amount price = 0;                   // > 0: the escrow of future Requests
  std::int64_t stock = 0;             // > 0 and >= sold
  std::int64_t valid_until = 0;       // > now
};

struct RequestTerms {
  std::string request_id;
  std::string offer_id;
  std::string subscriber;             // pseudonym (no personal data), 1..64 bytes
  Bytes sealed_target;                // seal() to the Offer's seal_key of {"eid":..} or {"iccid":..}
  Amount escrow = 0;                  // must equal the Offer's price
  Bytes reply_key;                    // P-256 point: the Accept's profile is sealed to it
};
// Disputed: the home operator disputed the Accept; the escrow is frozen (no
// activation, usage or refund) until the arbiter resolves it (then Closed).
enum class RequestState { Open, Accepted, Active, Closed, Disputed };
std::string_view to_string(RequestState s);
struct Request : RequestTerms {
  std::string home;                   // home operator that wrote it
  std::string provider;               // the Offer's provider
  RequestState state = RequestState::Open;
  std::int64_t requested_at = 0;      // Unix seconds
  std::int64_t expires_at = 0;        // requested_at + term_seconds
  std::int64_t answer_by = 0;         // requested_at + min(term_seconds, kAnswerSeconds)
  std::int64_t activated_at = 0;
  std::string activation_plmn;
  Amount charged = 0;                 // charged by usage so far (paid to the provider, or held)
  // Of `charged`, what is not paid to the provider yet: usage charged before
  // the dispute window after the Accept ended (accepted_at + kDisputeSeconds)
  // stays in the home's escrow until a write after the window pays it (a
  // usage report, the refund) or the arbiter decides it (a dispute freezes it).
  Amount held = 0;
  Amount refunded = 0;                // returned to the home operator on close
  std::int64_t usage_reports = 0;
  Allowance used;                     // sum of the usage reports (within the Offer's allowance)
  std::int64_t period_end = 0;        // end of the last reported period: the next one starts at or after it
  std::int64_t accepted_at = 0;       // 0 before the Accept; a dispute is possible until accepted_at + kDisputeSeconds
  std::string arbiter;                // who resolves the dispute (set by it): the arbiter both parties named
  std::int64_t position = 0;
};

struct AcceptTerms {
  std::string request_id;
  Bytes sealed_profile;               // seal() to the Request's reply_key of the profile JSON (see seal.hpp)
  Bytes package_hash;                 // SHA-256 of the protected profile package, 32 bytes
};
struct Accept : AcceptTerms {
  std::string provider;
  std::int64_t position = 0;
};

struct UsageReport {
  std::string request_id;
  std::int64_t report_no = 0;         // 1, 2, 3 ... per Request, in order
  Allowance used;
  std::int64_t period_start = 0, period_end = 0;  // Unix seconds the report covers, [start, end)
  // The network's id of the usage record (1..32 printable ASCII), unique per
  // Request: a record delivered again is applied once (see usage_record_id).
  // Empty: the report number stands for it ("report-<n>").
  std::string record_id;
};
// The record id a report is judged by: record_id, or "report-<report_no>".
std::string usage_record_id(const UsageReport& u);

// What happened, in ledger order. `amount` moves SDRt:
//   mint      issuer -> counterparty (new money)
//   request   home's balance -> escrow (author = home, counterparty = provider)
//   usage     escrow -> provider's balance (author = provider, counterparty = home):
//             what this report paid: 0 while the dispute window runs (held),
//             after it this charge and every held one
//   release   held usage charges, escrow -> provider's balance, when the
//             Request is refunded after the window (author = who refunded,
//             counterparty = provider, escrow_of = home); just before its refund
//   refund    escrow -> home's balance (counterparty = home)
//   resolve   escrow -> home's or provider's balance (author = arbiter,
//             counterparty = who receives, escrow_of = home)
// offer / offer-withdrawn / offer-edited (id = offer_id, author = provider) /
// accept / activation / dispute move nothing (amount 0).
struct Event {
  std::int64_t position = 0;          // increasing; a cursor for events_after()
  std::int64_t time = 0;              // Unix seconds (entry timestamp or block time)
  std::string type;                   // mint, offer, request, accept, activation, usage, refund
  std::string author;
  std::string id;                     // offer_id (offer) or request_id
  std::string counterparty;
  Amount amount = 0;
  std::string reference;              // entry hash or transaction hash, hex
  std::string escrow_of;              // resolve: the home operator whose escrow the amount leaves
};

// How the arbiter settles a disputed Request: what is left in its escrow
// goes back to the home operator, or to the provider.
enum class Resolution { RefundHome, ReleaseToProvider };

struct Balance {
  Amount available = 0;               // spendable
  Amount escrowed = 0;                // locked in this participant's open Requests
};

struct Receipt {
  std::int64_t position = 0;          // of the record written
  std::string reference;              // entry hash / transaction hash, hex
  // Nothing was written: the same usage record (same id, same content) was
  // applied before; position and reference are that record's.
  bool already_applied = false;
};

// A write the marketplace rules refuse; nothing was written. `code` is one of
// the codes in docs/ledger.md (the chain contract reverts with "RSP:<code>").
struct MarketError : std::runtime_error {
  MarketError(std::string c, const std::string& what) : std::runtime_error(c + ": " + what), code(std::move(c)) {}
  std::string code;
};

// A usage batch (Market::report_usage_batch) refused: `index` is the report
// (in the caller's vector) the rules refused, `code` the rule; nothing of the
// batch was written. A refusal of the author itself (not-registered, paused)
// names the first report.
struct UsageBatchError : MarketError {
  UsageBatchError(std::string c, const std::string& what, std::size_t i) : MarketError(std::move(c), what), index(i) {}
  std::size_t index;
};

class Market {
 public:
  virtual ~Market() = default;
  virtual std::string backend() const = 0;  // "embedded" or "chain"
  virtual const std::string& me() const = 0;  // the participant this handle writes as
  // Which ledger this is, for the seal context (seal.hpp): embedded,
  // 0x01 || the genesis hash (32, the one a participant pins); chain,
  // 0x02 || u64be(chain id) || the Marketplace contract's address (20).
  virtual Bytes ledger_id() = 0;

  // ---- writes (each checked by the ledger's rules; MarketError when refused) ----
  virtual Receipt mint(const std::string& to, Amount amount) = 0;  // SDRt issuer (the admin) only
  virtual Receipt publish_offer(const OfferTerms& t) = 0;
  // The provider withdraws its Offer: Requests after it are refused
  // (`offer-withdrawn`); Requests made before go on unchanged. Allowed while
  // paused (it creates nothing). Event `offer-withdrawn`.
  virtual Receipt withdraw_offer(const std::string& offer_id) = 0;
  // The provider changes price, stock and valid_until of its Offer (not
  // withdrawn) for future Requests; existing ones keep their terms. Event
  // `offer-edited`.
  virtual Receipt edit_offer(const OfferEdit& e) = 0;
  virtual Receipt request(const RequestTerms& t) = 0;
  virtual Receipt accept(const AcceptTerms& t) = 0;
  virtual Receipt activate(const std::string& request_id, const std::string& plmn) = 0;
  // A usage record whose id this Request already has with the same
  // content (used and period) is not applied again: the Receipt of the
  // first one comes back with already_applied set (the rules' code
  // `already-applied` never reaches the caller). The same id with other
  // content is refused (`record-conflict`).
  virtual Receipt report_usage(const UsageReport& u) = 0;
  // Several usage reports (for one Request or several) as one write: one
  // store transaction on the embedded ledger, one transaction on the chain
  // (docs/ledger.md "Usage reports in batches"). Each report is judged by
  // exactly report_usage's rules, in order, so a report may follow one
  // earlier in the batch (report_no n+1 after n). All or nothing: the first
  // report refused throws UsageBatchError{code, index} and nothing of the
  // batch is written. A report whose record is already applied with the same
  // content is skipped and answered as report_usage answers it (its first
  // Receipt, already_applied set). Returns one Receipt per report, in order;
  // an empty batch writes nothing.
  virtual std::vector<Receipt> report_usage_batch(const std::vector<UsageReport>& reports) = 0;
  // Closes a Request and returns its unused escrow to the home operator:
  // the home operator after expires_at (or after answer_by while it is still
  // unanswered), the provider at any time. A Request closed before it was
  // activated gives its unit of stock back to the Offer.
  virtual Receipt refund(const std::string& request_id) = 0;
  // The home operator disputes the Accept (reason: 1..64 bytes, e.g.
  // "package does not open") within kDisputeSeconds after it; needs an
  // arbiter both parties named at registration. Freezes the escrow.
  virtual Receipt dispute(const std::string& request_id, const std::string& reason) = 0;
  // The arbiter settles a disputed Request; it is then Closed.
  virtual Receipt resolve(const std::string& request_id, Resolution r) = 0;
  // Revokes a participant's key for good: it can no longer write
  // (`not-registered`). The participant itself or the admin; not the admin.
  virtual Receipt revoke(const std::string& participant) = 0;
  // The admin pauses (or resumes) the market: while paused, mint, offer, edit_offer,
  // request, accept, activation and usage are refused (`paused`); refund,
  // dispute, resolve and revoke stay allowed, so no value is locked by it.
  virtual Receipt set_paused(bool paused) = 0;
  // Key rotation (docs/ledger.md "Key rotation"): `participant`, which must
  // be this handle's own (`forbidden`), moves to `new_key` (with its private
  // part: this handle writes with it from then on). The old key writes
  // nothing more (`not-registered`); the participant keeps its id,
  // balances, Offers, Requests, escrow and arbiter. A key used before by
  // anyone (current, rotated out or revoked) is refused (`bad-participant`);
  // a revoked participant cannot rotate (`not-registered`). The admin
  // rotates the same way and the issuer role follows. Allowed while paused.
  // The chain backend takes only secp256k1 keys (its accounts; `bad-terms`).
  virtual Receipt rotate_key(const std::string& participant, std::shared_ptr<crypto::EcKey> new_key) = 0;

  // ---- reads ----
  virtual std::vector<Offer> offers() = 0;
  virtual std::optional<Offer> offer(const std::string& offer_id) = 0;
  virtual std::optional<Request> find_request(const std::string& request_id) = 0;
  virtual std::optional<Accept> find_accept(const std::string& request_id) = 0;
  virtual Balance balance(const std::string& participant) = 0;
  virtual bool paused() = 0;
  virtual std::vector<Event> events_after(std::int64_t position, std::size_t limit = 1000) = 0;
};

// A participant's statement for [from, to) (Unix seconds), from the events.
struct StatementLine {
  Event event;
  Amount delta_available = 0;  // change to the participant's available balance
  Amount delta_escrowed = 0;   // change to its escrow
};
struct Statement {
  std::string participant;
  std::int64_t from = 0, to = 0;
  Balance opening, closing;
  std::vector<StatementLine> lines;
};
Statement make_statement(Market& m, const std::string& participant, std::int64_t from, std::int64_t to);

}  // namespace rsp::ledger
