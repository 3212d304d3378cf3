// The whole download flow (SGP.22 3.1.3) against the in-process eUICC
// simulator and the SM-DP+'s ES9+ handler, wired through Es9Options::post
// (no sockets, no TLS: the HTTPS path is covered by tests/e2e).
#include <gtest/gtest.h>

#if defined(RSP_HAVE_EUICC_SIM) && defined(RSP_HAVE_SMDP)
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <fstream>
#include <nlohmann/json.hpp>

#include "rsp/crypto.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/pki.hpp"
#include "rsp/sim/euicc.hpp"
#include "rsp/smdp/profile_package.hpp"
#include "rsp/smdp/server.hpp"
#include "rsp/tlv.hpp"

using namespace rsp;
using namespace rsp::lpa;
namespace fs = std::filesystem;

namespace {

fs::path ts48(const std::string& name) { return fs::path(RSP_SHARED_TESTDATA) / "ts48" / name; }

Bytes read_all(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

struct Harness {
  fs::path dir;
  certs::Pki pki;
  std::string address = "SMDP.example.com:8443";
  std::unique_ptr<smdp::Server> smdp;
  std::unique_ptr<sim::Euicc> euicc;
  std::vector<std::string> calls;  // ES9+ functions, in order
  int iccid_counter_ = 0;

  Harness() {
    dir = fs::temp_directory_path() / ("rsp-lpa-dl-" + std::to_string(::getpid()) + "-" +
                                       to_hex(crypto::random_bytes(4)));
    fs::create_directories(dir);
    certs::PkiOptions po;
    po.dp_host = "smdp.example.com";
    pki = certs::generate_pki(po);
    smdp::Config c = smdp::config_from_pki(pki, "smdp.example.com:8443", (dir / "smdp.db").string());
    smdp = std::make_unique<smdp::Server>(c);

    sim::EuiccConfig ec;
    ec.euicc_cert_der = pki.euicc.der;
    ec.euicc_key = to_bytes(pki.euicc.key.private_pem());
    ec.eum_cert_der = pki.eum.der;
    ec.ci_certs_der = {pki.ci.der};
    euicc = std::make_unique<sim::Euicc>(ec);
  }
  ~Harness() {
    euicc.reset();
    smdp.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  Es9Options es9() {
    Es9Options o;
    o.post = [this](const std::string& url, const http::Headers& headers, const std::string& body) {
      const std::string prefix = "https://" + address + "/gsma/rsp2/es9plus/";
      EXPECT_EQ(url.substr(0, prefix.size()), prefix);
      http::Request req;
      req.method = "POST";
      req.target = url.substr(url.find("/gsma/"));
      req.headers = headers;
      req.body = body;
      req.tls = true;
      calls.push_back(url.substr(prefix.size()));
      return smdp::handle_es9plus(smdp->es9plus(), req);
    };
    return o;
  }

  std::string stage(const std::string& matching_id, const std::string& cc = {},
                    const std::string& file = "TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der", bool protect = false) {
    // A fresh 19-digit ICCID per profile (ICCID is 10 bytes in ES8+/ES10).
    iccid_counter_++;
    std::string iccid = "894447650000000" + std::string(4 - std::to_string(iccid_counter_).size(), '0') +
                        std::to_string(iccid_counter_);
    Bytes upp = smdp::with_header_iccid(read_all(ts48(file)), iccid);
    auto summary = smdp::inspect_upp(upp);
    smdp::Profile p;
    p.iccid = summary.iccid;
    p.matching_id = matching_id;
    p.state = smdp::ProfileState::Released;
    if (!cc.empty()) p.cc_hash = crypto::sha256(to_bytes(cc));
    p.service_provider_name = "LPA Test SP";
    p.profile_name = "LPA Test Profile";
    smdp->profiles().stage(p, upp, protect);
    return p.iccid;
  }
};

bool have_material() { return fs::exists(ts48("TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der")); }

}  // namespace

TEST(LpaDownload, InstallsAndDeliversTheInstallationResult) {
  if (!have_material()) GTEST_SKIP() << "TS.48 test profiles absent";
  Harness h;
  std::string iccid = h.stage("LPA-MATCH-1");
  DownloadOptions opt;
  opt.es9 = h.es9();
  std::vector<std::string> stages;
  opt.progress = [&](std::string_view s) { stages.emplace_back(s); };
  bool asked = false;
  opt.confirm = [&](const ProfileOffer& offer) {
    asked = true;
    EXPECT_EQ(offer.iccid, iccid);
    EXPECT_EQ(offer.service_provider_name, "LPA Test SP");
    return true;
  };
  auto ac = ActivationCode::parse("LPA:1$" + h.address + "$LPA-MATCH-1");
  DownloadResult r = download(*h.euicc, ac, opt);
  EXPECT_TRUE(asked);
  ASSERT_TRUE(r.installation.success) << r.installation.describe();
  EXPECT_EQ(r.offer.iccid, iccid);
  EXPECT_EQ(r.installation.notification.iccid.value_or(""), iccid);
  EXPECT_TRUE(r.notification_sent) << r.notification_error;
  EXPECT_EQ(h.calls, (std::vector<std::string>{"initiateAuthentication", "authenticateClient",
                                               "getBoundProfilePackage", "handleNotification"}));
  ASSERT_EQ(h.euicc->profiles().size(), 1u);
  EXPECT_EQ(h.euicc->profiles()[0].iccid, iccid);
  EXPECT_TRUE(h.euicc->notifications().empty());  // NotificationSent removed it
  EXPECT_EQ(stages.front(), "GetEuiccChallenge");

  // And the LPA sees it.
  Es10Client es10(*h.euicc);
  auto profiles = es10.get_profiles_info();
  ASSERT_EQ(profiles.size(), 1u);
  EXPECT_EQ(profiles[0].iccid.value_or(""), iccid);
  EXPECT_EQ(profiles[0].state.value_or(-1), 0);
  EXPECT_TRUE(es10.enable_profile(ProfileId::from_iccid(iccid)).ok());
  EXPECT_EQ(es10.get_profiles_info()[0].state.value_or(-1), 1);
}

TEST(LpaDownload, ConfirmationCode) {
  if (!have_material()) GTEST_SKIP() << "TS.48 test profiles absent";
  Harness h;
  h.stage("LPA-CC", "1234");
  auto ac = ActivationCode::parse("LPA:1$" + h.address + "$LPA-CC$$1");
  DownloadOptions opt;
  opt.es9 = h.es9();
  // No code at all: cancelled by the LPA (endUserRejection), SM-DP+ told.
  try {
    download(*h.euicc, ac, opt);
    FAIL() << "downloaded without a confirmation code";
  } catch (const DownloadError& e) {
    EXPECT_EQ(e.stage, "ConfirmationCode");
    ASSERT_TRUE(e.cancelled);
    EXPECT_EQ(*e.cancelled, CancelSessionReason::EndUserRejection);
  }
  EXPECT_EQ(h.calls.back(), "cancelSession");

  // The right code, asked for interactively.
  h.calls.clear();
  opt.ask_confirmation_code = [] { return std::optional<std::string>("1234"); };
  DownloadResult r = download(*h.euicc, ac, opt);
  EXPECT_TRUE(r.installation.success) << r.installation.describe();
  EXPECT_TRUE(r.offer.confirmation_code_required);
}

TEST(LpaDownload, WrongConfirmationCodeFailsAtTheSmdp) {
  if (!have_material()) GTEST_SKIP() << "TS.48 test profiles absent";
  Harness h;
  h.stage("LPA-CC2", "1234");
  DownloadOptions opt;
  opt.es9 = h.es9();
  opt.confirmation_code = "9999";
  try {
    download(*h.euicc, ActivationCode::parse("LPA:1$" + h.address + "$LPA-CC2$$1"), opt);
    FAIL();
  } catch (const DownloadError& e) {
    EXPECT_EQ(e.stage, "getBoundProfilePackage");
    try {
      std::rethrow_exception(e.cause);
    } catch (const Es9Error& es9) {
      EXPECT_EQ(es9.status, "Failed");
      EXPECT_FALSE(es9.subject_code.empty());
    } catch (...) {
      ADD_FAILURE() << "cause is not an Es9Error";
    }
  }
  EXPECT_TRUE(h.euicc->profiles().empty());
}

TEST(LpaDownload, UserDeclines) {
  if (!have_material()) GTEST_SKIP() << "TS.48 test profiles absent";
  Harness h;
  h.stage("LPA-NO");
  DownloadOptions opt;
  opt.es9 = h.es9();
  opt.confirm = [](const ProfileOffer&) { return false; };
  EXPECT_THROW(download(*h.euicc, ActivationCode::parse("LPA:1$" + h.address + "$LPA-NO"), opt), DownloadError);
  EXPECT_EQ(h.calls, (std::vector<std::string>{"initiateAuthentication", "authenticateClient", "cancelSession"}));
  EXPECT_TRUE(h.euicc->profiles().empty());
}

// A CancelSession response as a standard eUICC encodes it, assembled here byte
// by byte from SGP.22 v2.2.2's module (not by our asn1c code), reaches the
// SM-DP+'s cancel path (5.6.5) and is accepted: EuiccCancelSessionSigned is
// SEQUENCE { 80 transactionId, 81 smdpOid, 82 reason } under AUTOMATIC TAGS.
TEST(LpaDownload, SmdpAcceptsTheSpecsCancelSessionEncoding) {
  if (!have_material()) GTEST_SKIP() << "TS.48 test profiles absent";
  Harness h;
  h.stage("LPA-CANCEL-WIRE");
  DownloadOptions opt;
  opt.es9 = h.es9();
  auto inner = opt.es9.post;
  nlohmann::json answer;
  opt.es9.post = [&](const std::string& url, const http::Headers& headers, const std::string& body) {
    if (url.find("/cancelSession") == std::string::npos) return inner(url, headers, body);
    auto j = nlohmann::json::parse(body);
    Bytes tid = from_hex(j.at("transactionId").get<std::string>());
    Bytes sig_data = from_hex("30 00 8010");  // length patched below
    sig_data.insert(sig_data.end(), tid.begin(), tid.end());
    Bytes rest = from_hex("8103 88370A 820100");  // smdpOid 2.999.10 (CERT.DPauth), endUserRejection(0)
    sig_data.insert(sig_data.end(), rest.begin(), rest.end());
    sig_data[1] = static_cast<std::uint8_t>(sig_data.size() - 2);
    Bytes sig = h.pki.euicc.key.sign(sig_data);
    Bytes ok = sig_data;
    Bytes sig_tlv = from_hex("5F3740");
    ok.insert(ok.end(), sig_tlv.begin(), sig_tlv.end());
    ok.insert(ok.end(), sig.begin(), sig.end());
    auto wrap = [](Bytes tag, const Bytes& value) {  // DER definite length
      Bytes len = tlv::encode_length(value.size());
      tag.insert(tag.end(), len.begin(), len.end());
      tag.insert(tag.end(), value.begin(), value.end());
      return tag;
    };
    Bytes csr = wrap({0xBF, 0x41}, wrap({0xA0}, ok));  // [65] CHOICE, alternative [0]
    j["cancelSessionResponse"] = to_base64(csr);
    http::Response r = inner(url, headers, j.dump());
    answer = nlohmann::json::parse(r.body);
    return r;
  };
  opt.confirm = [](const ProfileOffer&) { return false; };
  EXPECT_THROW(download(*h.euicc, ActivationCode::parse("LPA:1$" + h.address + "$LPA-CANCEL-WIRE"), opt),
               DownloadError);
  ASSERT_EQ(h.calls.back(), "cancelSession");
  EXPECT_EQ(answer["header"]["functionExecutionStatus"]["status"], "Executed-Success") << answer.dump();
}

// SGP.22 2.5.5: every BPP segment the SM-DP+ sends is at most 1,020 bytes
// (tag, length and MAC included), for every TS.48 test profile, whether the
// package is bound at download (S-ENC/S-MAC) or was protected at staging
// (PPK, sent after ReplaceSessionKeys); and the eUICC installs each of them.
TEST(LpaDownload, EveryTs48SegmentFitsIn1020Bytes) {
  if (!have_material()) GTEST_SKIP() << "TS.48 test profiles absent";
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(ts48("")))
    if (e.path().extension() == ".der") files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());
  std::size_t segments = 0, largest = 0;
  for (bool protect : {false, true}) {
    for (const auto& file : files) {
      SCOPED_TRACE(file + (protect ? " (protected at staging)" : ""));
      Harness h;
      std::string mid = "TS48-SEG-" + std::to_string(segments);
      h.stage(mid, {}, file, protect);
      DownloadOptions opt;
      opt.es9 = h.es9();
      auto inner = opt.es9.post;
      Bytes bpp;
      opt.es9.post = [&](const std::string& url, const http::Headers& headers, const std::string& body) {
        http::Response r = inner(url, headers, body);
        if (url.find("/getBoundProfilePackage") != std::string::npos)
          bpp = from_base64(nlohmann::json::parse(r.body).at("boundProfilePackage").get<std::string>());
        return r;
      };
      opt.confirm = [](const ProfileOffer&) { return true; };
      DownloadResult r = download(*h.euicc, ActivationCode::parse("LPA:1$" + h.address + "$" + mid), opt);
      EXPECT_TRUE(r.installation.success) << r.installation.describe();
      ASSERT_FALSE(bpp.empty());
      auto a3 = tlv::require(tlv::require(bpp, 0xBF36).value, 0xA3);
      for (const auto& seg : tlv::parse_all(a3.value)) {
        EXPECT_EQ(seg.tag, 0x86u);
        EXPECT_LE(seg.raw.size(), 1020u);
        largest = std::max(largest, seg.raw.size());
        ++segments;
      }
    }
  }
  EXPECT_EQ(largest, 1020u);  // the big profiles fill segments to the limit
  std::cout << "[ segments  ] " << segments << " segments over " << files.size() << " profiles x2, largest "
            << largest << " bytes\n";
}

