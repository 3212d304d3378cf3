#include "rsp/agents/visited_operator_agent.hpp"

#include <algorithm>

#include "rsp/agents/account_delivery.hpp"

#include <nlohmann/json.hpp>

#include "rsp/json.hpp"
#include "rsp/ledger/ledger.hpp"
#include "rsp/ledger/seal.hpp"
#include "rsp/log.hpp"

namespace rsp::agents {

using json = nlohmann::json;

Bytes ProfileDelivery::to_json() const {
  return to_bytes(json{{"activation_code", activation_code}, {"iccid", iccid},
                       {"protected_package", to_base64(protected_package)}}
                      .dump());
}

ProfileDelivery ProfileDelivery::from_json(ByteView b) {
  json j;
  try {
    // Three flat members, sealed in an Accept payload (ledger::max_payload_size).
    const std::size_t max = ledger::max_payload_size("accept");
    j = parse_json(rsp::to_string(b), JsonLimits{max, 1, 16, max});
  } catch (const JsonError&) {
    throw std::runtime_error("profile delivery is not a JSON object");
  }
  if (!j.is_object()) throw std::runtime_error("profile delivery is not a JSON object");
  try {
    return ProfileDelivery{j.at("activation_code").get<std::string>(), j.at("iccid").get<std::string>(),
                           from_base64(j.at("protected_package").get<std::string>())};
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("profile delivery malformed: ") + e.what());
  }
}

VisitedOperatorAgent::VisitedOperatorAgent(ledger::Market& market, const crypto::EcKey& seal_key, Es2PlusClient& es2,
                                           ProtectedPackageSource packages, sim::Hss& hss, AgentState& state,
                                           std::string profile_type, ProgressInbox* progress)
    : market_(market), seal_key_(seal_key), es2_(es2), packages_(std::move(packages)), hss_(hss), state_(state),
      profile_type_(std::move(profile_type)), progress_(progress) {}

void VisitedOperatorAgent::serve_accounts(AccountInventory& inventory, std::string plmn, std::string spn,
                                          std::string label) {
  accounts_ = &inventory;
  account_plmn_ = std::move(plmn);
  account_spn_ = std::move(spn);
  account_label_ = std::move(label);
}

int VisitedOperatorAgent::poll() {
  if (progress_)
    for (const auto& r : progress_->take()) handle_progress(r);
  int accepted = 0;
  for (;;) {
    auto events = market_.events_after(state_.cursor(), 100);
    if (events.empty()) return accepted;
    for (const auto& e : events) {
      if (e.type == "request" && e.counterparty == market_.me()) {
        handle_request(e.id);
        auto o = state_.order(e.id);
        if (o && o->status == "accepted") ++accepted;
      }
      state_.set_cursor(e.position);
    }
  }
}

