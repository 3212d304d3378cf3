// market: one participant's command line on the marketplace ledger.
//
//   market --ledger FILE --as ID --key KEY.pem <command> ...      (embedded ledger)
//   market --chain deployment.json --key KEY <command> ...         (chain backend)
//
// Commands: offers, publish, withdraw, edit, request, accept, open, activate, usage, refund, dispute, resolve,
// mint, balance, statement, events, verify. Keys are read from files and
// never printed; amounts are SDRt with up to 6 decimals.
#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <regex>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include "rsp/cli.hpp"
#include <nlohmann/json.hpp>

#include "rsp/activation_code.hpp"
#include "rsp/agents/service_provider_agent.hpp"
#include "rsp/agents/visited_operator_agent.hpp"
#include "rsp/eid.hpp"
#include "rsp/file.hpp"
#include "rsp/time_text.hpp"
#include "rsp/smdp/profile_generator.hpp"
#include "rsp/ledger/embedded_market.hpp"
#include "rsp/ledger/seal.hpp"
#ifdef RSP_WITH_CHAIN
#include "rsp/ledger/chain_deploy.hpp"
#include "rsp/ledger/chain_market.hpp"
#endif

using namespace rsp;
using namespace rsp::ledger;
using json = nlohmann::json;

namespace {

crypto::EcKey load_key(const std::string& path) { return crypto::EcKey::from_pem_or_der(read_file(path)); }

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

json offer_json(const Offer& o) {
  return {{"offer_id", o.offer_id},
          {"kind", std::string(to_string(o.kind))},
          {"provider", o.provider},
          {"service", o.service},
          {"coverage", o.coverage},
          {"allowance", {{"data_mb", o.allowance.data_mb}, {"voice_minutes", o.allowance.voice_minutes}, {"sms", o.allowance.sms}}},
          {"tariff_sdrt", {{"per_mb", format_sdrt(o.tariff.per_mb)}, {"per_minute", format_sdrt(o.tariff.per_minute)},
                           {"per_sms", format_sdrt(o.tariff.per_sms)}}},
          {"price_sdrt", format_sdrt(o.price)},
          {"term_days", o.term_seconds / 86400.0},
          {"valid_until", o.valid_until},
          {"stock", o.stock},
          {"sold", o.sold},
          {"withdrawn", o.withdrawn}};
}

// Option values checked and normalised while parsing, so a bad one is a
// usage error (exit 2, docs/operations.md) before anything is written to the
// ledger (issue 13). Each returns "" when the value is good, else the reason.

// ICCID: 19 or 20 decimal digits ending in the ITU-T E.118 Luhn check digit;
// the trailing F that pads a 19-digit ICCID to 20 nibbles (as pySim and
// EF ICCID write it) is dropped.
std::string normalise_iccid(std::string& v) {
  if (v.size() == 20 && (v.back() == 'F' || v.back() == 'f')) v.pop_back();
  if ((v.size() != 19 && v.size() != 20) || v.find_first_not_of("0123456789") != std::string::npos)
    return "ICCID must be 19 or 20 decimal digits (E.118), got '" + v + "'";
  if (!smdp::luhn_valid(v)) {
    auto expected = smdp::luhn_complete(std::string_view(v).substr(0, v.size() - 1)).back();
    return "ICCID " + v + ": wrong Luhn check digit (E.118; expected " + std::string(1, expected) + ")";
  }
  return {};
}

// EID: 32 digits with the SGP.29 check digits (mod 97 == 1).
std::string check_eid(std::string& v) {
  if (v.size() != 32 || v.find_first_not_of("0123456789") != std::string::npos)
    return "EID must be 32 decimal digits (SGP.29), got '" + v + "'";
  if (!eid_valid(v)) return "EID " + v + ": wrong check digits (SGP.29: the EID mod 97 must be 1)";
  return {};
}

// Activation code (SGP.22 4.1), with or without "LPA:": kept without the
// prefix ("1$..."), the form the home operator's LPA side expects; `open`
// prints it back with "LPA:".
std::string normalise_activation_code(std::string& v) {
  try {
    v = ActivationCode::parse(v).to_string(false);
  } catch (const ActivationCodeError& e) {
    return std::string("activation code: ") + e.what();
  }
  return {};
}

// A time (rsp/time_text.hpp: Unix seconds or ISO 8601), turned into Unix
// seconds before CLI11 converts the option.
std::string normalise_time(std::string& v) {
  try {
    v = std::to_string(static_cast<long long>(rsp::time_text::parse(v)));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return {};
}

const CLI::Validator kTime(normalise_time, "UNIX-SECONDS|ISO-8601", "time");
const CLI::Validator kIccid(normalise_iccid, "ICCID", "iccid");
const CLI::Validator kEid(check_eid, "EID", "eid");
const CLI::Validator kActivationCode(normalise_activation_code, "LPA:1$ADDRESS$MATCHING-ID", "activation-code");

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"market: a participant's view of the roaming marketplace ledger (docs/marketplace.md)"};
  app.require_subcommand(1);
  std::string ledger_path, chain_path, me, key_path;
  auto* ledger_opt = app.add_option("--ledger", ledger_path, "embedded ledger file");
  app.add_option("--chain", chain_path, "chain deployment description (`ledger-chain deploy --out`)")->excludes(ledger_opt);
  app.add_option("--as", me, "participant id you act as (as registered; on the chain: taken from the key)");
  app.add_option("--key", key_path, "your ledger signing key (embedded: PEM; chain: `ledger-chain keygen` file)");
  std::string genesis_hex, witness_path;
  app.add_option("--genesis", genesis_hex, "embedded: the genesis hash you joined (`ledger-tool verify` prints it); refuses another ledger");
  app.add_option("--witness", witness_path, "embedded: your own file remembering the longest chain you verified (finds truncation)");

