// Issue 14, must-show 5: the operators' agents as daemons. visited-agent and
// home-agent run as their own processes from their configuration files,
// smdpd as its own process, on one embedded ledger file; this test is the
// issuer, the visited operator's staff (the Offer, the closing refund), the
// subscriber's device (LPA + eUICC simulator) and the visited network
// (attach, usage records into the agent's spool). Each agent is stopped
// mid-story with SIGTERM (exit 0 expected) and killed with SIGKILL, and
// started again on the same state; at the end the ledger holds exactly one
// Request, one Accept, one Activation and the three usage reports once, and
// the SM-DP+ ordered one profile for the Request.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "rsp/agents/daemon_config.hpp"
#include "rsp/file.hpp"
#include "rsp/http_server.hpp"
#include "rsp/ledger/embedded_market.hpp"
#include "rsp/log.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/lpa/es10.hpp"
#include "rsp/pki.hpp"
#include "rsp/sim/euicc.hpp"
#include "rsp/sim/usim_authenticate.hpp"
#include "rsp/sim/visited_network.hpp"
#include "rsp/smdp/batch_import.hpp"
#include "rsp/smdp/profile_generator.hpp"
#include "rsp/smdp/profile_store.hpp"
#include "rsp/smdp/profile_template.hpp"
#include "rsp/store.hpp"

using namespace rsp;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr auto kWait = std::chrono::seconds(30);

// Polls `done` every 50 ms until it holds or `kWait` passes.
bool eventually(const std::function<bool()>& done) {
  const auto until = std::chrono::steady_clock::now() + kWait;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

// A program of ours as its own process, its output in `log`, stopped by pid.
class Process {
 public:
  Process(std::vector<std::string> args, fs::path log) : args_(std::move(args)), log_(std::move(log)) {}
  ~Process() {
    if (pid_ > 0) stop(SIGKILL);
  }
  void start() {
    ASSERT_EQ(pid_, 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::vector<char*> argv;
    for (auto& a : args_) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid_, args_[0].c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ASSERT_EQ(rc, 0) << "cannot start " << args_[0];
  }
  // Sends `sig` and waits (bounded) for the exit; returns the wait status.
  int stop(int sig) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    int status = 0;
    for (int i = 0; i < 600; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return status;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = 0;
    return -2;  // did not stop within 30 s
  }
  // Starts, then waits (bounded) for the agent's "started as" line: a
  // signal before its handlers are in place would only test the default action.
  void start_agent() {
    auto started = [&] {
      std::ifstream f(log_);
      std::string text((std::istreambuf_iterator<char>(f)), {}), key = "] started as ";
      int n = 0;
      for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) ++n;
      return n;
    };
    const int before = started();
    start();
    const auto until = std::chrono::steady_clock::now() + kWait;
    while (started() == before && std::chrono::steady_clock::now() < until && running())
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_GT(started(), before) << args_[0] << " did not start";
  }
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = 0;
      return false;
    }
    return true;
  }

 private:
  std::vector<std::string> args_;
  fs::path log_;
  pid_t pid_ = 0;
};

// SIGTERM: the agent finishes its step and exits 0.
void expect_graceful(Process& p, const std::string& what) {
  int st = p.stop(SIGTERM);
  EXPECT_TRUE(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0) << what << " after SIGTERM: wait status " << st;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void write_text(const fs::path& p, const std::string& s) { std::ofstream(p) << s; }

std::map<std::string, int> count_events(ledger::Market& m) {
  std::map<std::string, int> n;
  for (const auto& e : m.events_after(0, 10000)) ++n[e.type];
  return n;
}

}  // namespace

