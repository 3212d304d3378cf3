// A Market that hands every call to another: tests derive from it and
// override only the call they change (a lost answer, a front-runner).
#pragma once
#include "rsp/ledger/market.hpp"

namespace rsp::ledger {

class ForwardingMarket : public Market {
 public:
  explicit ForwardingMarket(Market& inner) : m_(inner) {}
  std::string backend() const override { return m_.backend(); }
  const std::string& me() const override { return m_.me(); }
  Bytes ledger_id() override { return m_.ledger_id(); }
  Receipt mint(const std::string& to, Amount a) override { return m_.mint(to, a); }
  Receipt publish_offer(const OfferTerms& t) override { return m_.publish_offer(t); }
  Receipt withdraw_offer(const std::string& id) override { return m_.withdraw_offer(id); }
  Receipt edit_offer(const OfferEdit& e) override { return m_.edit_offer(e); }
  Receipt request(const RequestTerms& t) override { return m_.request(t); }
  Receipt accept(const AcceptTerms& t) override { return m_.accept(t); }
  Receipt activate(const std::string& r, const std::string& p) override { return m_.activate(r, p); }
  Receipt report_usage(const UsageReport& u) override { return m_.report_usage(u); }
  std::vector<Receipt> report_usage_batch(const std::vector<UsageReport>& r) override { return m_.report_usage_batch(r); }
  Receipt refund(const std::string& r) override { return m_.refund(r); }
  Receipt dispute(const std::string& r, const std::string& why) override { return m_.dispute(r, why); }
  Receipt resolve(const std::string& r, Resolution how) override { return m_.resolve(r, how); }
  Receipt revoke(const std::string& p) override { return m_.revoke(p); }
  Receipt rotate_key(const std::string& p, std::shared_ptr<crypto::EcKey> k) override { return m_.rotate_key(p, std::move(k)); }
  Receipt set_paused(bool p) override { return m_.set_paused(p); }
  bool paused() override { return m_.paused(); }
  std::vector<Offer> offers() override { return m_.offers(); }
  std::optional<Offer> offer(const std::string& id) override { return m_.offer(id); }
  std::optional<Request> find_request(const std::string& id) override { return m_.find_request(id); }
  std::optional<Accept> find_accept(const std::string& id) override { return m_.find_accept(id); }
  Balance balance(const std::string& p) override { return m_.balance(p); }
  std::vector<Event> events_after(std::int64_t p, std::size_t n) override { return m_.events_after(p, n); }

 protected:
  Market& m_;
};

}  // namespace rsp::ledger