  auto* offers = app.add_subcommand("offers", "list the Offers");

  auto* publish = app.add_subcommand("publish", "publish an Offer (visited operator / service provider)");
  OfferTerms ot;
  std::string coverage, per_mb = "0", per_min = "0", per_sms = "0", price, seal_key_path;
  double term_days = 30, valid_days = 90;
  publish->add_option("--id", ot.offer_id, "offer id (1..32 characters)")->required();
  publish->add_option("--service", ot.service, "what is sold, e.g. data+voice+sms")->required();
  std::string kind = "mobile";
  publish->add_option("--kind", kind, "mobile (an eSIM profile) or service (a service provider's: the Accept carries an SP code)")
      ->check(CLI::IsMember({"mobile", "service"}));
  publish->add_option("--coverage", coverage, "PLMN ids, comma separated (e.g. 20801,20810); optional for a service Offer");
  publish->add_option("--data-mb", ot.allowance.data_mb);
  publish->add_option("--voice-min", ot.allowance.voice_minutes);
  publish->add_option("--sms", ot.allowance.sms);
  publish->add_option("--per-mb", per_mb, "SDRt per MB");
  publish->add_option("--per-min", per_min, "SDRt per minute");
  publish->add_option("--per-sms", per_sms, "SDRt per SMS");
  publish->add_option("--price", price, "escrow per Request, SDRt")->required();
  publish->add_option("--term-days", term_days, "how long a bought subscription runs");
  publish->add_option("--valid-days", valid_days, "how long the Offer can be bought");
  publish->add_option("--stock", ot.stock, "how many Requests it takes")->required();
  publish->add_option("--seal-key", seal_key_path, "P-256 key Requests seal their target to (PEM; public part published)")->required();

  auto* withdraw = app.add_subcommand("withdraw", "withdraw your Offer: no more Requests (those made go on)");
  std::string change_offer;
  withdraw->add_option("--offer", change_offer)->required();

