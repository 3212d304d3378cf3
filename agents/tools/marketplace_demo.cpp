// marketplace-demo: the main job. Runs the whole marketplace story on one
// machine on embedded defaults and tells it step by step: who did what on the
// ledger, on the SM-DP+, on the device and on the visited network, and the
// SDRt balances at the end (checked to the smallest unit). Then the same
// story on a multi-account SIM (issue 10): the account reaches the card over
// the air (otad -> SMPP -> SMSC -> handset -> the card, through PC/SC when
// --card-reader names the reader masim sits in, else in this process), then
// once more over SCP81 (a push SMS, the card's PSK-TLS admin session).
#include <CLI/CLI.hpp>
#include "rsp/cli.hpp"

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <vector>
#include <filesystem>
#include <fstream>

#include "rsp/agents/agent_state.hpp"
#include "rsp/agents/local_stack.hpp"
#include "rsp/agents/ota_stack.hpp"
#include "rsp/ledger/embedded_market.hpp"
#include "rsp/log.hpp"
#include "rsp/smdp/profile_template.hpp"

using namespace rsp;
namespace fs = std::filesystem;

namespace {

const char* label(const std::string& party) {
  if (party == "issuer") return "SDRt issuer     ";
  if (party == "visited") return "visited operator";
  if (party == "home") return "home operator   ";
  if (party == "device") return "subscriber      ";
  if (party == "network") return "visited network ";
  if (party == "ota") return "home OTA (otad) ";
  if (party == "card") return "multi-acct SIM  ";
  return "ledger          ";
}

void print_statement(ledger::Market& m, const std::string& who, std::int64_t until) {
  auto st = ledger::make_statement(m, who, 0, until);
  std::printf("\n  Statement of %s\n", who.c_str());
  for (const auto& l : st.lines) {
    if (l.delta_available == 0 && l.delta_escrowed == 0) continue;
    std::printf("    #%-4lld %-10s %-22s available %14s   escrow %14s\n", static_cast<long long>(l.event.position),
                l.event.type.c_str(), l.event.id.c_str(), ledger::format_sdrt(l.delta_available).c_str(),
                ledger::format_sdrt(l.delta_escrowed).c_str());
  }
  std::printf("    closing: %s SDRt available, %s SDRt in escrow\n", ledger::format_sdrt(st.closing.available).c_str(),
              ledger::format_sdrt(st.closing.escrowed).c_str());
}

// One story's ledger: embedded, the three participants registered; its
// clock is the system's plus the simulated day the story skips so the
// dispute window after the Accept can pass (kDisputeSeconds).
struct DemoLedger {
  std::shared_ptr<std::int64_t> skipped_ms = std::make_shared<std::int64_t>(0);
  ledger::EmbeddedLedger::Options lo;
  std::shared_ptr<ledger::EmbeddedLedger> ledger;
  std::unique_ptr<ledger::EmbeddedMarket> issuer, visited, home;

  DemoLedger(const fs::path& file, const std::string& plmn) {
    lo.clock_ms = [s = skipped_ms] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                 .count() +
             *s;
    };
    ledger = std::make_shared<ledger::EmbeddedLedger>(file.string(), lo);
    auto key = [] { return std::make_shared<crypto::EcKey>(crypto::EcKey::generate(crypto::Curve::P256)); };
    auto ik = key(), vk = key(), hk = key();
    ledger->init("SDR-ISSUER", *ik);
    ledger->register_participant("SDR-ISSUER", *ik, "VISITED-A", "visited-operator", *vk);
    ledger->register_participant("SDR-ISSUER", *ik, "HOME-B", "home-operator", *hk);
    std::printf("  [%s] %s: registers VISITED-A (visited operator, PLMN %s) and HOME-B (home operator)\n",
                label("ledger"), file.filename().c_str(), plmn.c_str());
    issuer = std::make_unique<ledger::EmbeddedMarket>(ledger, "SDR-ISSUER", ik);
    visited = std::make_unique<ledger::EmbeddedMarket>(ledger, "VISITED-A", vk);
    home = std::make_unique<ledger::EmbeddedMarket>(ledger, "HOME-B", hk);
  }

