// What the SM-DP+ and the eUICC refuse, each with the code SGP.22 names.
// The LPA runs the real download; an interceptor on its ES9+ link tampers
// with one message at a time, as an attacker in the path (or a broken LPA)
// would.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "rsp/http_client.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/tlv.hpp"
#include "attempt.hpp"
#include "world.hpp"

using namespace rsp;
using nlohmann::json;
using rsp::e2e::World;
namespace fs = std::filesystem;

namespace {

using rsp::e2e::read_file;
using rsp::e2e::attempt;

const fs::path kProfile = rsp::e2e::testdata("ts48/TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der");

void flip_base64_byte(json& j, const char* field, std::ptrdiff_t from_end) {
  Bytes b = from_base64(j.at(field).get<std::string>());
  b[static_cast<std::size_t>(static_cast<std::ptrdiff_t>(b.size()) - from_end)] ^= 0x01;
  j[field] = to_base64(b);
}

class Negative : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kProfile)) GTEST_SKIP() << "TS.48 test profiles absent";
    w = std::make_unique<World>(crypto::Curve::P256, "neg");
    iccid = w->stage(read_file(kProfile), "MID");
  }
  std::unique_ptr<World> w;
  std::string iccid;
};

}  // namespace

TEST_F(Negative, UnknownCi) {
  certs::PkiOptions po;
  auto other = certs::generate_pki(po);  // a chain under a CI the SM-DP+ does not hold
  w->replace_euicc(other.euicc.der, other.euicc.key, other.eum.der);
  auto a = attempt(*w, "MID");
  EXPECT_EQ(a.subject + "/" + a.reason, "8.11.1/3.9") << a.what;
}

TEST_F(Negative, EidOutsideEumConstraint) {
  certs::CertSpec spec;
  spec.role = certs::Role::Euicc;
  spec.subject = "C=ES,O=RSP Test EUM,serialNumber=89049099000000000000000000000042,CN=Rogue eUICC";
  spec.not_before = std::time(nullptr) - 3600;
  spec.not_after = std::time(nullptr) + 86400;
  auto key = crypto::EcKey::generate(crypto::Curve::P256);
  auto eum = w->pki.eum.cert();
  Bytes der = certs::issue_certificate(spec, key, w->pki.eum.key, &eum);
  w->replace_euicc(der, key, w->pki.eum.der);
  auto a = attempt(*w, "MID");
  EXPECT_EQ(a.subject + "/" + a.reason, "8.1.3/6.1") << a.what;
}

TEST_F(Negative, WronglySignedEuiccCertificate) {
  auto a = attempt(*w, "MID", [](const std::string& fn, json& j) {
    if (fn != "authenticateClient") return;
    // The eUICC certificate's signature sits just before CERT.EUM, the last
    // element of AuthenticateResponseOk: flip a byte inside it.
    Bytes asr = from_base64(j["authenticateServerResponse"].get<std::string>());
    auto ok = tlv::parse_all(tlv::parse_one(tlv::parse_one(asr).value).value);
    std::size_t cert_end = static_cast<std::size_t>(ok[2].raw.data() - asr.data()) + ok[2].raw.size();
    asr[cert_end - 5] ^= 0x01;
    j["authenticateServerResponse"] = to_base64(asr);
  });
  EXPECT_EQ(a.subject + "/" + a.reason, "8.1.3/6.1") << a.what;
}

TEST_F(Negative, ExpiredCertificate) {
  // The SM-DP+ clock 20 years ahead: every certificate of the chain has expired.
  w->smdp->es9plus().set_clock([] { return std::time(nullptr) + 20L * 365 * 86400; });
  auto a = attempt(*w, "MID");
  EXPECT_EQ(a.reason, "6.3") << a.what;
  EXPECT_TRUE(a.subject == "8.1.2" || a.subject == "8.1.3") << a.subject;
}

