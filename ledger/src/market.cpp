#include "rsp/ledger/market.hpp"

#include <charconv>

namespace rsp::ledger {

std::string format_sdrt(Amount units) {
  bool neg = units < 0;
  // |INT64_MIN| does not fit: go through unsigned.
  std::uint64_t u = neg ? 0 - static_cast<std::uint64_t>(units) : static_cast<std::uint64_t>(units);
  std::string frac = std::to_string(u % kUnitsPerSdrt);
  return (neg ? "-" : "") + std::to_string(u / kUnitsPerSdrt) + "." + std::string(6 - frac.size(), '0') + frac;
}

Amount parse_sdrt(std::string_view s) {
  auto bad = [&] { return std::invalid_argument("not an SDRt amount (up to 6 decimals): '" + std::string(s) + "'"); };
  if (s.empty()) throw bad();
  auto dot = s.find('.');
  std::string_view whole = s.substr(0, dot), frac = dot == std::string_view::npos ? "" : s.substr(dot + 1);
  if (whole.empty() || frac.size() > 6 || (dot != std::string_view::npos && frac.empty())) throw bad();
  std::int64_t w = 0, f = 0;
  auto r1 = std::from_chars(whole.data(), whole.data() + whole.size(), w);
  if (r1.ec != std::errc{} || r1.ptr != whole.data() + whole.size() || w < 0) throw bad();
  if (!frac.empty()) {
    auto r2 = std::from_chars(frac.data(), frac.data() + frac.size(), f);
    if (r2.ec != std::errc{} || r2.ptr != frac.data() + frac.size() || f < 0) throw bad();
    for (std::size_t i = frac.size(); i < 6; ++i) f *= 10;
  }
  if (w > (INT64_MAX - f) / kUnitsPerSdrt) throw bad();
  return w * kUnitsPerSdrt + f;
}

Amount charge_for(const Allowance& used, const Tariff& t) {
  Amount total = 0;
  for (auto [n, price] : {std::pair{used.data_mb, t.per_mb}, {used.voice_minutes, t.per_minute}, {used.sms, t.per_sms}}) {
    Amount part = 0;
    if (__builtin_mul_overflow(n, price, &part) || __builtin_add_overflow(total, part, &total))
      throw MarketError("overflow", "charge does not fit in 64 bits");
  }
  return total;
}

std::string usage_record_id(const UsageReport& u) {
  return u.record_id.empty() ? "report-" + std::to_string(u.report_no) : u.record_id;
}

bool valid_record_id(std::string_view id) {
  if (id.empty() || id.size() > 32) return false;
  for (char c : id)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

std::string_view to_string(OfferKind k) {
  switch (k) {
    case OfferKind::Mobile: return "mobile";
    case OfferKind::Service: return "service";
  }
  return "unknown";  // refused as bad-terms by both backends
}
std::optional<OfferKind> offer_kind_from(std::string_view s) {
  if (s == "mobile") return OfferKind::Mobile;
  if (s == "service") return OfferKind::Service;
  return std::nullopt;
}
bool valid_locode(std::string_view s) {
  if (s.size() != 5) return false;
  for (std::size_t i = 0; i < 5; ++i) {
    const char c = s[i];
    const bool letter = c >= 'A' && c <= 'Z';
    if (!(letter || (i >= 2 && c >= '2' && c <= '9'))) return false;
  }
  return true;
}

std::string_view to_string(RequestState s) {
  switch (s) {
    case RequestState::Open: return "open";
    case RequestState::Accepted: return "accepted";
    case RequestState::Active: return "active";
    case RequestState::Closed: return "closed";
    case RequestState::Disputed: return "disputed";
  }
  return "?";
}

namespace {
// How an event changes `p`'s balance (see Event in market.hpp).
StatementLine line_for(const Event& e, const std::string& p) {
  StatementLine l{e, 0, 0};
  if (e.type == "mint" && e.counterparty == p) l.delta_available = e.amount;
  if (e.type == "request" && e.author == p) {
    l.delta_available = -e.amount;
    l.delta_escrowed = e.amount;
  }
  if (e.type == "usage") {
    if (e.author == p) l.delta_available = e.amount;         // the provider earns
    if (e.counterparty == p) l.delta_escrowed = -e.amount;   // the home's escrow pays
  }
  if (e.type == "release") {
    if (e.counterparty == p) l.delta_available = e.amount;
    if (e.escrow_of == p) l.delta_escrowed = -e.amount;
  }
  if (e.type == "resolve") {
    if (e.counterparty == p) l.delta_available = e.amount;
    if (e.escrow_of == p) l.delta_escrowed = -e.amount;
  }
  if (e.type == "refund" && e.counterparty == p) {
    l.delta_available = e.amount;
    l.delta_escrowed = -e.amount;
  }
  return l;
}
}  // namespace

Statement make_statement(Market& m, const std::string& participant, std::int64_t from, std::int64_t to) {
  Statement st;
  st.participant = participant;
  st.from = from;
  st.to = to;
  std::int64_t cursor = 0;
  for (;;) {
    auto batch = m.events_after(cursor, 1000);
    if (batch.empty()) break;
    for (const auto& e : batch) {
      cursor = e.position;
      StatementLine l = line_for(e, participant);
      bool mine = e.author == participant || e.counterparty == participant || e.escrow_of == participant;
      if (e.time < from) {
        st.opening.available += l.delta_available;
        st.opening.escrowed += l.delta_escrowed;
      } else if (e.time < to && mine) {
        st.lines.push_back(l);
      }
      if (e.time < to) {
        st.closing.available += l.delta_available;
        st.closing.escrowed += l.delta_escrowed;
      }
    }
  }
  return st;
}

}  // namespace rsp::ledger