// Crash-safe: the order is recorded before each outside step ("ordered"
// after DownloadOrder, "accepting" before the Accept), so a restart neither
// leaves a profile ordered for nothing nor loses an Accept it wrote. Any
// failure closes the Request (the escrow returns) and cancels the order.
void VisitedOperatorAgent::handle_request(const std::string& rid) {
  auto known = state_.order(rid);
  if (known && known->status != "ordered" && known->status != "accepting") return;  // handled before
  auto r = market_.find_request(rid);
  if (!r) return;
  if (known && known->status == "accepting" && r->state != ledger::RequestState::Open) {
    known->status = r->state == ledger::RequestState::Closed ? "closed" : "accepted";  // the Accept landed
    state_.put(*known);
    return;
  }
  if (r->state != ledger::RequestState::Open) return;

  std::string eid, iccid = known ? known->iccid : "";
  auto cancel = [&] {
    if (iccid.empty() || eid.empty()) return;
    try {
      es2_.cancel_order(iccid, eid);
    } catch (const std::exception& ex) {
      say("CancelOrder " + iccid + ": " + ex.what());
    }
  };
  try {
    // The sealed target of a Request: {"eid": ...} (an eUICC) or
    // {"iccid": ...} (a multi-account SIM).
    // It opens only in the Request it was sealed for (this ledger, id, home
    // operator, keys): a copy under a front-running Request does not.
    const Bytes ledger_id = market_.ledger_id();
    json target = parse_json(
        rsp::to_string(ledger::open_sealed(seal_key_, ledger::target_context(ledger_id, *r, seal_key_.public_point()),
                                           r->sealed_target)),
        JsonLimits{ledger::max_payload_size("request"), 1, 16, 1024});
    if (!target.is_object()) throw std::runtime_error("sealed target is not a JSON object");
    // The reply key must be a P-256 point before anything is ordered for it.
    (void)crypto::EcKey::from_public_point(crypto::Curve::P256, r->reply_key);
    if (target.contains("iccid")) {
      iccid = target.at("iccid").get<std::string>();
      accept_account(rid, *r, iccid);
      return;
    }
    eid = target.at("eid").get<std::string>();
    if (known) cancel();  // ordered before a restart: start over cleanly
    say("Request " + rid + " from " + r->home + " for Offer " + r->offer_id + ": target eUICC " + eid);
    iccid = es2_.download_order(eid, profile_type_);
    state_.put(Order{rid, r->subscriber, iccid, "ordered", 0});
    auto c = es2_.confirm_order(iccid, eid);
    say("SM-DP+ (ES2+): DownloadOrder -> ICCID " + iccid + ", ConfirmOrder -> matching id " + c.matching_id);
    ProfileDelivery d{"1$" + c.smdp_address + "$" + c.matching_id, iccid, packages_(iccid)};
    Bytes hash = crypto::sha256(d.protected_package);
    Bytes sealed =
        ledger::seal(r->reply_key, ledger::accept_context(ledger_id, *r, seal_key_.public_point(), hash), d.to_json());
    state_.put(Order{rid, r->subscriber, iccid, "accepting", 0});
    auto rec = market_.accept(ledger::AcceptTerms{rid, sealed, hash});
    state_.put(Order{rid, r->subscriber, iccid, "accepted", 0});
    say("Accept " + rid + " on the ledger (" + std::to_string(sealed.size()) + "-byte ciphertext, package SHA-256 " +
        to_hex(hash).substr(0, 16) + "..., ref " + rec.reference.substr(0, 16) + "...)");
  } catch (const std::exception& ex) {
    say("cannot serve " + rid + " (" + ex.what() + "): closing it, the escrow returns to " + r->home);
    cancel();
    if (accounts_) accounts_->release(rid);  // the account goes back to the inventory
    try {
      market_.refund(rid);
    } catch (const std::exception& ex2) {
      say("closing " + rid + " refused: " + ex2.what());
    }
    state_.put(Order{rid, r->subscriber, iccid, "closed", 0});
  }
}

// The account is allocated to the Request (recorded with its id, so a restart
// finds the same one) and provisioned in the HSS before the Accept; the
// Accept's package hash is SHA-256 of the sealed delivery's plaintext.
void VisitedOperatorAgent::accept_account(const std::string& rid, const ledger::Request& r,
                                          const std::string& card_iccid) {
  if (card_iccid.size() < 18 || card_iccid.size() > 20 || card_iccid.find_first_not_of("0123456789") != std::string::npos)
    throw std::runtime_error("target ICCID is not 18 to 20 digits");
  if (!accounts_) throw std::runtime_error("no account inventory for multi-account SIMs");
  say("Request " + rid + " from " + r.home + " for Offer " + r.offer_id + ": target multi-account SIM, ICCID " +
      card_iccid);
  auto a = accounts_->allocate(rid);
  if (!a) throw std::runtime_error("account inventory exhausted");
  state_.put(Order{rid, r.subscriber, card_iccid, "ordered", 0});
  hss_.provision(a->imsi, card_iccid, a->ki, a->opc);
  say("allocates IMSI " + a->imsi + " from its inventory, provisioned in its HSS for ICCID " + card_iccid);
  AccountDelivery d{card_iccid, a->imsi, a->ki, a->opc, account_spn_, account_label_, account_plmn_};
  const Bytes plain = d.to_json();
  Bytes hash = crypto::sha256(plain);
  Bytes sealed = ledger::seal(r.reply_key, ledger::accept_context(market_.ledger_id(), r, seal_key_.public_point(), hash),
                              plain);
  state_.put(Order{rid, r.subscriber, card_iccid, "accepting", 0});
  auto rec = market_.accept(ledger::AcceptTerms{rid, sealed, hash});
  state_.put(Order{rid, r.subscriber, card_iccid, "accepted", 0});
  say("Accept " + rid + " on the ledger: the account sealed to " + r.home + " (" + std::to_string(sealed.size()) +
      "-byte ciphertext, SHA-256 " + to_hex(hash).substr(0, 16) + "..., ref " + rec.reference.substr(0, 16) + "...)");
}

