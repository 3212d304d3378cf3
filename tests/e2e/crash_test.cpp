// Crash consistency of the SM-DP+ (issue 9): smdpd, a separate process on
// loopback, is killed with SIGKILL three times while eight eUICCs download at
// once, and started again on the same store. Every interrupted download is
// retried (a new download, or only the pending notifications when the eUICC
// already installed the profile) until it succeeds. Then, on the store of a
// smdpd killed once more: SQLite's integrity check passes, no profile is
// lost, none is bound to two EIDs or installed on two eUICCs, every staged
// profile is either installed on exactly the eUICC that downloaded it or
// still untouched, and the store's sessions agree with its profiles.
//
// The same test on PostgreSQL (issue 12, must-show 4): two smdpd processes on
// one database of a private cluster, every ES9+ request sent to the other
// instance than the one before (so sessions move between instances), the
// kills alternating between them.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "rsp/file.hpp"
#include "rsp/http_client.hpp"
#include "rsp/http_server.hpp"
#include "rsp/log.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/pki.hpp"
#include "rsp/sim/euicc.hpp"
#include "rsp/smdp/profile_generator.hpp"
#include "rsp/smdp/profile_store.hpp"
#include "rsp/smdp/profile_template.hpp"
#include "rsp/store.hpp"
#include "../common/pg_cluster.hpp"

using namespace rsp;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

constexpr int kEuiccs = 8;
constexpr int kOwnPerEuicc = 2;  // activation codes only this eUICC uses
constexpr int kContested = 3;    // activation codes two eUICCs present at once
constexpr int kUntouched = 3;    // staged, never asked for
// When smdpd is killed: once the n-th request of an ES9+ function has been
// sent, after a delay, so that the kill lands while the server works on it
// (before or after its store transaction commits) or between calls.
struct Kill {
  const char* function;
  int nth;
  int delay_ms;
};
const Kill kKills[] = {{"authenticateClient", 3, 5},      {"getBoundProfilePackage", 3, 10},
                       {"handleNotification", 4, 2},      {"getBoundProfilePackage", 9, 25},
                       {"handleNotification", 10, 10},    {"authenticateClient", 16, 15}};
constexpr auto kDeadline = std::chrono::seconds(60);
// Attempts of one order that the SM-DP+ answered with an error (not a lost
// connection): a crash explains a few (a session it never finished), not more.
constexpr int kMaxAnsweredFailures = 4;

// SGP.29 EID check digits: 98 - (the 30 digits followed by 00, mod 97).
std::string eid_with_check_digits(const std::string& first30) {
  int rem = 0;
  for (char c : first30 + "00") rem = (rem * 10 + (c - '0')) % 97;
  char check[8];
  std::snprintf(check, sizeof check, "%02d", 98 - rem);
  return first30 + check;
}

// smdpd as its own process, started and killed by pid.
class SmdpProcess {
 public:
  SmdpProcess(std::string exe, fs::path config, fs::path port_file)
      : exe_(std::move(exe)), config_(std::move(config)), port_file_(std::move(port_file)) {}
  ~SmdpProcess() { kill_hard(); }

