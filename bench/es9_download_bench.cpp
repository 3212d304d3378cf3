// ES9+ download benchmark: N complete SGP.22 downloads against the SM-DP+
// over real HTTPS (TLS 1.2, a new connection per download, as a phone would)
// with C concurrent simulated eUICCs, and, measured in the same run, the
// mbedTLS time of the cryptography the server needs for one download (the
// "crypto floor"). Prints downloads/s, p50/p99 latency and the ratio of
// measured throughput to what the floor allows on this machine's cores.
#include <CLI/CLI.hpp>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

#include "rsp/file.hpp"
#include "rsp/log.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/scp03t.hpp"
#include "rsp/http_server.hpp"
#include "rsp/smdp/config.hpp"
#include "rsp/pki.hpp"
#include "rsp/sim/euicc.hpp"
#include "rsp/smdp/profile_package.hpp"
#include "rsp/smdp/profile_store.hpp"

extern char** environ;

using namespace rsp;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// CPU time (user + system) a process has used so far, from /proc/PID/stat.
double process_cpu_ms(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), {});
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return 1000.0 * static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The server-side cryptography of one download, op for op (see docs/benchmarks.md):
// TLS handshake (ECDHE keygen + ECDH + ECDSA sign), initiateAuthentication
// (sign serverSigned1), authenticateClient (verify CERT.EUM, CERT.EUICC,
// euiccSignature1; sign smdpSigned2), getBoundProfilePackage (verify
// euiccSignature2, one-time keygen, ECDH, sign InitialiseSecureChannel, KDF,
// SCP03t over the profile), handleNotification (verify euiccSignPIR).
double crypto_floor_ms(crypto::Curve curve, std::size_t profile_bytes, int rounds) {
  auto server = crypto::EcKey::generate(curve);
  auto tls_key = crypto::EcKey::generate(crypto::Curve::P256);
  auto peer = crypto::EcKey::generate(curve);
  Bytes msg(300, 0x42), sig = peer.sign(msg);
  auto peer_pub = crypto::EcKey::from_public_point(curve, peer.public_point());
  Bytes profile(profile_bytes, 0x5A);
  auto t0 = Clock::now();
  for (int r = 0; r < rounds; ++r) {
    auto eph = crypto::EcKey::generate(crypto::Curve::P256);  // TLS ECDHE
    (void)eph.ecdh(tls_key.public_point());
    (void)tls_key.sign(msg);
    for (int i = 0; i < 3; ++i) (void)server.sign(msg);  // serverSigned1, smdpSigned2, ISC
    for (int i = 0; i < 5; ++i) (void)peer_pub.verify(msg, sig);  // EUM, eUICC, sig1, sig2, PIR
    auto ot = crypto::EcKey::generate(curve);
    auto shs = ot.ecdh(peer.public_point());
    auto keys = scp03t::derive_session_keys(shs, Bytes(16, 1), Bytes(16, 2));
    scp03t::Channel ch(keys.s_enc, keys.s_mac, keys.initial_mcv);
    (void)ch.wrap_segments(scp03t::kTagEncryptedMac, profile);
  }
  return ms_since(t0) / rounds;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ES9+ download benchmark (SM-DP+ over HTTPS, simulated eUICCs)"};
  int n = 200, c = 4;
  std::string curve_name = "nist";
  std::string profile = (fs::path(RSP_SHARED_TESTDATA) / "ts48/TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der").string();
  app.add_option("-n,--downloads", n, "number of downloads")->check(CLI::Range(1, 1'000'000));
  app.add_option("-c,--concurrency", c, "concurrent simulated eUICCs")->check(CLI::Range(1, 1024));
  app.add_option("--curve", curve_name, "nist or brp")->check(CLI::IsMember({"nist", "brp"}));
  app.add_option("--profile", profile, "unprotected profile package (DER)");
  std::string smdpd = (fs::path(argv[0]).parent_path() / "../smdp/smdpd").string();
  app.add_option("--smdpd", smdpd, "path to smdpd");
  std::size_t server_threads = 2;
  app.add_option("--server-threads", server_threads, "SM-DP+ worker threads")->check(CLI::Range(1, 256));
  CLI11_PARSE(app, argc, argv);
  rsp::log::set_level(rsp::log::Level::Warn);

  std::ifstream f(profile, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "cannot read profile %s\n", profile.c_str());
    return 2;
  }
  Bytes upp(std::istreambuf_iterator<char>(f), {});
  auto curve = crypto::curve_from_name(curve_name);
  std::uint16_t port = http::free_loopback_port();
  fs::path dir = fs::temp_directory_path() / ("rsp-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  certs::PkiOptions po;
  po.curve = curve;
  po.dp_host = "localhost";
  auto pki = certs::generate_pki(po);
  certs::write_pki(pki, dir);
  std::string sfx = certs::file_suffix(curve);
  write_private_file((dir / "storage.key").string(), to_bytes(to_hex(crypto::random_bytes(32))));
  std::ofstream(dir / "tls-ca.pem") << certs::to_pem(pki.tls_ci ? pki.tls_ci->der : pki.ci.der);
  std::ofstream(dir / "smdp.json") << "{\"address\": \"localhost:" << port << "\", \"listen\": \"127.0.0.1\", \"port\": " << port
      << ", \"threads\": " << server_threads << ", \"db\": \"smdp.db\", \"storage_key_file\": \"storage.key\","
      << " \"tls\": {\"certificate\": \"CERT_S_SM_DP_TLS_NIST.der\", \"key\": \"SK_S_SM_DP_TLS_NIST.pem\"},"
      << " \"credentials\": [{\"ci_certificate\": \"CERT_CI_ECDSA_" << sfx << ".der\","
      << " \"dpauth_certificate\": \"CERT_S_SM_DPauth_ECDSA_" << sfx << ".der\", \"dpauth_key\": \"SK_S_SM_DPauth_ECDSA_" << sfx << ".pem\","
      << " \"dppb_certificate\": \"CERT_S_SM_DPpb_ECDSA_" << sfx << ".der\", \"dppb_key\": \"SK_S_SM_DPpb_ECDSA_" << sfx << ".pem\"}]}\n";
  {
    auto config = smdp::load_config((dir / "smdp.json").string());
    store::Db db(config.db_path);
    smdp::ProfileStore profiles(db, config.storage_key);
    std::string base = smdp::inspect_upp(upp).iccid.substr(0, 13);  // + 6 digits: 19, like TS.48
    store::Transaction tx(db);
    for (int i = 0; i < n; ++i) {
      char tail[16];
      std::snprintf(tail, sizeof tail, "%06d", i);
      smdp::Profile p;
      p.iccid = base + tail;
      p.matching_id = "BENCH-" + std::to_string(i);
      p.state = smdp::ProfileState::Released;
      profiles.stage(p, smdp::with_header_iccid(upp, p.iccid));
    }
    tx.commit();
  }
  // The SM-DP+ runs as its own process, so its CPU time can be read apart
  // from the simulated phones'.
  std::string config_arg = (dir / "smdp.json").string(), port_file = (dir / "port").string();
  std::vector<std::string> args = {smdpd, "--config", config_arg, "serve", "--port-file", port_file};
  std::vector<char*> argv_c;
  for (auto& a : args) argv_c.push_back(a.data());
  argv_c.push_back(nullptr);
  setenv("RSP_LOG", "warn", 1);
  pid_t server = 0;
  if (posix_spawn(&server, smdpd.c_str(), nullptr, nullptr, argv_c.data(), environ) != 0) {
    std::fprintf(stderr, "cannot start %s\n", smdpd.c_str());
    return 2;
  }
  for (int i = 0; i < 100 && !fs::exists(port_file); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (!fs::exists(port_file)) {
    std::fprintf(stderr, "smdpd did not start\n");
    kill(server, SIGTERM);
    return 2;
  }
  std::string address = "localhost:" + std::to_string(port);
  std::string tls_ca = (dir / "tls-ca.pem").string();
  double server_cpu0 = process_cpu_ms(server);

  std::atomic<int> next{0}, failures{0};
  std::vector<double> latencies;
  std::mutex mu;
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < c; ++t)
    threads.emplace_back([&] {
      for (int i; (i = next++) < n;) {
        sim::EuiccConfig ec;
        ec.euicc_cert_der = pki.euicc.der;
        ec.euicc_key = to_bytes(pki.euicc.key.private_pem());
        ec.eum_cert_der = pki.eum.der;
        ec.ci_certs_der = {pki.ci.der};
        sim::Euicc euicc(ec);
        lpa::DownloadOptions opt;
        opt.es9.http.ca_file = tls_ca;
        auto d0 = Clock::now();
        try {
          auto r = lpa::download(euicc, lpa::ActivationCode::parse("LPA:1$" + address + "$BENCH-" + std::to_string(i)), opt);
          if (!r.installation.success || !r.notification_sent) ++failures;
        } catch (const std::exception& e) {
          ++failures;
          std::fprintf(stderr, "download %d: %s\n", i, e.what());
        }
        double ms = ms_since(d0);
        std::lock_guard l(mu);
        latencies.push_back(ms);
      }
    });
  for (auto& th : threads) th.join();
  double wall_s = ms_since(t0) / 1000.0;
  double server_cpu_ms = process_cpu_ms(server) - server_cpu0;
  kill(server, SIGTERM);
  waitpid(server, nullptr, 0);
  fs::remove_all(dir);
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) { return latencies[std::min(latencies.size() - 1, static_cast<std::size_t>(p * latencies.size()))]; };

  double floor_ms = crypto_floor_ms(curve, upp.size(), 50);
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  double measured = n / wall_s;
  double ceiling = cores * 1000.0 / floor_ms;
  std::printf("ES9+ download benchmark: curve %s, profile %zu bytes, %d downloads, %d concurrent eUICCs, %u cores\n",
              std::string(crypto::curve_name(curve)).c_str(), upp.size(), n, c, cores);
  std::printf("  %-44s %10.1f /s\n", "downloads (end to end, HTTPS + ES10)", measured);
  std::printf("  %-44s %10.1f ms\n", "latency p50", pct(0.50));
  std::printf("  %-44s %10.1f ms\n", "latency p99", pct(0.99));
  std::printf("  %-44s %10d\n", "failures", failures.load());
  double server_ms = server_cpu_ms / n;
  std::printf("  %-44s %10.2f ms\n", "SM-DP+ CPU per download (smdpd process)", server_ms);
  std::printf("  %-44s %10.2f ms\n", "crypto floor per download (1 core, mbedTLS)", floor_ms);
  std::printf("  %-44s %10.2f\n", "crypto share of SM-DP+ CPU (floor / CPU)", floor_ms / server_ms);
  std::printf("  %-44s %10.1f /s\n", "crypto ceiling on all cores", ceiling);
  std::printf("  %-44s %10.2f\n", "ratio measured / ceiling", measured / ceiling);
  std::printf("  (the simulated phones share the cores with the SM-DP+: they did %.0f%% of the CPU work)\n",
              100.0 * (1.0 - server_cpu_ms / (wall_s * 1000.0 * cores)));
  return failures.load() == 0 ? 0 : 1;
}
