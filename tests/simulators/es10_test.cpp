// ES10 functions of the simulated eUICC, decoded with rsp_asn1.
#include <CancelSessionRequest.h>
#include <CancelSessionResponse.h>
#include <EUICCInfo1.h>
#include <EUICCInfo2.h>
#include <EuiccConfiguredAddressesResponse.h>
#include <GetEuiccChallengeResponse.h>
#include <GetEuiccDataResponse.h>
#include <GetRatResponse.h>
#include <ListNotificationResponse.h>
#include <NotificationSentResponse.h>
#include <ProfileInfoListResponse.h>
#include <ProfileInstallationResult.h>
#include <RetrieveNotificationsListResponse.h>
#include <PendingNotification.h>

#include "fake_smdp.hpp"
#include "rsp/tlv.hpp"
#include "rsp/log.hpp"
#include "sim_test_util.hpp"

using namespace rsp;
using namespace rsp::sim;
using namespace rsp::sim::test;

namespace {

struct Es10 : ::testing::Test {
  void SetUp() override { log::set_level(log::Level::Error); }
  std::unique_ptr<Euicc> card = std::make_unique<Euicc>(config_for(pki()));

  Bytes call(const Bytes& req, std::uint16_t expect_sw = 0x9000) {
    std::uint16_t sw = 0;
    Bytes r = es10(*card, req, &sw);
    EXPECT_EQ(sw, expect_sw) << "request " << to_hex(req).substr(0, 8);
    return r;
  }
  Bytes challenge() {
    auto r = RSP_ASN1_DECODE(GetEuiccChallengeResponse, call(from_hex("BF2E00")));
    return asn1::to_bytes(r->euiccChallenge);
  }
  long auth_error(const Bytes& resp) {
    auto r = RSP_ASN1_DECODE(AuthenticateServerResponse, resp);
    if (r->present != AuthenticateServerResponse_PR_authenticateResponseError) return 0;
    return static_cast<long>(asn1::to_int64(r->choice.authenticateResponseError.authenticateErrorCode));
  }
  long download_error(const Bytes& resp) {
    auto r = RSP_ASN1_DECODE(PrepareDownloadResponse, resp);
    if (r->present != PrepareDownloadResponse_PR_downloadResponseError) return 0;
    return static_cast<long>(asn1::to_int64(r->choice.downloadResponseError.downloadErrorCode));
  }
  void SetUpIsdr() { select_isdr(*card); }
};

TEST_F(Es10, GetEid) {
  SetUpIsdr();
  auto r = RSP_ASN1_DECODE(GetEuiccDataResponse, call(from_hex("BF3E035C015A")));
  EXPECT_EQ(asn1::to_bytes(r->eidValue), from_hex(pki().euicc.cert().subject_serial_number));
  EXPECT_EQ(card->eid_hex(), "89049032123451234512345678901235");
}

TEST_F(Es10, EuiccInfo1ListsTheTrustedCi) {
  SetUpIsdr();
  auto r = RSP_ASN1_DECODE(EUICCInfo1, call(from_hex("BF2000")));
  EXPECT_EQ(asn1::to_bytes(r->svn), (Bytes{2, 2, 2}));
  ASSERT_EQ(r->euiccCiPKIdListForVerification.list.count, 1);
  ASSERT_EQ(r->euiccCiPKIdListForSigning.list.count, 1);
  EXPECT_EQ(asn1::to_bytes(*r->euiccCiPKIdListForSigning.list.array[0]), pki().ci.cert().subject_key_id);
}

TEST_F(Es10, EuiccInfo2) {
  SetUpIsdr();
  auto r = RSP_ASN1_DECODE(EUICCInfo2, call(from_hex("BF2200")));
  EXPECT_EQ(asn1::to_bytes(r->profileVersion), (Bytes{2, 3, 1}));  // SAIP 2.3.1: the TS.48 packages are 2.1 and 2.3
  EXPECT_EQ(asn1::to_bytes(r->svn), (Bytes{2, 2, 2}));
  EXPECT_EQ(asn1::to_bytes(r->ppVersion).size(), 3u);
  EXPECT_TRUE(asn1::test_bit(r->rspCapability, 0));
  EXPECT_TRUE(asn1::test_bit(r->uiccCapability, 1));  // usimSupport
  ASSERT_TRUE(r->euiccCategory);
  EXPECT_EQ(r->euiccCiPKIdListForVerification.list.count, 1);
  EXPECT_FALSE(asn1::to_string(r->sasAcreditationNumber).empty());
}

TEST_F(Es10, AuthenticateServerOk) {
  SetUpIsdr();
  FakeSmdp dp(pki());
  Bytes resp = call(dp.authenticate_server(challenge()));
  ASSERT_EQ(auth_error(resp), 0);
  auto r = RSP_ASN1_DECODE(AuthenticateServerResponse, resp);
  auto& ok = r->choice.authenticateResponseOk;
  EXPECT_EQ(asn1::to_bytes(ok.euiccSigned1.transactionId), dp.transaction_id);
  EXPECT_EQ(asn1::to_bytes(ok.euiccSigned1.serverChallenge), dp.server_challenge);
  EXPECT_EQ(asn1::to_string(ok.euiccSigned1.serverAddress), dp.address);
  EXPECT_EQ(asn1::to_bytes(ok.euiccSigned1.euiccInfo2.svn), (Bytes{2, 2, 2}));
  ASSERT_EQ(ok.euiccSigned1.ctxParams1.present, CtxParams1_PR_ctxParamsForCommonAuthentication);
  EXPECT_EQ(asn1::to_string(*ok.euiccSigned1.ctxParams1.choice.ctxParamsForCommonAuthentication.matchingId),
            "TEST-MATCHING-ID");
  // euiccSignature1 over euiccSigned1 exactly as sent (raw bytes inside BF38 A0).
  auto a0 = tlv::parse_one(tlv::parse_one(resp).value);
  ASSERT_EQ(a0.tag, 0xA0u);
  auto parts = tlv::parse_all(a0.value);
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_TRUE(pki().euicc.cert().public_key().verify(parts[0].raw, asn1::view(ok.euiccSignature1)));
  EXPECT_EQ(Bytes(parts[2].raw.begin(), parts[2].raw.end()), pki().euicc.der);
  EXPECT_EQ(Bytes(parts[3].raw.begin(), parts[3].raw.end()), pki().eum.der);
}

TEST_F(Es10, AuthenticateServerRejectsWrongChallenge) {
  SetUpIsdr();
  FakeSmdp dp(pki());
  challenge();
  EXPECT_EQ(auth_error(call(dp.authenticate_server(crypto::random_bytes(16)))), 6);  // euiccChallengeMismatch
}

TEST_F(Es10, AuthenticateServerWithoutChallenge) {
  SetUpIsdr();
  FakeSmdp dp(pki());
  EXPECT_EQ(auth_error(call(dp.authenticate_server(crypto::random_bytes(16)))), 6);
}

TEST_F(Es10, AuthenticateServerChallengeIsSingleUse) {
  SetUpIsdr();
  FakeSmdp dp(pki());
  Bytes ch = challenge();
  EXPECT_EQ(auth_error(call(dp.authenticate_server(ch))), 0);
  EXPECT_EQ(auth_error(call(dp.authenticate_server(ch))), 6);
}

TEST_F(Es10, AuthenticateServerRejectsTamperedSignature) {
  SetUpIsdr();
  FakeSmdp dp(pki());
  FakeSmdp::AuthOptions o;
  o.tamper_signature = true;
  EXPECT_EQ(auth_error(call(dp.authenticate_server(challenge(), o))), 2);  // invalidSignature
}

TEST_F(Es10, AuthenticateServerRejectsDpAuthFromUnknownCi) {
  SetUpIsdr();
  FakeSmdp dp(pki());
  FakeSmdp::AuthOptions o;
  o.dp_auth_der = &foreign_pki().dp_auth.der;
  o.dp_auth_key = &foreign_pki().dp_auth.key;
  long code = auth_error(call(dp.authenticate_server(challenge(), o)));
  EXPECT_TRUE(code == 7 || code == 1) << code;  // ciPKUnknown (or invalidCertificate)
}

TEST_F(Es10, AuthenticateServerRejectsUnknownCiPkId) {
  SetUpIsdr();
  FakeSmdp dp(pki());
  FakeSmdp::AuthOptions o;
  o.ci_pkid = foreign_pki().ci.cert().subject_key_id;
  EXPECT_EQ(auth_error(call(dp.authenticate_server(challenge(), o))), 7);
}

TEST_F(Es10, AuthenticateServerRejectsWrongRole) {
  SetUpIsdr();
  FakeSmdp dp(pki());
  FakeSmdp::AuthOptions o;
  o.dp_auth_der = &pki().dp_pb.der;  // a DPpb certificate where DPauth belongs
  o.dp_auth_key = &pki().dp_pb.key;
  long code = auth_error(call(dp.authenticate_server(challenge(), o)));
  EXPECT_TRUE(code == 5 || code == 1) << code;  // invalidOid (or invalidCertificate)
}

TEST_F(Es10, AuthenticateServerRejectsExpiredCertificate) {
  auto cfg = config_for(pki());
  cfg.now = [] { return std::time(nullptr) + 20L * 365 * 86400; };
  card = std::make_unique<Euicc>(std::move(cfg));
  SetUpIsdr();
  FakeSmdp dp(pki());
  EXPECT_EQ(auth_error(call(dp.authenticate_server(challenge()))), 1);  // invalidCertificate
}

TEST_F(Es10, AuthenticateServerAcceptsSkiWithDerHeader) {
  SetUpIsdr();
  FakeSmdp dp(pki());
  FakeSmdp::AuthOptions o;
  o.ci_pkid = concat(Bytes{0x04, 0x14}, pki().ci.cert().subject_key_id);
  EXPECT_EQ(auth_error(call(dp.authenticate_server(challenge(), o))), 0);
}

TEST_F(Es10, PrepareDownloadNeedsSession) {
  SetUpIsdr();
  FakeSmdp dp(pki());
  dp.euicc_signature1 = Bytes(64, 1);
  EXPECT_EQ(download_error(call(dp.prepare_download())), 4);  // noSessionContext
}

TEST_F(Es10, PrepareDownloadChecks) {
  SetUpIsdr();
  FakeSmdp dp(pki());
  dp.take_auth_response(call(dp.authenticate_server(challenge())));
  EXPECT_EQ(download_error(call(dp.prepare_download(true))), 2);                            // invalidSignature
  EXPECT_EQ(download_error(call(dp.prepare_download(false, crypto::random_bytes(16)))), 5);  // invalidTransactionId
  Bytes ok = call(dp.prepare_download());
  EXPECT_EQ(download_error(ok), 0);
  EXPECT_TRUE(dp.take_prepare_response(ok)) << "euiccSignature2";
  EXPECT_EQ(dp.euicc_otpk.size(), 65u);
}

TEST_F(Es10, PrepareDownloadBrainpool) {
  card = std::make_unique<Euicc>(config_for(pki(crypto::Curve::BrainpoolP256r1)));
  SetUpIsdr();
  FakeSmdp dp(pki(crypto::Curve::BrainpoolP256r1));
  dp.take_auth_response(call(dp.authenticate_server(challenge())));
  Bytes ok = call(dp.prepare_download());
  ASSERT_EQ(download_error(ok), 0);
  EXPECT_TRUE(dp.take_prepare_response(ok));
}

TEST_F(Es10, CancelSession) {
  SetUpIsdr();
  FakeSmdp dp(pki());
  dp.take_auth_response(call(dp.authenticate_server(challenge())));
  auto req = RSP_ASN1_MAKE(CancelSessionRequest);
  asn1::set(req->transactionId, dp.transaction_id);
  asn1::set_int64(req->reason, 0);  // endUserRejection
  Bytes resp = call(req.encode_der());
  auto r = RSP_ASN1_DECODE(CancelSessionResponse, resp);
  ASSERT_EQ(r->present, CancelSessionResponse_PR_cancelSessionResponseOk);
  auto& ok = r->choice.cancelSessionResponseOk;
  EXPECT_EQ(asn1::oid_to_string(ok.euiccCancelSessionSigned.smdpOid), "2.999.10");
  Bytes signed_part = RSP_ASN1_ENCODE(EuiccCancelSessionSigned, &ok.euiccCancelSessionSigned);
  EXPECT_TRUE(pki().euicc.cert().public_key().verify(signed_part, asn1::view(ok.euiccCancelSessionSignature)));
  // The session is gone.
  auto again = RSP_ASN1_DECODE(CancelSessionResponse, call(req.encode_der()));
  EXPECT_EQ(again->present, CancelSessionResponse_PR_cancelSessionResponseError);
}

// The bytes, not our decoder's view of them: SGP.22 v2.2.2's module gives
// EuiccCancelSessionSigned no explicit tags, so AUTOMATIC TAGS makes them
// [0] transactionId '80', [1] smdpOid '81', [2] reason '82' (X.680 25.3), and
// CancelSessionResponseOk is alternative [0] of the CHOICE ('A0').
TEST_F(Es10, CancelSessionResponseEncodingIsTheSpecs) {
  SetUpIsdr();
  FakeSmdp dp(pki());
  dp.take_auth_response(call(dp.authenticate_server(challenge())));
  // CancelSessionRequest: BF41 15 { 80 10 <tid> 81 01 01 } (reason postponed)
  Bytes req = from_hex("BF4115 8010");
  req.insert(req.end(), dp.transaction_id.begin(), dp.transaction_id.end());
  Bytes reason = from_hex("810101");
  req.insert(req.end(), reason.begin(), reason.end());
  Bytes resp = call(req);
  // BF41 L A0 L 30 L { 80 10 <tid> 81 03 88370A 82 01 01 } 5F37 40 <r||s>
  auto outer = tlv::parse_one(resp);
  ASSERT_EQ(outer.tag, 0xBF41u);
  auto ok = tlv::parse_one(outer.value);
  ASSERT_EQ(ok.tag, 0xA0u);
  auto parts = tlv::parse_all(ok.value);
  ASSERT_EQ(parts.size(), 2u);
  ASSERT_EQ(parts[0].tag, 0x30u);
  Bytes want = from_hex("8010");
  want.insert(want.end(), dp.transaction_id.begin(), dp.transaction_id.end());
  Bytes tail = from_hex("8103 88370A 820101");  // 2.999.10, postponed(1)
  want.insert(want.end(), tail.begin(), tail.end());
  EXPECT_EQ(to_hex(parts[0].value), to_hex(want));
  EXPECT_EQ(parts[1].tag, 0x5F37u);
  EXPECT_EQ(parts[1].value.size(), 64u);
  EXPECT_TRUE(pki().euicc.cert().public_key().verify(parts[0].raw, parts[1].value));
}

TEST_F(Es10, EmptyProfileListAndRat) {
  SetUpIsdr();
  auto pl = RSP_ASN1_DECODE(ProfileInfoListResponse, call(from_hex("BF2D00")));
  ASSERT_EQ(pl->present, ProfileInfoListResponse_PR_profileInfoListOk);
  EXPECT_EQ(pl->choice.profileInfoListOk.list.count, 0);
  // The default RAT (SGP.22 2.9.2): PPR1 and PPR2 for any operator, with
  // the end user's consent: BF43 { A0 rat { 30 { 80 pprIds ppr1+ppr2, A1
  // allowedOperators { 30 { 80 mccMnc EEEEEE } }, 82 pprFlags consentRequired
  // } } }, assembled from the module's (automatic) tags.
  Bytes rat_der = call(from_hex("BF4300"));
  EXPECT_EQ(to_hex(rat_der, true), "BF4315A013301180020560A10730058003EEEEEE82020780");
  auto rat = RSP_ASN1_DECODE(GetRatResponse, rat_der);
  EXPECT_EQ(rat->rat.list.count, 1);
}

TEST_F(Es10, DefaultDpAddressPersists) {
  std::string path = temp_path("dp.json");
  card = std::make_unique<Euicc>(config_for(pki(), path));
  SetUpIsdr();
  auto a = RSP_ASN1_DECODE(EuiccConfiguredAddressesResponse, call(from_hex("BF3C00")));
  EXPECT_EQ(a->defaultDpAddress, nullptr);
  EXPECT_EQ(asn1::to_string(a->rootDsAddress), "lpa.ds.gsma.com");
  Bytes set_req = tlv::make(0xBF3F, tlv::make(0x80, to_bytes("smdp.example.com")));
  EXPECT_EQ(call(set_req), from_hex("BF3F03800100"));
  card = std::make_unique<Euicc>(config_for(pki(), path));  // restart
  SetUpIsdr();
  a = RSP_ASN1_DECODE(EuiccConfiguredAddressesResponse, call(from_hex("BF3C00")));
  ASSERT_NE(a->defaultDpAddress, nullptr);
  EXPECT_EQ(asn1::to_string(*a->defaultDpAddress), "smdp.example.com");
}

// ---- LoadBoundProfilePackage --------------------------------------------------

struct Bpp : Es10 {
  FakeSmdp dp{pki()};
  void prepare() {
    SetUpIsdr();
    dp.take_auth_response(call(dp.authenticate_server(challenge())));
    ASSERT_TRUE(dp.take_prepare_response(call(dp.prepare_download())));
  }
  // Sends all segments; returns the last response (the PIR) and the SWs.
  Bytes send(const std::vector<Bytes>& segs, std::size_t* answered_at = nullptr) {
    Bytes last;
    for (std::size_t i = 0; i < segs.size(); ++i) {
      std::uint16_t sw = 0;
      Bytes r = es10(*card, segs[i], &sw);
      EXPECT_EQ(sw, 0x9000) << "segment " << i;
      if (!r.empty()) {
        if (answered_at) *answered_at = i;
        return r;
      }
    }
    return last;
  }
  static std::pair<long, long> pir_error(const Bytes& pir) {
    auto r = RSP_ASN1_DECODE(ProfileInstallationResult, pir);
    auto& fr = r->profileInstallationResultData.finalResult;
    if (fr.present != ProfileInstallationResultData__finalResult_PR_errorResult) return {-1, -1};
    return {static_cast<long>(asn1::to_int64(fr.choice.errorResult.bppCommandId)),
            static_cast<long>(asn1::to_int64(fr.choice.errorResult.errorReason))};
  }
};

TEST_F(Bpp, TamperedIscSignatureRejected) {
  prepare();
  FakeSmdp::BppOptions o;
  o.tamper_isc_signature = true;
  auto segs = dp.bound_profile_package(card->eid(), FakeSmdp::store_metadata("8944476500001224158", "Op", "P", "smdp.example.com"),
                                       Bytes(100, 0x42), o);
  std::size_t at = 99;
  Bytes pir = send(segs, &at);
  EXPECT_EQ(at, 0u);
  EXPECT_EQ(pir_error(pir), std::make_pair(0L, 2L));  // initialiseSecureChannel, invalidSignature
  EXPECT_TRUE(card->profiles().empty());
  // PIR signature over profileInstallationResultData.
  auto bf37 = tlv::parse_one(pir);
  auto parts = tlv::parse_all(bf37.value);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_TRUE(pki().euicc.cert().public_key().verify(parts[0].raw, parts[1].value));
}

TEST_F(Bpp, TamperedProfileSegmentRejectedAndNothingInstalled) {
  prepare();
  FakeSmdp::BppOptions o;
  o.tamper_segment = 1;
  auto segs = dp.bound_profile_package(card->eid(), FakeSmdp::store_metadata("8944476500001224158", "Op", "P", "smdp.example.com"),
                                       Bytes(3000, 0x42), o);
  std::size_t at = 99;
  Bytes pir = send(segs, &at);
  EXPECT_EQ(pir_error(pir), std::make_pair(5L, 8L));  // loadProfileElements, scp03tSecurityError
  EXPECT_TRUE(card->profiles().empty());
  // The failed installation is reported as a pending install notification.
  auto n = card->notifications();
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].op, NotificationSummary::Op::Install);
  EXPECT_EQ(n[0].address, "smdp.example.com");
}

