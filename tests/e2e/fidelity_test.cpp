// ES9+ status codes as SGP.22 v2.2.2's tables give them (5.6.1
// InitiateAuthentication, 5.6.3 AuthenticateClient), and the CI key
// identifiers of InitiateAuthentication (euiccCiPKIdListForSigning /
// ForVerification). docs/sgp22-status-codes.md lists each code with its
// section. EUICCInfo1 is assembled here from the module's tags (BF20 { 82
// svn, A9 verification, AA signing }), not by our asn1c code.
#include <gtest/gtest.h>

#include "attempt.hpp"
#include "rsp/tlv.hpp"

using namespace rsp;
using nlohmann::json;
using rsp::e2e::attempt;
using rsp::e2e::World;
namespace fs = std::filesystem;

namespace {

const fs::path kProfile = rsp::e2e::testdata("ts48/TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der");

// EUICCInfo1 (SGP.22 5.7.8): svn 2.2.2 and the two CI key id lists.
Bytes euicc_info1(const std::vector<Bytes>& verification, const std::vector<Bytes>& signing,
                  const Bytes& svn = {2, 2, 2}) {
  auto list = [](std::uint32_t tag, const std::vector<Bytes>& ids) {
    Bytes body;
    for (auto& id : ids) append(body, tlv::make(0x04, id));
    return tlv::make(tag, body);
  };
  return tlv::make(0xBF20, concat(tlv::make(0x82, svn), list(0xA9, verification), list(0xAA, signing)));
}

Bytes ski(const certs::Issued& ci) { return ci.cert().subject_key_id; }

class Fidelity : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kProfile)) GTEST_SKIP() << "TS.48 test profiles absent";
  }
  void make_world(const std::function<void(World&, smdp::Config&)>& configure = {}) {
    w = std::make_unique<World>(crypto::Curve::P256, "fidelity", configure);
    iccid = w->stage(rsp::e2e::read_file(kProfile), "MID");
  }
  std::unique_ptr<World> w;
  std::string iccid;
};

}  // namespace

// 5.6.1: none of the eUICC's signing CIs is ours -> 8.8.2/3.1, even though
// it can verify our DPauth.
TEST_F(Fidelity, NoTrustedSigningCiIs_8_8_2_3_1) {
  make_world();
  Bytes stranger(20, 0x5A);
  auto a = attempt(*w, "MID", [&](const std::string& fn, json& j) {
    if (fn == "initiateAuthentication") j["euiccInfo1"] = to_base64(euicc_info1({ski(w->pki.ci)}, {stranger}));
  });
  EXPECT_EQ(a.code(), "8.8.2/3.1") << a.what;
}

// 5.6.1: the eUICC signs under our CI but cannot verify any CERT.DPauth we
// hold -> 8.8.4/3.7.
TEST_F(Fidelity, NoDpAuthUnderAVerificationCiIs_8_8_4_3_7) {
  make_world();
  Bytes stranger(20, 0x5A);
  auto a = attempt(*w, "MID", [&](const std::string& fn, json& j) {
    if (fn == "initiateAuthentication") j["euiccInfo1"] = to_base64(euicc_info1({stranger}, {ski(w->pki.ci)}));
  });
  EXPECT_EQ(a.code(), "8.8.4/3.7") << a.what;
}

// 5.6.1: an eUICC of another major SGP.22 version -> 8.8.3/3.1.
TEST_F(Fidelity, UnsupportedSpecificationVersionIs_8_8_3_3_1) {
  make_world();
  auto a = attempt(*w, "MID", [&](const std::string& fn, json& j) {
    if (fn == "initiateAuthentication")
      j["euiccInfo1"] = to_base64(euicc_info1({ski(w->pki.ci)}, {ski(w->pki.ci)}, Bytes{3, 0, 0}));
  });
  EXPECT_EQ(a.code(), "8.8.3/3.1") << a.what;
}

