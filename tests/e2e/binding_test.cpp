// One binding per profile (SGP.22 3.1.3, 5.6.3): once authenticateClient has
// associated an EID with a profile download order, only that eUICC may
// download (or retry) it, whatever happens to the install notification; and
// two concurrent ES9+ calls on one transactionId never both pass.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "rsp/http_client.hpp"
#include "rsp/lpa/download.hpp"
#include "world.hpp"

using namespace rsp;
using nlohmann::json;
using rsp::e2e::World;
namespace fs = std::filesystem;

namespace {

const fs::path kProfile = rsp::e2e::testdata("ts48/TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der");
const std::string kOtherEid = "89049032123451234512345678900017";  // same EUM prefix, another device

std::string outcome(const std::function<lpa::DownloadResult()>& run) {
  try {
    auto r = run();
    return r.installation.success ? "installed" : "install failed: " + r.installation.describe();
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

lpa::DownloadOptions options(const World& w) {
  lpa::DownloadOptions opt;
  opt.es9.http.ca_file = w.tls_ca_pem;
  return opt;
}

class Binding : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kProfile)) GTEST_SKIP() << "TS.48 test profiles absent";
    w = std::make_unique<World>(crypto::Curve::P256, "bind");
    iccid = w->stage(rsp::e2e::read_file(kProfile), "MID");  // no EID: any eUICC may claim it first
    ac = lpa::ActivationCode::parse(w->activation_code("MID"));
  }
  std::unique_ptr<World> w;
  std::string iccid;
  lpa::ActivationCode ac;
};

}  // namespace

// The BPP went to eUICC A, whose install notification never arrives: the
// same activation code on eUICC B must not get the same ICCID/Ki/OPc.
TEST_F(Binding, BoundProfileIsNeverBoundToAnotherEid) {
  auto opt = options(*w);
  opt.notifications = lpa::DownloadOptions::Notifications::None;  // PIR lost
  EXPECT_EQ(outcome([&] { return lpa::download(*w->euicc, ac, opt); }), "installed");
  EXPECT_EQ(w->smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Downloaded);

  auto b = w->another_euicc(kOtherEid);
  EXPECT_EQ(outcome([&] { return lpa::download(*b, ac, options(*w)); }), "8.1.1/3.8");
  EXPECT_TRUE(b->profiles().empty());
  EXPECT_EQ(w->smdp->profiles().by_iccid(iccid)->eid, w->pki.euicc.cert().subject_serial_number);
}

// The EID is associated at authenticateClient: a user on eUICC A who
// declines the offer leaves the order to A's retry, not to eUICC B.
TEST_F(Binding, EidAssociatedAtAuthenticateClientOnlyThatEidRetries) {
  auto decline = options(*w);
  decline.confirm = [](const lpa::ProfileOffer&) { return false; };
  EXPECT_NE(outcome([&] { return lpa::download(*w->euicc, ac, decline); }), "installed");

  auto b = w->another_euicc(kOtherEid);
  EXPECT_EQ(outcome([&] { return lpa::download(*b, ac, options(*w)); }), "8.1.1/3.8");
  EXPECT_TRUE(b->profiles().empty());

  EXPECT_EQ(outcome([&] { return lpa::download(*w->euicc, ac, options(*w)); }), "installed");
  EXPECT_EQ(w->smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Installed);
}

// Runs `n` copies of one ES9+ request at once against the SM-DP+ and answers
// the LPA with one that passed; counts how many passed.
struct Race {
  std::string function;
  int n = 6;
  std::atomic<int> passed{0}, refused{0};
  std::vector<std::string> refusals;
  std::mutex mu;

  http::Response run(smdp::Es9Plus& es9, const json& req) {
    std::optional<json> ok;
    std::vector<std::thread> threads;
    std::atomic<bool> go{false};
    for (int i = 0; i < n; ++i)
      threads.emplace_back([&] {
        while (!go) std::this_thread::yield();
        try {
          json r = function == "authenticateClient" ? es9.authenticate_client(req) : es9.get_bound_profile_package(req);
          std::lock_guard l(mu);
          ++passed;
          ok = r;
        } catch (const smdp::FunctionError& e) {
          std::lock_guard l(mu);
          ++refused;
          refusals.push_back(e.subject_code + "/" + e.reason_code);
        }
      });
    go = true;
    for (auto& t : threads) t.join();
    if (!ok) return http::Response::json(R"({"header":{"functionExecutionStatus":{"status":"Failed"}}})");
    return http::Response::json(ok->dump());
  }
};

void race_on(World& w, const std::string& function) {
  Race race;
  race.function = function;
  auto client = std::make_shared<http::Client>([&] {
    http::ClientConfig c;
    c.ca_file = w.tls_ca_pem;
    return c;
  }());
  auto opt = options(w);
  opt.es9.post = [&](const std::string& url, const http::Headers& h, const std::string& body) {
    if (url.substr(url.rfind('/') + 1) == function) return race.run(w.smdp->es9plus(), json::parse(body));
    return client->post(url, body, h);
  };
  auto ac = lpa::ActivationCode::parse(w.activation_code("MID"));
  EXPECT_EQ(outcome([&] { return lpa::download(*w.euicc, ac, opt); }), "installed");
  EXPECT_EQ(race.passed, 1) << function;
  EXPECT_EQ(race.refused, race.n - 1);
  for (auto& r : race.refusals) EXPECT_EQ(r, "8.10.1/3.9");
}

TEST_F(Binding, ConcurrentAuthenticateClientOnOneTransactionPassesOnce) {
  race_on(*w, "authenticateClient");
  EXPECT_EQ(w->smdp->profiles().by_iccid(iccid)->download_attempts, 1);
}

TEST_F(Binding, ConcurrentGetBoundProfilePackageOnOneTransactionPassesOnce) { race_on(*w, "getBoundProfilePackage"); }