TEST(AgentDaemons, StoryWithTheAgentsStoppedAndKilledMidStory) {
  for (const char* exe : {RSP_SMDPD, RSP_VISITED_AGENT, RSP_HOME_AGENT})
    if (!fs::exists(exe)) GTEST_SKIP() << exe << " not built";
  log::set_level(log::Level::Warn);
  const fs::path dir = fs::temp_directory_path() / ("rsp-e2e-daemons-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  struct Cleanup {
    fs::path d;
    ~Cleanup() {
      if (!::testing::Test::HasFailure()) {
        std::error_code ec;
        fs::remove_all(d, ec);
      }
    }
  } cleanup{dir};
  const std::string plmn = "20801", profile_type = "roaming-eu";

  // --- The SM-DP+ (smdpd, its own process): PKI, ES2+ for VISITED-A over
  // mutual TLS, a SIM vendor batch of PPK-protected profiles.
  certs::PkiOptions po;
  po.dp_host = "localhost";
  auto pki = certs::generate_pki(po);
  certs::write_pki(pki, dir);
  const Bytes smdp_storage_key = crypto::random_bytes(32);
  write_private_file((dir / "storage.key").string(), to_bytes(to_hex(smdp_storage_key)));
  write_text(dir / "tls-ca.pem", certs::to_pem(pki.tls_ci ? pki.tls_ci->der : pki.ci.der));
  auto op_ca = certs::issue_operator_ca("Operators CA");
  auto op = certs::issue_operator_certificate(op_ca, "VISITED-A");
  write_text(dir / "operators-ca.pem", certs::to_pem(op_ca.der));
  write_text(dir / "visited-op.pem", certs::to_pem(op.der));
  write_private_file((dir / "visited-op.key").string(), to_bytes(op.key.private_pem()));
  const auto es9_port = http::free_loopback_port(), es2_port = http::free_loopback_port();
  write_text(dir / "smdp.json",
             json{{"address", "localhost:" + std::to_string(es9_port)},
                  {"listen", "127.0.0.1"},
                  {"port", es9_port},
                  {"threads", 2},
                  {"db", "smdp.db"},
                  {"storage_key_file", "storage.key"},
                  {"use_ppk", true},
                  {"tls", {{"certificate", "CERT_S_SM_DP_TLS_NIST.der"}, {"key", "SK_S_SM_DP_TLS_NIST.pem"}}},
                  {"credentials", json::array({{{"ci_certificate", "CERT_CI_ECDSA_NIST.der"},
                                                {"dpauth_certificate", "CERT_S_SM_DPauth_ECDSA_NIST.der"},
                                                {"dpauth_key", "SK_S_SM_DPauth_ECDSA_NIST.pem"},
                                                {"dppb_certificate", "CERT_S_SM_DPpb_ECDSA_NIST.der"},
                                                {"dppb_key", "SK_S_SM_DPpb_ECDSA_NIST.pem"}}})},
                  {"es2plus", {{"port", es2_port}, {"client_ca", "operators-ca.pem"}}},
                  {"operators", json::array({{{"id", "VISITED-A"}, {"certificate", "visited-op.pem"}}})},
                  {"limits", {{"initiate_authentication_per_second", 0}}}}
                 .dump(2));

  // --- The HSS (the visited network's and the visited agent's), the batch.
  const Bytes hss_key = crypto::random_bytes(32);
  write_private_file((dir / "hss.key").string(), to_bytes(to_hex(hss_key)));
  store::Db hss_db((dir / "hss.db").string());
  sim::Hss hss(hss_db, hss_key);
  std::vector<std::string> iccids;
  {
    store::Db db((dir / "smdp.db").string());
    smdp::ProfileStore profiles(db, smdp_storage_key);
    std::vector<smdp::BatchRow> rows;
    for (int i = 0; i < 3; ++i) {
      smdp::BatchRow r;
      r.line = static_cast<std::size_t>(i) + 2;
      char iccid[24], imsi[24];
      std::snprintf(iccid, sizeof iccid, "893301%012d", i);
      std::snprintf(imsi, sizeof imsi, "%s%010d", plmn.c_str(), 1000 + i);
      r.values.iccid = smdp::luhn_complete(iccid);
      r.values.imsi = imsi;
      r.values.ki = crypto::random_bytes(16);
      r.values.opc = crypto::random_bytes(16);
      hss.provision(r.values.imsi, r.values.iccid, r.values.ki, r.values.opc);
      iccids.push_back(r.values.iccid);
      rows.push_back(r);
    }
    smdp::ImportOptions io{"VISITED-A", profile_type, "Visited Operator", "Roaming", true, {}, {}};
    ASSERT_EQ(smdp::import_batch(profiles, smdp::minimal_profile_template(), rows, io), 3u);
  }

  // --- The ledger (embedded, one file shared by every process) and the keys.
  // The test's handle can move its clock forward for the settlement at the
  // end, once the agents are stopped.
  auto skipped_ms = std::make_shared<std::int64_t>(0);
  ledger::EmbeddedLedger::Options lo;
  lo.clock_ms = [s = skipped_ms] { return static_cast<std::int64_t>(std::time(nullptr)) * 1000 + *s; };
  auto led = std::make_shared<ledger::EmbeddedLedger>((dir / "ledger.db").string(), lo);
  auto ik = std::make_shared<crypto::EcKey>(crypto::EcKey::generate(crypto::Curve::P256));
  auto vk = std::make_shared<crypto::EcKey>(crypto::EcKey::generate(crypto::Curve::P256));
  auto hk = std::make_shared<crypto::EcKey>(crypto::EcKey::generate(crypto::Curve::P256));
  led->init("SDR-ISSUER", *ik);
  led->register_participant("SDR-ISSUER", *ik, "VISITED-A", "visited-operator", *vk);
  led->register_participant("SDR-ISSUER", *ik, "HOME-B", "home-operator", *hk);
  ledger::EmbeddedMarket issuer(led, "SDR-ISSUER", ik), visited(led, "VISITED-A", vk), home(led, "HOME-B", hk);
  auto seal_key = crypto::EcKey::generate(crypto::Curve::P256);
  auto reply_key = crypto::EcKey::generate(crypto::Curve::P256);
  write_private_file((dir / "visited-ledger.pem").string(), to_bytes(vk->private_pem()));
  write_private_file((dir / "home-ledger.pem").string(), to_bytes(hk->private_pem()));
  write_private_file((dir / "seal.pem").string(), to_bytes(seal_key.private_pem()));
  write_private_file((dir / "reply.pem").string(), to_bytes(reply_key.private_pem()));

  // --- The agents' configurations (relative paths: the files' folder).
  write_text(dir / "visited-agent.json",
             json{{"ledger", {{"embedded", "ledger.db"}, {"participant", "VISITED-A"}, {"key", "visited-ledger.pem"}}},
                  {"state_db", "visited-agent.db"},
                  {"poll_interval_ms", 100},
                  {"seal_key", "seal.pem"},
                  {"profile_type", profile_type},
                  {"es2plus",
                   {{"url", "https://localhost:" + std::to_string(es2_port)},
                    {"ca", "tls-ca.pem"},
                    {"certificate", "visited-op.pem"},
                    {"key", "visited-op.key"}}},
                  {"smdp_config", "smdp.json"},
                  {"hss", {{"db", "hss.db"}, {"storage_key_file", "hss.key"}}},
                  {"network_spool", "network"}}
                 .dump(2));
  write_text(dir / "home-agent.json",
             json{{"ledger", {{"embedded", "ledger.db"}, {"participant", "HOME-B"}, {"key", "home-ledger.pem"}}},
                  {"state_db", "home-agent.db"},
                  {"poll_interval_ms", 100},
                  {"reply_key", "reply.pem"},
                  {"orders_spool", "orders"},
                  {"delivery_dir", "deliveries"}}
                 .dump(2));
  setenv("RSP_LOG", "info", 1);

  Process smdpd({RSP_SMDPD, "--config", (dir / "smdp.json").string(), "serve", "--port-file", (dir / "smdp.port").string()},
                dir / "smdpd.log");
  Process vagent({RSP_VISITED_AGENT, "--config", (dir / "visited-agent.json").string()}, dir / "visited-agent.log");
  Process hagent({RSP_HOME_AGENT, "--config", (dir / "home-agent.json").string()}, dir / "home-agent.log");
  smdpd.start();
  ASSERT_TRUE(eventually([&] { return fs::exists(dir / "smdp.port"); })) << slurp(dir / "smdpd.log");
  vagent.start_agent();
  hagent.start_agent();

  // 1-2. Money, and the visited operator's Offer (its agent's seal key).
  issuer.mint("HOME-B", 100 * ledger::kUnitsPerSdrt);
  ledger::OfferTerms o;
  o.offer_id = "ROAM-DAEMONS";
  o.service = "data+voice+sms";
  o.coverage = {plmn};
  o.allowance = {5000, 100, 50};
  o.tariff = {2'000, 50'000, 10'000};
  o.price = 12 * ledger::kUnitsPerSdrt;
  o.term_seconds = 30 * 24 * 3600;
  o.valid_until = std::time(nullptr) + 90 * 24 * 3600;
  o.stock = 10;
  o.seal_key = seal_key.public_point();
  visited.publish_offer(o);

  // The visited agent stops (SIGTERM) before the Request: it answers after its restart.
  expect_graceful(vagent, "visited-agent");

  // 3. The home operator's purchase order: its agent places the Request.
  sim::EuiccConfig ec;
  ec.euicc_cert_der = pki.euicc.der;
  ec.euicc_key = to_bytes(pki.euicc.key.private_pem());
  ec.eum_cert_der = pki.eum.der;
  ec.ci_certs_der = {pki.ci.der};
  sim::Euicc euicc(ec);
  euicc.set_uicc_command_hook(sim::make_usim_authenticate_hook());
  agents::PurchaseOrder order{o.offer_id, "sub-0001", euicc.eid_hex(), "", ""};
  agents::spool_write(dir / "orders", "order-1.json", order.to_json());
  ASSERT_TRUE(eventually([&] { return fs::exists(dir / "orders" / "done" / "order-1.json"); }))
      << slurp(dir / "home-agent.log");
  std::string rid;
  for (const auto& e : home.events_after(0, 1000))
    if (e.type == "request") rid = e.id;
  ASSERT_FALSE(rid.empty());
  // Killed (SIGKILL) with its Request open; the same order file arrives
  // again (as after a crash before the file was moved): restarted, it sends
  // no second Request.
  EXPECT_NE(hagent.stop(SIGKILL), -2);
  agents::spool_write(dir / "orders", "order-1.json", order.to_json());
  hagent.start_agent();
  ASSERT_TRUE(eventually([&] { return !fs::exists(dir / "orders" / "order-1.json"); }));

  // 4. The visited agent, started again, orders over ES2+ and Accepts; it
  // is killed (SIGKILL) right after the Accept lands.
  vagent.start_agent();
  ASSERT_TRUE(eventually([&] { return count_events(home)["accept"] >= 1; })) << slurp(dir / "visited-agent.log");
  EXPECT_NE(vagent.stop(SIGKILL), -2);

  // 5. The home agent opens the Accept and delivers the activation code.
  const fs::path delivery = dir / "deliveries" / (rid + ".json");
  ASSERT_TRUE(eventually([&] { return fs::exists(delivery); })) << slurp(dir / "home-agent.log");
  json d = json::parse(slurp(delivery));
  EXPECT_EQ(d["request_id"], rid);
  EXPECT_EQ(fs::status(delivery).permissions() & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);
  const std::string ac = d["activation_code"].get<std::string>(), iccid = d["iccid"].get<std::string>();
  // Stopped and started again: it delivers nothing twice.
  expect_graceful(hagent, "home-agent");
  fs::remove(delivery);
  hagent.start_agent();

  // 6. The device downloads with the delivered code (ES9+ of smdpd).
  lpa::DownloadOptions lopt;
  lopt.es9.http.ca_file = (dir / "tls-ca.pem").string();
  auto dl = lpa::download(euicc, lpa::ActivationCode::parse(ac), lopt);
  ASSERT_TRUE(dl.installation.success) << dl.installation.describe();
  lpa::Es10Client(euicc).enable_profile(lpa::ProfileId::from_iccid(iccid));

  // 7. The first attach, into the visited agent's network spool while the
  // agent is down (killed above); started again, it writes the Activation.
  sim::VisitedNetwork network(hss, plmn);
  int seq = 0;
  auto spool = [&](const agents::NetworkEvent& e) {
    char name[32];
    std::snprintf(name, sizeof name, "%06d.json", ++seq);
    agents::spool_write(dir / "network", name, e.to_json());
  };
  network.on_first_attach = [&](const sim::AttachResult& a) {
    agents::NetworkEvent e;
    e.kind = "attach";
    e.attach = a;
    e.plmn = plmn;
    spool(e);
  };
  auto att = network.attach(euicc);
  ASSERT_TRUE(att.accepted) << att.cause;
  vagent.start_agent();
  ASSERT_TRUE(eventually([&] { return count_events(home)["activation"] == 1; })) << slurp(dir / "visited-agent.log");

  // 8. Three usage records at once; the agent is killed as soon as the first
  // report is on the ledger (the others in flight), started again, stopped
  // with SIGTERM, started again; one record is delivered twice.
  std::vector<agents::NetworkEvent> usage;
  ledger::Amount charged = 0;
  struct Use {
    std::int64_t mb, min, sms;
  };
  for (Use u : {Use{1200, 12, 4}, Use{800, 30, 10}, Use{2600, 0, 0}}) {
    auto rec = network.meter(att.imsi, u.mb, u.min, u.sms);
    ASSERT_TRUE(rec);
    agents::NetworkEvent e;
    e.kind = "usage";
    e.usage = *rec;
    usage.push_back(e);
    charged += ledger::charge_for({u.mb, u.min, u.sms}, o.tariff);
  }
  for (const auto& e : usage) spool(e);
  ASSERT_TRUE(eventually([&] { return count_events(home)["usage"] >= 1; }));
  EXPECT_NE(vagent.stop(SIGKILL), -2);
  vagent.start_agent();
  ASSERT_TRUE(eventually([&] { return count_events(home)["usage"] >= 3; })) << slurp(dir / "visited-agent.log");
  expect_graceful(vagent, "visited-agent");
  spool(usage[0]);  // the network delivers a record again
  vagent.start_agent();
  ASSERT_TRUE(eventually([&] { return agents::spool_files(dir / "network").empty(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a few more rounds: nothing new may happen
  expect_graceful(vagent, "visited-agent");
  expect_graceful(hagent, "home-agent");
  smdpd.stop(SIGTERM);

  // Nothing lost, nothing repeated.
  auto n = count_events(home);
  EXPECT_EQ(n["request"], 1);
  EXPECT_EQ(n["accept"], 1);
  EXPECT_EQ(n["activation"], 1);
  EXPECT_EQ(n["usage"], 3);
  auto r = home.find_request(rid);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->usage_reports, 3);
  EXPECT_EQ(r->charged, charged);
  EXPECT_FALSE(fs::exists(delivery)) << "the home agent delivered the activation code again after its restart";
  EXPECT_TRUE(!fs::exists(dir / "network" / "rejected") || fs::is_empty(dir / "network" / "rejected"));
  // The SM-DP+ ordered one profile for the Request: the one installed; the others are still available.
  {
    store::Db db((dir / "smdp.db").string());
    smdp::ProfileStore profiles(db, smdp_storage_key);
    int installed = 0, available = 0;
    for (const auto& i : iccids) {
      auto p = profiles.by_iccid(i);
      ASSERT_TRUE(p);
      installed += p->state == smdp::ProfileState::Installed && i == iccid;
      available += p->state == smdp::ProfileState::Available;
    }
    EXPECT_EQ(installed, 1);
    EXPECT_EQ(available, 2);
  }
  // Logs name the Request; the activation code is in no log.
  for (const char* f : {"visited-agent.log", "home-agent.log"}) {
    std::string text = slurp(dir / f);
    EXPECT_NE(text.find(rid), std::string::npos) << f << " does not name " << rid;
  }
  EXPECT_EQ(slurp(dir / "home-agent.log").find(ac.substr(4)), std::string::npos) << "home-agent.log holds the activation code";

  // 9. Settlement: a simulated day later (the dispute window has passed) the
  // visited operator closes the Request: the held charges are paid to it,
  // the unused escrow returns to the home operator.
  *skipped_ms += (ledger::kDisputeSeconds + 60) * 1000;
  visited.refund(rid);
  EXPECT_EQ(home.balance("HOME-B").available, 100 * ledger::kUnitsPerSdrt - charged);
  EXPECT_EQ(home.balance("HOME-B").escrowed, 0);
  EXPECT_EQ(visited.balance("VISITED-A").available, charged);
}

// The configuration: unknown keys and missing ones are refused by name
// (exit 2), an unreadable file is exit 1.
TEST(AgentDaemons, ConfigurationErrorsNameTheKey) {
  const fs::path dir = fs::temp_directory_path() / ("rsp-e2e-daemon-config-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  write_text(dir / "a.json", R"({"ledger": {"embedded": "l.db", "participant": "H", "key": "k.pem"},
    "state_db": "s.db", "reply_key": "r.pem", "orders_spool": "o", "delivery_dir": "d", "poll_intervall_ms": 5})");
  try {
    agents::load_home_agent_config(dir / "a.json");
    ADD_FAILURE() << "an unknown key was accepted";
  } catch (const agents::DaemonConfigError& e) {
    EXPECT_STREQ(e.what(), "poll_intervall_ms is not a configuration key");
  }
  write_text(dir / "b.json", R"({"ledger": {"embedded": "l.db", "participant": "H", "key": "k.pem"},
    "state_db": "s.db", "reply_key": "r.pem", "orders_spool": "o"})");
  try {
    agents::load_home_agent_config(dir / "b.json");
    ADD_FAILURE() << "a missing key was accepted";
  } catch (const agents::DaemonConfigError& e) {
    EXPECT_STREQ(e.what(), "delivery_dir is required");
  }
  auto c = agents::load_visited_agent_config(fs::path(RSP_SOURCE_DIR) / "packaging" / "visited-agent.json");
  EXPECT_EQ(c.es2plus.url, "https://smdp.example.com:8444");
  EXPECT_EQ(c.requester_id, "VISITED-A");
  auto h = agents::load_home_agent_config(fs::path(RSP_SOURCE_DIR) / "packaging" / "home-agent.json");
  EXPECT_EQ(h.otad_transport, "sms");
  ASSERT_TRUE(h.otad);
  EXPECT_THROW(agents::NetworkEvent::from_json(R"({"event": "usage", "imsi": "1", "record_id": "r", "data_mb": -1})"),
               std::runtime_error);
  EXPECT_THROW(agents::PurchaseOrder::from_json(R"({"offer_id": "O", "subscriber": "s", "eid": "1", "iccid": "2"})"),
               std::runtime_error);
  fs::remove_all(dir);
}