void VisitedOperatorAgent::handle_progress(const ProgressReport& r) {
  if (r.notification_point_id != 4) return;  // only the installation result matters here
  auto o = state_.order_by_iccid(r.iccid);
  if (!o) return;
  if (!r.success) {
    say("SM-DP+ reports the installation of ICCID " + r.iccid + " failed (ES2+ HandleDownloadProgressInfo)");
    return;
  }
  say("SM-DP+ reports ICCID " + r.iccid + " installed on the eUICC (ES2+ HandleDownloadProgressInfo, point 4)");
  if (o->status == "accepted") {
    o->status = "installed";
    state_.put(*o);
  } else if (o->status == "attached") {
    auto it = attached_on_.find(r.iccid);
    if (it != attached_on_.end()) {
      activate(*o, it->second);
    } else {  // attached before a restart: the next attach activates
      o->status = "installed";
      state_.put(*o);
    }
  }
}

bool VisitedOperatorAgent::installed(const std::string& iccid) {
  auto o = state_.order_by_iccid(iccid);
  return o && (o->status == "installed" || o->status == "active");
}

void VisitedOperatorAgent::activate(Order& o, const std::string& plmn) {
  try {
    market_.activate(o.request_id, plmn);
  } catch (const ledger::MarketError&) {
    // A restart after the Activation landed but before the order said so:
    // the ledger's state is the truth, not a second Activation.
    auto r = market_.find_request(o.request_id);
    if (!r || r->state != ledger::RequestState::Active) throw;
  }
  o.status = "active";
  state_.put(o);
  say("Activation of " + o.request_id + " on the ledger (installed, attached on " + plmn + "): metering starts");
}

void VisitedOperatorAgent::on_first_attach(const sim::AttachResult& a, const std::string& plmn) {
  auto o = state_.order_by_iccid(a.iccid);
  if (!o) return;
  say("first attach of IMSI " + a.imsi.substr(0, 5) + "... on " + plmn + " authenticated (Milenage)");
  // An account on a multi-account SIM has no ES2+ installation report: its
  // first authenticated attach is the proof it is on the card.
  const bool account = accounts_ && accounts_->allocated(o->request_id);
  if (o->status == "installed" || (o->status == "accepted" && (!progress_ || account))) {
    activate(*o, plmn);
  } else if (o->status == "accepted") {
    attached_on_[a.iccid] = plmn;
    o->status = "attached";  // the installation report is still to come
    state_.put(*o);
    say("Activation of " + o->request_id + " waits for the SM-DP+'s installation report");
  }
}

bool VisitedOperatorAgent::on_usage(const sim::UsageRecord& u) {
  auto iccid = hss_.iccid_of(u.imsi);
  auto o = iccid ? state_.order_by_iccid(*iccid) : std::nullopt;
  if (!o || o->status != "active") return false;
  // Reported under the network's record id: the ledger applies a record once,
  // so a record delivered again, or a report retried after its answer was
  // lost, is never charged twice (it comes back as already applied).
  ledger::UsageReport rep{o->request_id, o->usage_reports + 1, {u.data_mb, u.voice_minutes, u.sms}, u.period_start,
                          u.period_end, u.record_id};
  ledger::Receipt done;
  try {
    for (int attempt = 1;; ++attempt) {
      try {
        done = market_.report_usage(rep);
        break;
      } catch (const ledger::MarketError& e) {
        if (e.code != "report-out-of-order") throw;
        // Our count fell behind the ledger's (a crash after a report landed):
        // take the ledger's; the record id keeps this one from being charged twice.
        auto r = market_.find_request(o->request_id);
        if (!r || attempt >= 3) throw;
        rep.report_no = r->usage_reports + 1;
      } catch (const std::exception& e) {
        // Not a refusal (node or file unavailable, timeout): the report may
        // have landed. Sending the same record again is safe; bounded.
        if (attempt >= 3) throw;
        say("usage record " + u.record_id + " on " + o->request_id + ": " + e.what() + "; sending it again");
      }
    }
  } catch (const ledger::MarketError& e) {
    say("usage record " + u.record_id + " (report " + std::to_string(rep.report_no) + ") on " + o->request_id +
        " refused: " + e.what());
    return false;
  }
  if (done.already_applied) {
    say("usage record " + u.record_id + " on " + o->request_id + " was already on the ledger: not charged again");
    auto r = market_.find_request(o->request_id);
    o->usage_reports = r ? r->usage_reports : o->usage_reports;
  } else {
    o->usage_reports = rep.report_no;
    say("usage report " + std::to_string(rep.report_no) + " on " + o->request_id + " (record " + u.record_id + ")");
  }
  state_.put(*o);
  return true;
}