  auto* edit = app.add_subcommand("edit", "change price, stock or validity of your Offer for future Requests");
  std::string new_price;
  std::int64_t new_stock = 0;
  double new_valid_days = 0;
  edit->add_option("--offer", change_offer)->required();
  edit->add_option("--price", new_price, "escrow per future Request, SDRt (default: unchanged)");
  edit->add_option("--stock", new_stock, "how many Requests it takes in all, >= sold (default: unchanged)");
  edit->add_option("--valid-days", new_valid_days, "buyable for this many days from now (default: unchanged)");

  auto* request = app.add_subcommand("request", "buy an Offer for a subscriber (home operator): escrows its price");
  std::string offer_id, request_id, subscriber, eid, iccid, reply_key_path;
  request->add_option("--offer", offer_id)->required();
  request->add_option("--id", request_id, "request id (default: random)");
  request->add_option("--subscriber", subscriber, "subscriber pseudonym (no personal data)")->required();
  auto* eid_opt = request->add_option("--eid", eid, "target eUICC")->transform(kEid);
  request->add_option("--iccid", iccid, "target multi-account SIM")->excludes(eid_opt)->transform(kIccid);
  request->add_option("--reply-key", reply_key_path, "P-256 key the Accept is sealed to (PEM)")->required();

  auto* accept = app.add_subcommand("accept", "answer a Request with a profile sealed to the home operator");
  std::string ac, package_path;
  accept->add_option("--request", request_id)->required();
  std::string sp_code, entitles;
  auto* ac_opt = accept->add_option("--activation-code", ac, "SGP.22 activation code, with or without LPA:")->transform(kActivationCode);
  accept->add_option("--iccid", iccid, "ICCID of the profile")->transform(kIccid);
  accept->add_option("--package", package_path, "protected profile package file");
  accept->add_option("--sp-code", sp_code, "a service Offer's SP code (instead of a profile)")->excludes(ac_opt);
  accept->add_option("--entitles", entitles, "what the SP code entitles to (with --sp-code)");

  auto* open = app.add_subcommand("open", "open an Accept with the reply key (home operator)");
  std::string package_out;
  open->add_option("--request", request_id)->required();
  open->add_option("--reply-key", reply_key_path)->required();
  open->add_option("--package-out", package_out, "write the protected package here");

  auto* target = app.add_subcommand("target", "open a Request's sealed target with the seal key (provider)");
  target->add_option("--request", request_id)->required();
  target->add_option("--seal-key", seal_key_path)->required();

  auto* activate = app.add_subcommand("activate", "record the first attach (provider)");
  std::string plmn;
  activate->add_option("--request", request_id)->required();
  activate->add_option("--plmn", plmn, "PLMN of the first attach; for a service Offer the redemption's UN/LOCODE or nothing");

  auto* usage = app.add_subcommand("usage", "report usage (provider): settles SDRt from the escrow");
  UsageReport ur;
  usage->add_option("--request", ur.request_id)->required();
  usage->add_option("--report-no", ur.report_no, "1, 2, 3 ... in order")->required();
  usage->add_option("--data-mb", ur.used.data_mb);
  usage->add_option("--voice-min", ur.used.voice_minutes);
  usage->add_option("--sms", ur.used.sms);
  usage->add_option("--record-id", ur.record_id, "the network's usage record id (default: report-<no>); sent again, applied once");
  std::int64_t period_start = -1, period_end = -1;
  usage->add_option("--period-start", period_start, "Unix seconds or ISO 8601 (default: where the last period ended, or the activation)")
      ->transform(kTime);
  usage->add_option("--period-end", period_end, "Unix seconds or ISO 8601 (default: now)")->transform(kTime);

  auto* refund = app.add_subcommand("refund", "close a Request: unused escrow returns to the home operator");
  refund->add_option("--request", request_id)->required();

  auto* dispute = app.add_subcommand("dispute", "dispute an Accept (home operator, within a day of it): freezes the escrow");
  std::string reason;
  dispute->add_option("--request", request_id)->required();
  dispute->add_option("--reason", reason, "1..64 bytes, e.g. 'package does not open'")->required();

