#include "rsp/ledger/embedded_market.hpp"

#include <algorithm>

namespace rsp::ledger {

EmbeddedMarket::EmbeddedMarket(std::shared_ptr<EmbeddedLedger> ledger, std::string participant,
                               std::shared_ptr<crypto::EcKey> key)
    : ledger_(std::move(ledger)), me_(std::move(participant)), key_(std::move(key)) {}

Bytes EmbeddedMarket::ledger_id() {
  Bytes id{0x01};
  append(id, ledger_->genesis_hash());
  return id;
}

Receipt EmbeddedMarket::write(const std::string& type, const Bytes& payload) {
  try {
    auto r = ledger_->append_signed(me_, *key(), type, payload);
    return Receipt{r.seq, to_hex(r.hash)};
  } catch (const AppendError& e) {
    // Market terms for what the market code is asked about; the ledger's own
    // refusals (bad signature, replay...) stay AppendErrors.
    if (e.reason == AppendError::Reason::MarketRule) {
      std::string why = e.what();  // "<code>: <why>" from the rule
      if (why.rfind(e.code + ": ", 0) == 0) why.erase(0, e.code.size() + 2);
      throw MarketError(e.code, why);
    }
    // Not a participant that may write: unknown, or its key revoked.
    if (e.reason == AppendError::Reason::UnknownAuthor) throw MarketError("not-registered", e.what());
    throw;
  }
}

Receipt EmbeddedMarket::mint(const std::string& to, Amount amount) {
  return write("mint", mint_payload(to, amount));
}
Receipt EmbeddedMarket::publish_offer(const OfferTerms& t) {
  return write("offer", offer_payload(t));
}
Receipt EmbeddedMarket::withdraw_offer(const std::string& offer_id) {
  return write("withdraw", withdraw_payload(offer_id));
}
Receipt EmbeddedMarket::edit_offer(const OfferEdit& e) {
  return write("edit", edit_payload(e));
}
Receipt EmbeddedMarket::request(const RequestTerms& t) {
  return write("request", request_payload(t));
}
Receipt EmbeddedMarket::accept(const AcceptTerms& t) {
  return write("accept", accept_payload(t));
}
Receipt EmbeddedMarket::activate(const std::string& request_id, const std::string& plmn) {
  return write("activation", activation_payload(request_id, plmn));
}
Receipt EmbeddedMarket::report_usage(const UsageReport& u) {
  try {
    return write("usage", usage_payload(u));
  } catch (const MarketError& e) {
    if (e.code != "already-applied") throw;
  }
  // The rules found this very record applied: answer with its receipt.
  return applied_usage(u);
}

Receipt EmbeddedMarket::applied_usage(const UsageReport& u) {
  std::optional<Receipt> first;
  ledger_->read_market([&](const MarketState& s) {
    if (auto* rec = s.usage_record(u.request_id, usage_record_id(u))) first = Receipt{rec->position, rec->reference, true};
  });
  if (!first) throw std::logic_error("usage record reported applied but not found");
  return *first;
}

std::vector<Receipt> EmbeddedMarket::report_usage_batch(const std::vector<UsageReport>& reports) {
  std::vector<Receipt> out(reports.size());
  // The reports still to write, by index into `reports`. A report refused as
  // already-applied is answered with its first receipt and the rest tried
  // again: at most one retry per report, and a retry stops at the first
  // entry refused (drafts are sealed and checked one by one), so a batch
  // replayed whole costs what its reports replayed one by one would.
  std::vector<std::pair<std::size_t, std::size_t>> same_as;  // (report, the earlier report of this batch it repeats)
  std::vector<std::size_t> pending(reports.size());
  for (std::size_t i = 0; i < pending.size(); ++i) pending[i] = i;
  while (!pending.empty()) {
    std::vector<Ledger::Draft> drafts;
    drafts.reserve(pending.size());
    for (auto i : pending) drafts.push_back({"usage", usage_payload(reports[i]), {}});
    try {
      auto written = ledger_->append_signed_batch(me_, *key(), drafts);
      for (std::size_t k = 0; k < written.size(); ++k) out[pending[k]] = Receipt{written[k].seq, to_hex(written[k].hash)};
      break;
    } catch (const AppendError& e) {
      const std::size_t k = e.batch_index.value_or(0);
      if (k >= pending.size()) throw;
      const std::size_t index = pending[k];
      const auto& u = reports[index];
      if (e.reason == AppendError::Reason::MarketRule && e.code == "already-applied") {
        // Applied before this batch, or (not on file: the batch was rolled
        // back) by an earlier report of this batch: then it gets that one's receipt.
        auto earlier = std::find_if(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(k), [&](std::size_t j) {
          return reports[j].request_id == u.request_id && usage_record_id(reports[j]) == usage_record_id(u);
        });
        if (earlier != pending.begin() + static_cast<std::ptrdiff_t>(k))
          same_as.emplace_back(index, *earlier);
        else
          out[index] = applied_usage(u);
        pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(k));
        continue;
      }
      const std::string which = "report " + std::to_string(index) + " (record '" + usage_record_id(u) + "' on '" +
                                u.request_id + "'): ";
      if (e.reason == AppendError::Reason::MarketRule) {
        std::string why = e.what();
        if (why.rfind(e.code + ": ", 0) == 0) why.erase(0, e.code.size() + 2);
        throw UsageBatchError(e.code, which + why, index);
      }
      if (e.reason == AppendError::Reason::UnknownAuthor) throw UsageBatchError("not-registered", which + e.what(), index);
      throw;
    }
  }
  for (const auto& [i, j] : same_as) {
    out[i] = out[j];
    out[i].already_applied = true;
  }
  return out;
}
Receipt EmbeddedMarket::refund(const std::string& request_id) {
  return write("refund", refund_payload(request_id));
}
Receipt EmbeddedMarket::dispute(const std::string& request_id, const std::string& reason) {
  return write("dispute", dispute_payload(request_id, reason));
}
Receipt EmbeddedMarket::resolve(const std::string& request_id, Resolution r) {
  return write("resolve", resolve_payload(request_id, r));
}
Receipt EmbeddedMarket::revoke(const std::string& participant) {
  return write("revoke", revoke_payload(participant));
}
std::shared_ptr<crypto::EcKey> EmbeddedMarket::key() const {
  std::lock_guard lock(key_mu_);
  return key_;
}

