// Operator-side benchmark: profile packages generated per second per core
// (from a TS.48 template: the compiled generator next to the previous
// per-element re-encoding, a plain decode + re-encode of the same package as
// the codec baseline, and the subscriber values alone as the floor), and ES2+
// orders per second (DownloadOrder + ConfirmOrder) over HTTPS with mutual
// TLS, next to the same calls made in-process (the store's cost without
// HTTP/TLS).
#include <CLI/CLI.hpp>
#include "rsp/cli.hpp"
#include <ProfileElement.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "../tests/e2e/world.hpp"
#include "rsp/asn1.hpp"
#include "rsp/http_client.hpp"
#include "rsp/log.hpp"
#include "rsp/milenage.hpp"
#include "rsp/smdp/profile_generator.hpp"

using namespace rsp;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string iccid_for(int i) {
  char num[32];
  std::snprintf(num, sizeof num, "894410%012d", i);
  return smdp::luhn_complete(num);
}

// The operator's OP (3GPP TS 35.207 4.3, test set 1); each subscriber's OPc
// is derived from it with the subscriber's Ki, as an operator's generation does.
const Bytes kOp = from_hex("CDC202D5123E20F62B6D676AC72CB318");

// One subscriber's values: ICCID with its Luhn digit, IMSI, Ki from the DRBG,
// OPc = Milenage's OPc from OP (TS 35.206 4.1).
smdp::SubscriberValues subscriber(int i) {
  smdp::SubscriberValues v;
  v.iccid = iccid_for(i);
  v.imsi = "00101" + std::to_string(1000000000 + i);
  v.ki = crypto::random_bytes(16);
  v.opc = milenage::opc_from_op(v.ki, kOp);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ES2+ and profile generation benchmark"};
  int n_gen = 5000, n_orders = 1000, c = 4;
  std::string tmpl_path = (fs::path(RSP_SHARED_TESTDATA) / "ts48/TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der").string();
  app.add_option("--profiles", n_gen, "profile packages to generate")->check(CLI::Range(1, 10'000'000));
  app.add_option("--orders", n_orders, "ES2+ orders (DownloadOrder + ConfirmOrder)")->check(CLI::Range(1, 10'000'000));
  app.add_option("-c,--concurrency", c, "concurrent operator connections")->check(CLI::Range(1, 1024));
  app.add_option("--template", tmpl_path, "template profile package");
  if (auto rc = rsp::cli::parse(app, argc, argv, "es2_bench")) return *rc;
  rsp::log::set_level(rsp::log::Level::Warn);
  std::ifstream f(tmpl_path, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "cannot read %s\n", tmpl_path.c_str());
    return 2;
  }
  Bytes tmpl(std::istreambuf_iterator<char>(f), {});

  // 1. Generation, one core. Each loop makes the subscriber's values too
  // (the floor below is that part alone).
  std::size_t bytes = 0, mismatches = 0;
  auto t0 = Clock::now();
  for (int i = 0; i < n_gen; ++i) bytes += subscriber(i).ki.size();
  double values_s = seconds_since(t0);
  t0 = Clock::now();
  for (int i = 0; i < n_gen; ++i) bytes += smdp::generate_profile(tmpl, subscriber(i)).size();
  double reference_s = seconds_since(t0);
  t0 = Clock::now();
  const smdp::ProfileGenerator generator(tmpl);  // compiling is part of the run
  for (int i = 0; i < n_gen; ++i) bytes += generator.generate(subscriber(i)).size();
  double gen_s = seconds_since(t0);
  for (int i = 0; i < 100; ++i) {  // the same packages as the previous generator
    auto v = subscriber(i);
    if (generator.generate(v) != smdp::generate_profile(tmpl, v)) ++mismatches;
  }
  t0 = Clock::now();
  for (int i = 0; i < n_gen; ++i) {
    Bytes out;
    asn1::decode_each<ProfileElement_t>(asn_DEF_ProfileElement, tmpl,
                                        [&](asn1::Value<ProfileElement_t> pe, ByteView) { append(out, pe.encode_der()); });
    bytes += out.size();
  }
  double codec_s = seconds_since(t0);

  // 2. ES2+ orders: a pool of profiles, then C operator connections.
  certs::Issued ops_ca, op;
  fs::path op_cert, op_key;
  e2e::World w(crypto::Curve::P256, "es2bench", [&](e2e::World& world, smdp::Config& cfg) {
    ops_ca = e2e::make_operator_ca("Operators CA");
    op = e2e::issue_operator_cert(ops_ca, "OP-A");
    op_cert = world.dir / "op.pem";
    op_key = world.dir / "op.key";
    std::ofstream(op_cert) << certs::to_pem(op.der);
    std::ofstream(op_key) << op.key.private_pem();
    cfg.es2plus_port = e2e::free_loopback_port();
    cfg.operator_ca = ops_ca.der;
    cfg.operators = {{"OP-A", op.der, ""}};
  });
  Bytes pkg = smdp::generate_profile(tmpl, subscriber(0));
  {
    store::Transaction tx(w.smdp->profiles().db());
    for (int i = 0; i < 2 * n_orders; ++i) {
      smdp::Profile p;
      p.iccid = iccid_for(i);
      p.owner = "OP-A";
      p.profile_type = i < n_orders ? "http" : "local";
      p.state = smdp::ProfileState::Available;
      w.smdp->profiles().stage(p, pkg);
    }
    tx.commit();
  }
  std::atomic<int> next{0}, failures{0};
  t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < c; ++t)
    threads.emplace_back([&] {
      http::ClientConfig cc;
      cc.ca_file = w.tls_ca_pem;
      cc.client_cert_file = op_cert.string();
      cc.client_key_file = op_key.string();
      http::Client client(cc);  // one kept-alive connection per operator thread
      http::Headers h;
      h.set("Content-Type", "application/json");
      h.set("X-Admin-Protocol", "gsma/rsp/v2.2.2");
      std::string base = "https://localhost:" + std::to_string(w.smdp->es2plus_port()) + "/gsma/rsp2/es2plus/";
      while (next++ < n_orders) {
        // SGP.22 6.5.1.3: every request carries the RequestHeader.
        nlohmann::json header = {{"functionRequesterIdentifier", "OP-A"}, {"functionCallIdentifier", std::to_string(next)}};
        nlohmann::json order = {{"header", header}, {"profileType", "http"}};
        auto r = nlohmann::json::parse(client.post(base + "downloadOrder", order.dump(), h).body);
        if (!r.contains("iccid")) {
          ++failures;
          continue;
        }
        nlohmann::json confirm = {{"header", header}, {"iccid", r["iccid"]}, {"releaseFlag", true}};
        auto r2 = nlohmann::json::parse(client.post(base + "confirmOrder", confirm.dump(), h).body);
        if (!r2.contains("matchingId")) ++failures;
      }
    });
  for (auto& t : threads) t.join();
  double http_s = seconds_since(t0);
  t0 = Clock::now();
  for (int i = 0; i < n_orders; ++i) {
    auto r = w.smdp->es2plus().download_order("OP-A", {{"profileType", "local"}});
    w.smdp->es2plus().confirm_order("OP-A", {{"iccid", r["iccid"]}, {"releaseFlag", true}});
  }
  double local_s = seconds_since(t0);

  std::printf("Operator-side benchmark (template %zu bytes; store: SQLite WAL, synchronous=FULL)\n", tmpl.size());
  std::printf("  %-52s %10.0f /s  (%zu of 100 differ from the previous generator's)\n",
              "profile packages generated (1 core)", n_gen / gen_s, mismatches);
  std::printf("  %-52s %10.0f /s\n", "  baseline: previous generator (per-PE re-encoding)", n_gen / reference_s);
  std::printf("  %-52s %10.0f /s\n", "  baseline: template decode + re-encode (1 core)", n_gen / codec_s);
  std::printf("  %-52s %10.0f /s\n", "  floor: the subscriber values alone (Ki, OPc from OP)", n_gen / values_s);
  std::printf("  %-52s %10.0f /s  (%d connections, %d failures)\n", "ES2+ orders over HTTPS + mutual TLS", n_orders / http_s,
              c, failures.load());
  std::printf("  %-52s %10.0f /s\n", "  baseline: the same orders in-process (store only)", n_orders / local_s);
  return failures.load() == 0 && mismatches == 0 ? 0 : 1;
}