  auto* resolve = app.add_subcommand("resolve", "settle a disputed Request (its arbiter)");
  std::string resolve_to;
  resolve->add_option("--request", request_id)->required();
  resolve->add_option("--to", resolve_to, "who gets what is left in escrow")->required()->check(CLI::IsMember({"home", "provider"}));

  auto* revoke = app.add_subcommand("revoke", "revoke a participant's key for good (itself, or the admin)");
  std::string revoked;
  revoke->add_option("--participant", revoked)->required();
  auto* rotate = app.add_subcommand("rotate", "move to a new key: same id, balances, Requests; the old key writes nothing more");
  std::string new_key_path;
  rotate->add_option("--new-key", new_key_path, "embedded: private key PEM; chain: a `ledger-chain keygen` file")->required();
  auto* pause = app.add_subcommand("pause", "pause the market (admin): refund, dispute and resolve stay open");
  auto* resume = app.add_subcommand("resume", "resume the market (admin)");

  auto* mint = app.add_subcommand("mint", "issue SDRt (the admin)");
  std::string to, amount;
  mint->add_option("--to", to)->required();
  mint->add_option("--amount", amount, "SDRt")->required();

  auto* balance = app.add_subcommand("balance", "SDRt balance");
  std::string of;
  balance->add_option("--of", of, "participant (default: --as)");

  auto* statement = app.add_subcommand("statement", "statement for a period");
  std::int64_t from = 0, until = 0;
  statement->add_option("--of", of, "participant (default: --as)");
  statement->add_option("--from", from, "Unix seconds or ISO 8601, e.g. 2026-12-01 (UTC) (default 0)")->transform(kTime);
  statement->add_option("--to", until, "Unix seconds or ISO 8601 (default now)")->transform(kTime);

  auto* events = app.add_subcommand("events", "market events after a position (JSON lines)");
  std::int64_t after = 0;
  events->add_option("--after", after);

  auto* verify = app.add_subcommand("verify", "walk the whole ledger: signatures, hash chain, market rules");

  if (auto rc = rsp::cli::parse(app, argc, argv, "market")) return *rc;