  // Statements, verification; returns the story's balance lines.
  std::string close(const std::string& name, const agents::StoryResult& r) {
    const std::int64_t until = lo.clock_ms() / 1000 + 60;
    print_statement(*home, "HOME-B", until);
    print_statement(*visited, "VISITED-A", until);
    auto rep = ledger->verify();
    std::printf("\n  Ledger verified: %lld entries, each signed by its author and hash-chained (head %s...)\n",
                static_cast<long long>(rep.entries_checked), to_hex(rep.head_hash).substr(0, 16).c_str());
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "  %s:\n    HOME-B     %14s SDRt  (100 credited - %s used)\n    VISITED-A  %14s SDRt  (usage "
                  "settled)\n    escrow     %14s SDRt  (%s returned to HOME-B)\n",
                  name.c_str(), ledger::format_sdrt(r.home_available).c_str(), ledger::format_sdrt(r.charged).c_str(),
                  ledger::format_sdrt(r.visited_available).c_str(),
                  ledger::format_sdrt(home->balance("HOME-B").escrowed).c_str(), ledger::format_sdrt(r.refunded).c_str());
    return buf;
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The marketplace story end to end: Offer, Request with SDRt escrow, Accept carrying the profile "
               "ciphertext, download to the eSIM, authenticated attach, usage, settlement."};
  std::string workdir, tmpl;
  bool keep = false;
  std::string story = "both", card_transport = "both", card_reader, card_keys, card_iccid = "8988211000000000016";
  app.add_option("--workdir", workdir, "scratch folder (default: a new one under /tmp)");
  app.add_option("--template", tmpl,
                 "profile package the visited operator personalises per subscriber (default: the SM-DP+'s "
                 "built-in minimal USIM profile)");
  app.add_flag("--keep", keep, "keep the work folder (ledger, SM-DP+ store, HSS) afterwards (the ledger's last entries are a simulated "
               "day ahead: other tools refuse them until that day)");
  app.add_option("--story", story, "which story: esim, multi-account or both")
      ->check(CLI::IsMember({"esim", "multi-account", "both"}));
  app.add_option("--card-reader", card_reader,
                 "PC/SC reader holding the multi-account SIM (masim --vpcd); default: the card in this process");
  app.add_option("--card-keys", card_keys, "the card's OTA keys (masim's --keys JSON); with --card-reader");
  app.add_option("--card-iccid", card_iccid, "the card's ICCID (masim's --iccid)");
  app.add_option("--card-transport", card_transport,
                 "the multi-account story's OTA transport: sms, scp81 or both (default; SCP81 through PC/SC needs "
                 "the card's \"scp81\" keys in --card-keys)")
      ->check(CLI::IsMember({"sms", "scp81", "both"}));
  if (auto rc = rsp::cli::parse(app, argc, argv, "marketplace-demo")) return *rc;
  if (!card_reader.empty() && card_keys.empty()) {
    std::fprintf(stderr, "marketplace-demo: --card-reader needs --card-keys\n");
    return 2;
  }
  if (!std::getenv("RSP_LOG")) log::set_level(log::Level::Warn);

  if (!tmpl.empty() && !fs::exists(tmpl)) {
    std::fprintf(stderr, "marketplace-demo: profile template %s not found\n", tmpl.c_str());
    return 2;
  }
  fs::path dir = workdir.empty() ? fs::temp_directory_path() / ("rsp-marketplace-" + std::to_string(::getpid())) : fs::path(workdir);
  fs::remove_all(dir);
  int rc = 0;
  try {
    agents::LocalStackOptions o;
    o.dir = dir;
    if (tmpl.empty()) {
      o.profile_template = smdp::minimal_profile_template();
    } else {
      std::ifstream f(tmpl, std::ios::binary);
      o.profile_template = Bytes(std::istreambuf_iterator<char>(f), {});
    }
    std::printf("Setting up: the visited operator's SM-DP+ (HTTPS on loopback; ES2+ with mutual TLS), a batch of 3\n"
                "profiles generated from %s (fresh ICCID/IMSI/Ki/OPc each, protected with profile\n"
                "protection keys), its HSS, the shared ledger (embedded, in %s), and a subscriber's phone\n"
                "with an eUICC.\n\n",
                tmpl.empty() ? "the built-in USIM template" : tmpl.c_str(), dir.c_str());
    agents::LocalStack stack(o);

    auto narrate = [](const std::string& who, const std::string& what) {
      std::printf("  [%s] %s\n", label(who), what.c_str());
    };
    std::optional<agents::StoryResult> esim, multi;
    std::vector<std::string> summary;
    if (story != "multi-account") {
      std::printf("== Story 1: an eSIM profile (SM-DP+, LPA, eUICC)\n\n");
      DemoLedger l(dir / "ledger.db", o.plmn);
      auto parties = stack.parties(*l.issuer, *l.visited, *l.home);
      parties.advance_ledger_clock = [s = l.skipped_ms](std::int64_t seconds) { *s += seconds * 1000; };
      esim = agents::run_marketplace_story(parties, narrate);
      summary.push_back(l.close("eSIM story", *esim));
    }
    // The multi-account story over one OTA transport: SMS (SCP80 secured
    // packets to the applet) or SCP81 (a push SMS, then the card's PSK-TLS
    // admin session to otad). Each run: its own otad, ledger and agent
    // databases, and its own IMSI range (through PC/SC the card is the same).
    // `slots_taken`: the card's applet slots an earlier run on the same card
    // (PC/SC) filled; this run's home agent starts above them (the active
    // account's slot cannot be replaced).
    // `counter`: the card's OTA counter after that run (otad's next must be higher).
    std::uint64_t counter = 0;
    auto run_multi = [&](const std::string& transport, int story_no, std::uint64_t first_imsi, int slots_taken) {
      agents::OtaStackOptions oo;
      oo.dir = dir / (transport == "sms" ? "ota" : "ota-" + transport);
      oo.iccid = card_iccid;
      oo.pcsc_reader = card_reader;
      oo.transport = transport;
      oo.counter = counter;
      if (!card_keys.empty()) agents::load_masim_keys(card_keys, oo);
      const std::string path = transport == "sms" ? "otad -> SMPP -> SMSC -> handset -> "
                                                   : "otad push SMS -> handset -> card; card PSK-TLS -> otad's SCP81 admin server; ";
      std::printf("\n== Story %d: a multi-account SIM over %s (%s%s)\n\n", story_no, transport == "sms" ? "SMS" : "SCP81",
                  path.c_str(),
                  card_reader.empty() ? "the card IN PROCESS (not through pcscd/vpcd)"
                                      : ("PC/SC reader '" + card_reader + "' (pcscd + vpcd) -> masim").c_str());
      // Its own ledger file and agent databases: the first story's ledger
      // clock is a simulated day ahead of the network's metering clock.
      const std::string tag = transport == "sms" ? "multi-account" : "multi-account-" + transport;
      DemoLedger l(dir / ("ledger-" + tag + ".db"), o.plmn);
      store::Db vdb((dir / ("visited-agent-" + tag + ".db")).string()), hdb((dir / ("home-agent-" + tag + ".db")).string());
      if (slots_taken > 0) agents::AgentState(hdb).put_ota(agents::OtaJob{"(earlier story)", card_iccid, slots_taken, ""});
      agents::OtaStack ota(oo);
      std::printf("  [%s] otad (in process): operator API on %s with mutual TLS, SMPP bound to the SMSC%s; card %s "
                  "registered (AES KIc/KID, TAR 4D4153%s)\n",
                  label("ota"), ota.otad_url().c_str(),
                  transport == "scp81" ? ", SCP81 admin server (PSK-TLS) on loopback" : "", card_iccid.c_str(),
                  transport == "scp81" ? ", TAR 000000, SCP81 PSK" : "");
      agents::AccountInventory inventory(vdb, crypto::random_bytes(32));
      inventory.generate(o.plmn, 3, first_imsi);
      std::printf("  [%s] account inventory: 3 IMSIs in PLMN %s with fresh Ki/OPc (sealed at rest)\n",
                  label("visited"), o.plmn.c_str());
      agents::MultiAccountCard card{card_iccid, ota.card(), ota.otad_client(), inventory};
      card.link = card_reader.empty() ? "in process" : "PC/SC, " + card_reader;
      card.await_refresh = [&ota] { return ota.wait_refreshes(1); };
      agents::StoryParties parties{*l.issuer,      *l.visited, *l.home,        stack.es2(), stack.packages(),
                                   o.profile_type, stack.hss(), o.plmn,        stack.euicc(), stack.eid(),
                                   "310150123456789", stack.lpa_options(), vdb, hdb,  nullptr};
      parties.advance_ledger_clock = [s = l.skipped_ms](std::int64_t seconds) { *s += seconds * 1000; };
      parties.card = &card;
      auto r = agents::run_marketplace_story(parties, narrate);
      counter = ota.counter();
      if (transport == "sms")
        std::printf("  [%s] STORE ACCOUNT PoR %s, SWITCH ACCOUNT PoR %s; attached as IMSI %s\n", label("ota"),
                    r.install_por.c_str(), r.switch_por.c_str(), r.imsi.c_str());
      else
        std::printf("  [%s] over SCP81: STORE ACCOUNT %s, SWITCH ACCOUNT %s (admin sessions); attached as IMSI %s\n",
                    label("ota"), r.install_por.c_str(), r.switch_por.c_str(), r.imsi.c_str());
      summary.push_back(l.close(transport == "sms" ? "multi-account story" : "multi-account story over SCP81", r));
      return r;
    };
    if (story != "esim") {
      int n = esim ? 2 : 1;
      int slots = 0;
      if (card_transport != "scp81") {
        multi = run_multi("sms", n++, 7000, 0);
        if (!card_reader.empty()) slots = multi->slot;  // the same card again
        else counter = 0;                               // a fresh card in process
      }
      if (card_transport != "sms") multi = run_multi("scp81", n, 7100, slots);
    }
    std::printf("\nFinal SDRt balances (each story on its own ledger, checked to the unit)\n");
    for (const auto& line : summary) std::printf("%s", line.c_str());
    std::printf("\nMARKETPLACE STORY COMPLETE\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nmarketplace-demo FAILED: %s\n", e.what());
    rc = 1;
  }
  if (!keep) fs::remove_all(dir);
  else std::printf("work folder kept: %s\n", dir.c_str());
  return rc;
}