// euiccCiPKIdToBeUsed names the CI the eUICC signs under, and the eUICC's
// chain must end there: with two CIs, an eUICC that announced only CI B for
// signing but presents a chain under CI A is refused (8.1.2/6.1).
TEST_F(Fidelity, EuiccChainMustEndAtTheAnnouncedCi) {
  certs::PkiOptions po;
  po.dp_host = "localhost";
  auto b = certs::generate_pki(po);
  make_world([&](World&, smdp::Config& c) {
    auto extra = c.credentials.front();
    extra.ci_certificate = b.ci.der;
    extra.dpauth_certificate = b.dp_auth.der;
    extra.dpauth_key_pem = b.dp_auth.key.private_pem();
    extra.dppb_certificate = b.dp_pb.der;
    extra.dppb_key_pem = b.dp_pb.key.private_pem();
    c.credentials.push_back(extra);
  });
  std::string to_be_used;
  auto a = attempt(
      *w, "MID",
      [&](const std::string& fn, json& j) {
        if (fn == "initiateAuthentication") j["euiccInfo1"] = to_base64(euicc_info1({ski(w->pki.ci)}, {ski(b.ci)}));
      },
      [&](const std::string& fn, json& j) {
        if (fn != "initiateAuthentication") return;
        to_be_used = j["euiccCiPKIdToBeUsed"];
        // The eUICC itself holds no certificate under B; let it sign under A.
        j["euiccCiPKIdToBeUsed"] = to_base64(tlv::make(0x04, ski(w->pki.ci)));
      });
  EXPECT_EQ(to_be_used, to_base64(tlv::make(0x04, ski(b.ci))));  // from the signing list
  EXPECT_EQ(a.code(), "8.1.2/6.1") << a.what;
  EXPECT_FALSE(a.installed());
}

// An EUM certificate without authorityKeyIdentifier cannot be chained to
// any CI: 8.1.2/6.1 (not "unknown CI").
TEST_F(Fidelity, EumWithoutAuthorityKeyIdIs_8_1_2_6_1) {
  make_world();
  certs::CertSpec eum_spec;
  eum_spec.role = certs::Role::Eum;
  eum_spec.subject = "O=RSP Test EUM,CN=Unchainable EUM";
  eum_spec.eum_organization = "RSP Test EUM";
  eum_spec.eid_prefix = "89049032";
  eum_spec.not_before = std::time(nullptr) - 3600;
  eum_spec.not_after = std::time(nullptr) + 86400;
  auto eum_key = crypto::EcKey::generate(crypto::Curve::P256);
  Bytes eum_der = certs::issue_certificate(eum_spec, eum_key, eum_key, nullptr);  // no AKI
  ASSERT_TRUE(certs::parse(eum_der).authority_key_id.empty());
  certs::CertSpec euicc_spec;
  euicc_spec.role = certs::Role::Euicc;
  euicc_spec.subject = "O=RSP Test EUM,serialNumber=89049032123451234512345678901235,CN=RSP Test eUICC";
  euicc_spec.not_before = eum_spec.not_before;
  euicc_spec.not_after = eum_spec.not_after;
  auto euicc_key = crypto::EcKey::generate(crypto::Curve::P256);
  auto eum_cert = certs::parse(eum_der);
  Bytes euicc_der = certs::issue_certificate(euicc_spec, euicc_key, eum_key, &eum_cert);
  w->replace_euicc(euicc_der, euicc_key, eum_der);
  auto a = attempt(*w, "MID");
  EXPECT_EQ(a.code(), "8.1.2/6.1") << a.what;
}

// 5.6.3: the default SM-DP+ use case (no matchingId) from an EID with no
// order -> 8.1.1/3.8.
TEST_F(Fidelity, UnknownEidAtTheDefaultSmdpIs_8_1_1_3_8) {
  make_world();
  auto a = attempt(*w, "MID", {}, {}, std::nullopt, [](lpa::DownloadOptions& o) { o.matching_id = std::string(); });
  EXPECT_EQ(a.code(), "8.1.1/3.8") << a.what;
}

// 5.6.3: the order lapsed; its matching id is remembered -> 8.8.5/4.10.
TEST_F(Fidelity, ExpiredOrderIs_8_8_5_4_10) {
  make_world();
  smdp::Profile p = *w->smdp->profiles().by_iccid(iccid);
  p.order_expires_at = std::time(nullptr) - 60;
  w->smdp->profiles().update(p);
  auto a = attempt(*w, "MID");
  EXPECT_EQ(a.code(), "8.8.5/4.10") << a.what;
  auto again = attempt(*w, "MID");  // remembered, not a one-off
  EXPECT_EQ(again.code(), "8.8.5/4.10") << again.what;
  EXPECT_EQ(attempt(*w, "NEVER-ISSUED").code(), "8.2.6/3.8");
}