  try {
    if (ledger_path.empty() == chain_path.empty()) throw std::runtime_error("give --ledger FILE or --chain DEPLOYMENT");
    bool writes = publish->parsed() || withdraw->parsed() || edit->parsed() || request->parsed() || accept->parsed() || activate->parsed() || usage->parsed() ||
                  refund->parsed() || mint->parsed() || dispute->parsed() || resolve->parsed() || revoke->parsed() ||
                  rotate->parsed() || pause->parsed() || resume->parsed();
    std::unique_ptr<Market> market;
    if (!chain_path.empty()) {
#ifdef RSP_WITH_CHAIN
      auto d = ChainDeployment::load(chain_path);
      if (writes && key_path.empty()) throw std::runtime_error("--key is required to write");
      auto cm = std::make_unique<ChainMarket>(d.config(), key_path.empty() ? eth::Secp256k1Key::generate() : read_key_file(key_path));
      if (verify->parsed()) {
        // The chain's validators check signatures and order; here: it is the
        // chain and the contracts this deployment names, and its records read.
        auto id = cm->rpc().chain_id();
        if (d.chain_id != 0 && id != d.chain_id) throw std::runtime_error("node is on chain " + std::to_string(id));
        if (cm->rpc().get_code(d.marketplace).empty() || cm->rpc().get_code(d.sdrt).empty())
          throw std::runtime_error("no contract code at the deployment's addresses");
        std::size_t n = 0;
        for (std::int64_t pos = 0;;) {
          auto batch = cm->events_after(pos, 1000);
          if (batch.empty()) break;
          n += batch.size();
          pos = batch.back().position;
        }
        std::cout << "OK: chain " << id << ", contracts present, " << n << " marketplace events, block "
                  << cm->rpc().block_number() << "\n";
        return 0;
      }
      market = std::move(cm);
#else
      throw std::runtime_error("this build has no chain backend (RSP_CHAIN=OFF)");
#endif
    } else {
      // Only `ledger-tool init` creates a ledger: a mistyped path must not
      // become a fresh empty one (issue 13).
      struct stat st{};
      if (::stat(ledger_path.c_str(), &st) != 0)
        throw std::runtime_error("no ledger at " + ledger_path + "; create one with ledger-tool init");
      EmbeddedLedger::Options lopt;
      if (!genesis_hex.empty()) lopt.pin = GenesisPin{from_hex(genesis_hex), {}};
      lopt.witness_path = witness_path;
      auto ledger = std::make_shared<EmbeddedLedger>(ledger_path, lopt);
      if (ledger->head().seq == 0)
        throw std::runtime_error("no ledger at " + ledger_path + " (no genesis entry); create one with ledger-tool init");
      if (verify->parsed()) {
        auto rep = ledger->verify();
        std::cout << "OK: " << rep.entries_checked << " entries, head seq " << rep.head_seq << " " << to_hex(rep.head_hash) << "\n";
        return 0;
      }
      if (writes && (me.empty() || key_path.empty())) throw std::runtime_error("--as and --key are required to write");
      auto key = std::make_shared<crypto::EcKey>(key_path.empty() ? crypto::EcKey::generate(crypto::Curve::P256) : load_key(key_path));
      market = std::make_unique<EmbeddedMarket>(ledger, me, key);
    }
    Market& m = *market;
    me = m.me();
    auto done = [](const Receipt& r) { std::cout << "OK: position " << r.position << ", ref " << r.reference << "\n"; };

    if (offers->parsed()) {
      for (const auto& o : m.offers()) std::cout << offer_json(o).dump() << "\n";
    } else if (publish->parsed()) {
      ot.kind = *offer_kind_from(kind);
      if (ot.kind == OfferKind::Mobile && coverage.empty()) throw std::runtime_error("--coverage is required for a mobile Offer");
      ot.coverage = split(coverage);
      ot.tariff = {parse_sdrt(per_mb), parse_sdrt(per_min), parse_sdrt(per_sms)};
      ot.price = parse_sdrt(price);
      ot.term_seconds = static_cast<std::int64_t>(term_days * 86400);
      ot.valid_until = std::time(nullptr) + static_cast<std::int64_t>(valid_days * 86400);
      ot.seal_key = load_key(seal_key_path).public_point();
      done(m.publish_offer(ot));
    } else if (withdraw->parsed()) {
      done(m.withdraw_offer(change_offer));
    } else if (edit->parsed()) {
      auto o = m.offer(change_offer);
      if (!o) throw MarketError("unknown-offer", "no offer '" + change_offer + "'");
      OfferEdit e{change_offer, o->price, o->stock, o->valid_until};
      if (!new_price.empty()) e.price = parse_sdrt(new_price);
      if (new_stock != 0) e.stock = new_stock;
      if (new_valid_days != 0) e.valid_until = std::time(nullptr) + static_cast<std::int64_t>(new_valid_days * 86400);
      done(m.edit_offer(e));
    } else if (request->parsed()) {
      auto o = m.offer(offer_id);
      if (!o) throw MarketError("unknown-offer", "no offer '" + offer_id + "'");
      RequestTerms t;
      t.request_id = request_id.empty() ? "REQ-" + to_hex(crypto::random_bytes(6)) : request_id;
      t.offer_id = offer_id;
      t.subscriber = subscriber;
      json tj = eid.empty() ? json{{"iccid", iccid}} : json{{"eid", eid}};
      // A service Offer's target names the service bought (the SP gives the code).
      if (o->kind == OfferKind::Service) tj = json{{"service", o->service}};
      else if (eid.empty() && iccid.empty()) throw std::runtime_error("--eid or --iccid is required");
      t.escrow = o->price;
      t.reply_key = load_key(reply_key_path).public_point();
      t.sealed_target = seal(o->seal_key, target_context(m.ledger_id(), *o, me, t), to_bytes(tj.dump()));
      done(m.request(t));
      std::cout << "request id " << t.request_id << ", escrow " << format_sdrt(t.escrow) << " SDRt\n";
    } else if (accept->parsed()) {
      auto r = m.find_request(request_id);
      if (!r) throw MarketError("unknown-request", "no request '" + request_id + "'");
      auto o = m.offer(r->offer_id);
      if (!o) throw MarketError("unknown-offer", "no offer '" + r->offer_id + "'");
      if (!sp_code.empty()) {
        // The sealed bytes are the SP code document; its SHA-256 is the package hash.
        Bytes plain = agents::ServiceCodeDelivery{sp_code, entitles.empty() ? o->service : entitles, o->offer_id}.to_json();
        Bytes hash = crypto::sha256(plain);
        done(m.accept({request_id, seal(r->reply_key, accept_context(m.ledger_id(), *r, o->seal_key, hash), plain), hash}));
        return 0;
      }
      if (ac.empty() || iccid.empty() || package_path.empty())
        throw std::runtime_error("--activation-code, --iccid and --package (a profile), or --sp-code (a service Offer)");
      agents::ProfileDelivery d{ac, iccid, read_file(package_path)};
      Bytes hash = crypto::sha256(d.protected_package);
      done(m.accept({request_id, seal(r->reply_key, accept_context(m.ledger_id(), *r, o->seal_key, hash), d.to_json()), hash}));
    } else if (open->parsed()) {
      auto a = m.find_accept(request_id);
      if (!a) throw MarketError("unknown-request", "no Accept for '" + request_id + "'");
      auto r = m.find_request(request_id);
      auto o = r ? m.offer(r->offer_id) : std::nullopt;
      if (!r || !o) throw MarketError("unknown-request", "no Request or Offer for '" + request_id + "'");
      auto ctx = accept_context(m.ledger_id(), *r, o->seal_key, a->package_hash);
      const Bytes plain = open_sealed(load_key(reply_key_path), ctx, a->sealed_profile);
      if (agents::ServiceCodeDelivery::is_service_code(plain)) {
        auto sc = agents::ServiceCodeDelivery::from_json(plain);
        bool ok = crypto::sha256(plain) == a->package_hash;
        std::cout << "sp code: " << sc.sp_code << "\nentitles: " << sc.entitles << "\nhash "
                  << (ok ? "matches the Accept" : "DOES NOT MATCH") << "\n";
        return ok ? 0 : 3;
      }
      auto d = agents::ProfileDelivery::from_json(plain);
      bool ok = crypto::sha256(d.protected_package) == a->package_hash;
      // Printed in the canonical form: an Accept written before `accept`
      // normalised its code may hold "LPA:1$..." already (issue 13).
      std::string shown = "LPA:" + d.activation_code;
      try {
        shown = ActivationCode::parse(d.activation_code).to_string();
      } catch (const ActivationCodeError&) {
      }
      std::cout << "activation code: " << shown << "\niccid: " << d.iccid << "\npackage: "
                << d.protected_package.size() << " bytes, hash " << (ok ? "matches the Accept" : "DOES NOT MATCH") << "\n";
      if (!package_out.empty()) {
        std::ofstream f(package_out, std::ios::binary);
        f.write(reinterpret_cast<const char*>(d.protected_package.data()), static_cast<std::streamsize>(d.protected_package.size()));
        if (!f.flush()) throw std::runtime_error("cannot write the package to " + package_out + ": " + std::strerror(errno));
      }
      return ok ? 0 : 3;
    } else if (target->parsed()) {
      auto r = m.find_request(request_id);
      if (!r) throw MarketError("unknown-request", "no request '" + request_id + "'");
      auto k = load_key(seal_key_path);
      std::cout << to_string(open_sealed(k, target_context(m.ledger_id(), *r, k.public_point()), r->sealed_target)) << "\n";
    } else if (activate->parsed()) {
      done(m.activate(request_id, plmn));
    } else if (usage->parsed()) {
      ur.period_end = period_end < 0 ? std::time(nullptr) : period_end;
      ur.period_start = period_start;
      if (period_start < 0) {  // periods follow each other: [last end, now)
        auto r = m.find_request(ur.request_id);
        ur.period_start = r ? std::max(r->activated_at, r->period_end) : 0;
      }
      if (period_end < 0) ur.period_end = std::max(ur.period_end, ur.period_start);
      auto rec = m.report_usage(ur);
      if (rec.already_applied) std::cout << "already applied (not charged again)\n";
      done(rec);
    } else if (refund->parsed()) {
      done(m.refund(request_id));
    } else if (dispute->parsed()) {
      done(m.dispute(request_id, reason));
    } else if (resolve->parsed()) {
      done(m.resolve(request_id, resolve_to == "home" ? Resolution::RefundHome : Resolution::ReleaseToProvider));
    } else if (revoke->parsed()) {
      done(m.revoke(revoked));
    } else if (rotate->parsed()) {
      std::shared_ptr<crypto::EcKey> next;
      if (m.backend() == "chain") {
#ifdef RSP_WITH_CHAIN
        auto scalar = read_key_file(new_key_path).export_private();
        next = std::make_shared<crypto::EcKey>(
            crypto::EcKey::from_private_scalar(crypto::Curve::Secp256k1, ByteView(scalar.data(), scalar.size())));
#endif
      } else {
        next = std::make_shared<crypto::EcKey>(load_key(new_key_path));
      }
      done(m.rotate_key(me, next));
      std::cout << "use --key " << new_key_path << " from now on\n";
    } else if (pause->parsed() || resume->parsed()) {
      done(m.set_paused(pause->parsed()));
    } else if (mint->parsed()) {
      done(m.mint(to, parse_sdrt(amount)));
    } else if (balance->parsed()) {
      auto b = m.balance(of.empty() ? me : of);
      std::cout << (of.empty() ? me : of) << ": " << format_sdrt(b.available) << " SDRt available, " << format_sdrt(b.escrowed)
                << " SDRt in escrow\n";
    } else if (statement->parsed()) {
      std::string who = of.empty() ? me : of;
      auto st = make_statement(m, who, from, until ? until : std::time(nullptr) + 1);
      std::cout << "statement of " << who << " [" << st.from << ", " << st.to << ")\n  opening " << format_sdrt(st.opening.available)
                << " available, " << format_sdrt(st.opening.escrowed) << " escrow\n";
      for (const auto& l : st.lines)
        std::cout << "  #" << l.event.position << " " << l.event.type << " " << l.event.id << " available "
                  << format_sdrt(l.delta_available) << " escrow " << format_sdrt(l.delta_escrowed) << "\n";
      std::cout << "  closing " << format_sdrt(st.closing.available) << " available, " << format_sdrt(st.closing.escrowed)
                << " escrow\n";
    } else if (events->parsed()) {
      for (const auto& e : m.events_after(after, 100000))
        std::cout << json{{"position", e.position}, {"time", e.time},     {"type", e.type},
                          {"author", e.author},     {"id", e.id},         {"counterparty", e.counterparty},
                          {"amount_sdrt", format_sdrt(e.amount)}, {"reference", e.reference}}
                         .dump()
                  << "\n";
    }
  } catch (const MarketError& e) {
    std::cerr << "REFUSED (" << e.code << "): " << e.what() << "\n";
    return 3;
  } catch (const AppendError& e) {
    std::cerr << "REFUSED (" << reason_name(e.reason) << "): " << e.what() << "\n";
    return 3;
  } catch (const ChainError& e) {
    std::cerr << "CHAIN BROKEN at seq " << e.seq << ": " << e.reason << "\n";
    return 4;  // 2 is the usage error of every program (docs/operations.md)
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
