#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

#include "rsp/ledger/ledger.hpp"

namespace rsp::ledger {

const std::vector<std::string>& known_types() {
  static const std::vector<std::string> t{"genesis", "register", "note",   "mint",   "offer",  "request",
                                              "accept",  "activation", "usage", "refund", "dispute", "resolve",
                                              "revoke",  "pause", "rotate", "withdraw", "edit"};
  return t;
}
bool is_known_type(std::string_view type) {
  const auto& t = known_types();
  return std::find(t.begin(), t.end(), type) != t.end();
}

const std::vector<std::string>& known_roles() {
  static const std::vector<std::string> r{"admin", "visited-operator", "home-operator", "service-provider", "arbiter"};
  return r;
}
bool is_known_role(std::string_view role) {
  const auto& r = known_roles();
  return std::find(r.begin(), r.end(), role) != r.end();
}

namespace {
constexpr std::string_view kDomain = "RSP-LEDGER-ENTRY-v1";
void put_u64(Bytes& out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put_field(Bytes& out, ByteView f) {
  auto n = static_cast<std::uint32_t>(f.size());
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  append(out, f);
}
ByteView view(std::string_view s) { return ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()); }
}  // namespace

Bytes encode_for_hash(const Entry& e) {
  Bytes out;
  out.reserve(kDomain.size() + 8 + 8 + 5 * 4 + e.prev_hash.size() + e.type.size() + e.author.size() + e.nonce.size() +
              e.payload.size());
  append(out, view(kDomain));
  put_u64(out, static_cast<std::uint64_t>(e.seq));
  put_field(out, e.prev_hash);
  put_field(out, view(e.type));
  put_field(out, view(e.author));
  put_field(out, view(e.nonce));
  put_u64(out, static_cast<std::uint64_t>(e.timestamp_ms));
  put_field(out, e.payload);
  return out;
}

Bytes compute_hash(const Entry& e) { return crypto::sha256(encode_for_hash(e)); }

void seal(Entry& e, const crypto::EcKey& key) {
  e.hash = compute_hash(e);
  e.signature = key.sign(e.hash);
}

Bytes participant_payload(const std::string& id, const std::string& role, const crypto::EcKey& public_key,
                          const std::string& arbiter) {
  nlohmann::json j{{"id", id},
                   {"role", role},
                   {"curve", std::string(crypto::curve_name(public_key.curve()))},
                   {"public_key", to_hex(public_key.public_point())}};
  if (!arbiter.empty()) j["arbiter"] = arbiter;
  return to_bytes(j.dump());
}

Bytes rotate_payload(const std::string& id, const crypto::EcKey& new_public_key) {
  nlohmann::json j{{"id", id},
                   {"curve", std::string(crypto::curve_name(new_public_key.curve()))},
                   {"public_key", to_hex(new_public_key.public_point())}};
  return to_bytes(j.dump());
}

std::string_view reason_name(AppendError::Reason r) {
  switch (r) {
    case AppendError::Reason::Malformed: return "malformed";
    case AppendError::Reason::UnknownType: return "unknown-type";
    case AppendError::Reason::UnknownAuthor: return "unknown-author";
    case AppendError::Reason::NotAdmin: return "not-admin";
    case AppendError::Reason::BadSignature: return "bad-signature";
    case AppendError::Reason::StaleHead: return "stale-head";
    case AppendError::Reason::Replay: return "replay";
    case AppendError::Reason::BadParticipant: return "bad-participant";
    case AppendError::Reason::MarketRule: return "market-rule";
    case AppendError::Reason::BadTime: return "bad-time";
    case AppendError::Reason::TooLarge: return "too-large";
    case AppendError::Reason::WrongGenesis: return "wrong-genesis";
  }
  return "?";
}

std::size_t max_payload_size(std::string_view type) {
  // Accept: a sealed profile (an activation code, or a protected profile
  // package of some tens of KiB) with base64 and JSON around it.
  if (type == "accept") return 1024 * 1024;
  // Request: a sealed target (an EID or ICCID); note: a free-form statement.
  if (type == "request" || type == "note") return 16 * 1024;
  return 4 * 1024;  // genesis, register, mint, offer, activation, usage, refund
}

JsonLimits payload_json_limits(std::string_view type) {
  const std::size_t size = max_payload_size(type);
  // The deepest record (an Offer's allowance) nests 2 levels; a note is free-form.
  return JsonLimits{size, 16, 10'000, size};
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string random_nonce() { return to_hex(crypto::random_bytes(16)); }

}  // namespace rsp::ledger
