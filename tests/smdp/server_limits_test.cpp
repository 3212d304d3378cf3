// What an outsider can send the SM-DP+'s HTTPS front (smdp/src/server.cpp)
// and what it must survive: hostile JSON, oversized bodies, floods. Each test
// runs a real smdp::Server on loopback.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "../e2e/world.hpp"
#include "rsp/http_client.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/smdp/profile_template.hpp"
#include "../common/pg_cluster.hpp"

using namespace rsp;
using nlohmann::json;

namespace {

// {"a":{"a":...{}...}} nested `depth` deep: 85,000 levels are about 510 KB.
std::string nested_object(std::size_t depth) {
  std::string s;
  s.reserve(depth * 6 + 2);
  for (std::size_t i = 0; i < depth; ++i) s += "{\"a\":";
  s += "{}";
  s.append(depth, '}');
  return s;
}

http::Headers es9_headers() {
  http::Headers h;
  h.set("X-Admin-Protocol", "gsma/rsp/v2.2.2");
  h.set("Content-Type", "application/json");
  return h;
}

struct Es9Link {
  http::Client client;
  std::string url;
  Es9Link(const e2e::World& w)
      : client([&] {
          http::ClientConfig c;
          c.ca_file = w.tls_ca_pem;
          return c;
        }()),
        url("https://" + w.address + "/gsma/rsp2/es9plus/") {}
  http::Response post(const std::string& fn, const std::string& body) { return client.post(url + fn, body, es9_headers()); }
  // The function execution status of a reply ("Failed 1.2/2.2").
  std::string status(const std::string& fn, const std::string& body) {
    auto r = post(fn, body);
    if (r.status != 200) return "HTTP " + std::to_string(r.status);
    auto j = json::parse(r.body)["header"]["functionExecutionStatus"];
    std::string s = j["status"];
    if (j.contains("statusCodeData"))
      s += " " + j["statusCodeData"]["subjectCode"].get<std::string>() + "/" +
           j["statusCodeData"]["reasonCode"].get<std::string>();
    return s;
  }
};

}  // namespace

