// smdpd's admin listener (issue 13, must-show 2; docs/operations.md "Health
// and metrics"): /metrics scraped before and after a real download over
// HTTPS moves exactly the counters the download should move; /health/ready
// turns 503 when the store's folder is moved away and 200 when it is back;
// the admin listener refuses a non-loopback address unless allowed.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <fcntl.h>

#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "rsp/file.hpp"
#include "rsp/http_client.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/smdp/config.hpp"
#include "world.hpp"

extern char** environ;

using namespace rsp;
using rsp::e2e::World;
namespace fs = std::filesystem;

namespace {

void with_admin(World&, smdp::Config& c) {
  c.admin.enabled = true;
  c.admin.port = 0;  // ephemeral
  c.access_log = true;
}

http::Response admin_get(World& w, const std::string& path) {
  http::ClientConfig cc;
  cc.timeout = std::chrono::milliseconds(5000);
  http::Client client(cc);
  return client.get("http://127.0.0.1:" + std::to_string(w.smdp->admin_port()) + path);
}

// The text format as series ("name{labels}") -> value; comments skipped.
std::map<std::string, double> scrape(World& w) {
  auto r = admin_get(w, "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.get_or("Content-Type", ""), "text/plain; version=0.0.4; charset=utf-8");
  std::map<std::string, double> out;
  std::istringstream in(r.body);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    auto sp = line.rfind(' ');
    out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  return out;
}

double at(const std::map<std::string, double>& m, const std::string& series) {
  auto it = m.find(series);
  return it == m.end() ? 0 : it->second;
}

std::string es9(const std::string& function, const std::string& result) {
  return "smdp_es9plus_requests_total{function=\"" + function + "\",result=\"" + result + "\"}";
}
std::string latency_count(const std::string& function) {
  return "smdp_request_duration_seconds_count{interface=\"es9plus\",function=\"" + function + "\"}";
}

// SK.DPpb "in a token" that can be unplugged: signing throws while it is.
class UnpluggableSigner : public crypto::Signer {
 public:
  explicit UnpluggableSigner(std::shared_ptr<const crypto::Signer> inner) : inner_(std::move(inner)) {}
  crypto::Curve curve() const override { return inner_->curve(); }
  Bytes sign(ByteView m) const override {
    if (unplugged) throw std::runtime_error("token not present");
    return inner_->sign(m);
  }
  Bytes sign_digest(ByteView d) const override {
    if (unplugged) throw std::runtime_error("token not present");
    return inner_->sign_digest(d);
  }
  mutable std::atomic<bool> unplugged{false};

 private:
  std::shared_ptr<const crypto::Signer> inner_;
};

const fs::path kProfile = rsp::e2e::testdata("ts48/TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der");

}  // namespace

TEST(SmdpMetrics, ADownloadMovesTheCountersByExactlyItsCalls) {
  if (!fs::exists(kProfile)) GTEST_SKIP() << "TS.48 test profiles absent";
  World w(crypto::Curve::P256, "obs-metrics", with_admin);
  ASSERT_NE(w.smdp->admin_port(), 0);
  std::string iccid = w.stage(rsp::e2e::read_file(kProfile), "OBS-1");

  auto before = scrape(w);
  EXPECT_EQ(at(before, "smdp_profiles{type=\"\",state=\"released\"}"), 1);
  EXPECT_EQ(at(before, "smdp_profiles{type=\"\",state=\"installed\"}"), 0);

  lpa::DownloadOptions opt;
  opt.es9.http.ca_file = w.tls_ca_pem;
  auto result = lpa::download(*w.euicc, lpa::ActivationCode::parse(w.activation_code("OBS-1")), opt);
  ASSERT_TRUE(result.installation.success);
  ASSERT_TRUE(result.notification_sent);

  auto after = scrape(w);
  // One call of each of the four functions of a download (SGP.22 3.1.3), all
  // executed successfully; one download ended installed.
  for (const char* f : {"initiateAuthentication", "authenticateClient", "getBoundProfilePackage", "handleNotification"}) {
    EXPECT_EQ(at(after, es9(f, "executed-success")) - at(before, es9(f, "executed-success")), 1) << f;
    EXPECT_EQ(at(after, latency_count(f)) - at(before, latency_count(f)), 1) << f;
  }
  EXPECT_EQ(at(after, es9("cancelSession", "executed-success")), 0);
  EXPECT_EQ(at(after, "smdp_downloads_total{result=\"installed\"}") - at(before, "smdp_downloads_total{result=\"installed\"}"), 1);
  EXPECT_EQ(at(after, "smdp_downloads_total{result=\"install-failed\"}"), 0);
  // The LPA's client may keep its connection: at least one handshake, none failed.
  EXPECT_GE(at(after, "smdp_tls_handshakes_total{listener=\"es9plus\",result=\"ok\"}") -
                at(before, "smdp_tls_handshakes_total{listener=\"es9plus\",result=\"ok\"}"),
            1);
  EXPECT_EQ(at(after, "smdp_tls_handshakes_total{listener=\"es9plus\",result=\"failed\"}"), 0);
  // Inventory at scrape: the profile moved from released to installed.
  EXPECT_EQ(at(after, "smdp_profiles{type=\"\",state=\"released\"}"), 0);
  EXPECT_EQ(after.count("smdp_profiles{type=\"\",state=\"released\"}"), 0u) << "a state with no profile left is dropped";
  EXPECT_EQ(at(after, "smdp_profiles{type=\"\",state=\"installed\"}"), 1);
  EXPECT_EQ(at(after, "smdp_es2_outbox{state=\"pending\"}"), 0);
  EXPECT_EQ(w.smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Installed);

  // A refused download is counted under the SGP.22 code the LPA was told.
  std::string code, function;
  try {
    lpa::download(*w.euicc, lpa::ActivationCode::parse(w.activation_code("NO-SUCH-ORDER")), opt);
    FAIL() << "an unknown matching id was accepted";
  } catch (const lpa::DownloadError& e) {
    try {
      std::rethrow_exception(e.cause);
    } catch (const lpa::Es9Error& es9e) {
      code = es9e.subject_code + "/" + es9e.reason_code;
      function = es9e.function;
    }
  }
  ASSERT_FALSE(code.empty());
  auto refused = scrape(w);
  EXPECT_EQ(at(refused, es9(function, code)) - at(after, es9(function, code)), 1) << function << " " << code;
  EXPECT_EQ(at(refused, es9(function, "executed-success")), at(after, es9(function, "executed-success"))) << function;

  // Plain HTTP on the TLS port: a failed handshake, counted (asynchronously
  // on the server's side: polled for up to 5 s).
  {
    http::ClientConfig cc;
    cc.timeout = std::chrono::milliseconds(3000);
    http::Client plain(cc);
    try {
      plain.get("http://127.0.0.1:" + std::to_string(w.smdp->port()) + "/");
    } catch (const http::HttpError&) {
    }
  }
  double failed = 0;
  for (int i = 0; i < 50 && failed == 0; ++i) {
    failed = at(scrape(w), "smdp_tls_handshakes_total{listener=\"es9plus\",result=\"failed\"}");
    if (failed == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(failed, 1);
  // Unknown paths do not create series of their own.
  auto r = admin_get(w, "/metrics");
  EXPECT_EQ(r.body.find("function=\"/"), std::string::npos);
}

TEST(SmdpHealth, ReadyFollowsTheStoreFolderAndLiveStaysUp) {
  std::shared_ptr<UnpluggableSigner> dppb;
  World w(crypto::Curve::P256, "obs-health", [&](World& world, smdp::Config& c) {
    with_admin(world, c);
    auto& cs = c.credentials.at(0);
    dppb = std::make_shared<UnpluggableSigner>(crypto::key_signer(crypto::EcKey::from_pem_or_der(to_bytes(cs.dppb_key_pem))));
    cs.dppb_signer = dppb;
  });
  auto ready = admin_get(w, "/health/ready");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(nlohmann::json::parse(ready.body)["status"], "ready");

  // The store's folder moved away under the running server (an unmounted
  // volume, a removed state directory): SQLite still writes through its open
  // descriptors, but to a file no restart will find.
  fs::path moved = w.dir.string() + ".moved";
  fs::rename(w.dir, moved);
  struct Back {
    fs::path from, to;
    ~Back() {
      std::error_code ec;
      if (fs::exists(from)) fs::rename(from, to, ec);
    }
  } back{moved, w.dir};
  auto unready = admin_get(w, "/health/ready");
  EXPECT_EQ(unready.status, 503);
  auto j = nlohmann::json::parse(unready.body);
  EXPECT_EQ(j["status"], "unready");
  EXPECT_EQ(j["reason"].get<std::string>().rfind("store: ", 0), 0u) << unready.body;
  EXPECT_EQ(admin_get(w, "/health/live").status, 200);

  fs::rename(moved, w.dir);
  EXPECT_EQ(admin_get(w, "/health/ready").status, 200);

  // The same file replaced by another one (restored from a backup behind the
  // server's back) is not the store it has open either.
  fs::path db = w.dir / "smdp.db";
  fs::copy_file(db, w.dir / "copy.db");
  fs::rename(db, w.dir / "orig.db");
  fs::rename(w.dir / "copy.db", db);
  EXPECT_EQ(admin_get(w, "/health/ready").status, 503);
  fs::rename(w.dir / "orig.db", db);
  EXPECT_EQ(admin_get(w, "/health/ready").status, 200);

  // The key that signs the BPP's metadata gone (an HSM unplugged).
  dppb->unplugged = true;
  auto nokey = admin_get(w, "/health/ready");
  EXPECT_EQ(nokey.status, 503);
  EXPECT_EQ(nlohmann::json::parse(nokey.body)["reason"], "key credentials[0].dppb_key: token not present") << nokey.body;
  dppb->unplugged = false;
  EXPECT_EQ(admin_get(w, "/health/ready").status, 200);

  EXPECT_EQ(admin_get(w, "/nothing").status, 404);
  EXPECT_EQ(admin_get(w, "/metrics?x").status, 200);
}

TEST(SmdpAdmin, NonLoopbackAddressIsRefusedWithoutAllowRemote) {
  smdp::AdminConfig a;
  a.enabled = true;
  for (const char* ok : {"127.0.0.1", "127.0.0.2", "::1"}) {
    a.listen = ok;
    EXPECT_NO_THROW(smdp::check_admin_listen(a)) << ok;
  }
  for (const char* bad : {"0.0.0.0", "192.0.2.1", "::", "2001:db8::1", "::ffff:192.0.2.1"}) {
    a.listen = bad;
    try {
      smdp::check_admin_listen(a);
      ADD_FAILURE() << bad << " accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("admin.allow_remote"), std::string::npos) << e.what();
    }
  }
  a.listen = "localhost";  // a name: bind() needs an address, and a name can resolve anywhere
  EXPECT_THROW(smdp::check_admin_listen(a), std::runtime_error);
  a.allow_remote = true;
  a.listen = "0.0.0.0";
  EXPECT_NO_THROW(smdp::check_admin_listen(a));

  // The server itself refuses before binding anything.
  auto pki = certs::generate_pki({});
  fs::path dir = fs::temp_directory_path() / ("rsp-e2e-obs-admin-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto c = smdp::config_from_pki(pki, "localhost:" + std::to_string(http::free_loopback_port()), (dir / "s.db").string());
  c.admin.enabled = true;
  c.admin.listen = "0.0.0.0";
  EXPECT_THROW(smdp::Server s(c), std::runtime_error);
  fs::remove_all(dir);
}

// The smdpd binary as installed: the configuration's admin and log keys take
// effect (the admin listener announced, every stderr line one JSON object,
// access lines for the probes), and a non-loopback admin.listen stops it at
// start with exit 1.
namespace {
struct Smdpd {
  pid_t pid = 0;
  ~Smdpd() { stop(SIGKILL); }
  void start(const fs::path& config, const fs::path& port_file, const fs::path& err) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<std::string> args = {RSP_SMDPD, "--config", config.string(), "serve", "--port-file", port_file.string()};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid, RSP_SMDPD, &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error("cannot start smdpd");
  }
  // Exit status once it has exited within `ms`, or -1.
  int wait_exit(int ms) {
    for (int i = 0; i < ms / 20; ++i) {
      int st = 0;
      if (waitpid(pid, &st, WNOHANG) == pid) {
        pid = 0;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }
  int stop(int sig) {
    if (pid <= 0) return -1;
    ::kill(pid, sig);
    int rc = wait_exit(5000);
    if (rc == -1) {
      ::kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      pid = 0;
    }
    return rc;
  }
};

std::string smdpd_config(std::uint16_t port, const std::string& admin) {
  return "{\"address\": \"localhost:" + std::to_string(port) + "\", \"port\": " + std::to_string(port) +
         ", \"db\": \"smdp.db\", \"storage_key_file\": \"storage.key\","
         " \"tls\": {\"certificate\": \"CERT_S_SM_DP_TLS_NIST.der\", \"key\": \"SK_S_SM_DP_TLS_NIST.pem\"},"
         " \"credentials\": [{\"ci_certificate\": \"CERT_CI_ECDSA_NIST.der\","
         " \"dpauth_certificate\": \"CERT_S_SM_DPauth_ECDSA_NIST.der\", \"dpauth_key\": \"SK_S_SM_DPauth_ECDSA_NIST.pem\","
         " \"dppb_certificate\": \"CERT_S_SM_DPpb_ECDSA_NIST.der\", \"dppb_key\": \"SK_S_SM_DPpb_ECDSA_NIST.pem\"}],"
         " \"admin\": " + admin + ", \"log\": {\"format\": \"json\", \"access\": true}}\n";
}
}  // namespace

TEST(SmdpdAdmin, TheBinaryServesHealthAndLogsJsonFromItsConfiguration) {
  fs::path dir = fs::temp_directory_path() / ("rsp-e2e-obs-bin-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  certs::PkiOptions po;
  po.dp_host = "localhost";
  certs::write_pki(certs::generate_pki(po), dir);
  write_private_file((dir / "storage.key").string(), to_bytes(to_hex(crypto::random_bytes(32))));
  std::uint16_t admin_port = http::free_loopback_port();
  std::ofstream(dir / "smdp.json") << smdpd_config(http::free_loopback_port(),
                                                   "{\"port\": " + std::to_string(admin_port) + "}");
  Smdpd s;
  s.start(dir / "smdp.json", dir / "port", dir / "stderr");
  for (int i = 0; i < 500 && !fs::exists(dir / "port") && s.wait_exit(20) == -1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(fs::exists(dir / "port")) << to_string(rsp::read_file((dir / "stderr").string()));
  http::ClientConfig cc;
  cc.timeout = std::chrono::milliseconds(5000);
  http::Client client(cc);
  std::string base = "http://127.0.0.1:" + std::to_string(admin_port);
  EXPECT_EQ(client.get(base + "/health/live").status, 200);
  EXPECT_EQ(client.get(base + "/health/ready").status, 200);
  auto m = client.get(base + "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("# TYPE smdp_es9plus_requests_total counter\n"), std::string::npos);
  EXPECT_EQ(s.stop(SIGTERM), 0);

  std::istringstream err(to_string(rsp::read_file((dir / "stderr").string())));
  bool announced = false, access = false;
  int lines = 0;
  for (std::string line; std::getline(err, line);) {
    ++lines;
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(line)) << line;
    ASSERT_TRUE(j.contains("ts") && j.contains("level") && j.contains("msg")) << line;
    EXPECT_EQ(j["ts"].get<std::string>().back(), 'Z') << line;
    std::string msg = j["msg"];
    announced |= msg == "admin (/health/live, /health/ready, /metrics) listening on http://127.0.0.1:" +
                            std::to_string(admin_port);
    access |= j["component"] == "access" && j.value("path", "") == "/health/ready" && j.value("status", "") == "200";
  }
  EXPECT_GT(lines, 0);
  EXPECT_TRUE(announced);
  EXPECT_TRUE(access);

  // Not loopback, no allow_remote: refused before anything listens.
  std::ofstream(dir / "smdp.json") << smdpd_config(http::free_loopback_port(),
                                                   "{\"listen\": \"0.0.0.0\", \"port\": " + std::to_string(admin_port) + "}");
  Smdpd refused;
  refused.start(dir / "smdp.json", dir / "port2", dir / "stderr2");
  EXPECT_EQ(refused.wait_exit(15000), 1);
  EXPECT_NE(to_string(rsp::read_file((dir / "stderr2").string())).find("admin.listen 0.0.0.0 is not a loopback address"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "port2"));
  fs::remove_all(dir);
}