TEST_F(Bpp, ReorderedSegmentRejected) {
  prepare();
  auto segs = dp.bound_profile_package(card->eid(), FakeSmdp::store_metadata("8944476500001224158", "Op", "P", "smdp.example.com"),
                                       Bytes(3000, 0x42), {});
  ASSERT_GE(segs.size(), 8u);
  std::swap(segs[segs.size() - 1], segs[segs.size() - 2]);
  Bytes pir = send(segs);
  EXPECT_EQ(pir_error(pir), std::make_pair(5L, 8L));
  EXPECT_TRUE(card->profiles().empty());
}

TEST_F(Bpp, WithoutSessionRejected) {
  prepare();
  auto segs = dp.bound_profile_package(card->eid(), FakeSmdp::store_metadata("8944476500001224158", "Op", "P", "x"),
                                       Bytes(100, 1), {});
  card->reset();  // the RSP session ends with the reset
  select_isdr(*card);
  std::size_t at = 99;
  Bytes pir = send(segs, &at);
  EXPECT_EQ(at, 0u);
  EXPECT_EQ(pir_error(pir), std::make_pair(0L, 3L));  // initialiseSecureChannel, invalidTransactionId
  auto r = RSP_ASN1_DECODE(ProfileInstallationResult, pir);
  EXPECT_EQ(asn1::to_bytes(r->profileInstallationResultData.transactionId), dp.transaction_id);
  EXPECT_TRUE(card->notifications().empty());
  // The remaining segments are not a BPP on their own.
  std::uint16_t sw = 0;
  es10(*card, segs[1], &sw);
  EXPECT_EQ(sw, 0x6A80);
}

