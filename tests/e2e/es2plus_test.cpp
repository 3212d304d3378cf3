// ES2+ end to end: operators order profiles over mutual TLS, the activation
// code goes to the LPA, the download happens over ES9+, and the operator's
// endpoint hears HandleDownloadProgressInfo for each step.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "rsp/http_client.hpp"
#include "rsp/http_server.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/smdp/batch_import.hpp"
#include "world.hpp"

using namespace rsp;
using nlohmann::json;
using rsp::e2e::World;
namespace fs = std::filesystem;

namespace {

const fs::path kTemplate = rsp::e2e::testdata("ts48/TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der");

using rsp::e2e::read_file;

struct Operator {
  std::string id;
  certs::Issued cert;
  std::string cert_pem, key_pem;  // files
};

// A CA for operators' client certificates and two operators under it; a
// third certificate from a CA the SM-DP+ does not know.
struct Operators {
  certs::Issued ca, stranger_ca;
  Operator a, b, stranger;
};

certs::Issued issue(const std::string& cn, const certs::Issued& ca, const fs::path& dir, Operator& op) {
  certs::Issued out = e2e::issue_operator_cert(ca, cn);
  op.id = cn;
  op.cert_pem = (dir / (cn + ".pem")).string();
  op.key_pem = (dir / (cn + ".key")).string();
  std::ofstream(op.cert_pem) << certs::to_pem(out.der);
  std::ofstream(op.key_pem) << out.key.private_pem();
  return out;
}

// Collects HandleDownloadProgressInfo calls; can refuse the first N.
struct OperatorEndpoint {
  std::mutex mu;
  std::vector<json> received;
  std::atomic<int> refuse_first{0};
  std::unique_ptr<http::Server> server;
  std::string url;

  void start(const World& w) {
    http::ServerConfig c;
    http::ServerTlsConfig t;
    t.certificate_chain = w.pki.dp_tls.der;
    t.private_key = to_bytes(w.pki.dp_tls.key.private_pem());
    c.tls = t;
    server = std::make_unique<http::Server>(c, [this](const http::Request& r) {
      if (refuse_first > 0) {
        --refuse_first;
        return http::Response::text(503, "busy\n");
      }
      std::lock_guard l(mu);
      received.push_back(json::parse(r.body));
      return http::Response::json(R"({"header":{"functionExecutionStatus":{"status":"Executed-Success"}}})");
    });
    server->start();
    url = "https://localhost:" + std::to_string(server->port()) + "/gsma/rsp2/es2plus/handleDownloadProgressInfo";
  }
  std::vector<int> points(const std::string& iccid) {
    std::lock_guard l(mu);
    std::vector<int> out;
    for (auto& j : received)
      if (j["iccid"] == iccid) out.push_back(j["notificationPointId"].get<int>());
    return out;
  }
};

class Es2Plus : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kTemplate)) GTEST_SKIP() << "TS.48 test profiles absent";
    w = std::make_unique<World>(crypto::Curve::P256, "es2", [this](World& world, smdp::Config& c) {
      ops.ca = e2e::make_operator_ca("Operators CA");
      ops.stranger_ca = e2e::make_operator_ca("Stranger CA");
      ops.a.cert = issue("OP-A", ops.ca, world.dir, ops.a);
      ops.b.cert = issue("OP-B", ops.ca, world.dir, ops.b);
      ops.stranger.cert = issue("OP-X", ops.stranger_ca, world.dir, ops.stranger);
      endpoint.start(world);
      c.es2plus_port = e2e::free_loopback_port();
      c.operator_ca = ops.ca.der;
      c.operator_endpoint_ca_file = world.tls_ca_pem;
      c.operators = {{"OP-A", ops.a.cert.der, endpoint.url}, {"OP-B", ops.b.cert.der, ""}};
    });
    w->smdp->notifier().set_backoff(std::chrono::milliseconds(50), 5);
    // The operators import their SIM vendor's batches: 40 profiles of type
    // "roaming" for OP-A, 2 for OP-B, generated from the TS.48 template.
    Bytes tmpl = read_file(kTemplate);
    auto batch = [](int from, int to) {
      std::string csv = "iccid,imsi,ki,opc\n";
      for (int i = from; i < to; ++i) {
        char num[32];
        std::snprintf(num, sizeof num, "894410%012d", i);
        csv += smdp::luhn_complete(num) + ",00101" + std::to_string(1000000000 + i) + "," +
               to_hex(crypto::random_bytes(16)) + "," + to_hex(crypto::random_bytes(16)) + "\n";
      }
      return csv;
    };
    smdp::ImportOptions a{"OP-A", "roaming", "Visited Operator", "Roaming", false, {}};
    ASSERT_EQ(smdp::import_batch(w->smdp->profiles(), tmpl, smdp::parse_batch_csv(batch(0, 40)), a), 40u);
    smdp::ImportOptions b{"OP-B", "roaming", "Other Operator", "Roaming", false, {}};
    ASSERT_EQ(smdp::import_batch(w->smdp->profiles(), tmpl, smdp::parse_batch_csv(batch(40, 42)), b), 2u);
  }

  http::Client client_for(const Operator& op) {
    http::ClientConfig c;
    c.ca_file = w->tls_ca_pem;
    c.client_cert_file = op.cert_pem;
    c.client_key_file = op.key_pem;
    return http::Client(c);
  }
  json call(http::Client& c, const std::string& fn, json body, int* http_status = nullptr) {
    http::Headers h;
    h.set("Content-Type", "application/json");
    h.set("X-Admin-Protocol", "gsma/rsp/v2.2.2");
    auto r = c.post("https://localhost:" + std::to_string(w->smdp->es2plus_port()) + "/gsma/rsp2/es2plus/" + fn,
                    body.dump(), h);
    if (http_status) *http_status = r.status;
    return r.status == 200 ? json::parse(r.body) : json{{"http", r.status}};
  }
  static std::string status(const json& j) {
    auto s = j["header"]["functionExecutionStatus"];
    if (s["status"] == "Executed-Success") return "ok";
    return s["statusCodeData"]["subjectCode"].get<std::string>() + "/" + s["statusCodeData"]["reasonCode"].get<std::string>();
  }
  lpa::DownloadResult download(const std::string& matching_id, std::optional<std::string> cc = std::nullopt) {
    lpa::DownloadOptions opt;
    opt.es9.http.ca_file = w->tls_ca_pem;
    opt.confirmation_code = cc;
    return lpa::download(*w->euicc, lpa::ActivationCode::parse(w->activation_code(matching_id)), opt);
  }
  void wait_for_points(const std::string& iccid, std::size_t n) {
    for (int i = 0; i < 100 && endpoint.points(iccid).size() < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  Operators ops;
  OperatorEndpoint endpoint;
  std::unique_ptr<World> w;
};

}  // namespace

