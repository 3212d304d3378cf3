// ledger_bench: signed + validated appends per second on the embedded ledger,
// next to the seed target (10,000 appends/s) and the crypto floor measured in
// the same run. The entries are usage reports, the marketplace's high-volume
// record: each is signed by the visited operator, its signature verified by
// the ledger, the marketplace rules applied (report order, escrow, settlement)
// and committed. Two signature curves: P-256 through mbedTLS (the baseline)
// and secp256k1 through libsecp256k1 (participants' chain-account keys).
//   ledger_bench [entries-per-case (default 2000)] [dir (default /tmp)]
#include <unistd.h>

#include <CLI/CLI.hpp>
#include "rsp/cli.hpp"
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "rsp/ledger/embedded.hpp"
#include "rsp/ledger/market_state.hpp"

using namespace rsp;
using namespace rsp::ledger;
using Clock = std::chrono::steady_clock;

namespace {
double secs(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }
const double kTarget = 10000.0;

struct Fixture {
  std::string path;
  crypto::EcKey admin, visited, home;
  std::unique_ptr<EmbeddedLedger> l;
  Fixture(const std::string& dir, const std::string& name, crypto::Curve c, bool full)
      : path(dir + "/" + name), admin(crypto::EcKey::generate(c)), visited(crypto::EcKey::generate(c)),
        home(crypto::EcKey::generate(c)) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    EmbeddedLedger::Options o;
    o.synchronous_full = full;
    l = std::make_unique<EmbeddedLedger>(path, o);
    // An active subscription with an escrow large enough for every report.
    l->init("admin", admin);
    l->register_participant("admin", admin, "VISITED-A", "visited-operator", visited);
    l->register_participant("admin", admin, "HOME-B", "home-operator", home);
    l->append_signed("admin", admin, "mint", mint_payload("HOME-B", 1'000'000'000'000));
    OfferTerms o2;
    o2.offer_id = "OFFER-1";
    o2.service = "data";
    o2.coverage = {"20801"};
    o2.tariff = {1, 0, 0};
    o2.allowance = {INT64_MAX / 2, INT64_MAX / 2, INT64_MAX / 2};  // the usage reports stay within it
    o2.price = 1'000'000'000'000;
    o2.term_seconds = 86400;
    o2.valid_until = now_ms() / 1000 + 86400;
    o2.stock = 1;
    o2.seal_key = crypto::EcKey::generate(crypto::Curve::P256).public_point();
    l->append_signed("VISITED-A", visited, "offer", offer_payload(o2));
    RequestTerms r{"REQ-1", "OFFER-1", "sub", Bytes(100, 1), o2.price, o2.seal_key};
    l->append_signed("HOME-B", home, "request", request_payload(r));
    l->append_signed("VISITED-A", visited, "accept", accept_payload({"REQ-1", Bytes(200, 2), Bytes(32, 3)}));
    l->append_signed("VISITED-A", visited, "activation", activation_payload("REQ-1", "20801"));
  }
  ~Fixture() {
    l.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }
};

Bytes usage(int no) {
  // A period the rules accept: after the activation, not in the future.
  const std::int64_t t = now_ms() / 1000;
  return usage_payload(UsageReport{"REQ-1", no, {1 + no % 700, no % 13, no % 3}, t, t});
}

void row(const char* label, double per_s, const std::string& note) {
  std::printf("%-52s %10.0f %9.2f   %s\n", label, per_s, per_s / kTarget, note.c_str());
}

