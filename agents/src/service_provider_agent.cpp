#include "rsp/agents/service_provider_agent.hpp"

#include <fstream>

#include <nlohmann/json.hpp>

#include "rsp/json.hpp"
#include "rsp/ledger/ledger.hpp"
#include "rsp/ledger/seal.hpp"

namespace rsp::agents {

using json = nlohmann::json;

// ---- the sealed SP code ----

Bytes ServiceCodeDelivery::to_json() const {
  return to_bytes(json{{"sp_code", sp_code}, {"entitles", entitles}, {"offer_id", offer_id}}.dump());
}

namespace {
json parse_small(ByteView b) {
  // Three flat members, sealed in an Accept payload.
  const std::size_t max = ledger::max_payload_size("accept");
  return parse_json(rsp::to_string(b), JsonLimits{max, 1, 16, max});
}
}  // namespace

bool ServiceCodeDelivery::is_service_code(ByteView b) {
  try {
    json j = parse_small(b);
    return j.is_object() && j.contains("sp_code");
  } catch (const std::exception&) {
    return false;
  }
}

ServiceCodeDelivery ServiceCodeDelivery::from_json(ByteView b) {
  json j;
  try {
    j = parse_small(b);
  } catch (const JsonError&) {
    throw std::runtime_error("SP code delivery is not a JSON object");
  }
  if (!j.is_object()) throw std::runtime_error("SP code delivery is not a JSON object");
  try {
    ServiceCodeDelivery d{j.at("sp_code").get<std::string>(), j.at("entitles").get<std::string>(),
                          j.at("offer_id").get<std::string>()};
    if (d.sp_code.empty()) throw std::runtime_error("empty sp_code");
    return d;
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("SP code delivery malformed: ") + e.what());
  }
}

// ---- codes ----

SpCodeSource SpCodeSource::random(std::string alphabet, std::size_t length) {
  if (alphabet.size() < 2 || alphabet.size() > 256 || length < 4 || length > 64)
    throw std::invalid_argument("SP codes: an alphabet of 2..256 characters and a length of 4..64");
  SpCodeSource s;
  s.alphabet_ = std::move(alphabet);
  s.length_ = length;
  return s;
}

SpCodeSource SpCodeSource::from_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the SP code list " + path);
  SpCodeSource s;
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty() && line[0] != '#') s.list_.push_back(line);
  }
  if (s.list_.empty()) throw std::runtime_error("the SP code list " + path + " has no codes");
  return s;
}

std::string SpCodeSource::next(const std::function<bool(const std::string&)>& used) {
  if (!list_.empty()) {
    for (const auto& c : list_)
      if (!used(c)) return c;
    throw std::runtime_error("the SP code list is exhausted");
  }
  // Rejection sampling: a byte above the largest multiple of the alphabet's
  // size is drawn again, so no character is more likely than another.
  const unsigned n = static_cast<unsigned>(alphabet_.size());
  const unsigned limit = 256 - 256 % n;
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::string code;
    while (code.size() < length_) {
      for (std::uint8_t b : crypto::random_bytes(length_)) {
        if (b >= limit) continue;
        code.push_back(alphabet_[b % n]);
        if (code.size() == length_) break;
      }
    }
    if (!used(code)) return code;
  }
  throw std::runtime_error("SP codes: no unused code after 16 draws (alphabet or length too small)");
}

// ---- the agent ----

ServiceProviderAgent::ServiceProviderAgent(ledger::Market& market, const crypto::EcKey& seal_key, SpCodeSource codes,
                                           AgentState& state)
    : market_(market), seal_key_(seal_key), codes_(std::move(codes)), state_(state) {}