TEST_F(Es2Plus, OrderConfirmDownloadAndProgressNotifications) {
  auto c = client_for(ops.a);
  endpoint.refuse_first = 2;  // the operator is down at first: the SM-DP+ retries
  std::string eid = w->euicc->eid_hex();
  auto order = call(c, "downloadOrder", {{"header", {{"functionRequesterIdentifier", "OP-A"}, {"functionCallIdentifier", "1"}}},
                                         {"profileType", "roaming"}, {"eid", eid}});
  ASSERT_EQ(status(order), "ok") << order.dump();
  std::string iccid = order["iccid"];
  EXPECT_EQ(w->smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Linked);
  auto confirm = call(c, "confirmOrder", {{"iccid", iccid}, {"eid", eid}, {"releaseFlag", true}});
  ASSERT_EQ(status(confirm), "ok") << confirm.dump();
  std::string matching_id = confirm["matchingId"];
  EXPECT_EQ(confirm["smdpAddress"], w->address);
  EXPECT_EQ(w->smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Released);

  auto result = download(matching_id);
  ASSERT_TRUE(result.installation.success);
  EXPECT_EQ(w->smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Installed);
  wait_for_points(iccid, 3);
  EXPECT_EQ(endpoint.points(iccid), (std::vector<int>{1, 3, 4}));
  EXPECT_EQ(w->smdp->notifier().pending(), 0u);
  std::lock_guard l(endpoint.mu);
  auto& last = endpoint.received.back();
  EXPECT_EQ(last["eid"], eid);
  EXPECT_EQ(last["profileType"], "roaming");
  EXPECT_EQ(last["notificationPointStatus"]["status"], "Executed-Success");
  EXPECT_FALSE(last["resultData"].get<std::string>().empty());  // the ProfileInstallationResult
}