  void start() {
    fs::remove(port_file_);
    std::vector<std::string> args = {exe_, "--config", config_.string(), "serve", "--port-file", port_file_.string()};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, exe_.c_str(), nullptr, nullptr, argv.data(), environ) != 0)
      throw std::runtime_error("cannot start " + exe_);
    // The port file is written once the listener is bound (smdpd serve).
    for (int i = 0; i < 300 && !fs::exists(port_file_); ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        throw std::runtime_error("smdpd exited at start");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!fs::exists(port_file_)) throw std::runtime_error("smdpd did not start within 15 s");
  }
  void kill_hard() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }

 private:
  std::string exe_;
  fs::path config_, port_file_;
  pid_t pid_ = 0;
};

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("rsp-e2e-" + name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// One activation code as a worker sees it.
struct Order {
  std::string matching_id, iccid;
  bool contested = false;
};

enum class Outcome { Pending, Installed, Refused, GaveUp };
const char* name(Outcome o) {
  switch (o) {
    case Outcome::Pending: return "still pending at the deadline";
    case Outcome::Installed: return "installed";
    case Outcome::Refused: return "refused (bound to the other eUICC)";
    case Outcome::GaveUp: return "refused too often";
  }
  return "?";
}

struct Counters {
  std::atomic<int> es9_requests{0};
  std::map<std::string, int> sent;  // ES9+ function -> requests sent (under mu)
  std::atomic<int> transport_failures{0};  // requests that got no HTTP response
  std::atomic<int> retries{0};             // download attempts after a failed one
  std::atomic<int> notification_retries{0};
  std::mutex mu;
  std::map<std::string, int> interrupted_at;  // ES9+ function -> requests that got no answer
};

bool holds(const sim::Euicc& e, const std::string& iccid) {
  for (const auto& p : e.profiles())
    if (p.iccid == iccid) return true;
  return false;
}

std::string es9_code(const lpa::DownloadError& e) {
  try {
    if (e.cause) std::rethrow_exception(e.cause);
  } catch (const lpa::Es9Error& es9) {
    return es9.subject_code.empty() ? std::string() : es9.subject_code + "/" + es9.reason_code;
  } catch (...) {
  }
  return {};
}

// Downloads `o` onto `euicc` until it is installed and its install
// notification delivered, or (contested codes only) the SM-DP+ refuses this
// EID because the order is bound to another (8.1.1/3.8).
Outcome download_until_done(sim::Euicc& euicc, const Order& o, const std::string& address, const lpa::Es9Options& es9,
                            Counters& n, Clock::time_point deadline) {
  bool first = true;
  int answered_failures = 0;
  while (Clock::now() < deadline) {
    if (!first) {
      ++n.retries;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    first = false;
    if (holds(euicc, o.iccid)) {
      // Installed, but the SM-DP+ died before it heard of it: deliver the
      // pending notifications (SGP.22 3.5), as an LPA does after a failure.
      ++n.notification_retries;
      lpa::Es10Client es10(euicc);
      lpa::NotificationOptions no;
      no.es9 = es9;
      bool all = true;
      for (const auto& r : lpa::process_notifications(es10, no)) all = all && r.delivered && r.removed;
      if (all && euicc.notifications().empty()) return Outcome::Installed;
      continue;
    }
    lpa::DownloadOptions opt;
    opt.es9 = es9;
    try {
      auto r = lpa::download(euicc, lpa::ActivationCode::parse("LPA:1$" + address + "$" + o.matching_id), opt);
      if (!r.installation.success) throw std::runtime_error("installation failed: " + r.installation.describe());
      if (r.notification_sent) return Outcome::Installed;
    } catch (const lpa::DownloadError& e) {
      std::string code = es9_code(e);
      if (o.contested && code == "8.1.1/3.8") return Outcome::Refused;
      if (!code.empty() && ++answered_failures > kMaxAnsweredFailures) return Outcome::GaveUp;
    }
  }
  return Outcome::Pending;
}

// SQLite: one smdpd on a file. PostgreSQL: two on one database.
enum class Engine { SQLite, PostgreSQL };

class CrashConsistency : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    if (!fs::exists(RSP_SMDPD)) GTEST_SKIP() << "smdpd not built at " << RSP_SMDPD;
    if (GetParam() == Engine::PostgreSQL && !rsp::test::shared_pg_cluster().available())
      GTEST_SKIP() << rsp::test::shared_pg_cluster().skip_reason();
    log::set_level(log::Level::Warn);
    setenv("RSP_LOG", "warn", 1);  // smdpd's own log: one line per call otherwise
  }
};

}  // namespace