TEST_F(Negative, BadEuiccSignature1) {
  auto a = attempt(*w, "MID", [](const std::string& fn, json& j) {
    if (fn != "authenticateClient") return;
    Bytes asr = from_base64(j["authenticateServerResponse"].get<std::string>());
    auto ok = tlv::parse_all(tlv::parse_one(tlv::parse_one(asr).value).value);
    std::size_t sig_end = static_cast<std::size_t>(ok[1].raw.data() - asr.data()) + ok[1].raw.size();
    asr[sig_end - 1] ^= 0x01;  // last byte of euiccSignature1
    j["authenticateServerResponse"] = to_base64(asr);
  });
  EXPECT_EQ(a.subject + "/" + a.reason, "8.1/6.1") << a.what;
}

TEST_F(Negative, WrongMatchingId) {
  auto a = attempt(*w, "NOT-A-MATCHING-ID");
  EXPECT_EQ(a.subject + "/" + a.reason, "8.2.6/3.8") << a.what;
}

TEST_F(Negative, UnknownAndReusedTransactionId) {
  auto unknown = attempt(*w, "MID", [](const std::string& fn, json& j) {
    if (fn == "authenticateClient") j["transactionId"] = "00112233445566778899AABBCCDDEEFF";
  });
  EXPECT_EQ(unknown.subject + "/" + unknown.reason, "8.10.1/3.9") << unknown.what;

  // A finished session's transactionId cannot be used again.
  w->replace_euicc(w->pki.euicc.der, w->pki.euicc.key, w->pki.eum.der);
  std::string used;
  auto ok = attempt(*w, "MID", [&](const std::string& fn, json& j) {
    if (fn == "getBoundProfilePackage") used = j["transactionId"];
  });
  ASSERT_TRUE(ok.result && ok.result->installation.success) << ok.what;
  http::ClientConfig c;
  c.ca_file = w->tls_ca_pem;
  http::Client client(c);
  http::Headers h;
  h.set("X-Admin-Protocol", "gsma/rsp/v2.2.2");
  h.set("Content-Type", "application/json");
  auto r = client.post("https://" + w->address + "/gsma/rsp2/es9plus/getBoundProfilePackage",
                       json{{"transactionId", used}, {"prepareDownloadResponse", "vyGAAA=="}}.dump(), h);
  auto j = json::parse(r.body);
  EXPECT_EQ(j["header"]["functionExecutionStatus"]["status"], "Failed");
  EXPECT_EQ(j["header"]["functionExecutionStatus"]["statusCodeData"]["subjectCode"], "8.10.1");
  EXPECT_EQ(j["header"]["functionExecutionStatus"]["statusCodeData"]["reasonCode"], "3.9");
}

TEST_F(Negative, SessionPastExpiry) {
  std::time_t start = std::time(nullptr);
  bool late = false;
  w->smdp->es9plus().set_clock([&] { return late ? start + 3600 : start; });
  auto a = attempt(*w, "MID", [&](const std::string& fn, json&) {
    if (fn == "authenticateClient") late = true;  // an hour after initiateAuthentication
  });
  EXPECT_EQ(a.subject + "/" + a.reason, "8.10.1/3.9") << a.what;
}

TEST_F(Negative, TamperedBppSegmentIsRefusedByTheEuicc) {
  auto a = attempt(*w, "MID", {}, [](const std::string& fn, json& j) {
    if (fn == "getBoundProfilePackage") flip_base64_byte(j, "boundProfilePackage", 100);  // inside the last 86
  });
  ASSERT_TRUE(a.result) << a.what;
  EXPECT_FALSE(a.result->installation.success);
  EXPECT_EQ(a.result->installation.error_reason, 8) << a.result->installation.describe();  // scp03tSecurityError
  EXPECT_TRUE(w->euicc->profiles().empty());
}

