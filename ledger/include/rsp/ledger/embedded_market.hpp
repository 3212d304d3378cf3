// The Market on the embedded ledger: each write is one signed entry that the
// ledger checks against the marketplace rules inside its append transaction.
#pragma once
#include <memory>
#include <mutex>

#include "rsp/ledger/embedded.hpp"
#include "rsp/ledger/market.hpp"

namespace rsp::ledger {

class EmbeddedMarket final : public Market {
 public:
  // Writes as `participant` with `key` (its registered ledger key).
  EmbeddedMarket(std::shared_ptr<EmbeddedLedger> ledger, std::string participant, std::shared_ptr<crypto::EcKey> key);

  std::string backend() const override { return "embedded"; }
  const std::string& me() const override { return me_; }
  Bytes ledger_id() override;

  Receipt mint(const std::string& to, Amount amount) override;
  Receipt publish_offer(const OfferTerms& t) override;
  Receipt withdraw_offer(const std::string& offer_id) override;
  Receipt edit_offer(const OfferEdit& e) override;
  Receipt request(const RequestTerms& t) override;
  Receipt accept(const AcceptTerms& t) override;
  Receipt activate(const std::string& request_id, const std::string& plmn) override;
  Receipt report_usage(const UsageReport& u) override;
  // One append_signed_batch: a usage entry per report, in one store transaction.
  std::vector<Receipt> report_usage_batch(const std::vector<UsageReport>& reports) override;
  Receipt refund(const std::string& request_id) override;
  Receipt dispute(const std::string& request_id, const std::string& reason) override;
  Receipt resolve(const std::string& request_id, Resolution r) override;
  Receipt revoke(const std::string& participant) override;
  Receipt set_paused(bool paused) override;
  Receipt rotate_key(const std::string& participant, std::shared_ptr<crypto::EcKey> new_key) override;

  std::vector<Offer> offers() override;
  std::optional<Offer> offer(const std::string& offer_id) override;
  std::optional<Request> find_request(const std::string& request_id) override;
  std::optional<Accept> find_accept(const std::string& request_id) override;
  Balance balance(const std::string& participant) override;
  bool paused() override;
  std::vector<Event> events_after(std::int64_t position, std::size_t limit = 1000) override;

  EmbeddedLedger& ledger() { return *ledger_; }

 private:
  // One signed entry with a fresh random nonce: the market rules decide
  // whether a record repeats one (duplicate-request, report-out-of-order...);
  // the ledger's nonce check refuses a signed entry sent twice.
  Receipt write(const std::string& type, const Bytes& payload);
  // The Receipt of the usage record `u` names, applied before (already-applied).
  Receipt applied_usage(const UsageReport& u);

  std::shared_ptr<EmbeddedLedger> ledger_;
  std::string me_;
  std::shared_ptr<crypto::EcKey> key() const;

  mutable std::mutex key_mu_;  // rotate_key replaces the key
  std::shared_ptr<crypto::EcKey> key_;
};

}  // namespace rsp::ledger