TEST_P(CrashConsistency, KilledDuringConcurrentDownloadsLosesNothingAndBindsNothingTwice) {
  const bool pg = GetParam() == Engine::PostgreSQL;
  const int instances = pg ? 2 : 1;
  TempDir dir(pg ? "crash-pg" : "crash");
  const std::string store_path = pg ? rsp::test::shared_pg_cluster().create_database() : (dir.path / "smdp.db").string();
  certs::PkiOptions po;
  po.curve = crypto::Curve::P256;
  po.dp_host = "localhost";
  auto pki = certs::generate_pki(po);
  certs::write_pki(pki, dir.path);
  write_private_file((dir.path / "storage.key").string(), to_bytes(to_hex(crypto::random_bytes(32))));
  std::string tls_ca = (dir.path / "tls-ca.pem").string();
  std::ofstream(tls_ca) << certs::to_pem(pki.tls_ci ? pki.tls_ci->der : pki.ci.der);
  std::vector<std::uint16_t> ports;
  for (int i = 0; i < instances; ++i) ports.push_back(http::free_loopback_port());
  // Every instance has the one address of the service (the activation codes'),
  // the same store, storage key and certificates; only the port differs.
  std::string address = "localhost:" + std::to_string(ports[0]);
  for (int i = 0; i < instances; ++i) {
    std::ofstream cfg(dir.path / ("smdp-" + std::to_string(i) + ".json"));
    cfg << "{\"address\": \"" << address << "\", \"listen\": \"127.0.0.1\", \"port\": " << ports[static_cast<std::size_t>(i)]
        << ", \"threads\": 2, \"db\": \"" << (pg ? store_path : "smdp.db") << "\", \"storage_key_file\": \"storage.key\","
        << " \"max_download_attempts\": 50,"
        << " \"tls\": {\"certificate\": \"CERT_S_SM_DP_TLS_NIST.der\", \"key\": \"SK_S_SM_DP_TLS_NIST.pem\"},"
        << " \"credentials\": [{\"ci_certificate\": \"CERT_CI_ECDSA_NIST.der\","
        << " \"dpauth_certificate\": \"CERT_S_SM_DPauth_ECDSA_NIST.der\", \"dpauth_key\": \"SK_S_SM_DPauth_ECDSA_NIST.pem\","
        << " \"dppb_certificate\": \"CERT_S_SM_DPpb_ECDSA_NIST.der\", \"dppb_key\": \"SK_S_SM_DPpb_ECDSA_NIST.pem\"}],"
        << " \"limits\": {\"initiate_authentication_per_second\": 0}}\n";
  }

  // Eight eUICCs with their own EIDs under the test EUM.
  std::vector<std::string> eids;
  std::vector<std::unique_ptr<sim::Euicc>> euiccs;
  for (int i = 0; i < kEuiccs; ++i) {
    char tail[8];
    std::snprintf(tail, sizeof tail, "%02d", i);
    std::string eid = eid_with_check_digits("8904903212345123451234567890" + std::string(tail));
    certs::CertSpec spec;
    spec.role = certs::Role::Euicc;
    spec.subject = "O=RSP Test EUM,serialNumber=" + eid + ",CN=RSP Test eUICC";
    spec.not_before = std::time(nullptr) - 3600;
    spec.not_after = std::time(nullptr) + 86400;
    auto key = crypto::EcKey::generate(pki.curve);
    auto eum = pki.eum.cert();
    sim::EuiccConfig ec;
    ec.euicc_cert_der = certs::issue_certificate(spec, key, pki.eum.key, &eum);
    ec.euicc_key = to_bytes(key.private_pem());
    ec.eum_cert_der = pki.eum.der;
    ec.ci_certs_der = {pki.ci.der};
    euiccs.push_back(std::make_unique<sim::Euicc>(ec));
    eids.push_back(eid);
  }

  // Stage every profile (the minimal template, one subscriber each), no EID.
  std::vector<std::vector<Order>> work(kEuiccs);
  std::vector<Order> untouched;
  std::map<std::string, Order> staged;  // by ICCID
  {
    store::Db db(store_path);
    smdp::ProfileStore profiles(db, from_hex(to_string(read_file((dir.path / "storage.key").string()))));
    Bytes tmpl = smdp::minimal_profile_template();
    int serial = 0;
    auto stage = [&](const std::string& matching_id, bool contested) {
      char digits[32];
      std::snprintf(digits, sizeof digits, "8944100000%08d", serial);
      smdp::SubscriberValues v;
      v.iccid = smdp::luhn_complete(digits);
      std::snprintf(digits, sizeof digits, "00101%010d", serial);
      v.imsi = digits;
      v.ki = crypto::random_bytes(16);
      v.opc = crypto::random_bytes(16);
      ++serial;
      smdp::Profile p;
      p.iccid = v.iccid;
      p.matching_id = matching_id;
      p.state = smdp::ProfileState::Released;
      p.service_provider_name = "Visited Operator";
      p.profile_name = "Crash test " + matching_id;
      profiles.stage(p, smdp::generate_profile(tmpl, v));
      Order o{matching_id, p.iccid, contested};
      staged[p.iccid] = o;
      return o;
    };
    for (int e = 0; e < kEuiccs; ++e)
      for (int k = 0; k < kOwnPerEuicc; ++k) work[e].push_back(stage("OWN-" + std::to_string(e) + "-" + std::to_string(k), false));
    for (int k = 0; k < kContested; ++k) {
      Order o = stage("CONTESTED-" + std::to_string(k), true);
      work[(2 * k) % kEuiccs].insert(work[(2 * k) % kEuiccs].begin(), o);  // both start with it
      work[(2 * k + 1) % kEuiccs].insert(work[(2 * k + 1) % kEuiccs].begin(), o);
    }
    for (int k = 0; k < kUntouched; ++k) untouched.push_back(stage("UNTOUCHED-" + std::to_string(k), false));
  }

  std::vector<std::unique_ptr<SmdpProcess>> smdpd;
  for (int i = 0; i < instances; ++i) {
    std::string n = std::to_string(i);
    smdpd.push_back(std::make_unique<SmdpProcess>(RSP_SMDPD, dir.path / ("smdp-" + n + ".json"), dir.path / ("port-" + n)));
    smdpd.back()->start();
  }
  const auto t0 = Clock::now();
  const auto deadline = t0 + kDeadline;

  Counters n;
  std::atomic<int> kills{0};
  std::atomic<bool> workers_done{false};
  std::atomic<int> round_robin{0};
  const std::string first_port = ":" + std::to_string(ports[0]) + "/";
  auto es9_for = [&](std::shared_ptr<http::Client> client) {
    lpa::Es9Options es9;
    es9.http.ca_file = tls_ca;
    es9.post = [client, &n, &round_robin, &ports, first_port, instances](const std::string& original_url,
                                                                          const http::Headers& h, const std::string& body) {
      // The load balancer in front of two instances: each request to the
      // next one in turn, so a session goes on where it did not start.
      std::string url = original_url;
      std::size_t at = url.find(first_port);
      if (instances > 1 && at != std::string::npos)
        url.replace(at + 1, first_port.size() - 2,
                    std::to_string(ports[static_cast<std::size_t>(round_robin++ % instances)]));
      ++n.es9_requests;
      {
        std::lock_guard l(n.mu);
        ++n.sent[url.substr(url.rfind('/') + 1)];
      }
      try {
        return client->post(url, body, h);
      } catch (const http::HttpError&) {
        ++n.transport_failures;
        std::lock_guard l(n.mu);
        ++n.interrupted_at[url.substr(url.rfind('/') + 1)];
        throw;
      }
    };
    return es9;
  };

  std::vector<std::map<std::string, Outcome>> outcomes(kEuiccs);
  std::vector<std::thread> workers;
  for (int e = 0; e < kEuiccs; ++e)
    workers.emplace_back([&, e] {
      http::ClientConfig cc;
      cc.ca_file = tls_ca;
      cc.connect_timeout = std::chrono::seconds(5);
      cc.timeout = std::chrono::seconds(20);
      auto es9 = es9_for(std::make_shared<http::Client>(cc));
      for (const auto& o : work[e]) outcomes[e][o.iccid] = download_until_done(*euiccs[e], o, address, es9, n, deadline);
    });
  // The killer: SIGKILL at each planned moment, then a new smdpd on the
  // same store and port.
  auto sent = [&](const char* fn) {
    std::lock_guard l(n.mu);
    return n.sent[fn];
  };
  std::thread killer([&] {
    for (const Kill& k : kKills) {
      while (sent(k.function) < k.nth && !workers_done && Clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      if (workers_done || Clock::now() >= deadline) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(k.delay_ms));
      auto& victim = *smdpd[static_cast<std::size_t>(kills.load() % instances)];  // in turn
      victim.kill_hard();
      ++kills;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // clients see connection refused meanwhile
      victim.start();
    }
  });
  for (auto& t : workers) t.join();
  workers_done = true;
  killer.join();
  // The last word: killed once more, the checks read what it left on disk.
  for (auto& s : smdpd) s->kill_hard();
  double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("[ crash    ] %s, %d instance(s): ", pg ? "PostgreSQL" : "SQLite", instances);
  std::printf("%d kills, %d ES9+ requests, %d without an answer, %d retries (%d notification "
              "retries) in %.1f s\n",
              kills.load(), n.es9_requests.load(), n.transport_failures.load(), n.retries.load(),
              n.notification_retries.load(), seconds);
  for (const auto& [fn, count] : n.interrupted_at) std::printf("[ crash    ]   interrupted %s: %d\n", fn.c_str(), count);
  EXPECT_EQ(kills.load(), static_cast<int>(std::size(kKills))) << "smdpd was not killed as planned";
  EXPECT_GT(n.transport_failures.load(), 0) << "no download was interrupted";

  // Every order ended: own orders installed, each contested one installed
  // on exactly one of its two eUICCs and refused to the other.
  std::map<std::string, std::vector<int>> installed_by;  // ICCID -> workers that report it installed
  for (int e = 0; e < kEuiccs; ++e)
    for (const auto& [iccid, outcome] : outcomes[e]) {
      EXPECT_TRUE(outcome == Outcome::Installed || outcome == Outcome::Refused)
          << "eUICC " << e << ", " << staged[iccid].matching_id << ": " << name(outcome);
      if (outcome == Outcome::Installed) installed_by[iccid].push_back(e);
    }

  // What the eUICCs hold: no ICCID on two of them, nothing pending.
  std::map<std::string, std::vector<int>> held_by;
  for (int e = 0; e < kEuiccs; ++e) {
    for (const auto& p : euiccs[e]->profiles()) held_by[p.iccid].push_back(e);
    EXPECT_TRUE(euiccs[e]->notifications().empty()) << "eUICC " << e << " has undelivered notifications";
  }

  store::Db db(store_path);
  if (!pg) {
    std::string integrity;
    db.query("PRAGMA integrity_check", {}, [&](const store::Row& r) { integrity += r.text(0) + ";"; });
    EXPECT_EQ(integrity, "ok;");
  }
  smdp::ProfileStore profiles(db, from_hex(to_string(read_file((dir.path / "storage.key").string()))));

  int rows = 0;
  db.query("SELECT COUNT(*) FROM profiles", {}, [&](const store::Row& r) { rows = static_cast<int>(r.i64(0)); });
  EXPECT_EQ(rows, static_cast<int>(staged.size())) << "profiles appeared or disappeared";
  for (const auto& [iccid, order] : staged) {
    auto p = profiles.by_iccid(iccid);
    ASSERT_TRUE(p) << "profile " << iccid << " (" << order.matching_id << ") lost";
    EXPECT_NO_THROW(profiles.upp(iccid)) << iccid << ": package no longer decrypts";
    const auto& holders = held_by[iccid];
    if (order.matching_id.rfind("UNTOUCHED", 0) == 0) {
      EXPECT_EQ(smdp::to_string(p->state), "released") << iccid;
      EXPECT_TRUE(p->eid.empty()) << iccid;
      EXPECT_TRUE(holders.empty()) << iccid;
      continue;
    }
    // Installed on exactly one eUICC, the one the store binds it to, which
    // is the one that reported the download done.
    ASSERT_EQ(holders.size(), 1u) << order.matching_id << " is on " << holders.size() << " eUICCs";
    ASSERT_EQ(installed_by[iccid].size(), 1u) << order.matching_id;
    EXPECT_EQ(installed_by[iccid][0], holders[0]) << order.matching_id;
    EXPECT_EQ(smdp::to_string(p->state), "installed") << order.matching_id << " is on eUICC " << holders[0];
    EXPECT_EQ(p->eid, eids[static_cast<std::size_t>(holders[0])]) << order.matching_id << " bound to another EID";
  }

  // The store's own invariants: a profile past Released names its EID and
  // the session holding it, which is that EID's; every session bound to a
  // profile is that profile's EID's; the install notification of each
  // installed profile was recorded by a finished session.
  db.query("SELECT iccid FROM profiles WHERE state IN ('downloaded','installed','error') AND (eid IS NULL OR eid = '')",
           {}, [&](const store::Row& r) { ADD_FAILURE() << r.text(0) << " downloaded without an EID"; });
  for (const auto& [iccid, order] : staged) {
    auto p = profiles.by_iccid(iccid);
    if (!p || p->state == smdp::ProfileState::Released) continue;
    auto s = profiles.session(p->transaction_id);
    ASSERT_TRUE(s) << iccid << " held by a session the store does not have";
    EXPECT_EQ(s->eid, p->eid) << iccid << ": its session is another EID's";
    EXPECT_EQ(s->iccid, iccid);
  }
  db.query("SELECT transaction_id, state, eid, iccid FROM sessions WHERE iccid IS NOT NULL AND iccid <> ''", {},
           [&](const store::Row& r) {
             auto p = profiles.by_iccid(r.text(3));
             if (!p) {
               ADD_FAILURE() << "session " << r.text(0) << " names an unknown profile";
               return;
             }
             EXPECT_EQ(r.text(2), p->eid) << "session " << r.text(0) << " (" << r.text(1) << ") of another EID holds "
                                          << p->iccid;
           });
  int done_sessions = 0;
  db.query("SELECT COUNT(DISTINCT iccid) FROM sessions WHERE state = 'done'", {},
           [&](const store::Row& r) { done_sessions = static_cast<int>(r.i64(0)); });
  EXPECT_EQ(done_sessions, kEuiccs * kOwnPerEuicc + kContested);
  EXPECT_LT(seconds, 60.0) << "the crash test should stay under a minute";
}

INSTANTIATE_TEST_SUITE_P(Stores, CrashConsistency, ::testing::Values(Engine::SQLite, Engine::PostgreSQL),
                         [](const ::testing::TestParamInfo<Engine>& i) {
                           return std::string(i.param == Engine::SQLite ? "SQLite" : "PostgreSQLTwoInstances");
                         });