// 5.6.3: download attempts of the order exhausted -> 8.8.5/6.4.
TEST_F(Fidelity, DownloadRetriesExhaustedIs_8_8_5_6_4) {
  make_world([](World&, smdp::Config& c) { c.max_download_attempts = 1; });
  auto declined = attempt(*w, "MID", {}, {}, std::nullopt,
                          [](lpa::DownloadOptions& o) { o.confirm = [](const lpa::ProfileOffer&) { return false; }; });
  EXPECT_FALSE(declined.installed());
  auto a = attempt(*w, "MID");
  EXPECT_EQ(a.code(), "8.8.5/6.4") << a.what;
}

// SGP.22 3.1.3 / 5.6.2: a wrong confirmation code leaves the RSP session
// usable: the eUICC prepares the download again with the right code and the
// same transactionId gets its BPP. (Our LPA cancels on any error, so the
// test plays the retrying LPA itself.)
TEST_F(Fidelity, WrongConfirmationCodeLeavesTheSessionUsable) {
  make_world();
  smdp::Profile p = *w->smdp->profiles().by_iccid(iccid);
  p.cc_hash = crypto::sha256(to_bytes("4711"));
  w->smdp->profiles().update(p);
  json auth;
  std::string first_try;
  auto http = std::make_shared<http::Client>([&] {
    http::ClientConfig c;
    c.ca_file = w->tls_ca_pem;
    return c;
  }());
  auto a = attempt(
      *w, "MID",
      [&](const std::string& fn, json& j) {
        if (fn != "getBoundProfilePackage") return;
        // The LPA's request carries hashCc of the wrong code: send it as is.
        http::Headers h;
        h.set("Content-Type", "application/json");
        h.set("X-Admin-Protocol", "gsma/rsp/v2.2.2");
        auto r = json::parse(
            http->post("https://" + w->address + "/gsma/rsp2/es9plus/getBoundProfilePackage", j.dump(), h).body);
        auto st = r["header"]["functionExecutionStatus"];
        first_try = st["status"].get<std::string>() + " " + st["statusCodeData"]["subjectCode"].get<std::string>() +
                    "/" + st["statusCodeData"]["reasonCode"].get<std::string>();
        // The user types the right code: PrepareDownload again, same session.
        lpa::Es10Client es10(*w->euicc);
        lpa::PrepareDownloadInput in;
        in.smdp_signed2 = from_base64(auth["smdpSigned2"].get<std::string>());
        in.smdp_signature2 = from_base64(auth["smdpSignature2"].get<std::string>());
        in.smdp_certificate = from_base64(auth["smdpCertificate"].get<std::string>());
        in.hash_cc = lpa::hash_confirmation_code("4711", from_hex(j["transactionId"].get<std::string>()));
        auto pd = es10.prepare_download(in);
        ASSERT_TRUE(pd.ok) << pd.error_code;
        j["prepareDownloadResponse"] = to_base64(pd.raw);
      },
      [&](const std::string& fn, json& j) {
        if (fn == "authenticateClient") auth = j;
      },
      std::string("0000"));
  EXPECT_EQ(first_try, "Failed 8.2.7/3.8");
  ASSERT_TRUE(a.installed()) << a.what;
  EXPECT_EQ(w->smdp->profiles().by_iccid(iccid)->cc_attempts, 1);
}

// The last allowed wrong code ends the session (8.2.7/6.4) and the order
// takes no new session (8.8.5/6.4).
TEST_F(Fidelity, ConfirmationCodeRetriesExhaustedEndTheSession) {
  make_world([](World&, smdp::Config& c) { c.max_cc_attempts = 1; });
  smdp::Profile p = *w->smdp->profiles().by_iccid(iccid);
  p.cc_hash = crypto::sha256(to_bytes("4711"));
  w->smdp->profiles().update(p);
  auto a = attempt(*w, "MID", {}, {}, std::string("0000"));
  EXPECT_EQ(a.code(), "8.2.7/6.4") << a.what;
  auto again = attempt(*w, "MID", {}, {}, std::string("4711"));
  EXPECT_EQ(again.code(), "8.8.5/6.4") << again.what;
}