void run_curve(crypto::Curve c, int n, const std::string& dir) {
  const char* cname = c == crypto::Curve::P256 ? "P-256 (mbedTLS)" : "secp256k1 (libsecp256k1)";
  auto k = crypto::EcKey::generate(c);
  Bytes h = crypto::sha256(to_bytes("entry"));
  int cn = std::max(500, n / 2);
  auto t0 = Clock::now();
  Bytes sig;
  for (int i = 0; i < cn; ++i) sig = k.sign(h);
  double sign_s = secs(t0, Clock::now()) / cn;
  t0 = Clock::now();
  for (int i = 0; i < cn; ++i)
    if (!k.verify(h, sig)) std::abort();
  double verify_s = secs(t0, Clock::now()) / cn;
  double floor_s = sign_s + verify_s;
  char label[96], note[160];
  std::printf("\n%s\n", cname);
  std::snprintf(note, sizeof note, "(%.1f us sign + %.1f us verify)", sign_s * 1e6, verify_s * 1e6);
  std::snprintf(label, sizeof label, "  crypto floor: 1 / (sign + verify)");
  row(label, 1.0 / floor_s, note);

  for (bool full : {true, false}) {
    const char* sync = full ? "FULL" : "NORMAL";
    {
      Fixture f(dir, std::string("one_") + sync + ".db", c, full);
      auto a = Clock::now();
      for (int i = 1; i <= n; ++i) f.l->append_signed("VISITED-A", f.visited, "usage", usage(i));
      double s = secs(a, Clock::now());
      std::snprintf(label, sizeof label, "  one by one, synchronous=%s", sync);
      std::snprintf(note, sizeof note, "(%.1f us/append, %.0f%% of it crypto)", s / n * 1e6, 100.0 * floor_s / (s / n));
      row(label, n / s, note);
      if (full) {
        f.l.reset();
        auto v = Clock::now();
        EmbeddedLedger reopened(f.path);
        double vs = secs(v, Clock::now());
        std::snprintf(note, sizeof note, "(%d entries: signatures, links, market rules)", n + 7);
        row("  full verify on open (entries/s)", (n + 7) / vs, note);
      }
    }
    {
      Fixture f(dir, std::string("batch_") + sync + ".db", c, full);
      std::vector<Ledger::Draft> drafts;
      auto a = Clock::now();
      int done = 0;
      while (done < n) {
        drafts.clear();
        for (int j = 0; j < 100 && done + j < n; ++j) drafts.push_back({"usage", usage(done + j + 1), {}});
        done += static_cast<int>(f.l->append_signed_batch("VISITED-A", f.visited, drafts).size());
      }
      double s = secs(a, Clock::now());
      std::snprintf(label, sizeof label, "  batches of 100, synchronous=%s", sync);
      std::snprintf(note, sizeof note, "(%.1f us/append, %.0f%% of it crypto)", s / n * 1e6, 100.0 * floor_s / (s / n));
      row(label, n / s, note);
    }
    // The ledger's side alone: entries arrive sealed by their writers (who
    // sign on their own machines), the ledger verifies, applies the rules
    // and commits them in batches of 100.
    {
      Fixture f(dir, std::string("presigned_") + sync + ".db", c, full);
      std::vector<std::vector<Entry>> batches;
      Head head = f.l->head();
      for (int done = 0; done < n;) {
        std::vector<Entry> b;
        for (int j = 0; j < 100 && done < n; ++j, ++done) {
          Entry e{head.seq + 1, head.hash, "usage", "VISITED-A", random_nonce(), now_ms(), usage(done + 1), {}, {}};
          seal(e, f.visited);
          head = Head{e.seq, e.hash};
          b.push_back(std::move(e));
        }
        batches.push_back(std::move(b));
      }
      auto a = Clock::now();
      for (const auto& b : batches) f.l->append_batch(b);
      double s = secs(a, Clock::now());
      std::snprintf(label, sizeof label, "  pre-signed, batches of 100, synchronous=%s", sync);
      std::snprintf(note, sizeof note, "(%.1f us/append: verify, rules, commit; %.0f%% of it verify)", s / n * 1e6,
                    100.0 * verify_s / (s / n));
      row(label, n / s, note);
    }
  }
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ledger benchmark: signed usage reports appended to the embedded ledger"};
  int n = 2000;
  std::string dir = std::filesystem::temp_directory_path().string();
  app.add_option("n", n, "usage reports per case")->check(CLI::Range(1, 10'000'000));
  app.add_option("dir", dir, "folder for the ledger files (a subfolder is made and removed)")
      ->check(CLI::ExistingDirectory);
  if (auto rc = rsp::cli::parse(app, argc, argv, "ledger_bench")) return *rc;
  dir += "/ledger_bench_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::printf("ledger_bench: %d usage reports per case (signed, verified, rules applied, committed), dir %s\n", n,
              dir.c_str());
  std::printf("%-52s %10s %9s\n", "case", "appends/s", "x target");
  row("target (seed figure)", kTarget, "");
  for (auto c : {crypto::Curve::P256, crypto::Curve::Secp256k1}) run_curve(c, n, dir);
  std::filesystem::remove_all(dir);
  return 0;
}