TEST_F(Es2Plus, ReleaseProfileAndCancelOrderPaths) {
  auto c = client_for(ops.a);
  // Confirmed without release: not downloadable until ReleaseProfile.
  std::string iccid = call(c, "downloadOrder", {{"profileType", "roaming"}})["iccid"];
  auto confirm = call(c, "confirmOrder", {{"iccid", iccid}, {"releaseFlag", false}, {"confirmationCode", "1234"}});
  ASSERT_EQ(status(confirm), "ok");
  std::string mid = confirm["matchingId"];
  EXPECT_THROW(download(mid, "1234"), lpa::DownloadError);
  EXPECT_EQ(status(call(c, "releaseProfile", {{"iccid", iccid}})), "ok");
  EXPECT_EQ(status(call(c, "releaseProfile", {{"iccid", iccid}})), "8.2.1/3.8");  // already released
  EXPECT_TRUE(download(mid, "1234").installation.success);

  // Cancelled before download: back to Available; its matching id is gone.
  std::string iccid2 = call(c, "downloadOrder", {{"profileType", "roaming"}})["iccid"];
  std::string mid2 = call(c, "confirmOrder", {{"iccid", iccid2}, {"releaseFlag", true}})["matchingId"];
  EXPECT_EQ(status(call(c, "cancelOrder", {{"iccid", iccid2}, {"finalProfileStatusIndicator", "Available"}})), "ok");
  EXPECT_EQ(w->smdp->profiles().by_iccid(iccid2)->state, smdp::ProfileState::Available);
  w->replace_euicc(w->pki.euicc.der, w->pki.euicc.key, w->pki.eum.der);
  try {
    download(mid2);
    FAIL() << "a cancelled order was downloadable";
  } catch (const lpa::DownloadError& e) {
    EXPECT_NE(std::string(e.what()).find("8.2.6"), std::string::npos) << e.what();
  }
}

TEST_F(Es2Plus, FiftyParallelOrdersOnFortyProfiles) {
  std::vector<std::string> outcomes(50);
  std::vector<std::thread> threads;
  for (int i = 0; i < 50; ++i)
    threads.emplace_back([&, i] {
      auto c = client_for(ops.a);
      auto r = call(c, "downloadOrder", {{"profileType", "roaming"}});
      outcomes[static_cast<std::size_t>(i)] = status(r) == "ok" ? r["iccid"].get<std::string>() : status(r);
    });
  for (auto& t : threads) t.join();
  std::set<std::string> iccids;
  int refused = 0;
  for (auto& o : outcomes) {
    if (o == "8.2.5/3.7") ++refused;
    else iccids.insert(o);
  }
  EXPECT_EQ(iccids.size(), 40u);  // 40 distinct profiles: none handed out twice
  EXPECT_EQ(refused, 10);
  int allocated = 0;
  w->smdp->profiles().db().query("SELECT COUNT(*) FROM profiles WHERE owner='OP-A' AND state='allocated'", {},
                                 [&](const store::Row& r) { allocated = static_cast<int>(r.i64(0)); });
  EXPECT_EQ(allocated, 40);
}

TEST_F(Es2Plus, OperatorsAreIsolated) {
  auto a = client_for(ops.a);
  auto b = client_for(ops.b);
  std::string iccid = call(a, "downloadOrder", {{"profileType", "roaming"}})["iccid"];
  EXPECT_EQ(status(call(b, "confirmOrder", {{"iccid", iccid}, {"releaseFlag", true}})), "8.2.1/3.9");
  EXPECT_EQ(status(call(b, "cancelOrder", {{"iccid", iccid}, {"finalProfileStatusIndicator", "Available"}})), "8.2.1/3.9");
  EXPECT_EQ(status(call(b, "downloadOrder", {{"iccid", iccid}})), "8.2.1/3.9");
  EXPECT_EQ(w->smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Allocated);
  // B only gets its own two profiles.
  EXPECT_EQ(status(call(b, "downloadOrder", {{"profileType", "roaming"}})), "ok");
  EXPECT_EQ(status(call(b, "downloadOrder", {{"profileType", "roaming"}})), "ok");
  EXPECT_EQ(status(call(b, "downloadOrder", {{"profileType", "roaming"}})), "8.2.5/3.7");
  // Claiming to be A in the header does not help B.
  EXPECT_EQ(status(call(b, "releaseProfile", {{"header", {{"functionRequesterIdentifier", "OP-A"}}}, {"iccid", iccid}})),
            "1.1/1.2");
  // A certificate from a CA the SM-DP+ does not trust is refused in the TLS handshake.
  auto stranger = client_for(ops.stranger);
  EXPECT_THROW(call(stranger, "downloadOrder", {{"profileType", "roaming"}}), http::HttpError);
  // No client certificate at all: refused in the handshake too.
  http::ClientConfig anon;
  anon.ca_file = w->tls_ca_pem;
  http::Client anonymous(anon);
  EXPECT_THROW(call(anonymous, "downloadOrder", {{"profileType", "roaming"}}), http::HttpError);
}

