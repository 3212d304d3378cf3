// The storefront's payment step: a provider interface shaped like a card
// processor's (authorize a hold, capture it or void it, a signed webhook
// for the outcome), and a test provider that behaves like one, with test card
// numbers. Card data is used for the call and dropped: webd stores and logs
// only the last four digits and the provider's payment id.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace rsp::web {

struct CardDetails {
  std::string number;  // digits only
  int exp_month = 0, exp_year = 0;  // 1..12, four digits
  std::string cvc;
};

enum class PaymentStatus { Authorized, Declined, Captured, Voided, Failed };
std::string_view to_string(PaymentStatus s);

struct PaymentResult {
  PaymentStatus status = PaymentStatus::Failed;
  std::string payment_id;   // the processor's id of the authorization
  std::string decline_code; // e.g. card_declined, insufficient_funds, expired_card
  std::string message;      // for the subscriber
};

class PaymentProvider {
 public:
  virtual ~PaymentProvider() = default;
  virtual std::string name() const = 0;
  // Holds amount (minor units of currency) on the card.
  virtual PaymentResult authorize(const std::string& order_ref, std::int64_t amount_minor, const std::string& currency,
                                  const CardDetails& card, std::int64_t now) = 0;
  virtual PaymentResult capture(const std::string& payment_id) = 0;
  virtual PaymentResult void_authorization(const std::string& payment_id) = 0;
  // The processor's webhook: is `body` signed by it (`signature` header)?
  virtual bool verify_webhook(const std::string& body, const std::string& signature) const = 0;
};

// A card processor for tests and demos. Cards (the numbers card processors
// publish for testing): 4242 4242 4242 4242 approves; 4000 0000 0000 0002 is
// declined (card_declined); 4000 0000 0000 9995 is declined
// (insufficient_funds). A number that fails the Luhn check or an expired
// card is declined (incorrect_number, expired_card). Webhook events are JSON
// signed with HMAC-SHA256 under the shared secret (hex in the signature).
class TestCardProcessor final : public PaymentProvider {
 public:
  explicit TestCardProcessor(std::string webhook_secret);
  std::string name() const override { return "test-card-processor"; }
  PaymentResult authorize(const std::string& order_ref, std::int64_t amount_minor, const std::string& currency,
                          const CardDetails& card, std::int64_t now) override;
  PaymentResult capture(const std::string& payment_id) override;
  PaymentResult void_authorization(const std::string& payment_id) override;
  bool verify_webhook(const std::string& body, const std::string& signature) const override;

  // What the processor would POST to the webhook for a payment's current
  // state: {"id": event id, "type": "payment.captured" | ..., "payment_id",
  // "order_ref", "amount", "currency"} and its signature.
  std::pair<std::string, std::string> webhook_event(const std::string& payment_id) const;
  // How much is held and captured on the processor's side (tests).
  std::int64_t captured_total() const;
  std::int64_t held_total() const;
  std::vector<std::string> payment_ids() const;

 private:
  struct Payment {
    std::string order_ref, currency;
    std::int64_t amount = 0;
    PaymentStatus status = PaymentStatus::Authorized;
  };
  std::string secret_;
  mutable std::mutex mu_;
  std::map<std::string, Payment> payments_;
};

bool luhn_valid(const std::string& digits);

}  // namespace rsp::web
