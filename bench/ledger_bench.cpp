// ledger_bench: signed + validated appends per second on the embedded ledger,
// one by one and in batches of 100, with synchronous=FULL and NORMAL, next to
// the seed target (10,000 appends/s) and the crypto floor measured in the same
// run (one ECDSA P-256 sign + verify, which every append costs).
//   ledger_bench [entries-per-case (default 2000)] [dir (default /tmp)]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "rsp/ledger/embedded.hpp"

using namespace rsp;
using namespace rsp::ledger;
using Clock = std::chrono::steady_clock;

namespace {
double secs(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

struct Fixture {
  std::string path;
  crypto::EcKey admin = crypto::EcKey::generate(crypto::Curve::P256);
  crypto::EcKey op = crypto::EcKey::generate(crypto::Curve::P256);
  Fixture(const std::string& dir, const std::string& name) : path(dir + "/" + name) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }
  ~Fixture() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }
};

Bytes payload(int i) {
  return to_bytes(R"({"offer_id":"OF-)" + std::to_string(i) +
                  R"(","visited":"OP-A","mcc_mnc":"20801","price_sdrt_per_mb":"0.0042","valid_until":1767225600})");
}
}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::stoi(argv[1]) : 2000;
  std::string dir = argc > 2 ? argv[2] : std::filesystem::temp_directory_path().string();
  dir += "/ledger_bench_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);

  // Crypto floor: one ECDSA P-256 sign + one verify over a 32-byte entry hash.
  auto k = crypto::EcKey::generate(crypto::Curve::P256);
  Bytes h = crypto::sha256(to_bytes("entry"));
  int cn = std::max(200, n / 4);
  auto t0 = Clock::now();
  for (int i = 0; i < cn; ++i) {
    auto sig = k.sign(h);
    if (!k.verify(h, sig)) return 1;
  }
  double floor_s = secs(t0, Clock::now()) / cn;
  t0 = Clock::now();
  for (int i = 0; i < cn; ++i) (void)k.sign(h);
  double sign_s = secs(t0, Clock::now()) / cn;

  std::printf("ledger_bench: %d entries per case, P-256, payload ~120 B JSON, dir %s\n", n, dir.c_str());
  std::printf("%-44s %12s %10s\n", "case", "appends/s", "x target");
  const double target = 10000.0;
  std::printf("%-44s %12.0f %10.2f\n", "target (seed figure)", target, 1.0);
  std::printf("%-44s %12.0f %10.2f   (%.1f us sign + %.1f us verify)\n", "crypto floor: 1 / (sign + verify)", 1.0 / floor_s,
              1.0 / floor_s / target, sign_s * 1e6, (floor_s - sign_s) * 1e6);

  for (bool full : {true, false}) {
    const char* sync = full ? "FULL" : "NORMAL";
    // one by one: each append its own transaction (sign, validate, commit)
    {
      Fixture f(dir, std::string("one_") + sync + ".db");
      EmbeddedLedger l(f.path, {full, VerifyMode::Full});
      l.init("admin", f.admin);
      l.register_participant("admin", f.admin, "OP-A", "visited-operator", f.op);
      auto a = Clock::now();
      for (int i = 0; i < n; ++i) l.append_signed("OP-A", f.op, "note", payload(i));
      double s = secs(a, Clock::now());
      char label[64];
      std::snprintf(label, sizeof label, "one by one, synchronous=%s", sync);
      std::printf("%-44s %12.0f %10.2f   (%.1f us/append, %.0f%% of it crypto)\n", label, n / s, n / s / target,
                  s / n * 1e6, 100.0 * floor_s / (s / n));
      if (full) {
        auto v = Clock::now();
        EmbeddedLedger reopened(f.path, {full, VerifyMode::Full});
        double vs = secs(v, Clock::now());
        std::printf("%-44s %12.0f %10.2f   (%lld entries walked on open)\n", "full-chain verify on open (entries/s)",
                    (n + 2) / vs, (n + 2) / vs / target, static_cast<long long>(n + 2));
      }
    }
    // batches of 100 entries per transaction
    {
      Fixture f(dir, std::string("batch_") + sync + ".db");
      EmbeddedLedger l(f.path, {full, VerifyMode::Full});
      l.init("admin", f.admin);
      l.register_participant("admin", f.admin, "OP-A", "visited-operator", f.op);
      std::vector<Ledger::Draft> drafts;
      auto a = Clock::now();
      int done = 0;
      while (done < n) {
        drafts.clear();
        for (int j = 0; j < 100 && done + j < n; ++j) drafts.push_back({"note", payload(done + j), {}});
        done += static_cast<int>(l.append_signed_batch("OP-A", f.op, drafts).size());
      }
      double s = secs(a, Clock::now());
      char label[64];
      std::snprintf(label, sizeof label, "batches of 100, synchronous=%s", sync);
      std::printf("%-44s %12.0f %10.2f   (%.1f us/append, %.0f%% of it crypto)\n", label, n / s, n / s / target,
                  s / n * 1e6, 100.0 * floor_s / (s / n));
    }
  }
  std::filesystem::remove_all(dir);
  return 0;
}
