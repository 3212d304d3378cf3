#include "rsp/web/payment.hpp"

#include <ctime>
#include <nlohmann/json.hpp>

#include "rsp/bytes.hpp"
#include "rsp/crypto.hpp"

namespace rsp::web {

std::string_view to_string(PaymentStatus s) {
  switch (s) {
    case PaymentStatus::Authorized: return "authorized";
    case PaymentStatus::Declined: return "declined";
    case PaymentStatus::Captured: return "captured";
    case PaymentStatus::Voided: return "voided";
    case PaymentStatus::Failed: return "failed";
  }
  return "?";
}

bool luhn_valid(const std::string& digits) {
  if (digits.size() < 12 || digits.size() > 19) return false;
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (*it < '0' || *it > '9') return false;
    int d = *it - '0';
    if (twice) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

TestCardProcessor::TestCardProcessor(std::string webhook_secret) : secret_(std::move(webhook_secret)) {}

PaymentResult TestCardProcessor::authorize(const std::string& order_ref, std::int64_t amount_minor,
                                           const std::string& currency, const CardDetails& card, std::int64_t now) {
  PaymentResult r;
  r.status = PaymentStatus::Declined;
  auto decline = [&](const char* code, const char* msg) {
    r.decline_code = code;
    r.message = msg;
    return r;
  };
  if (!luhn_valid(card.number)) return decline("incorrect_number", "The card number is incorrect.");
  std::time_t t = static_cast<std::time_t>(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  int ym_now = (tm.tm_year + 1900) * 12 + tm.tm_mon, ym_card = card.exp_year * 12 + (card.exp_month - 1);
  if (ym_card < ym_now) return decline("expired_card", "The card has expired.");
  if (amount_minor <= 0) return decline("invalid_amount", "The amount is not valid.");
  if (card.number == "4000000000000002") return decline("card_declined", "The card was declined.");
  if (card.number == "4000000000009995") return decline("insufficient_funds", "The card has insufficient funds.");
  std::lock_guard<std::mutex> g(mu_);
  r.payment_id = "pay_" + to_hex(crypto::random_bytes(8));
  payments_[r.payment_id] = Payment{order_ref, currency, amount_minor, PaymentStatus::Authorized};
  r.status = PaymentStatus::Authorized;
  return r;
}

PaymentResult TestCardProcessor::capture(const std::string& payment_id) {
  std::lock_guard<std::mutex> g(mu_);
  PaymentResult r;
  r.payment_id = payment_id;
  auto it = payments_.find(payment_id);
  if (it == payments_.end() || it->second.status != PaymentStatus::Authorized) {
    r.message = "no authorization to capture";
    return r;
  }
  it->second.status = PaymentStatus::Captured;
  r.status = PaymentStatus::Captured;
  return r;
}

PaymentResult TestCardProcessor::void_authorization(const std::string& payment_id) {
  std::lock_guard<std::mutex> g(mu_);
  PaymentResult r;
  r.payment_id = payment_id;
  auto it = payments_.find(payment_id);
  if (it == payments_.end() || it->second.status != PaymentStatus::Authorized) {
    r.message = "no authorization to void";
    return r;
  }
  it->second.status = PaymentStatus::Voided;
  r.status = PaymentStatus::Voided;
  return r;
}

bool TestCardProcessor::verify_webhook(const std::string& body, const std::string& signature) const {
  Bytes mac = crypto::hmac_sha256(to_bytes(secret_), to_bytes(body));
  Bytes got;
  try {
    got = from_hex(signature);
  } catch (const std::exception&) {
    return false;
  }
  return equal_ct(mac, got);
}

std::pair<std::string, std::string> TestCardProcessor::webhook_event(const std::string& payment_id) const {
  std::lock_guard<std::mutex> g(mu_);
  const auto& p = payments_.at(payment_id);
  nlohmann::json j{{"id", "evt_" + to_hex(crypto::random_bytes(8))},
                   {"type", "payment." + std::string(to_string(p.status))},
                   {"payment_id", payment_id},
                   {"order_ref", p.order_ref},
                   {"amount", p.amount},
                   {"currency", p.currency}};
  std::string body = j.dump();
  return {body, to_hex(crypto::hmac_sha256(to_bytes(secret_), to_bytes(body)))};
}

std::int64_t TestCardProcessor::captured_total() const {
  std::lock_guard<std::mutex> g(mu_);
  std::int64_t n = 0;
  for (const auto& [id, p] : payments_)
    if (p.status == PaymentStatus::Captured) n += p.amount;
  return n;
}
std::int64_t TestCardProcessor::held_total() const {
  std::lock_guard<std::mutex> g(mu_);
  std::int64_t n = 0;
  for (const auto& [id, p] : payments_)
    if (p.status == PaymentStatus::Authorized) n += p.amount;
  return n;
}

std::vector<std::string> TestCardProcessor::payment_ids() const {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<std::string> out;
  for (const auto& kv : payments_) out.push_back(kv.first);
  return out;
}

}  // namespace rsp::web