TEST(LpaDownload, UnknownMatchingId) {
  if (!have_material()) GTEST_SKIP() << "TS.48 test profiles absent";
  Harness h;
  DownloadOptions opt;
  opt.es9 = h.es9();
  try {
    download(*h.euicc, ActivationCode::parse("LPA:1$" + h.address + "$NO-SUCH-ID"), opt);
    FAIL();
  } catch (const DownloadError& e) {
    EXPECT_EQ(e.stage, "authenticateClient");
  }
}

TEST(LpaDownload, SmdpOidFromTheActivationCodeIsChecked) {
  if (!have_material()) GTEST_SKIP() << "TS.48 test profiles absent";
  Harness h;
  h.stage("LPA-OID");
  auto oid = smdp_oid_of_certificate(h.pki.dp_auth.der);
  ASSERT_TRUE(oid) << "generated CERT.DPauth has no registeredID";
  DownloadOptions opt;
  opt.es9 = h.es9();
  try {
    download(*h.euicc, ActivationCode::parse("LPA:1$" + h.address + "$LPA-OID$1.2.3.4"), opt);
    FAIL();
  } catch (const DownloadError& e) {
    EXPECT_EQ(e.stage, "initiateAuthentication");
    EXPECT_FALSE(e.cancelled);
  }
  // The right OID gets past the check.
  h.calls.clear();
  try {
    download(*h.euicc, ActivationCode::parse("LPA:1$" + h.address + "$LPA-OID$" + *oid), opt);
  } catch (const DownloadError& e) {
    EXPECT_NE(e.stage, "initiateAuthentication") << e.what();
  }
  EXPECT_GE(h.calls.size(), 2u);
}

