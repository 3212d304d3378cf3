// marketplace-demo: the main job. Runs the whole marketplace story on one
// machine on embedded defaults and tells it step by step: who did what on the
// ledger, on the SM-DP+, on the device and on the visited network, and the
// SDRt balances at the end (checked to the smallest unit).
#include <CLI/CLI.hpp>
#include "rsp/cli.hpp"

#include <chrono>
#include <cstdio>
#include <memory>
#include <filesystem>
#include <fstream>

#include "rsp/agents/local_stack.hpp"
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The marketplace story end to end: Offer, Request with SDRt escrow, Accept carrying the profile "
               "ciphertext, download to the eSIM, authenticated attach, usage, settlement."};
  std::string workdir, tmpl;
  bool keep = false;
  app.add_option("--workdir", workdir, "scratch folder (default: a new one under /tmp)");
  app.add_option("--template", tmpl,
                 "profile package the visited operator personalises per subscriber (default: the SM-DP+'s "
                 "built-in minimal USIM profile)");
  app.add_flag("--keep", keep, "keep the work folder (ledger, SM-DP+ store, HSS) afterwards (the ledger's last entries are a simulated "
               "day ahead: other tools refuse them until that day)");
  if (auto rc = rsp::cli::parse(app, argc, argv, "marketplace-demo")) return *rc;
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
                "protection keys), its HSS, the shared ledger (embedded: %s), and a subscriber's phone\n"
                "with an eUICC.\n\n",
                tmpl.empty() ? "the built-in USIM template" : tmpl.c_str(), (dir / "ledger.db").c_str());
    agents::LocalStack stack(o);

    // The ledger's clock: the system's, plus the simulated day the story
    // skips so the dispute window after the Accept can pass (kDisputeSeconds).
    auto skipped_ms = std::make_shared<std::int64_t>(0);
    ledger::EmbeddedLedger::Options lo;
    lo.clock_ms = [skipped_ms] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                 .count() +
             *skipped_ms;
    };
    auto ledger = std::make_shared<ledger::EmbeddedLedger>((dir / "ledger.db").string(), lo);
    auto key = [] { return std::make_shared<crypto::EcKey>(crypto::EcKey::generate(crypto::Curve::P256)); };
    auto ik = key(), vk = key(), hk = key();
    ledger->init("SDR-ISSUER", *ik);
    ledger->register_participant("SDR-ISSUER", *ik, "VISITED-A", "visited-operator", *vk);
    ledger->register_participant("SDR-ISSUER", *ik, "HOME-B", "home-operator", *hk);
    std::printf("  [%s] registers VISITED-A (visited operator, PLMN %s) and HOME-B (home operator)\n", label("ledger"),
                o.plmn.c_str());
    ledger::EmbeddedMarket issuer(ledger, "SDR-ISSUER", ik), visited(ledger, "VISITED-A", vk), home(ledger, "HOME-B", hk);

    auto parties = stack.parties(issuer, visited, home);
    parties.advance_ledger_clock = [skipped_ms](std::int64_t seconds) { *skipped_ms += seconds * 1000; };
    auto res = agents::run_marketplace_story(parties, [](const std::string& who, const std::string& what) {
      std::printf("  [%s] %s\n", label(who), what.c_str());
    });

    const std::int64_t until = lo.clock_ms() / 1000 + 60;
    print_statement(home, "HOME-B", until);
    print_statement(visited, "VISITED-A", until);
    auto rep = ledger->verify();
    std::printf("\nLedger verified: %lld entries, each signed by its author and hash-chained (head %s...)\n",
                static_cast<long long>(rep.entries_checked), to_hex(rep.head_hash).substr(0, 16).c_str());
    std::printf("\nFinal SDRt balances\n");
    std::printf("  HOME-B     %14s SDRt  (100 credited - %s used)\n", ledger::format_sdrt(res.home_available).c_str(),
                ledger::format_sdrt(res.charged).c_str());
    std::printf("  VISITED-A  %14s SDRt  (usage settled)\n", ledger::format_sdrt(res.visited_available).c_str());
    std::printf("  escrow     %14s SDRt\n", ledger::format_sdrt(home.balance("HOME-B").escrowed).c_str());
    std::printf("\nMARKETPLACE STORY COMPLETE\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nmarketplace-demo FAILED: %s\n", e.what());
    rc = 1;
  }
  if (!keep) fs::remove_all(dir);
  else std::printf("work folder kept: %s\n", dir.c_str());
  return rc;
}