std::vector<bool> VisitedOperatorAgent::on_usage_batch(const std::vector<sim::UsageRecord>& records) {
  std::vector<bool> ok(records.size(), false);
  // The records of active orders, each with its order's next report number
  // (consecutive within the batch for records of the same order).
  std::map<std::string, Order> orders;  // by request id
  std::vector<std::size_t> which;       // index into `records` of each report
  std::vector<ledger::UsageReport> reports;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& u = records[i];
    auto iccid = hss_.iccid_of(u.imsi);
    auto o = iccid ? state_.order_by_iccid(*iccid) : std::nullopt;
    if (!o || o->status != "active") continue;
    orders.try_emplace(o->request_id, *o);
    which.push_back(i);
    reports.push_back({o->request_id, 0, {u.data_mb, u.voice_minutes, u.sms}, u.period_start, u.period_end, u.record_id});
  }
  if (reports.empty()) return ok;
  if (reports.size() == 1) {
    ok[which[0]] = on_usage(records[which[0]]);
    return ok;
  }
  auto number = [&] {
    std::map<std::string, std::int64_t> next;
    for (const auto& [rid, o] : orders) next[rid] = o.usage_reports;
    for (auto& r : reports) r.report_no = ++next[r.request_id];
  };
  number();
  std::vector<ledger::Receipt> done;
  try {
    for (int attempt = 1;; ++attempt) {
      try {
        done = market_.report_usage_batch(reports);
        break;
      } catch (const ledger::MarketError& e) {
        if (e.code != "report-out-of-order" || attempt >= 3) throw;
        // Our counts fell behind the ledger's (a crash after a write landed):
        // take the ledger's; the record ids keep anything from being charged twice.
        for (auto& [rid, o] : orders)
          if (auto r = market_.find_request(rid)) o.usage_reports = r->usage_reports;
        number();
      } catch (const std::exception& e) {
        // Not a refusal: the batch may have landed. Sending it again is safe; bounded.
        if (attempt >= 3) throw;
        say("usage batch of " + std::to_string(reports.size()) + " records: " + e.what() + "; sending it again");
      }
    }
  } catch (const ledger::MarketError& e) {
    // All or nothing: one record refused, none written. Record by record, so
    // the others land and the refused one is named on its own.
    say("usage batch of " + std::to_string(reports.size()) + " records refused (" + e.what() + "): one by one");
    for (auto i : which) ok[i] = on_usage(records[i]);
    return ok;
  }
  bool replayed = false;
  for (std::size_t k = 0; k < done.size(); ++k) {
    ok[which[k]] = true;
    replayed = replayed || done[k].already_applied;
  }
  for (auto& [rid, o] : orders) {
    std::int64_t last = o.usage_reports;
    for (const auto& r : reports)
      if (r.request_id == rid) last = std::max(last, r.report_no);
    o.usage_reports = last;
    // Some records were on the ledger already: its count is the truth.
    if (replayed)
      if (auto r = market_.find_request(rid)) o.usage_reports = r->usage_reports;
    state_.put(o);
  }
  say("usage batch of " + std::to_string(reports.size()) + " records on the ledger in one write");
  return ok;
}

}  // namespace rsp::agents
