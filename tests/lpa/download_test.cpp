// The whole download flow (SGP.22 3.1.3) against the in-process eUICC
// simulator and the SM-DP+'s ES9+ handler, wired through Es9Options::post
// (no sockets, no TLS: the HTTPS path is covered by tests/e2e).
#include <gtest/gtest.h>

#if defined(RSP_HAVE_EUICC_SIM) && defined(RSP_HAVE_SMDP)
#include <algorithm>
#include <cctype>
#include <functional>
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

  explicit Harness(std::string smdp_address = "SMDP.example.com:8443") : address(std::move(smdp_address)) {
    dir = fs::temp_directory_path() / ("rsp-lpa-dl-" + std::to_string(::getpid()) + "-" +
                                       to_hex(crypto::random_bytes(4)));
    fs::create_directories(dir);
    certs::PkiOptions po;
    po.dp_host = "smdp.example.com";
    pki = certs::generate_pki(po);
    std::string configured = address;  // the SM-DP+ compares addresses case-insensitively
    std::transform(configured.begin(), configured.end(), configured.begin(), [](unsigned char ch) { return std::tolower(ch); });
    smdp::Config c = smdp::config_from_pki(pki, configured, (dir / "smdp.db").string());
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
                    const std::string& file = "TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der", bool protect = false,
                    const std::function<void(smdp::Profile&)>& edit = {}) {
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
    if (edit) edit(p);
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

// The end user sees the profile (ICCID, provider, name) and consents before
// the confirmation code is asked for; a declined profile asks for no code
// (SGP.22 3.1.3.1, issue 13).
TEST(LpaDownload, MetadataIsShownBeforeTheConfirmationCodeIsAsked) {
  if (!have_material()) GTEST_SKIP() << "TS.48 test profiles absent";
  Harness h;
  std::string iccid = h.stage("LPA-CC-ORDER", "1234");
  std::string iccid2 = h.stage("LPA-CC-ORDER2", "1234");
  auto ac = ActivationCode::parse("LPA:1$" + h.address + "$LPA-CC-ORDER$$1");
  DownloadOptions opt;
  opt.es9 = h.es9();
  std::vector<std::string> events;
  bool consent = false;
  opt.confirm = [&](const ProfileOffer& offer) {
    events.push_back("metadata " + offer.iccid + " " + offer.service_provider_name);
    return consent;
  };
  opt.ask_confirmation_code = [&] {
    events.emplace_back("code");
    return std::optional<std::string>("1234");
  };
  EXPECT_THROW(download(*h.euicc, ac, opt), DownloadError);
  EXPECT_EQ(events, (std::vector<std::string>{"metadata " + iccid + " LPA Test SP"}));
  EXPECT_TRUE(h.euicc->profiles().empty());
  events.clear();
  consent = true;
  DownloadResult r = download(*h.euicc, ActivationCode::parse("LPA:1$" + h.address + "$LPA-CC-ORDER2$$1"), opt);
  EXPECT_TRUE(r.installation.success) << r.installation.describe();
  EXPECT_EQ(events, (std::vector<std::string>{"metadata " + iccid2 + " LPA Test SP", "code"}));
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

// SGP.22 3.1.3: a wrong confirmation code (8.2.7/3.8) leaves the session
// open; the LPA asks again and repeats PrepareDownload + getBoundProfilePackage
// on the same transactionId, and the right code installs in that session.
TEST(LpaDownload, WrongThenRightConfirmationCodeInstallsInOneSession) {
  if (!have_material()) GTEST_SKIP() << "TS.48 test profiles absent";
  Harness h;
  std::string iccid = h.stage("LPA-CC-RETRY", "1234");
  DownloadOptions opt;
  opt.es9 = h.es9();
  auto inner = opt.es9.post;
  std::vector<std::string> transaction_ids;
  opt.es9.post = [&](const std::string& url, const http::Headers& headers, const std::string& body) {
    auto j = nlohmann::json::parse(body);
    if (j.contains("transactionId")) transaction_ids.push_back(j["transactionId"].get<std::string>());
    return inner(url, headers, body);
  };
  opt.confirmation_code = "9999";
  int asked = 0;
  opt.ask_confirmation_code = [&] {
    ++asked;
    return std::optional<std::string>("1234");
  };
  DownloadResult r = download(*h.euicc, ActivationCode::parse("LPA:1$" + h.address + "$LPA-CC-RETRY$$1"), opt);
  ASSERT_TRUE(r.installation.success) << r.installation.describe();
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(h.calls, (std::vector<std::string>{"initiateAuthentication", "authenticateClient", "getBoundProfilePackage",
                                               "getBoundProfilePackage", "handleNotification"}));
  ASSERT_FALSE(transaction_ids.empty());
  for (const auto& t : transaction_ids) EXPECT_EQ(t, transaction_ids.front());  // one RSP session
  ASSERT_EQ(h.euicc->profiles().size(), 1u);
  EXPECT_EQ(h.euicc->profiles()[0].iccid, iccid);
}

// Every code wrong: the LPA stops when the SM-DP+ says the retries are
// exhausted (8.2.7/6.4, after max_cc_attempts = 3), and nothing is installed.
TEST(LpaDownload, ConfirmationCodeRetriesStopWhenExhausted) {
  if (!have_material()) GTEST_SKIP() << "TS.48 test profiles absent";
  Harness h;
  h.stage("LPA-CC-EXHAUST", "1234");
  DownloadOptions opt;
  opt.es9 = h.es9();
  int asked = 0;
  opt.ask_confirmation_code = [&] {
    ++asked;
    return std::optional<std::string>("000" + std::to_string(asked));
  };
  try {
    download(*h.euicc, ActivationCode::parse("LPA:1$" + h.address + "$LPA-CC-EXHAUST$$1"), opt);
    FAIL() << "installed with wrong codes";
  } catch (const DownloadError& e) {
    EXPECT_EQ(e.stage, "getBoundProfilePackage");
    try {
      std::rethrow_exception(e.cause);
    } catch (const Es9Error& es9) {
      EXPECT_EQ(es9.subject_code, "8.2.7");
      EXPECT_EQ(es9.reason_code, "6.4");
    } catch (...) {
      ADD_FAILURE() << "cause is not an Es9Error";
    }
  }
  EXPECT_EQ(asked, 3);
  EXPECT_EQ(std::count(h.calls.begin(), h.calls.end(), "getBoundProfilePackage"), 3);
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
// CancelSession's response assembled by hand from SGP.22's module (not by
// asn1c from ours), as a standard eUICC encodes it, signed with the eUICC's
// key: EuiccCancelSessionSigned { transactionId 80, smdpOid 81, reason 82 }.
// Returns the SM-DP+'s answer to cancelSession.
static nlohmann::json cancel_with_hand_built_response(Harness& h, const std::string& matching_id, const Bytes& smdp_oid) {
  h.stage(matching_id);
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
    sig_data.push_back(0x81);
    sig_data.push_back(static_cast<std::uint8_t>(smdp_oid.size()));
    sig_data.insert(sig_data.end(), smdp_oid.begin(), smdp_oid.end());
    Bytes rest = from_hex("820100");  // endUserRejection(0)
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
  EXPECT_THROW(download(*h.euicc, ActivationCode::parse("LPA:1$" + h.address + "$" + matching_id), opt),
               DownloadError);
  EXPECT_EQ(h.calls.back(), "cancelSession");
  return answer;
}

TEST(LpaDownload, SmdpAcceptsTheSpecsCancelSessionEncoding) {
  if (!have_material()) GTEST_SKIP() << "TS.48 test profiles absent";
  Harness h;
  ASSERT_EQ(certs::parse(h.pki.dp_auth.der).registered_id.value_or(""), "2.999.10");
  auto answer = cancel_with_hand_built_response(h, "LPA-CANCEL-WIRE", from_hex("88370A"));  // 2.999.10, ours
  EXPECT_EQ(answer["header"]["functionExecutionStatus"]["status"], "Executed-Success") << answer.dump();
}

// SGP.22 5.6.5: an smdpOid that is not this SM-DP+'s is refused with 8.8/3.10.
TEST(LpaDownload, SmdpRefusesCancelSessionForAnotherSmdpOid) {
  if (!have_material()) GTEST_SKIP() << "TS.48 test profiles absent";
  Harness h;
  auto answer = cancel_with_hand_built_response(h, "LPA-CANCEL-OID", from_hex("88370B"));  // 2.999.11
  const auto& st = answer["header"]["functionExecutionStatus"];
  EXPECT_EQ(st["status"], "Failed") << answer.dump();
  EXPECT_EQ(st["statusCodeData"]["subjectCode"], "8.8") << answer.dump();
  EXPECT_EQ(st["statusCodeData"]["reasonCode"], "3.10") << answer.dump();
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

// SGP.22 2.5.5: StoreMetadata longer than one segment goes in several 88
// segments of at most 1,020 bytes each (a standard eUICC, like the
// simulator, refuses a longer one), and the eUICC installs the profile.
// Here the metadata is long through the notification address (a 253-character
// FQDN, three times) and names of 4-byte UTF-8 characters at their SIZE limits.
TEST(LpaDownload, StoreMetadataOver1020BytesIsSegmented) {
  if (!have_material()) GTEST_SKIP() << "TS.48 test profiles absent";
  std::string fqdn = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                     std::string(61, 'd');
  ASSERT_EQ(fqdn.size(), 253u);
  Harness h(fqdn + ":8443");
  std::string satellite = "\xF0\x9F\x9B\xB0";  // U+1F6F0, 4 bytes in UTF-8
  std::string spn, name;
  for (int i = 0; i < 32; ++i) spn += satellite;   // serviceProviderName SIZE(0..32)
  for (int i = 0; i < 64; ++i) name += satellite;  // profileName SIZE(0..64)
  h.stage("LPA-BIG-MD", {}, "TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der", false, [&](smdp::Profile& p) {
    p.service_provider_name = spn;
    p.profile_name = name;
  });
  DownloadOptions opt;
  opt.es9 = h.es9();
  auto inner = opt.es9.post;
  Bytes bpp, metadata;
  opt.es9.post = [&](const std::string& url, const http::Headers& headers, const std::string& body) {
    http::Response r = inner(url, headers, body);
    if (url.find("/getBoundProfilePackage") != std::string::npos)
      bpp = from_base64(nlohmann::json::parse(r.body).at("boundProfilePackage").get<std::string>());
    if (url.find("/authenticateClient") != std::string::npos)
      metadata = from_base64(nlohmann::json::parse(r.body).at("profileMetadata").get<std::string>());
    return r;
  };
  opt.confirm = [](const ProfileOffer&) { return true; };
  DownloadResult r = download(*h.euicc, ActivationCode::parse("LPA:1$" + h.address + "$LPA-BIG-MD"), opt);
  EXPECT_TRUE(r.installation.success) << r.installation.describe();
  EXPECT_EQ(r.offer.profile_name, name);
  ASSERT_GT(metadata.size(), 1020u);
  auto a1 = tlv::require(tlv::require(bpp, 0xBF36).value, 0xA1);
  auto segs = tlv::parse_all(a1.value);
  EXPECT_GE(segs.size(), 2u);
  for (const auto& seg : segs) {
    EXPECT_EQ(seg.tag, 0x88u);
    EXPECT_LE(seg.raw.size(), 1020u);
  }
  ASSERT_EQ(h.euicc->profiles().size(), 1u);
  EXPECT_EQ(h.euicc->profiles()[0].profile_name, name);
}

// StoreMetadataRequest.profileClass is `DEFAULT operational` (SGP.22 5.5.3):
// DER leaves it out for an operational profile (X.690 11.5) and carries
// '95 01 00' for a test profile. Read from the wire, not through asn1c.
TEST(LpaDownload, ProfileClassOmittedWhenOperational) {
  if (!have_material()) GTEST_SKIP() << "TS.48 test profiles absent";
  for (int cls : {2, 0}) {
    SCOPED_TRACE("profileClass " + std::to_string(cls));
    Harness h;
    h.stage("LPA-CLASS", {}, "TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der", false,
            [&](smdp::Profile& p) { p.profile_class = cls; });
    DownloadOptions opt;
    opt.es9 = h.es9();
    auto inner = opt.es9.post;
    Bytes metadata;
    opt.es9.post = [&](const std::string& url, const http::Headers& headers, const std::string& body) {
      http::Response r = inner(url, headers, body);
      if (url.find("/authenticateClient") != std::string::npos)
        metadata = from_base64(nlohmann::json::parse(r.body).at("profileMetadata").get<std::string>());
      return r;
    };
    opt.confirm = [](const ProfileOffer&) { return true; };
    DownloadResult r = download(*h.euicc, ActivationCode::parse("LPA:1$" + h.address + "$LPA-CLASS"), opt);
    EXPECT_TRUE(r.installation.success) << r.installation.describe();
    std::optional<Bytes> class_tlv;
    for (const auto& t : tlv::parse_all(tlv::require(metadata, 0xBF25).value))
      if (t.tag == 0x95) class_tlv = Bytes(t.raw.begin(), t.raw.end());
    if (cls == 2) EXPECT_FALSE(class_tlv) << to_hex(*class_tlv);
    else EXPECT_EQ(class_tlv.value_or(Bytes{}), from_hex("950100"));
  }
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
  auto oid = certs::parse(h.pki.dp_auth.der).registered_id;
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
