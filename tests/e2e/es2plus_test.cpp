// ES2+ end to end: operators order profiles over mutual TLS, the activation
// code goes to the LPA, the download happens over ES9+, and the operator's
// endpoint hears HandleDownloadProgressInfo for each step.
#include <gtest/gtest.h>

#include <ProfileInstallationResult.h>
#include <SuccessResult.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "rsp/asn1.hpp"
#include "rsp/http_client.hpp"
#include "rsp/http_server.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/lpa/es10.hpp"
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

// Collects HandleDownloadProgressInfo calls; can refuse the first N. Like
// an operator's ES2+ endpoint, it requires mutual TLS: the SM-DP+ must
// present a client certificate under the CI (SGP.22 2.6.6, 5.3).
struct OperatorEndpoint {
  std::mutex mu;
  std::vector<json> received;
  std::vector<Bytes> client_certificates;
  std::atomic<int> refuse_first{0};
  std::unique_ptr<http::Server> server;
  std::string url;

  void start(const World& w, const certs::Issued& client_ca) {
    http::ServerConfig c;
    http::ServerTlsConfig t;
    t.certificate_chain = w.pki.dp_tls.der;
    t.private_key = to_bytes(w.pki.dp_tls.key.private_pem());
    t.client_auth = http::ClientAuth::Required;
    t.client_ca_chain = client_ca.der;
    c.tls = t;
    server = std::make_unique<http::Server>(c, [this](const http::Request& r) {
      if (refuse_first > 0) {
        --refuse_first;
        return http::Response::text(503, "busy\n");
      }
      std::lock_guard l(mu);
      received.push_back(json::parse(r.body));
      client_certificates.push_back(r.peer_certificate.value_or(Bytes{}));
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
      // The SM-DP+'s own ES2+ client certificate, under a CA the operators
      // trust. (Not the default CERT.DP.TLS: mbedTLS 2.28, which this test
      // endpoint runs on, refuses that one as a client certificate.)
      smdp_client = e2e::issue_operator_cert(ops.ca, "SMDP");
      c.es2_client_certificate = smdp_client.der;
      c.es2_client_key = to_bytes(smdp_client.key.private_pem());
      endpoint.start(world, ops.ca);
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

  // An operator's client: its TLS client certificate and the id its
  // requests' RequestHeader names.
  struct OperatorClient : http::Client {
    OperatorClient(http::Client c, std::string i) : http::Client(std::move(c)), id(std::move(i)) {}
    std::string id;
  };
  OperatorClient client_for(const Operator& op) {
    http::ClientConfig c;
    c.ca_file = w->tls_ca_pem;
    c.client_cert_file = op.cert_pem;
    c.client_key_file = op.key_pem;
    return OperatorClient(http::Client(c), op.id);
  }
  // The body as an operator sends it: a RequestHeader (SGP.22 6.5.1.3) naming
  // `requester`, unless the test wrote a header of its own.
  static json with_header(json body, const std::string& requester) {
    static std::atomic<int> call_id{0};
    if (body.is_object() && !body.contains("header"))
      body["header"] = {{"functionRequesterIdentifier", requester}, {"functionCallIdentifier", "t-" + std::to_string(++call_id)}};
    return body;
  }
  json call(OperatorClient& c, const std::string& fn, const json& body, int* http_status = nullptr) {
    return call(static_cast<http::Client&>(c), fn, with_header(body, c.id), http_status);
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
  // "installed", or the SGP.22 code the download failed with.
  static std::string outcome(const std::function<lpa::DownloadResult()>& run) {
    try {
      return run().installation.success ? "installed" : "install failed";
    } catch (const lpa::DownloadError& e) {
      try {
        if (e.cause) std::rethrow_exception(e.cause);
      } catch (const lpa::Es9Error& es9) {
        if (!es9.subject_code.empty()) return es9.subject_code + "/" + es9.reason_code;
      } catch (...) {
      }
      return e.stage + ": " + e.what();
    }
  }
  lpa::NotificationOptions notification_options(bool remove = true) {
    lpa::NotificationOptions o;
    o.es9.http.ca_file = w->tls_ca_pem;
    o.remove = remove;
    return o;
  }
  void wait_for_points(const std::string& iccid, std::size_t n) {
    for (int i = 0; i < 100 && endpoint.points(iccid).size() < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  Operators ops;
  certs::Issued smdp_client;
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
  ASSERT_FALSE(endpoint.received.empty());
  auto& last = endpoint.received.back();
  EXPECT_EQ(last["eid"], eid);
  EXPECT_EQ(last["profileType"], "roaming");
  EXPECT_EQ(last["notificationPointStatus"]["status"], "Executed-Success");
  EXPECT_FALSE(last["resultData"].get<std::string>().empty());  // the ProfileInstallationResult
  // ES2+ both ways: the SM-DP+ called with its own client certificate.
  ASSERT_FALSE(endpoint.client_certificates.empty());
  for (const auto& cert : endpoint.client_certificates) EXPECT_EQ(cert, smdp_client.der);
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
  EXPECT_EQ(status(call(c, "releaseProfile", {{"iccid", iccid}})), "8.2.1/3.5");  // already released
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
  EXPECT_EQ(status(call(b, "releaseProfile", {{"header", {{"functionRequesterIdentifier", "OP-A"}, {"functionCallIdentifier", "x"}}}, {"iccid", iccid}})),
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
  // SGP.22 6.5.1: without X-Admin-Protocol (or another major version) the
  // function is not executed.
  for (const char* proto : {"", "gsma/rsp/v3.0.0"}) {
    if (*proto) h.set("X-Admin-Protocol", proto);
    r = c.post("https://localhost:" + std::to_string(w->smdp->es2plus_port()) + "/gsma/rsp2/es2plus/downloadOrder",
               json{{"profileType", "roaming"}}.dump(), h);
    EXPECT_EQ(r.status, 400) << proto;
    EXPECT_EQ(r.body, "unsupported X-Admin-Protocol\n") << proto;
  }
  // SGP.22 6.5.1.3: the RequestHeader and both its fields are mandatory;
  // nothing is allocated for a request without them.
  http::Client& plain = c;
  EXPECT_EQ(status(call(plain, "downloadOrder", {{"profileType", "roaming"}})), "1.2/2.2");
  EXPECT_EQ(status(call(plain, "downloadOrder", {{"header", {{"functionCallIdentifier", "1"}}}, {"profileType", "roaming"}})),
            "1.2/2.2");
  EXPECT_EQ(status(call(plain, "downloadOrder", {{"header", {{"functionRequesterIdentifier", "OP-A"}}}, {"profileType", "roaming"}})),
            "1.2/2.2");
  EXPECT_EQ(status(call(plain, "downloadOrder",
                        {{"header", {{"functionRequesterIdentifier", "OP-A"}, {"functionCallIdentifier", 7}}}, {"profileType", "roaming"}})),
            "1.2/2.2");
  std::int64_t allocated = -1;
  w->smdp->profiles().db().query("SELECT COUNT(*) FROM profiles WHERE state <> 'available'", {},
                                 [&](const store::Row& row) { allocated = row.i64(0); });
  EXPECT_EQ(allocated, 0);
  EXPECT_EQ(status(call(c, "confirmOrder", {{"iccid", "8949449999999999999"}, {"releaseFlag", true}})), "8.2.1/3.9");
  EXPECT_EQ(status(call(c, "confirmOrder", {{"iccid", "8949449999999000000"}})), "1.2/2.2");  // no releaseFlag
  EXPECT_EQ(status(call(c, "downloadOrder", {{"profileType", "roaming"}, {"eid", "1234"}})), "8.1.1/2.1");
  EXPECT_EQ(status(call(c, "downloadOrder", {{"profileType", "no-such-type"}})), "8.2.5/3.9");  // unknown, not "none left"
  // Wrong transitions: release an allocated profile, confirm twice.
  std::string iccid = call(c, "downloadOrder", {{"profileType", "roaming"}})["iccid"];
  EXPECT_EQ(status(call(c, "releaseProfile", {{"iccid", iccid}})), "8.2.1/3.5");
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
  // The LPA still holding the activation code hears "download order
  // expired" (SGP.22 5.6.3, 8.8.5/4.10), not "unknown matching id".
  EXPECT_EQ(outcome([&] { return download(mid); }), "8.8.5/4.10");
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
  // All three arrive; their order depends on each entry's backoff.
  auto points = endpoint.points(iccid);
  std::sort(points.begin(), points.end());
  EXPECT_EQ(points, (std::vector<int>{1, 3, 4}));
  EXPECT_EQ(w->smdp->notifier().pending(), 0u);
}

// Codes from SGP.22 v2.2.2's ES2+ tables (5.3.1 DownloadOrder, 5.3.2
// ConfirmOrder); see docs/sgp22-status-codes.md.
TEST_F(Es2Plus, OrderCodesOfSgp22Tables) {
  auto c = client_for(ops.a);
  std::string eid = w->euicc->eid_hex();
  std::string available;
  w->smdp->profiles().db().query("SELECT iccid FROM profiles WHERE owner='OP-A' AND state='available' LIMIT 1", {},
                                 [&](const store::Row& r) { available = r.text(0); });
  // An ICCID that is not of the requested type: 8.2.5/3.8.
  EXPECT_EQ(status(call(c, "downloadOrder", {{"iccid", available}, {"profileType", "iot"}})), "8.2.5/3.8");
  std::string iccid = call(c, "downloadOrder", {{"profileType", "roaming"}})["iccid"];
  // A zero-length matchingId (default SM-DP+) or an SM-DS needs an EID: 8.1.1/2.2.
  EXPECT_EQ(status(call(c, "confirmOrder", {{"iccid", iccid}, {"matchingId", ""}, {"releaseFlag", true}})), "8.1.1/2.2");
  EXPECT_EQ(status(call(c, "confirmOrder", {{"iccid", iccid}, {"smdsAddress", "smds.example.com"}, {"releaseFlag", true}})),
            "8.1.1/2.2");
  // No SM-DS can be reached from here (no ES12): 8.9/5.1 rather than an order no device hears of.
  EXPECT_EQ(status(call(c, "confirmOrder",
                        {{"iccid", iccid}, {"eid", eid}, {"smdsAddress", "smds.example.com"}, {"releaseFlag", true}})),
            "8.9/5.1");
  EXPECT_EQ(w->smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Allocated);
  // Default SM-DP+ use case: ordered for an EID with an empty matchingId,
  // downloaded by that eUICC asking without one.
  auto confirm = call(c, "confirmOrder", {{"iccid", iccid}, {"eid", eid}, {"matchingId", ""}, {"releaseFlag", true}});
  ASSERT_EQ(status(confirm), "ok") << confirm.dump();
  EXPECT_EQ(confirm["matchingId"], "");
  EXPECT_EQ(outcome([&] {
              lpa::DownloadOptions opt;
              opt.es9.http.ca_file = w->tls_ca_pem;
              opt.matching_id = std::string();
              return lpa::download(*w->euicc, lpa::ActivationCode::parse(w->activation_code("ignored")), opt);
            }),
            "installed");
  EXPECT_EQ(w->smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Installed);
}

// An order without EID gets the EID of the eUICC that authenticated for it
// (SGP.22 3.1.3): CancelOrder naming another EID is refused, naming that one
// cancels.
TEST_F(Es2Plus, CancelOrderChecksTheEidTheOrderGotBoundTo) {
  auto c = client_for(ops.a);
  std::string iccid = call(c, "downloadOrder", {{"profileType", "roaming"}})["iccid"];
  std::string mid = call(c, "confirmOrder", {{"iccid", iccid}, {"releaseFlag", true}})["matchingId"];
  EXPECT_NE(outcome([&] {
              lpa::DownloadOptions opt;
              opt.es9.http.ca_file = w->tls_ca_pem;
              opt.confirm = [](const lpa::ProfileOffer&) { return false; };  // the user declines
              return lpa::download(*w->euicc, lpa::ActivationCode::parse(w->activation_code(mid)), opt);
            }),
            "installed");
  auto cancel = [&](const std::string& eid) {
    return status(call(c, "cancelOrder", {{"iccid", iccid}, {"eid", eid}, {"finalProfileStatusIndicator", "Available"}}));
  };
  EXPECT_EQ(cancel("89049032123451234512345678900017"), "8.1.1/3.10");
  EXPECT_EQ(cancel(w->euicc->eid_hex()), "ok");
  EXPECT_EQ(w->smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Available);
}

// LPAs retry notifications: a PIR delivered twice changes nothing and the
// operator hears of the installation once.
TEST_F(Es2Plus, RepeatedInstallNotificationNotifiesOnce) {
  auto c = client_for(ops.a);
  std::string eid = w->euicc->eid_hex();
  std::string iccid = call(c, "downloadOrder", {{"profileType", "roaming"}, {"eid", eid}})["iccid"];
  std::string mid = call(c, "confirmOrder", {{"iccid", iccid}, {"releaseFlag", true}})["matchingId"];
  lpa::DownloadOptions opt;
  opt.es9.http.ca_file = w->tls_ca_pem;
  opt.notifications = lpa::DownloadOptions::Notifications::None;
  ASSERT_TRUE(lpa::download(*w->euicc, lpa::ActivationCode::parse(w->activation_code(mid)), opt).installation.success);
  lpa::Es10Client es10(*w->euicc);
  for (int i = 0; i < 2; ++i) {
    auto out = lpa::process_notifications(es10, notification_options(/*remove=*/false));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(out[0].delivered) << out[0].error;
  }
  EXPECT_EQ(w->smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Installed);
  wait_for_points(iccid, 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a second point 4 would arrive by now
  EXPECT_EQ(endpoint.points(iccid), (std::vector<int>{1, 3, 4}));
}

// A PIR that arrives after the same eUICC started another session still
// marks the profile installed: it is signed by the eUICC it is bound to.
TEST_F(Es2Plus, LateInstallNotificationFromAnEarlierSessionMarksInstalled) {
  auto c = client_for(ops.a);
  std::string iccid = call(c, "downloadOrder", {{"profileType", "roaming"}})["iccid"];
  std::string mid = call(c, "confirmOrder", {{"iccid", iccid}, {"releaseFlag", true}})["matchingId"];
  auto ac = lpa::ActivationCode::parse(w->activation_code(mid));
  lpa::DownloadOptions quiet;
  quiet.es9.http.ca_file = w->tls_ca_pem;
  quiet.notifications = lpa::DownloadOptions::Notifications::None;  // the PIR waits on the eUICC
  ASSERT_TRUE(lpa::download(*w->euicc, ac, quiet).installation.success);
  lpa::DownloadOptions decline = quiet;
  decline.confirm = [](const lpa::ProfileOffer&) { return false; };  // a second session, abandoned
  EXPECT_NE(outcome([&] { return lpa::download(*w->euicc, ac, decline); }), "installed");
  EXPECT_NE(w->smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Installed);
  lpa::Es10Client es10(*w->euicc);
  auto out = lpa::process_notifications(es10, notification_options());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].delivered) << out[0].error;
  EXPECT_EQ(w->smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Installed);
}

// The profile metadata asks for enable/disable/delete notifications
// (StoreMetadata notificationConfigurationInfo); the SM-DP+ records each once
// and forwards it to the owning operator; a deleted profile is no longer
// installed.
TEST_F(Es2Plus, EnableDisableDeleteNotificationsAreRecordedAndForwarded) {
  auto c = client_for(ops.a);
  std::string eid = w->euicc->eid_hex();
  std::string iccid = call(c, "downloadOrder", {{"profileType", "roaming"}, {"eid", eid}})["iccid"];
  std::string mid = call(c, "confirmOrder", {{"iccid", iccid}, {"releaseFlag", true}})["matchingId"];
  ASSERT_TRUE(download(mid).installation.success);
  lpa::Es10Client es10(*w->euicc);
  auto id = lpa::ProfileId::from_iccid(iccid);
  ASSERT_TRUE(es10.enable_profile(id).ok());
  ASSERT_TRUE(es10.disable_profile(id).ok());
  ASSERT_TRUE(es10.delete_profile(id).ok());
  auto first = lpa::process_notifications(es10, notification_options(/*remove=*/false));
  ASSERT_EQ(first.size(), 3u);
  for (auto& n : first) EXPECT_TRUE(n.delivered) << n.error;
  lpa::process_notifications(es10, notification_options());  // sent again (LPA retry): recorded once
  EXPECT_EQ(w->smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Unavailable);
  wait_for_points(iccid, 6);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(endpoint.points(iccid), (std::vector<int>{1, 3, 4, smdp::kPointEnabled, smdp::kPointDisabled,
                                                      smdp::kPointDeleted}));
  int recorded = 0;
  w->smdp->profiles().db().query("SELECT COUNT(*) FROM notifications WHERE eid = ?", {eid},
                                 [&](const store::Row& r) { recorded = static_cast<int>(r.i64(0)); });
  EXPECT_EQ(recorded, 3);
}

namespace {

// The eUICC's ProfileInstallationResult (BF37) with `edit` applied to its
// data and signed again with the eUICC's key, as that eUICC would sign it:
// only what `edit` changes differs from the genuine PIR.
Bytes resigned_pir(ByteView pir_der, const crypto::EcKey& euicc_key,
                   const std::function<void(ProfileInstallationResultData_t&)>& edit) {
  auto pir = RSP_ASN1_DECODE(ProfileInstallationResult, pir_der);
  edit(pir->profileInstallationResultData);
  Bytes data = RSP_ASN1_ENCODE(ProfileInstallationResultData, &pir->profileInstallationResultData);
  asn1::set(pir->euiccSignPIR, euicc_key.sign(data));
  return pir.encode_der();
}

// ES9+.HandleNotification with `pir`: "" for 204, else the status code.
std::string handle_notification(World& w, ByteView pir) {
  http::ClientConfig cc;
  cc.ca_file = w.tls_ca_pem;
  http::Client client(cc);
  http::Headers h;
  h.set("X-Admin-Protocol", "gsma/rsp/v2.2.2");
  h.set("Content-Type", "application/json");
  auto r = client.post("https://" + w.address + "/gsma/rsp2/es9plus/handleNotification",
                       json{{"pendingNotification", to_base64(pir)}}.dump(), h);
  if (r.status == 204) return "";
  auto s = json::parse(r.body)["header"]["functionExecutionStatus"]["statusCodeData"];
  return s["subjectCode"].get<std::string>() + "/" + s["reasonCode"].get<std::string>();
}

}  // namespace

// Issue 8 point 6: a PIR whose smdpOid is not this SM-DP+'s (SGP.22 5.6.4,
// as CancelSession 5.6.5) is refused with 8.8/3.10 and changes nothing; the
// genuine PIR afterwards still installs.
TEST_F(Es2Plus, InstallNotificationForAnotherSmdpOidIsRefused) {
  auto c = client_for(ops.a);
  std::string iccid = call(c, "downloadOrder", {{"profileType", "roaming"}})["iccid"];
  std::string mid = call(c, "confirmOrder", {{"iccid", iccid}, {"releaseFlag", true}})["matchingId"];
  lpa::DownloadOptions quiet;
  quiet.es9.http.ca_file = w->tls_ca_pem;
  quiet.notifications = lpa::DownloadOptions::Notifications::None;  // the PIR waits on the eUICC
  ASSERT_TRUE(lpa::download(*w->euicc, lpa::ActivationCode::parse(w->activation_code(mid)), quiet).installation.success);
  lpa::Es10Client es10(*w->euicc);
  auto pending = es10.retrieve_notifications();
  ASSERT_EQ(pending.size(), 1u);
  Bytes genuine = pending[0].raw;
  ASSERT_EQ(asn1::oid_to_string(RSP_ASN1_DECODE(ProfileInstallationResult, genuine)
                                    ->profileInstallationResultData.smdpOid),
            *w->pki.dp_pb.cert().registered_id);

  Bytes foreign = resigned_pir(genuine, w->pki.euicc.key, [](ProfileInstallationResultData_t& d) {
    asn1::set_oid(d.smdpOid, "2.999.77");  // another SM-DP+
  });
  EXPECT_EQ(handle_notification(*w, foreign), "8.8/3.10");
  EXPECT_EQ(w->smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Downloaded);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(endpoint.points(iccid), (std::vector<int>{1, 3}));  // no point 4 for the refused PIR

  EXPECT_EQ(handle_notification(*w, genuine), "");
  EXPECT_EQ(w->smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Installed);
  wait_for_points(iccid, 3);
  EXPECT_EQ(endpoint.points(iccid), (std::vector<int>{1, 3, 4}));
}

// Issue 8 point 6: after a successful PIR, a signed failed PIR for the same
// session (an LPA replaying a stale one, or a buggy eUICC) changes nothing:
// the profile stays installed and the operator hears of the installation once.
TEST_F(Es2Plus, FailedInstallNotificationAfterASuccessfulOneChangesNothing) {
  auto c = client_for(ops.a);
  std::string iccid = call(c, "downloadOrder", {{"profileType", "roaming"}})["iccid"];
  std::string mid = call(c, "confirmOrder", {{"iccid", iccid}, {"releaseFlag", true}})["matchingId"];
  lpa::DownloadOptions quiet;
  quiet.es9.http.ca_file = w->tls_ca_pem;
  quiet.notifications = lpa::DownloadOptions::Notifications::None;
  ASSERT_TRUE(lpa::download(*w->euicc, lpa::ActivationCode::parse(w->activation_code(mid)), quiet).installation.success);
  lpa::Es10Client es10(*w->euicc);
  auto pending = es10.retrieve_notifications();
  ASSERT_EQ(pending.size(), 1u);
  Bytes success = pending[0].raw;
  Bytes failure = resigned_pir(success, w->pki.euicc.key, [](ProfileInstallationResultData_t& d) {
    auto& fr = d.finalResult;
    ASSERT_EQ(fr.present, ProfileInstallationResultData__finalResult_PR_successResult);
    asn1::free_contents(asn_DEF_SuccessResult, &fr.choice.successResult);
    std::memset(static_cast<void*>(&fr.choice), 0, sizeof fr.choice);
    fr.present = ProfileInstallationResultData__finalResult_PR_errorResult;
    asn1::set_int64(fr.choice.errorResult.bppCommandId, 3);   // loadProfileElements
    asn1::set_int64(fr.choice.errorResult.errorReason, 127);  // undefinedError
  });

  EXPECT_EQ(handle_notification(*w, success), "");
  EXPECT_EQ(w->smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Installed);
  wait_for_points(iccid, 3);
  EXPECT_EQ(handle_notification(*w, failure), "");  // accepted (signed by the eUICC), but changes nothing
  EXPECT_EQ(handle_notification(*w, failure), "");
  EXPECT_EQ(w->smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Installed);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a second point 4 would arrive by now
  EXPECT_EQ(endpoint.points(iccid), (std::vector<int>{1, 3, 4}));
}

// Issue 13 metrics (docs/operations.md): ES2+ calls by function and SGP.22
// result, the inventory by profile type and state at scrape, and failed
// handshakes on the ES2+ listener (mutual TLS).
TEST_F(Es2Plus, CallsAndHandshakesAreCounted) {
  auto b = client_for(ops.b);
  EXPECT_EQ(status(call(b, "downloadOrder", {{"profileType", "roaming"}})), "ok");
  EXPECT_EQ(status(call(b, "downloadOrder", {{"profileType", "roaming"}})), "ok");
  EXPECT_EQ(status(call(b, "downloadOrder", {{"profileType", "roaming"}})), "8.2.5/3.7");
  int http_status = 0;
  call(b, "noSuchFunction", json::object(), &http_status);
  EXPECT_EQ(http_status, 404);
  http::ClientConfig anon;
  anon.ca_file = w->tls_ca_pem;
  http::Client anonymous(anon);
  EXPECT_THROW(call(anonymous, "downloadOrder", {{"profileType", "roaming"}}), http::HttpError);

  auto has = [&](const std::string& line) {
    return w->smdp->metrics().registry.render().find("\n" + line + "\n") != std::string::npos;
  };
  EXPECT_TRUE(has("smdp_es2plus_requests_total{function=\"downloadOrder\",result=\"executed-success\"} 2"));
  EXPECT_TRUE(has("smdp_es2plus_requests_total{function=\"downloadOrder\",result=\"8.2.5/3.7\"} 1"));
  EXPECT_TRUE(has("smdp_es2plus_requests_total{function=\"unknown\",result=\"http-404\"} 1"));
  EXPECT_TRUE(has("smdp_request_duration_seconds_count{interface=\"es2plus\",function=\"downloadOrder\"} 3"));
  // 40 of OP-A's and none of OP-B's are still available; OP-B's two allocated.
  EXPECT_TRUE(has("smdp_profiles{type=\"roaming\",state=\"available\"} 40"));
  EXPECT_TRUE(has("smdp_profiles{type=\"roaming\",state=\"allocated\"} 2"));
  // The anonymous client's handshake failed (counted on a worker: polled).
  bool failed = false;
  for (int i = 0; i < 50 && !failed; ++i) {
    failed = has("smdp_tls_handshakes_total{listener=\"es2plus\",result=\"failed\"} 1");
    if (!failed) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(failed);
  EXPECT_NE(w->smdp->metrics().registry.render().find("smdp_tls_handshakes_total{listener=\"es2plus\",result=\"ok\"} "),
            std::string::npos);
}

// Issue 12, must-show 4: two SM-DP+ instances on one store (one PostgreSQL
// database in e2e_download_tests_pg, one SQLite file otherwise), as behind a
// load balancer. ES2+ orders go to both at once; every ES9+ request of a
// download goes to the other instance than the one before, so each session is
// continued by the instance that did not start it. No profile is allocated or
// bound twice, and every download installs.
TEST_F(Es2Plus, TwoInstancesOnOneStoreShareOrdersAndSessions) {
  smdp::Config c2 = w->config;
  c2.port = e2e::free_loopback_port();
  c2.es2plus_port = e2e::free_loopback_port();
  smdp::Server second(c2);
  second.start();
  std::uint16_t es2_ports[2] = {w->smdp->es2plus_port(), second.es2plus_port()};
  auto call_on = [&](int instance, OperatorClient& c, const std::string& fn, const json& body) {
    http::Headers h;
    h.set("Content-Type", "application/json");
    h.set("X-Admin-Protocol", "gsma/rsp/v2.2.2");
    auto r = c.post("https://localhost:" + std::to_string(es2_ports[instance]) + "/gsma/rsp2/es2plus/" + fn,
                    with_header(body, c.id).dump(), h);
    return r.status == 200 ? json::parse(r.body) : json{{"http", r.status}};
  };

  // 50 DownloadOrders for 40 profiles, alternately on the two instances.
  std::vector<std::string> outcomes(50);
  std::vector<std::thread> threads;
  for (int i = 0; i < 50; ++i)
    threads.emplace_back([&, i] {
      auto c = client_for(ops.a);
      auto r = call_on(i % 2, c, "downloadOrder", {{"profileType", "roaming"}});
      outcomes[static_cast<std::size_t>(i)] = status(r) == "ok" ? r["iccid"].get<std::string>() : status(r);
    });
  for (auto& t : threads) t.join();
  std::set<std::string> iccids;
  int refused = 0;
  for (auto& o : outcomes) {
    if (o == "8.2.5/3.7") ++refused;
    else EXPECT_TRUE(iccids.insert(o).second) << o << " allocated twice";
  }
  EXPECT_EQ(iccids.size(), 40u);
  EXPECT_EQ(refused, 10);

  // Six of them: ConfirmOrder on the instance that did not allocate it (a
  // matching id each), then downloaded at once by six eUICCs, request by
  // request alternating between the instances.
  constexpr int kDownloads = 6;
  std::vector<std::string> chosen(iccids.begin(), iccids.end());
  chosen.resize(kDownloads);
  std::vector<std::string> matching_ids;
  for (int i = 0; i < kDownloads; ++i) {
    auto c = client_for(ops.a);
    auto r = call_on((i + 1) % 2, c, "confirmOrder",
                     {{"iccid", chosen[static_cast<std::size_t>(i)]}, {"releaseFlag", true}});
    ASSERT_EQ(status(r), "ok") << r.dump();
    matching_ids.push_back(r["matchingId"].get<std::string>());
  }
  std::string ports[2] = {std::to_string(w->smdp->port()), std::to_string(second.port())};
  std::atomic<int> requests{0}, hits[2] = {0, 0};
  std::vector<std::string> eids, results(kDownloads);
  std::vector<std::unique_ptr<sim::Euicc>> euiccs;
  for (int i = 0; i < kDownloads; ++i) {
    std::string first30 = "89049032123451234512345678" + std::to_string(9100 + i);
    int rem = 0;
    for (char ch : first30 + "00") rem = (rem * 10 + (ch - '0')) % 97;
    char check[8];
    std::snprintf(check, sizeof check, "%02d", 98 - rem);
    eids.push_back(first30 + check);
    euiccs.push_back(w->another_euicc(eids.back()));
  }
  threads.clear();
  for (int i = 0; i < kDownloads; ++i)
    threads.emplace_back([&, i] {
      auto client = std::make_shared<http::Client>([&] {
        http::ClientConfig cc;
        cc.ca_file = w->tls_ca_pem;
        return cc;
      }());
      auto turn = std::make_shared<int>(i % 2);  // shared by copies of the function
      lpa::DownloadOptions opt;
      opt.es9.http.ca_file = w->tls_ca_pem;
      opt.es9.post = [&, client, turn](const std::string& url, const http::Headers& h, const std::string& body) {
        // The load balancer: this request to the other instance than the last.
        std::string u = url;
        std::size_t at = u.find(":" + ports[0] + "/");
        if (at != std::string::npos) u.replace(at + 1, ports[0].size(), ports[*turn]);
        ++hits[*turn];
        *turn = 1 - *turn;
        ++requests;
        return client->post(u, body, h);
      };
      results[static_cast<std::size_t>(i)] = outcome([&] {
        return lpa::download(*euiccs[static_cast<std::size_t>(i)],
                             lpa::ActivationCode::parse(w->activation_code(matching_ids[static_cast<std::size_t>(i)])), opt);
      });
    });
  for (auto& t : threads) t.join();
  EXPECT_GE(requests.load(), kDownloads * 4);  // initiate, authenticate, getBPP, notification
  EXPECT_GE(hits[0].load(), kDownloads * 2);
  EXPECT_GE(hits[1].load(), kDownloads * 2);
  for (int i = 0; i < kDownloads; ++i) {
    EXPECT_EQ(results[static_cast<std::size_t>(i)], "installed") << matching_ids[static_cast<std::size_t>(i)];
    auto p = w->smdp->profiles().by_iccid(chosen[static_cast<std::size_t>(i)]);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->eid, eids[static_cast<std::size_t>(i)]) << p->iccid << " bound to another EID";
    EXPECT_EQ(smdp::to_string(p->state), "installed") << p->iccid;
    ASSERT_EQ(euiccs[static_cast<std::size_t>(i)]->profiles().size(), 1u);
    EXPECT_EQ(euiccs[static_cast<std::size_t>(i)]->profiles()[0].iccid, p->iccid);
  }
  // The store agrees: each EID holds one profile, each profile one EID.
  std::map<std::string, int> per_eid;
  w->smdp->profiles().db().query("SELECT eid FROM profiles WHERE eid <> ''", {},
                                 [&](const store::Row& r) { ++per_eid[r.text(0)]; });
  for (const auto& eid : eids) EXPECT_EQ(per_eid[eid], 1) << eid;
  second.stop();
}