TEST_F(Bpp, NotificationsListRetrieveAndRemove) {
  prepare();
  FakeSmdp::BppOptions o;
  o.tamper_segment = 0;
  send(dp.bound_profile_package(card->eid(), FakeSmdp::store_metadata("8944476500001224158", "Op", "P", "x"),
                                Bytes(10, 1), o));
  auto list = RSP_ASN1_DECODE(ListNotificationResponse, call(from_hex("BF2800")));
  ASSERT_EQ(list->present, ListNotificationResponse_PR_notificationMetadataList);
  ASSERT_EQ(list->choice.notificationMetadataList.list.count, 1);
  auto* m = list->choice.notificationMetadataList.list.array[0];
  long seq = static_cast<long>(asn1::to_int64(m->seqNumber));
  EXPECT_TRUE(asn1::test_bit(m->profileManagementOperation, 0));
  auto rl = RSP_ASN1_DECODE(RetrieveNotificationsListResponse, call(from_hex("BF2B00")));
  ASSERT_EQ(rl->present, RetrieveNotificationsListResponse_PR_notificationList);
  ASSERT_EQ(rl->choice.notificationList.list.count, 1);
  EXPECT_EQ(rl->choice.notificationList.list.array[0]->present, PendingNotification_PR_profileInstallationResult);
  Bytes sent = tlv::make(0xBF30, tlv::make(0x80, Bytes{static_cast<std::uint8_t>(seq)}));
  auto ns = RSP_ASN1_DECODE(NotificationSentResponse, call(sent));
  EXPECT_EQ(asn1::to_int64(ns->deleteNotificationStatus), 0);
  ns = RSP_ASN1_DECODE(NotificationSentResponse, call(sent));
  EXPECT_EQ(asn1::to_int64(ns->deleteNotificationStatus), 1);  // nothingToDelete
  EXPECT_TRUE(card->notifications().empty());
}

}  // namespace