TEST_F(Es2Plus, BadInputGetsClearErrors) {
  auto c = client_for(ops.a);
  http::Headers h;
  h.set("Content-Type", "application/json");
  auto r = c.post("https://localhost:" + std::to_string(w->smdp->es2plus_port()) + "/gsma/rsp2/es2plus/downloadOrder",
                  "{oops", h);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(status(call(c, "confirmOrder", {{"iccid", "8949449999999999999"}, {"releaseFlag", true}})), "8.2.1/3.9");
  EXPECT_EQ(status(call(c, "confirmOrder", {{"iccid", "8949449999999000000"}})), "1.2/2.2");  // no releaseFlag
  EXPECT_EQ(status(call(c, "downloadOrder", {{"profileType", "roaming"}, {"eid", "1234"}})), "8.1.1/2.1");
  EXPECT_EQ(status(call(c, "downloadOrder", {{"profileType", "no-such-type"}})), "8.2.5/3.7");
  // Wrong transitions: release an allocated profile, confirm twice.
  std::string iccid = call(c, "downloadOrder", {{"profileType", "roaming"}})["iccid"];
  EXPECT_EQ(status(call(c, "releaseProfile", {{"iccid", iccid}})), "8.2.1/3.8");
  EXPECT_EQ(status(call(c, "confirmOrder", {{"iccid", iccid}, {"releaseFlag", true}})), "ok");
  EXPECT_EQ(status(call(c, "confirmOrder", {{"iccid", iccid}, {"releaseFlag", true}})), "8.2.1/3.8");
  EXPECT_EQ(status(call(c, "downloadOrder", {{"iccid", iccid}})), "8.2.1/3.3");  // in use
}

TEST_F(Es2Plus, LapsedOrderGoesBackToAvailable) {
  // A second SM-DP+ on the same store with one-second orders.
  w->config.order_expiry_seconds = 1;
  w->restart_smdp();
  auto c = client_for(ops.a);
  std::string iccid = call(c, "downloadOrder", {{"profileType", "roaming"}})["iccid"];
  std::string mid = call(c, "confirmOrder", {{"iccid", iccid}, {"releaseFlag", true}})["matchingId"];
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  try {
    download(mid);
    FAIL() << "a lapsed order was downloadable";
  } catch (const lpa::DownloadError& e) {
    EXPECT_NE(std::string(e.what()).find("8.2.6"), std::string::npos) << e.what();
  }
  EXPECT_EQ(w->smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Available);
}

// Progress notifications survive an SM-DP+ restart: written to the outbox
// first, delivered by whichever SM-DP+ process runs once the operator is up.
TEST_F(Es2Plus, ProgressNotificationsSurviveRestart) {
  auto c = client_for(ops.a);
  endpoint.refuse_first = 1000;  // the operator is down
  w->smdp->notifier().set_backoff(std::chrono::seconds(30), 12);  // first failures, then a long wait
  std::string eid = w->euicc->eid_hex();
  std::string iccid = call(c, "downloadOrder", {{"profileType", "roaming"}, {"eid", eid}})["iccid"];
  std::string mid = call(c, "confirmOrder", {{"iccid", iccid}, {"releaseFlag", true}})["matchingId"];
  ASSERT_TRUE(download(mid).installation.success);
  w->restart_smdp();
  EXPECT_EQ(w->smdp->notifier().pending(), 3u);  // points 1, 3 and 4 kept across the restart
  w->smdp->notifier().set_backoff(std::chrono::milliseconds(50), 5);
  endpoint.refuse_first = 0;  // the operator is back
  // Entries already scheduled far ahead are retried when due: make them due now.
  w->smdp->profiles().db().run("UPDATE es2_outbox SET next_at = 0");
  wait_for_points(iccid, 3);
  EXPECT_EQ(endpoint.points(iccid), (std::vector<int>{1, 3, 4}));
  EXPECT_EQ(w->smdp->notifier().pending(), 0u);
}