Receipt EmbeddedMarket::rotate_key(const std::string& participant, std::shared_ptr<crypto::EcKey> new_key) {
  // This handle writes with the new key afterwards: it needs the private part.
  if (!new_key || !new_key->has_private()) throw MarketError("bad-terms", "the new key must be a private key");
  auto r = write("rotate", rotate_payload(participant, *new_key));
  std::lock_guard lock(key_mu_);
  key_ = std::move(new_key);
  return r;
}

Receipt EmbeddedMarket::set_paused(bool paused) {
  return write("pause", pause_payload(paused));
}
bool EmbeddedMarket::paused() {
  bool out = false;
  ledger_->read_market([&](const MarketState& s) { out = s.paused(); });
  return out;
}

std::vector<Offer> EmbeddedMarket::offers() {
  std::vector<Offer> out;
  ledger_->read_market([&](const MarketState& s) {
    for (const auto& [id, o] : s.offers()) out.push_back(o);
  });
  std::sort(out.begin(), out.end(), [](const Offer& a, const Offer& b) { return a.position < b.position; });
  return out;
}
std::optional<Offer> EmbeddedMarket::offer(const std::string& id) {
  std::optional<Offer> out;
  ledger_->read_market([&](const MarketState& s) {
    if (auto* o = s.offer(id)) out = *o;
  });
  return out;
}
std::optional<Request> EmbeddedMarket::find_request(const std::string& id) {
  std::optional<Request> out;
  ledger_->read_market([&](const MarketState& s) {
    if (auto* r = s.request(id)) out = *r;
  });
  return out;
}
std::optional<Accept> EmbeddedMarket::find_accept(const std::string& id) {
  std::optional<Accept> out;
  ledger_->read_market([&](const MarketState& s) {
    if (auto* a = s.accept(id)) out = *a;
  });
  return out;
}
Balance EmbeddedMarket::balance(const std::string& p) {
  Balance out;
  ledger_->read_market([&](const MarketState& s) { out = s.balance(p); });
  return out;
}
std::vector<Event> EmbeddedMarket::events_after(std::int64_t position, std::size_t limit) {
  std::vector<Event> out;
  ledger_->read_market([&](const MarketState& s) {
    const auto& ev = s.events();
    auto it = std::upper_bound(ev.begin(), ev.end(), position,
                               [](std::int64_t p, const Event& e) { return p < e.position; });
    // An entry may make two events (release, refund) at one position: a page
    // never ends between them, or the cursor would skip the second.
    for (; it != ev.end() && (out.size() < limit || (!out.empty() && it->position == out.back().position)); ++it)
      out.push_back(*it);
  });
  return out;
}

}  // namespace rsp::ledger