TEST(LpaNotifications, ProcessAndRemove) {
  if (!have_material()) GTEST_SKIP() << "TS.48 test profiles absent";
  Harness h;
  h.stage("LPA-N");
  DownloadOptions opt;
  opt.es9 = h.es9();
  opt.notifications = DownloadOptions::Notifications::None;
  auto r = download(*h.euicc, ActivationCode::parse("LPA:1$" + h.address + "$LPA-N"), opt);
  ASSERT_TRUE(r.installation.success);
  EXPECT_FALSE(r.notification_sent);
  Es10Client es10(*h.euicc);
  auto pending = es10.list_notifications();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].operation, NotificationEvent::Install);
  auto retrieved = es10.retrieve_notifications(pending[0].seq_number);
  ASSERT_EQ(retrieved.size(), 1u);
  EXPECT_TRUE(retrieved[0].profile_installation_result);
  EXPECT_EQ(retrieved[0].raw, r.installation.raw);

  // The notification address is the SM-DP+ address as the eUICC recorded it.
  h.address = pending[0].address;
  NotificationOptions no;
  no.es9 = h.es9();
  auto outcomes = process_notifications(es10, no);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_TRUE(outcomes[0].delivered) << outcomes[0].error;
  EXPECT_TRUE(outcomes[0].removed);
  EXPECT_TRUE(es10.list_notifications().empty());
}
#else
TEST(LpaDownload, NotBuilt) { GTEST_SKIP() << "needs rsp_euicc_sim and rsp_smdp"; }
#endif