// Issue 9: one unauthenticated request nested 85,000 deep used to kill smdpd
// (SIGSEGV in a recursive copy of the parsed tree). It is refused like any
// other body that is not a usable JSON object (HTTP 400), and the server
// goes on serving.
TEST(SmdpLimits, DeeplyNestedEs9BodyIsRefusedAndTheServerKeepsServing) {
  // The body limits raised to 1 MiB, so that the JSON parser itself meets
  // the 510 KB body (the limits are configurable up to 4 MiB).
  e2e::World w(crypto::Curve::P256, "nested9", [](e2e::World&, smdp::Config& c) {
    c.limits.es9plus_max_body_bytes = 1 << 20;
    c.limits.es9plus_small_body_bytes = 1 << 20;
  });
  Es9Link es9(w);
  std::string deep = nested_object(85'000);
  ASSERT_GT(deep.size(), 500'000u);
  for (const char* fn : {"initiateAuthentication", "authenticateClient", "handleNotification"}) {
    auto r = es9.post(fn, deep);
    EXPECT_EQ(r.status, 400) << fn;
    EXPECT_EQ(r.body, "request body is not a usable JSON object: JSON nested deeper than 8 levels\n");
  }
  // Still serving: a well-formed but incomplete request gets its SGP.22 status.
  EXPECT_EQ(es9.status("initiateAuthentication", json{{"smdpAddress", w.address}}.dump()), "Failed 1.2/2.2");
}

TEST(SmdpLimits, DefaultBodyLimitRefusesTheNestedBodyUnread) {
  e2e::World w(crypto::Curve::P256, "nested9d");
  Es9Link es9(w);
  EXPECT_EQ(es9.post("initiateAuthentication", nested_object(85'000)).status, 413);
  EXPECT_EQ(es9.post("initiateAuthentication", nested_object(9)).status, 400);  // under the body limit
  EXPECT_EQ(es9.status("initiateAuthentication", json{{"smdpAddress", w.address}}.dump()), "Failed 1.2/2.2");
}

TEST(SmdpLimits, DeeplyNestedEs2BodyIsRefusedAndTheServerKeepsServing) {
  auto ca = certs::issue_operator_ca("Operators CA");
  auto op = certs::issue_operator_certificate(ca, "OP-A");
  e2e::World w(crypto::Curve::P256, "nested2", [&](e2e::World&, smdp::Config& c) {
    c.es2plus_port = e2e::free_loopback_port();
    c.operator_ca = ca.der;
    c.operators = {{"OP-A", op.der, ""}};
    c.limits.es2plus_max_body_bytes = 1 << 20;
  });
  http::ClientConfig cc;
  cc.ca_file = w.tls_ca_pem;
  cc.client_cert_pem = to_bytes(certs::to_pem(op.der));
  cc.client_key_pem = SecretBytes(to_bytes(op.key.private_pem()));
  http::Client client(cc);
  std::string url = "https://localhost:" + std::to_string(w.smdp->es2plus_port()) + "/gsma/rsp2/es2plus/";
  auto r = client.post(url + "downloadOrder", nested_object(85'000), es9_headers());
  EXPECT_EQ(r.status, 400);
  r = client.post(url + "downloadOrder", json{{"profileType", "nothing-of-this-type"}}.dump(), es9_headers());
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["header"]["functionExecutionStatus"]["status"], "Failed");
}

// ES2+ over mutual TLS: a body one byte over es2plus_max_body_bytes gets
// 413 before it is read; one at the limit is read and refused by the
// function (it is not JSON), not by its size.
TEST(SmdpLimits, Es2PlusBodyLimit) {
  auto ca = certs::issue_operator_ca("Operators CA");
  auto op = certs::issue_operator_certificate(ca, "OP-A");
  e2e::World w(crypto::Curve::P256, "limit2", [&](e2e::World&, smdp::Config& c) {
    c.es2plus_port = e2e::free_loopback_port();
    c.operator_ca = ca.der;
    c.operators = {{"OP-A", op.der, ""}};
  });
  http::ClientConfig cc;
  cc.ca_file = w.tls_ca_pem;
  cc.client_cert_pem = to_bytes(certs::to_pem(op.der));
  cc.client_key_pem = SecretBytes(to_bytes(op.key.private_pem()));
  http::Client client(cc);
  std::string url = "https://localhost:" + std::to_string(w.smdp->es2plus_port()) + "/gsma/rsp2/es2plus/downloadOrder";
  const smdp::Limits limits;
  EXPECT_EQ(client.post(url, std::string(limits.es2plus_max_body_bytes + 1, ' '), es9_headers()).status, 413);
  EXPECT_EQ(client.post(url, std::string(limits.es2plus_max_body_bytes, ' '), es9_headers()).status, 400);
}

// The ES9+ body limit is sized from the real requests: a whole download
// (the eUICC's CERT.EUICC and CERT.EUM ride in authenticateClient, the
// largest one) must fit with at least 4x headroom. Prints the sizes
// (docs/smdp.md quotes them).
TEST(SmdpLimits, RealRequestsFitTheBodyLimitWithHeadroom) {
  e2e::World w(crypto::Curve::P256, "sizes");
  w.stage(smdp::minimal_profile_template(), "SIZES");
  std::map<std::string, std::size_t> largest;
  auto client = std::make_shared<http::Client>([&] {
    http::ClientConfig c;
    c.ca_file = w.tls_ca_pem;
    return c;
  }());
  lpa::DownloadOptions opt;
  opt.es9.post = [&, client](const std::string& url, const http::Headers& h, const std::string& body) {
    auto& n = largest[url.substr(url.rfind('/') + 1)];
    n = std::max(n, body.size());
    return client->post(url, body, h);
  };
  auto r = lpa::download(*w.euicc, lpa::ActivationCode::parse(w.activation_code("SIZES")), opt);
  ASSERT_TRUE(r.installation.success);
  ASSERT_TRUE(r.notification_sent);
  const smdp::Limits limits;
  for (const auto& [fn, n] : largest) {
    std::size_t limit = smdp::es9plus_body_limit(limits, "/gsma/rsp2/es9plus/" + fn);
    std::printf("  %-26s %6zu bytes (limit %zu)\n", fn.c_str(), n, limit);
    EXPECT_LE(4 * n, limit) << fn;
  }
  EXPECT_EQ(largest.size(), 4u);  // initiateAuthentication, authenticateClient, getBoundProfilePackage, handleNotification
  EXPECT_GT(largest["authenticateClient"], 1000u);  // the two certificates are in it
  // Over each function's limit: 413 before the body is read; at the limit
  // the body is read (and refused by the function, not by its size).
  Es9Link es9(w);
  EXPECT_EQ(es9.post("authenticateClient", std::string(limits.es9plus_max_body_bytes + 1, ' ')).status, 413);
  EXPECT_EQ(es9.post("handleNotification", std::string(limits.es9plus_max_body_bytes + 1, ' ')).status, 413);
  for (const char* fn : {"initiateAuthentication", "getBoundProfilePackage", "cancelSession"}) {
    EXPECT_EQ(es9.post(fn, std::string(limits.es9plus_small_body_bytes + 1, ' ')).status, 413) << fn;
    EXPECT_NE(es9.post(fn, std::string(limits.es9plus_small_body_bytes, ' ')).status, 413) << fn;
  }
}

TEST(SmdpLimits, Es9PlusBodyLimitPerFunction) {
  smdp::Limits l;
  EXPECT_EQ(smdp::es9plus_body_limit(l, "/gsma/rsp2/es9plus/authenticateClient"), 16u * 1024);
  EXPECT_EQ(smdp::es9plus_body_limit(l, "/gsma/rsp2/es9plus/handleNotification"), 16u * 1024);
  EXPECT_EQ(smdp::es9plus_body_limit(l, "/gsma/rsp2/es9plus/initiateAuthentication"), 4u * 1024);
  EXPECT_EQ(smdp::es9plus_body_limit(l, "/gsma/rsp2/es9plus/cancelSession"), 4u * 1024);
  EXPECT_EQ(smdp::es9plus_body_limit(l, "/anything/else"), 4u * 1024);
  l.es9plus_max_body_bytes = 2048;  // the small limit never exceeds the large one
  EXPECT_EQ(smdp::es9plus_body_limit(l, "/gsma/rsp2/es9plus/getBoundProfilePackage"), 2048u);
}

// initiateAuthentication costs a signature and a stored session: one
// address gets `burst` of them, then 429 with Retry-After, while another
// address is served; the other functions are not limited this way.
TEST(SmdpLimits, InitiateAuthenticationIsRateLimitedPerAddress) {
  e2e::World w(crypto::Curve::P256, "rate", [](e2e::World&, smdp::Config& c) {
    c.limits.initiate_authentication_per_second = 0.01;
    c.limits.initiate_authentication_burst = 3;
  });
  Es9Link es9(w);
  std::string body = json{{"smdpAddress", w.address}}.dump();  // refused 1.2/2.2: limited all the same
  for (int i = 0; i < 3; ++i) EXPECT_EQ(es9.status("initiateAuthentication", body), "Failed 1.2/2.2") << i;
  auto r = es9.post("initiateAuthentication", body);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers.get_or("Retry-After", ""), "1");
  EXPECT_EQ(es9.status("authenticateClient", json{{"transactionId", "00"}}.dump()), "Failed 1.2/2.2");
  // Another client address (127.0.0.2 is loopback too) has its own bucket.
  http::ClientConfig cc;
  cc.ca_file = w.tls_ca_pem;
  cc.local_address = "127.0.0.2";
  http::Client other(cc);
  EXPECT_EQ(other.post(es9.url + "initiateAuthentication", body, es9_headers()).status, 200);
}

TEST(SmdpLimits, RateLimiterKeysAndRefills) {
  EXPECT_EQ(smdp::AddressRateLimiter::address_key("10.1.2.3:4567"), "10.1.2.3");
  EXPECT_EQ(smdp::AddressRateLimiter::address_key("[2001:db8:1:2:3:4:5:6]:443"), "2001:db8:1:2::/64");
  smdp::AddressRateLimiter l(1000, 2);  // refills fast
  EXPECT_TRUE(l.allow("10.0.0.1:1"));
  EXPECT_TRUE(l.allow("10.0.0.1:2"));
  EXPECT_FALSE(l.allow("10.0.0.1:3"));
  EXPECT_TRUE(l.allow("10.0.0.2:1"));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(l.allow("10.0.0.1:4"));
  smdp::AddressRateLimiter off(0, 0);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(off.allow("10.0.0.1:1"));
}

// Error replies name the SGP.22 codes, not our internals: an unknown CI's
// chain error used to quote the certificate subjects of our trust chain.
TEST(SmdpLimits, ErrorRepliesCarryCodesNotInternals) {
  e2e::World w(crypto::Curve::P256, "leak");
  w.stage(smdp::minimal_profile_template(), "LEAK");
  // An eUICC whose chain the SM-DP+ cannot verify (its EUM signed by another CI).
  certs::PkiOptions po;
  po.curve = crypto::Curve::P256;
  auto other = certs::generate_pki(po);
  w.replace_euicc(other.euicc.der, other.euicc.key, w.pki.eum.der);
  std::string message;
  auto client = std::make_shared<http::Client>([&] {
    http::ClientConfig c;
    c.ca_file = w.tls_ca_pem;
    return c;
  }());
  lpa::DownloadOptions opt;
  opt.es9.post = [&, client](const std::string& url, const http::Headers& h, const std::string& body) {
    auto r = client->post(url, body, h);
    auto j = json::parse(r.body, nullptr, false);
    if (j.is_object() && j.contains("header") && j["header"]["functionExecutionStatus"]["status"] == "Failed")
      message = j["header"]["functionExecutionStatus"]["statusCodeData"]["message"];
    return r;
  };
  EXPECT_THROW(lpa::download(*w.euicc, lpa::ActivationCode::parse(w.activation_code("LEAK")), opt), std::exception);
  EXPECT_EQ(message, "eUICC Certificate - Verification Failed");
  // And a malformed ASN.1 value: the code, no decoder wording.
  Es9Link es9(w);
  auto r = es9.post("handleNotification", json{{"pendingNotification", to_base64(from_hex("bf37030102"))}}.dump());
  auto j = json::parse(r.body)["header"]["functionExecutionStatus"]["statusCodeData"];
  EXPECT_EQ(j["subjectCode"], "1.2");
  EXPECT_EQ(j["reasonCode"], "2.1");
  EXPECT_EQ(j["message"].get<std::string>().find("asn"), std::string::npos) << j["message"];
}

// Sessions that ended or were abandoned are deleted once older than the
// retention; a session whose BPP went out stays (its install notification
// may come late), and so does anything younger.
TEST(SmdpLimits, PurgeDeletesEndedAndAbandonedSessionsOnly) {
  auto dir = std::filesystem::temp_directory_path() / ("rsp-purge-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    store::Db db(rsp::test::test_store((dir / "s.db").string()));
    smdp::ProfileStore ps(db, Bytes(32, 7));
    std::int64_t now = std::time(nullptr);
    auto put = [&](const std::string& id, const std::string& state, std::int64_t age) {
      smdp::Session s;
      s.transaction_id = id;
      s.state = state;
      s.created_at = static_cast<std::time_t>(now - age);
      ps.put_session(s);
    };
    for (const char* st : {"initiated", "authenticated", "done", "cancelled", "failed", "expired", "install-failed"})
      put(std::string("OLD-") + st, st, 7200);
    put("OLD-bpp-sent", "bpp-sent", 7200);
    put("NEW-initiated", "initiated", 10);
    put("NEW-done", "done", 10);
    EXPECT_EQ(ps.purge_sessions(now - 3600), 7);
    EXPECT_FALSE(ps.session("OLD-done"));
    EXPECT_FALSE(ps.session("OLD-initiated"));
    EXPECT_TRUE(ps.session("OLD-bpp-sent"));
    EXPECT_TRUE(ps.session("NEW-initiated"));
    EXPECT_TRUE(ps.session("NEW-done"));
  }
  std::filesystem::remove_all(dir);
}

// The server runs the purge by itself.
TEST(SmdpLimits, ServerPurgesAbandonedSessions) {
  e2e::World w(crypto::Curve::P256, "purge", [](e2e::World&, smdp::Config& c) {
    c.session_timeout_seconds = 1;
    c.limits.session_retention_seconds = 1;
    c.limits.session_purge_interval_seconds = 1;
  });
  w.stage(smdp::minimal_profile_template(), "PURGE");
  // A download abandoned after initiateAuthentication.
  std::string txn;
  auto client = std::make_shared<http::Client>([&] {
    http::ClientConfig c;
    c.ca_file = w.tls_ca_pem;
    return c;
  }());
  lpa::DownloadOptions opt;
  opt.es9.post = [&, client](const std::string& url, const http::Headers& h, const std::string& body) {
    if (url.find("authenticateClient") != std::string::npos) {
      txn = json::parse(body)["transactionId"];
      throw std::runtime_error("the phone goes away");
    }
    return client->post(url, body, h);
  };
  EXPECT_THROW(lpa::download(*w.euicc, lpa::ActivationCode::parse(w.activation_code("PURGE")), opt), std::exception);
  ASSERT_FALSE(txn.empty());
  ASSERT_TRUE(w.smdp->profiles().session(txn));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (w.smdp->profiles().session(txn) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(w.smdp->profiles().session(txn));
}