int ServiceProviderAgent::poll() {
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

// The order keeps the code (Order::iccid holds it: the code is this
// order's identifier at redemption) and is recorded "accepting" before the
// Accept, so a restart sends the same code again or finds the Accept landed.
void ServiceProviderAgent::handle_request(const std::string& rid) {
  auto known = state_.order(rid);
  if (known && known->status != "accepting") return;  // handled before
  auto r = market_.find_request(rid);
  if (!r) return;
  if (known && r->state != ledger::RequestState::Open) {
    known->status = r->state == ledger::RequestState::Closed ? "closed" : "accepted";  // the Accept landed
    state_.put(*known);
    return;
  }
  if (r->state != ledger::RequestState::Open) return;
  try {
    auto offer = market_.offer(r->offer_id);
    if (!offer || offer->kind != ledger::OfferKind::Service) throw std::runtime_error("not a service Offer");
    // The target opens only in the Request it was sealed for (this ledger,
    // id, home operator, keys): a front-running copy is closed. Its content
    // is the home's note of what was bought; the code is ours.
    const Bytes ledger_id = market_.ledger_id();
    json target = parse_json(
        rsp::to_string(ledger::open_sealed(seal_key_, ledger::target_context(ledger_id, *r, seal_key_.public_point()),
                                           r->sealed_target)),
        JsonLimits{ledger::max_payload_size("request"), 1, 16, 1024});
    if (!target.is_object()) throw std::runtime_error("sealed target is not a JSON object");
    (void)crypto::EcKey::from_public_point(crypto::Curve::P256, r->reply_key);
    say("Request " + rid + " from " + r->home + " for service Offer " + r->offer_id);
    std::string code = known ? known->iccid : codes_.next([&](const std::string& c) {
      return state_.order_by_iccid(c).has_value();
    });
    state_.put(Order{rid, r->subscriber, code, "accepting", 0});
    ServiceCodeDelivery d{code,
                          offer->service + ", " + std::to_string(offer->allowance.data_mb) + " unit(s)",
                          offer->offer_id};
    const Bytes plain = d.to_json();
    const Bytes hash = crypto::sha256(plain);
    Bytes sealed = ledger::seal(r->reply_key, ledger::accept_context(ledger_id, *r, seal_key_.public_point(), hash), plain);
    auto rec = market_.accept(ledger::AcceptTerms{rid, sealed, hash});
    state_.put(Order{rid, r->subscriber, code, "accepted", 0});
    say("Accept " + rid + " on the ledger: an SP code sealed to " + r->home + " (SHA-256 " + to_hex(hash).substr(0, 16) +
        "..., ref " + rec.reference.substr(0, 16) + "...)");
  } catch (const std::exception& ex) {
    say("cannot serve " + rid + " (" + ex.what() + "): closing it, the escrow returns to " + r->home);
    try {
      market_.refund(rid);
    } catch (const std::exception& ex2) {
      say("closing " + rid + " refused: " + ex2.what());
    }
    state_.put(Order{rid, r->subscriber, known ? known->iccid : "", "closed", 0});
  }
}

std::string ServiceProviderAgent::redeem(const std::string& sp_code, const std::string& locode) {
  auto o = sp_code.empty() ? std::nullopt : state_.order_by_iccid(sp_code);
  if (!o) throw std::runtime_error("not an SP code this provider issued");
  if (o->status == "active") throw std::runtime_error("SP code of " + o->request_id + " already redeemed");
  if (o->status != "accepted") throw std::runtime_error("SP code of " + o->request_id + " is " + o->status);
  market_.activate(o->request_id, locode);
  o->status = "active";
  state_.put(*o);
  say("Activation of " + o->request_id + " on the ledger: the SP code redeemed" +
      (locode.empty() ? std::string() : " at " + locode));
  return o->request_id;
}

bool ServiceProviderAgent::report_units(const std::string& sp_code, std::int64_t units, std::int64_t period_start,
                                        std::int64_t period_end, const std::string& record_id) {
  auto o = sp_code.empty() ? std::nullopt : state_.order_by_iccid(sp_code);
  if (!o || o->status != "active") return false;
  // Units of service count in data_mb (docs/ledger.md "Offer kinds").
  ledger::UsageReport rep{o->request_id, o->usage_reports + 1, {units, 0, 0}, period_start, period_end, record_id};
  ledger::Receipt done;
  try {
    for (int attempt = 1;; ++attempt) {
      try {
        done = market_.report_usage(rep);
        break;
      } catch (const ledger::MarketError& e) {
        if (e.code != "report-out-of-order") throw;
        // Our count fell behind the ledger's (a crash after a report landed):
        // take the ledger's; the record id keeps it from being charged twice.
        auto r = market_.find_request(o->request_id);
        if (!r || attempt >= 3) throw;
        rep.report_no = r->usage_reports + 1;
      } catch (const std::exception& e) {
        // Not a refusal: the report may have landed; the same record again is safe.
        if (attempt >= 3) throw;
        say("usage record " + record_id + " on " + o->request_id + ": " + e.what() + "; sending it again");
      }
    }
  } catch (const ledger::MarketError& e) {
    say("usage record " + record_id + " on " + o->request_id + " refused: " + e.what());
    return false;
  }
  if (done.already_applied) {
    say("usage record " + record_id + " on " + o->request_id + " was already on the ledger: not charged again");
    auto r = market_.find_request(o->request_id);
    o->usage_reports = r ? r->usage_reports : o->usage_reports;
  } else {
    o->usage_reports = rep.report_no;
    say("usage of " + std::to_string(units) + " unit(s) on " + o->request_id + " on the ledger (record " + record_id + ")");
  }
  state_.put(*o);
  return true;
}

}  // namespace rsp::agents
