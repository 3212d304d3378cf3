#include "rsp/ledger/market_state.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "rsp/json.hpp"

namespace rsp::ledger {

using json = nlohmann::json;

namespace {

[[noreturn]] void fail(const std::string& code, const std::string& why) { throw MarketError(code, why); }

bool valid_plmn(const std::string& s) {
  return (s.size() == 5 || s.size() == 6) && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

json allowance_json(const Allowance& a) { return {{"data_mb", a.data_mb}, {"voice_minutes", a.voice_minutes}, {"sms", a.sms}}; }

// Field readers: any missing or mistyped field is `bad-terms`.
std::int64_t int_field(const json& j, const char* k) {
  auto it = j.find(k);
  if (it == j.end() || !it->is_number_integer()) fail("bad-terms", std::string("'") + k + "' missing or not an integer");
  return it->get<std::int64_t>();
}
std::string str_field(const json& j, const char* k) {
  auto it = j.find(k);
  if (it == j.end() || !it->is_string()) fail("bad-terms", std::string("'") + k + "' missing or not a string");
  return it->get<std::string>();
}
Bytes hex_field(const json& j, const char* k) {
  try {
    return from_hex(str_field(j, k));
  } catch (const DecodeError&) {
    fail("bad-terms", std::string("'") + k + "' is not hex");
  }
}
Bytes b64_field(const json& j, const char* k) {
  try {
    return from_base64(str_field(j, k));
  } catch (const DecodeError&) {
    fail("bad-terms", std::string("'") + k + "' is not base64");
  }
}
Allowance allowance_field(const json& j, const char* k) {
  auto it = j.find(k);
  if (it == j.end() || !it->is_object()) fail("bad-terms", std::string("'") + k + "' missing");
  return Allowance{int_field(*it, "data_mb"), int_field(*it, "voice_minutes"), int_field(*it, "sms")};
}

json parse(const Entry& e) {
  json j;
  try {
    j = parse_json(rsp::to_string(e.payload), payload_json_limits(e.type));
  } catch (const JsonError& ex) {
    fail("bad-terms", std::string("payload is not JSON: ") + ex.what());
  }
  if (!j.is_object()) fail("bad-terms", "payload is not a JSON object");
  return j;
}

void require_id(const std::string& id, const char* what) {
  if (!valid_record_id(id)) fail("bad-id", std::string(what) + " must be 1..32 printable ASCII bytes");
}

bool sells(const std::string& role) { return role == "visited-operator" || role == "service-provider"; }

}  // namespace

// ---- payloads ----

Bytes offer_payload(const OfferTerms& t) {
  json j{{"offer_id", t.offer_id},
         {"service", t.service},
         {"coverage", t.coverage},
         {"allowance", allowance_json(t.allowance)},
         {"tariff", {{"per_mb", t.tariff.per_mb}, {"per_minute", t.tariff.per_minute}, {"per_sms", t.tariff.per_sms}}},
         {"price", t.price},
         {"term_seconds", t.term_seconds},
         {"valid_until", t.valid_until},
         {"stock", t.stock},
         {"seal_key", to_hex(t.seal_key)}};
  // A mobile Offer's payload is as before kinds existed (no "kind": mobile).
  if (t.kind != OfferKind::Mobile) j["kind"] = std::string(to_string(t.kind));
  return to_bytes(j.dump());
}
Bytes withdraw_payload(const std::string& offer_id) { return to_bytes(json{{"offer_id", offer_id}}.dump()); }
Bytes edit_payload(const OfferEdit& e) {
  return to_bytes(
      json{{"offer_id", e.offer_id}, {"price", e.price}, {"stock", e.stock}, {"valid_until", e.valid_until}}.dump());
}
Bytes request_payload(const RequestTerms& t) {
  json j{{"request_id", t.request_id}, {"offer_id", t.offer_id},           {"subscriber", t.subscriber},
         {"sealed_target", to_base64(t.sealed_target)}, {"escrow", t.escrow}, {"reply_key", to_hex(t.reply_key)}};
  return to_bytes(j.dump());
}
Bytes accept_payload(const AcceptTerms& t) {
  json j{{"request_id", t.request_id}, {"sealed_profile", to_base64(t.sealed_profile)}, {"package_hash", to_hex(t.package_hash)}};
  return to_bytes(j.dump());
}
Bytes activation_payload(const std::string& request_id, const std::string& plmn) {
  return to_bytes(json{{"request_id", request_id}, {"plmn", plmn}}.dump());
}
Bytes usage_payload(const UsageReport& u) {
  json j{{"request_id", u.request_id},     {"report_no", u.report_no},
         {"record_id", usage_record_id(u)},  {"used", allowance_json(u.used)},
         {"period_start", u.period_start}, {"period_end", u.period_end}};
  return to_bytes(j.dump());
}
Bytes refund_payload(const std::string& request_id) { return to_bytes(json{{"request_id", request_id}}.dump()); }
Bytes dispute_payload(const std::string& request_id, const std::string& reason) {
  return to_bytes(json{{"request_id", request_id}, {"reason", reason}}.dump());
}
Bytes resolve_payload(const std::string& request_id, Resolution r) {
  return to_bytes(
      json{{"request_id", request_id}, {"resolution", r == Resolution::RefundHome ? "refund-home" : "release-to-provider"}}
          .dump());
}
Bytes revoke_payload(const std::string& participant) { return to_bytes(json{{"id", participant}}.dump()); }
Bytes pause_payload(bool paused) { return to_bytes(json{{"paused", paused}}.dump()); }
Bytes mint_payload(const std::string& to, Amount amount) { return to_bytes(json{{"to", to}, {"amount", amount}}.dump()); }

bool is_market_type(std::string_view t) {
  return t == "mint" || t == "offer" || t == "withdraw" || t == "edit" || t == "request" || t == "accept" || t == "activation" || t == "usage" ||
         t == "refund" || t == "dispute" || t == "resolve" || t == "revoke" || t == "pause";
}

// ---- state ----

const Offer* MarketState::offer(const std::string& id) const {
  auto it = offers_.find(id);
  return it == offers_.end() ? nullptr : &it->second;
}
const Request* MarketState::request(const std::string& id) const {
  auto it = requests_.find(id);
  return it == requests_.end() ? nullptr : &it->second;
}
const Accept* MarketState::accept(const std::string& id) const {
  auto it = accepts_.find(id);
  return it == accepts_.end() ? nullptr : &it->second;
}
const UsageRecord* MarketState::usage_record(const std::string& request_id, const std::string& record_id) const {
  auto it = usage_records_.find({request_id, record_id});
  return it == usage_records_.end() ? nullptr : &it->second;
}
Balance MarketState::balance(const std::string& p) const {
  auto it = balances_.find(p);
  return it == balances_.end() ? Balance{} : it->second;
}

void MarketState::apply(const Entry& e, const RoleOf& role_of) {
  if (e.type == "genesis" || e.type == "register") {
    // Checked by the ledger before it gets here; only the arbiter matters to the market.
    try {
      const json j = parse(e);
      if (auto a = j.find("arbiter"); a != j.end() && a->is_string()) arbiter_of_[j.at("id").get<std::string>()] = a->get<std::string>();
    } catch (const std::exception&) {
    }
  }
  if (!is_market_type(e.type)) {
    last_seq_ = e.seq;
    return;
  }
  const std::int64_t now = e.timestamp_ms / 1000;
  const auto role = role_of(e.author);
  if (!role) fail("not-registered", "'" + e.author + "' is not a registered participant");
  const json j = parse(e);
  Event ev;
  ev.position = e.seq;
  ev.time = now;
  ev.type = e.type;
  ev.author = e.author;
  ev.reference = to_hex(e.hash.empty() ? compute_hash(e) : e.hash);

  // Identity and pause: no market event (the chain keeps them out of the
  // market events too).
  if (e.type == "revoke" || e.type == "pause") {
    if (e.type == "revoke") {
      const std::string id = str_field(j, "id");
      const auto target = role_of(id);
      if (!target) fail("not-registered", "'" + id + "' is not a registered participant");
      if (e.author != id && *role != kRoleAdmin) fail("forbidden", "only '" + id + "' itself or the admin may revoke its key");
      if (*target == kRoleAdmin) fail("bad-terms", "the admin's key cannot be revoked");
      // The ledger stops taking this participant's entries (EmbeddedLedger).
    } else {
      if (*role != kRoleAdmin) fail("forbidden", "only the admin pauses the market");
      auto p = j.find("paused");
      if (p == j.end() || !p->is_boolean()) fail("bad-terms", "'paused' missing or not a boolean");
      paused_ = p->get<bool>();
    }
    last_seq_ = e.seq;
    return;
  }
  // While paused: no new value or service (docs/ledger.md "Pause").
  const bool pausable = e.type == "offer" || e.type == "edit" || e.type == "request" || e.type == "accept" || e.type == "activation" ||
                        e.type == "usage";
  if (paused_ && pausable) fail("paused", "the market is paused by the admin");

  // Every branch checks everything first and mutates only at its end, so a
  // refused entry leaves the state as it was.
  if (e.type == "mint") {
    if (*role != kRoleAdmin) fail("not-issuer", "only the SDRt issuer (the admin) mints");
    if (paused_) fail("paused", "the market is paused by the admin");
    std::string to = str_field(j, "to");
    Amount amount = int_field(j, "amount");
    if (!role_of(to)) fail("not-registered", "'" + to + "' is not a registered participant");
    if (amount <= 0) fail("bad-terms", "amount must be positive");
    // The supply stays below 2^63 (SDRt.sol's cap): every balance and escrow
    // is a part of it, so no sum of them can overflow.
    if (amount > INT64_MAX - total_supply_) fail("bad-terms", "the SDRt supply would reach 2^63 units");
    total_supply_ += amount;
    balances_[to].available += amount;
    ev.counterparty = to;
    ev.amount = amount;
  } else if (e.type == "offer") {
    if (!sells(*role)) fail("wrong-role", "only visited operators and service providers publish offers");
    Offer o;
    o.offer_id = str_field(j, "offer_id");
    require_id(o.offer_id, "offer_id");
    if (offers_.count(o.offer_id)) fail("duplicate-offer", "offer '" + o.offer_id + "' already published");
    if (j.contains("kind")) {
      auto k = offer_kind_from(str_field(j, "kind"));
      if (!k) fail("bad-terms", "kind must be \"mobile\" or \"service\"");
      o.kind = *k;
    }
    o.service = str_field(j, "service");
    auto cov = j.find("coverage");
    if (cov == j.end() || !cov->is_array()) fail("bad-terms", "'coverage' missing");
    for (const auto& c : *cov) {
      if (!c.is_string() || !valid_plmn(c.get<std::string>())) fail("bad-terms", "coverage entries are 5-6 digit PLMN ids");
      o.coverage.push_back(c.get<std::string>());
    }
    o.allowance = allowance_field(j, "allowance");
    auto tj = j.find("tariff");
    if (tj == j.end() || !tj->is_object()) fail("bad-terms", "'tariff' missing");
    o.tariff = Tariff{int_field(*tj, "per_mb"), int_field(*tj, "per_minute"), int_field(*tj, "per_sms")};
    o.price = int_field(j, "price");
    o.term_seconds = int_field(j, "term_seconds");
    o.valid_until = int_field(j, "valid_until");
    o.stock = int_field(j, "stock");
    o.seal_key = hex_field(j, "seal_key");
    if (o.service.empty() || o.service.size() > 32) fail("bad-terms", "service must be 1..32 bytes");
    if (o.stock <= 0 || o.price <= 0 || o.term_seconds <= 0) fail("bad-terms", "stock, price and term must be positive");
    if (o.term_seconds > kMaxTermSeconds) fail("bad-terms", "term longer than 10 years");
    if (o.valid_until <= now) fail("bad-terms", "valid_until is not in the future");
    if (o.tariff.per_mb < 0 || o.tariff.per_minute < 0 || o.tariff.per_sms < 0 || o.allowance.data_mb < 0 ||
        o.allowance.voice_minutes < 0 || o.allowance.sms < 0)
      fail("bad-terms", "tariff and allowance cannot be negative");
    if (o.seal_key.size() != 65 || o.seal_key[0] != 0x04) fail("bad-terms", "seal_key must be an uncompressed P-256 point");
    o.provider = e.author;
    o.position = e.seq;
    ev.id = o.offer_id;
    offers_.emplace(o.offer_id, std::move(o));
  } else if (e.type == "withdraw" || e.type == "edit") {
    // The provider's own Offer, not withdrawn (the same order as the contract).
    const std::string id = str_field(j, "offer_id");
    auto oit = offers_.find(id);
    if (oit == offers_.end()) fail("unknown-offer", "no offer '" + id + "'");
    Offer& o = oit->second;
    if (o.provider != e.author) fail("not-provider", "only '" + o.provider + "' may change offer '" + id + "'");
    if (o.withdrawn) fail("offer-withdrawn", "offer '" + id + "' is withdrawn");
    ev.id = id;
    if (e.type == "withdraw") {
      ev.type = "offer-withdrawn";
      o.withdrawn = true;
    } else {
      ev.type = "offer-edited";
      const Amount price = int_field(j, "price");
      const std::int64_t stock = int_field(j, "stock"), valid_until = int_field(j, "valid_until");
      if (price <= 0 || stock <= 0) fail("bad-terms", "price and stock must be positive");
      if (stock < o.sold) fail("bad-terms", "stock below the " + std::to_string(o.sold) + " already sold");
      if (valid_until <= now) fail("bad-terms", "valid_until is not in the future");
      // Only future Requests see these: a Request keeps its escrow, expiry and answer deadline.
      o.price = price;
      o.stock = stock;
      o.valid_until = valid_until;
    }
  } else if (e.type == "request") {
    if (*role != "home-operator") fail("wrong-role", "only home operators send requests");
    Request r;
    r.request_id = str_field(j, "request_id");
    require_id(r.request_id, "request_id");
    if (requests_.count(r.request_id)) fail("duplicate-request", "request '" + r.request_id + "' already on the ledger");
    r.offer_id = str_field(j, "offer_id");
    auto oit = offers_.find(r.offer_id);
    if (oit == offers_.end()) fail("unknown-offer", "no offer '" + r.offer_id + "'");
    Offer& o = oit->second;
    if (o.withdrawn) fail("offer-withdrawn", "offer '" + o.offer_id + "' is withdrawn by its provider");
    if (now >= o.valid_until) fail("offer-expired", "offer '" + o.offer_id + "' is no longer valid");
    if (o.sold >= o.stock) fail("out-of-stock", "offer '" + o.offer_id + "' is sold out");
    r.escrow = int_field(j, "escrow");
    if (r.escrow != o.price) fail("escrow-mismatch", "escrow must equal the offer's price " + std::to_string(o.price));
    Balance& hb = balances_[e.author];
    if (hb.available < r.escrow)
      fail("insufficient-funds", "balance " + std::to_string(hb.available) + " < escrow " + std::to_string(r.escrow));
    r.subscriber = str_field(j, "subscriber");
    r.sealed_target = b64_field(j, "sealed_target");
    r.reply_key = hex_field(j, "reply_key");
    if (r.subscriber.empty() || r.subscriber.size() > 64) fail("bad-terms", "subscriber must be 1..64 bytes");
    if (r.reply_key.size() != 65 || r.reply_key[0] != 0x04) fail("bad-terms", "reply_key must be an uncompressed P-256 point");
    if (r.sealed_target.empty()) fail("bad-terms", "sealed_target missing");
    r.home = e.author;
    r.provider = o.provider;
    r.requested_at = now;
    r.expires_at = now + o.term_seconds;
    r.answer_by = now + std::min(o.term_seconds, kAnswerSeconds);
    r.position = e.seq;
    hb.available -= r.escrow;
    hb.escrowed += r.escrow;
    ++o.sold;
    ev.id = r.request_id;
    ev.counterparty = r.provider;
    ev.amount = r.escrow;
    requests_.emplace(r.request_id, std::move(r));
  } else {
    // accept, activation, usage, refund: all name an existing request.
    std::string rid = str_field(j, "request_id");
    auto rit = requests_.find(rid);
    if (rit == requests_.end()) fail("unknown-request", "no request '" + rid + "'");
    Request& r = rit->second;
    ev.id = rid;
    ev.counterparty = e.author == r.home ? r.provider : r.home;
    if (e.type == "accept") {
      if (e.author != r.provider) fail("not-provider", "only '" + r.provider + "' may accept '" + rid + "'");
      if (r.state != RequestState::Open) fail("wrong-state", "request '" + rid + "' is " + std::string(to_string(r.state)));
      if (now >= r.expires_at) fail("request-expired", "request '" + rid + "' expired");
      if (now >= r.answer_by) fail("answer-late", "request '" + rid + "' had to be answered by " + std::to_string(r.answer_by));
      Accept a;
      a.request_id = rid;
      a.sealed_profile = b64_field(j, "sealed_profile");
      a.package_hash = hex_field(j, "package_hash");
      if (a.package_hash.size() != 32) fail("bad-hash", "package_hash must be 32 bytes (SHA-256)");
      if (a.sealed_profile.empty()) fail("bad-terms", "sealed_profile missing");
      a.provider = e.author;
      a.position = e.seq;
      r.state = RequestState::Accepted;
      r.accepted_at = now;
      accepts_.insert_or_assign(rid, std::move(a));
    } else if (e.type == "activation") {
      if (e.author != r.provider) fail("not-provider", "only '" + r.provider + "' may activate '" + rid + "'");
      if (r.state == RequestState::Disputed) fail("disputed", "request '" + rid + "' is disputed: frozen until the arbiter resolves it");
      if (r.state != RequestState::Accepted) fail("wrong-state", "request '" + rid + "' is " + std::string(to_string(r.state)));
      if (now >= r.expires_at) fail("request-expired", "request '" + rid + "' expired");
      std::string plmn = str_field(j, "plmn");
      // A service Offer's activation is its redemption: where (a UN/LOCODE) or nothing.
      if (offers_.at(r.offer_id).kind == OfferKind::Service) {
        if (!plmn.empty() && !valid_locode(plmn)) fail("bad-terms", "a redemption names a UN/LOCODE (5 characters) or nothing");
      } else if (!valid_plmn(plmn)) {
        fail("bad-terms", "plmn must be 5-6 digits");
      }
      r.state = RequestState::Active;
      r.activated_at = now;
      r.activation_plmn = plmn;
    } else if (e.type == "usage") {
      if (e.author != r.provider) fail("not-provider", "only '" + r.provider + "' may report usage on '" + rid + "'");
      std::int64_t no = int_field(j, "report_no");
      UsageRecord rec;
      // Payloads without a record id are judged by their report number.
      rec.record_id = j.contains("record_id") ? str_field(j, "record_id") : "report-" + std::to_string(no);
      require_id(rec.record_id, "record_id");
      rec.used = allowance_field(j, "used");
      rec.period_start = int_field(j, "period_start");
      rec.period_end = int_field(j, "period_end");
      // A record delivered again: applied once, whatever its report number.
      auto seen = usage_records_.find({rid, rec.record_id});
      if (seen != usage_records_.end()) {
        const UsageRecord& s = seen->second;
        if (s.used.data_mb == rec.used.data_mb && s.used.voice_minutes == rec.used.voice_minutes &&
            s.used.sms == rec.used.sms && s.period_start == rec.period_start && s.period_end == rec.period_end)
          fail("already-applied", "usage record '" + rec.record_id + "' on '" + rid + "' was applied at seq " +
                                      std::to_string(s.position));
        fail("record-conflict", "usage record '" + rec.record_id + "' on '" + rid + "' was applied with other content");
      }
      if (r.state == RequestState::Disputed) fail("disputed", "request '" + rid + "' is disputed: frozen until the arbiter resolves it");
      if (r.state != RequestState::Active) fail("wrong-state", "request '" + rid + "' is " + std::string(to_string(r.state)));
      if (no != r.usage_reports + 1)
        fail("report-out-of-order", "expected report " + std::to_string(r.usage_reports + 1) + ", got " + std::to_string(no));
      if (now >= r.expires_at) fail("request-expired", "request '" + rid + "' expired");
      const Allowance& used = rec.used;
      const std::int64_t period_start = rec.period_start;
      const std::int64_t period_end = rec.period_end;
      if (used.data_mb < 0 || used.voice_minutes < 0 || used.sms < 0) fail("bad-terms", "usage cannot be negative");
      // r.activated_at >= 0 and <= 2^62 (entry time in seconds): no overflow.
      if (period_start < 0 || period_start > period_end || period_start < r.activated_at - kPeriodSlackSeconds ||
          period_end < r.activated_at || period_end > now + kPeriodSlackSeconds)
        fail("bad-period", "the period must start before it ends, within the subscription, and not end in the future");
      // Periods are [start, end): the next starts at or after the last end.
      if (period_start < r.period_end)
        fail("period-overlap", "the period starts at " + std::to_string(period_start) + ", before the end " +
                                   std::to_string(r.period_end) + " of a period already charged");
      const Offer& o = offers_.at(r.offer_id);
      Amount charge = 0;
      try {
        charge = charge_for(used, o.tariff);
      } catch (const MarketError&) {  // more than 64 bits is more than any escrow (the chain computes in 256 bits)
        fail("beyond-escrow", "charge exceeds the remaining escrow");
      }
      if (charge > r.escrow - r.charged)
        fail("beyond-escrow", "charge " + std::to_string(charge) + " exceeds the remaining escrow " +
                                  std::to_string(r.escrow - r.charged));
      // Within the Offer's allowance (no overflow: every operand is in [0, 2^63)).
      auto over = [](std::int64_t so_far, std::int64_t more, std::int64_t limit) { return more > limit - so_far; };
      if (over(r.used.data_mb, used.data_mb, o.allowance.data_mb) ||
          over(r.used.voice_minutes, used.voice_minutes, o.allowance.voice_minutes) || over(r.used.sms, used.sms, o.allowance.sms))
        fail("beyond-allowance", "usage beyond the offer's allowance");
      r.usage_reports = no;
      r.used = Allowance{r.used.data_mb + used.data_mb, r.used.voice_minutes + used.voice_minutes, r.used.sms + used.sms};
      r.period_end = period_end;
      r.charged += charge;
      // Paid only once the dispute window has passed: a junk Accept cannot
      // be activated and charged whole before the home can dispute it.
      Amount pay = 0;
      if (now < r.accepted_at + kDisputeSeconds) {
        r.held += charge;
      } else {
        pay = r.held + charge;
        r.held = 0;
      }
      balances_[r.home].escrowed -= pay;
      balances_[r.provider].available += pay;
      ev.amount = pay;
      rec.position = e.seq;
      rec.reference = ev.reference;
      usage_records_.emplace(std::pair{rid, rec.record_id}, std::move(rec));
    } else if (e.type == "refund") {
      if (e.author != r.home && e.author != r.provider)
        fail("forbidden", "only the home operator or the provider may close '" + rid + "'");
      if (r.state == RequestState::Disputed) fail("disputed", "request '" + rid + "' is disputed: frozen until the arbiter resolves it");
      // The home: after the term; or an unanswered Request after its answer deadline.
      if (e.author != r.provider && now < r.expires_at && !(r.state == RequestState::Open && now >= r.answer_by))
        fail("not-expired", "request '" + rid + "' runs until " + std::to_string(r.expires_at));
      if (r.state == RequestState::Closed) fail("wrong-state", "request '" + rid + "' is already closed");
      if (r.held > 0 && now < r.accepted_at + kDisputeSeconds)
        fail("held", "usage charges on '" + rid + "' are held until " + std::to_string(r.accepted_at + kDisputeSeconds) +
                         " (the dispute window)");
      Amount back = r.escrow - r.charged;
      if (r.held > 0) {  // the window has passed undisputed: the held charges are the provider's
        Event rel = ev;
        rel.type = "release";
        rel.counterparty = r.provider;
        rel.escrow_of = r.home;
        rel.amount = r.held;
        balances_[r.home].escrowed -= r.held;
        balances_[r.provider].available += r.held;
        r.held = 0;
        events_.push_back(std::move(rel));
      }
      // Closed before any service: the unit of stock goes back to the Offer.
      if (r.state == RequestState::Open || r.state == RequestState::Accepted) --offers_.at(r.offer_id).sold;
      r.state = RequestState::Closed;
      r.refunded = back;
      balances_[r.home].escrowed -= back;
      balances_[r.home].available += back;
      ev.counterparty = r.home;
      ev.amount = back;
    } else if (e.type == "dispute") {
      if (e.author != r.home) fail("forbidden", "only the home operator '" + r.home + "' may dispute '" + rid + "'");
      if (r.state != RequestState::Accepted && r.state != RequestState::Active)
        fail("wrong-state", "request '" + rid + "' is " + std::string(to_string(r.state)));
      if (now >= r.accepted_at + kDisputeSeconds)
        fail("dispute-late", "the Accept of '" + rid + "' could be disputed until " + std::to_string(r.accepted_at + kDisputeSeconds));
      auto arbiter = [&](const std::string& p) {
        auto it = arbiter_of_.find(p);
        return it == arbiter_of_.end() ? std::string() : it->second;
      };
      const std::string a = arbiter(r.home);
      if (a.empty() || a != arbiter(r.provider))
        fail("no-arbiter", "'" + r.home + "' and '" + r.provider + "' did not name the same arbiter");
      std::string reason = str_field(j, "reason");
      if (reason.empty() || reason.size() > 64) fail("bad-terms", "reason must be 1..64 bytes");
      r.state = RequestState::Disputed;
      r.arbiter = a;
      ev.counterparty = r.provider;
    } else {  // resolve
      if (r.state != RequestState::Disputed) fail("wrong-state", "request '" + rid + "' is " + std::string(to_string(r.state)));
      if (e.author != r.arbiter) fail("not-arbiter", "only the arbiter '" + r.arbiter + "' may resolve '" + rid + "'");
      const std::string how = str_field(j, "resolution");
      if (how != "refund-home" && how != "release-to-provider")
        fail("bad-terms", "resolution must be refund-home or release-to-provider");
      const bool to_home = how == "refund-home";
      // Everything not paid to the provider: the escrow left and the held charges.
      Amount rest = r.escrow - r.charged + r.held;
      // Refunded without ever being activated: no service, the unit goes back.
      if (to_home && r.activated_at == 0) --offers_.at(r.offer_id).sold;
      r.state = RequestState::Closed;
      balances_[r.home].escrowed -= rest;
      if (to_home) {
        r.charged -= r.held;  // the held charges are annulled
        r.refunded = rest;
        balances_[r.home].available += rest;
      } else {
        r.charged = r.escrow;
        balances_[r.provider].available += rest;
      }
      r.held = 0;
      ev.counterparty = to_home ? r.home : r.provider;
      ev.escrow_of = r.home;
      ev.amount = rest;
    }
  }
  events_.push_back(std::move(ev));
  last_seq_ = e.seq;
}

}  // namespace rsp::ledger