TEST_F(Negative, ReplayedBppSegmentIsRefusedByTheEuicc) {
  auto a = attempt(*w, "MID", {}, [](const std::string& fn, json& j) {
    if (fn != "getBoundProfilePackage") return;
    // Send the first profile segment twice: BF36 { BF23, A0, A1, A3 { 86 86 ... } }.
    Bytes bpp = from_base64(j["boundProfilePackage"].get<std::string>());
    auto parts = tlv::parse_all(tlv::parse_one(bpp).value);
    Bytes body;
    for (auto& p : parts) {
      if (p.tag != 0xA3) {
        append(body, p.raw);
        continue;
      }
      auto segs = tlv::parse_all(p.value);
      Bytes seq = concat(segs[0].raw, segs[0].raw);
      for (std::size_t i = 1; i < segs.size(); ++i) append(seq, segs[i].raw);
      append(body, tlv::make(0xA3, seq));
    }
    j["boundProfilePackage"] = to_base64(tlv::make(0xBF36, body));
  });
  ASSERT_TRUE(a.result) << a.what;
  EXPECT_FALSE(a.result->installation.success);
  EXPECT_EQ(a.result->installation.error_reason, 8) << a.result->installation.describe();
  EXPECT_TRUE(w->euicc->profiles().empty());
}

// Sessions live in the store: an SM-DP+ restarted between authenticateClient
// and getBoundProfilePackage finishes the download it had started.
TEST_F(Negative, SmdpRestartMidSessionLosesNothing) {
  bool restarted = false;
  auto a = attempt(*w, "MID", [&](const std::string& fn, json&) {
    if (fn == "getBoundProfilePackage" && !restarted) {
      w->restart_smdp();
      restarted = true;
    }
  });
  ASSERT_TRUE(restarted);
  ASSERT_TRUE(a.result) << a.what;
  EXPECT_TRUE(a.result->installation.success);
  EXPECT_EQ(w->smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Installed);
}

TEST_F(Negative, MalformedInputGetsClearErrors) {
  http::ClientConfig c;
  c.ca_file = w->tls_ca_pem;
  http::Client client(c);
  http::Headers h;
  h.set("X-Admin-Protocol", "gsma/rsp/v2.2.2");
  h.set("Content-Type", "application/json");
  std::string url = "https://" + w->address + "/gsma/rsp2/es9plus/";
  EXPECT_EQ(client.post(url + "initiateAuthentication", "{not json", h).status, 400);
  auto status = [&](const std::string& fn, const json& body) {
    auto r = client.post(url + fn, body.dump(), h);
    EXPECT_EQ(r.status, 200);
    auto j = json::parse(r.body)["header"]["functionExecutionStatus"];
    return j["status"].get<std::string>() + " " + j["statusCodeData"]["subjectCode"].get<std::string>() + "/" +
           j["statusCodeData"]["reasonCode"].get<std::string>();
  };
  EXPECT_EQ(status("initiateAuthentication", json{{"smdpAddress", w->address}}), "Failed 1.2/2.2");
  EXPECT_EQ(status("initiateAuthentication",
                   json{{"smdpAddress", w->address}, {"euiccChallenge", "!!!"}, {"euiccInfo1", "vyA="}}),
            "Failed 1.2/2.1");
  EXPECT_EQ(status("initiateAuthentication", json{{"smdpAddress", w->address},
                                                  {"euiccChallenge", to_base64(Bytes(16, 1))},
                                                  {"euiccInfo1", to_base64(from_hex("bf2003820102"))}}),
            "Failed 1.2/2.1");
  EXPECT_EQ(status("initiateAuthentication", json{{"smdpAddress", "evil.example.com"},
                                                  {"euiccChallenge", to_base64(Bytes(16, 1))},
                                                  {"euiccInfo1", to_base64(from_hex("bf2000"))}}),
            "Failed 8.8.1/3.8");
  EXPECT_EQ(status("authenticateClient", json{{"transactionId", "zz"}, {"authenticateServerResponse", "AA=="}}),
            "Failed 8.10.1/3.9");
  EXPECT_EQ(status("handleNotification", json{{"pendingNotification", to_base64(from_hex("bf37030102"))}}),
            "Failed 1.2/2.1");
}
