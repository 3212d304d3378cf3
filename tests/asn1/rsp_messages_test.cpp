// SGP.22 RSPDefinitions: hand-written DER vectors decode to the expected
// fields, values built in C++ encode to the expected bytes, and broken input
// yields Asn1Error.
#include <gtest/gtest.h>

#include <AuthenticateServerRequest.h>
#include <AuthenticateServerResponse.h>
#include <BoundProfilePackage.h>
#include <Certificate.h>
#include <EUICCInfo1.h>
#include <EUICCInfo2.h>
#include <EnableProfileRequest.h>
#include <GetEuiccChallengeResponse.h>
#include <GetEuiccDataResponse.h>
#include <InitiateAuthenticationRequest.h>
#include <ListNotificationRequest.h>
#include <NotificationSentRequest.h>
#include <PendingNotification.h>
#include <PrepareDownloadRequest.h>
#include <ProfileInfo.h>
#include <ProfileInfoListResponse.h>
#include <ProfileState.h>
#include <ProfileInstallationResult.h>
#include <RetrieveNotificationsListResponse.h>
#include <StoreMetadataRequest.h>

#include <filesystem>
#include <initializer_list>

#include "rsp/asn1.hpp"
#include "test_util.hpp"

using namespace rsp::asn1;
using rsp::Bytes;
using rsp::asn1::test::hex;

namespace {

// Minimal DER TLV builder for writing test vectors by structure.
Bytes tlv(std::string_view tag_hex, std::initializer_list<Bytes> parts) {
  Bytes content;
  for (const auto& p : parts) content.insert(content.end(), p.begin(), p.end());
  Bytes out = hex(tag_hex);
  std::size_t n = content.size();
  if (n < 0x80) {
    out.push_back(static_cast<std::uint8_t>(n));
  } else if (n < 0x100) {
    out.insert(out.end(), {0x81, static_cast<std::uint8_t>(n)});
  } else {
    out.insert(out.end(), {0x82, static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)});
  }
  out.insert(out.end(), content.begin(), content.end());
  return out;
}
Bytes tlv(std::string_view tag_hex, const Bytes& content) { return tlv(tag_hex, {content}); }
Bytes str(std::string_view s) { return Bytes(s.begin(), s.end()); }

const Bytes kCiPkid = hex("F54172BDF98A95D65CBEB88A38A1C11D800A85C3");
const Bytes kTid = hex("00112233445566778899AABBCCDDEEFF");

template <class T>
void expect_every_prefix_fails(const asn_TYPE_descriptor_t& td, const Bytes& der) {
  for (std::size_t n = 0; n < der.size(); ++n) {
    Bytes cut(der.begin(), der.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_THROW(decode<T>(td, cut), Asn1Error) << td.name << " prefix " << n;
  }
}

}  // namespace

TEST(RspMessages, GetEuiccChallengeResponse) {
  Bytes der = hex("BF2E12 8010 000102030405060708090A0B0C0D0E0F");
  auto m = RSP_ASN1_DECODE(GetEuiccChallengeResponse, der);
  EXPECT_EQ(to_bytes(m->euiccChallenge), hex("000102030405060708090A0B0C0D0E0F"));
  EXPECT_EQ(m.encode_der(), der);
  expect_every_prefix_fails<GetEuiccChallengeResponse_t>(asn_DEF_GetEuiccChallengeResponse, der);

  // Wrong outer tag, wrong inner tag, trailing byte, short challenge.
  EXPECT_THROW(RSP_ASN1_DECODE(GetEuiccChallengeResponse, hex("BF2F12 8010 000102030405060708090A0B0C0D0E0F")), Asn1Error);
  EXPECT_THROW(RSP_ASN1_DECODE(GetEuiccChallengeResponse, hex("BF2E12 8110 000102030405060708090A0B0C0D0E0F")), Asn1Error);
  EXPECT_THROW(RSP_ASN1_DECODE(GetEuiccChallengeResponse, hex("BF2E12 8010 000102030405060708090A0B0C0D0E0F 00")), Asn1Error);
  EXPECT_THROW(RSP_ASN1_DECODE(GetEuiccChallengeResponse, hex("BF2E11 800F 000102030405060708090A0B0C0D0E")), Asn1Error);
  EXPECT_THROW(RSP_ASN1_DECODE(GetEuiccChallengeResponse, Bytes{}), Asn1Error);
  EXPECT_THROW(RSP_ASN1_DECODE(GetEuiccChallengeResponse, hex("BF2E 84FFFFFFFF 80")), Asn1Error);
}

TEST(RspMessages, BuildGetEuiccChallengeResponse) {
  auto m = RSP_ASN1_MAKE(GetEuiccChallengeResponse);
  set(m->euiccChallenge, hex("A0A1A2A3A4A5A6A7A8A9AAABACADAEAF"));
  EXPECT_EQ(m.encode_der(), hex("BF2E12 8010 A0A1A2A3A4A5A6A7A8A9AAABACADAEAF"));
  // SIZE(16) is enforced on encode.
  set(m->euiccChallenge, hex("A0A1A2A3A4A5A6A7A8A9AAABACADAE"));
  EXPECT_THROW(m.encode_der(), Asn1Error);
}

TEST(RspMessages, EuiccInfo1) {
  Bytes der = tlv("BF20", {tlv("82", hex("020202")), tlv("A9", tlv("04", kCiPkid)), tlv("AA", tlv("04", kCiPkid))});
  ASSERT_EQ(der.size(), 3u + 0x35u);
  auto m = RSP_ASN1_DECODE(EUICCInfo1, der);
  EXPECT_EQ(to_bytes(m->svn), hex("020202"));
  ASSERT_EQ(m->euiccCiPKIdListForVerification.list.count, 1);
  EXPECT_EQ(to_bytes(*m->euiccCiPKIdListForVerification.list.array[0]), kCiPkid);
  ASSERT_EQ(m->euiccCiPKIdListForSigning.list.count, 1);
  EXPECT_EQ(to_bytes(*m->euiccCiPKIdListForSigning.list.array[0]), kCiPkid);
  EXPECT_EQ(m.encode_der(), der);
  expect_every_prefix_fails<EUICCInfo1_t>(asn_DEF_EUICCInfo1, der);

  // Inside InitiateAuthenticationRequest (BF39).
  Bytes iar = tlv("BF39", {tlv("81", hex("000102030405060708090A0B0C0D0E0F")), tlv("83", str("smdp.example.com")), der});
  auto req = RSP_ASN1_DECODE(InitiateAuthenticationRequest, iar);
  EXPECT_EQ(to_string(req->smdpAddress), "smdp.example.com");
  EXPECT_EQ(to_bytes(req->euiccInfo1.svn), hex("020202"));
  EXPECT_EQ(req.encode_der(), iar);
}

TEST(RspMessages, EuiccInfo2WithNewerFieldsIsAccepted) {
  // v2.2.2 fields, then ppVersion (04), sasAcreditationNumber (0C) and an
  // unknown trailing element from a newer SGP.22 (extensibility implied).
  Bytes body = Bytes();
  for (const Bytes& b : {tlv("81", hex("020301")), tlv("82", hex("020202")), tlv("83", hex("010203")),
                         tlv("84", hex("0101")), tlv("85", hex("0676FF")), tlv("88", hex("0490")),
                         tlv("A9", tlv("04", kCiPkid)), tlv("AA", tlv("04", kCiPkid)), tlv("8B", hex("02")),
                         tlv("04", hex("000000")), tlv("0C", str("GI-BA-UP-0419")), tlv("9F7F", hex("01"))})
    body.insert(body.end(), b.begin(), b.end());
  Bytes der = tlv("BF22", body);
  auto m = RSP_ASN1_DECODE(EUICCInfo2, der);
  EXPECT_EQ(to_bytes(m->profileVersion), hex("020301"));
  EXPECT_TRUE(test_bit(m->uiccCapability, 1));   // usimSupport
  EXPECT_FALSE(test_bit(m->uiccCapability, 15));
  EXPECT_TRUE(test_bit(m->rspCapability, 0));    // additionalProfile
  EXPECT_TRUE(test_bit(m->rspCapability, 3));    // testProfileSupport
  ASSERT_NE(m->euiccCategory, nullptr);
  EXPECT_EQ(to_int64(*m->euiccCategory), 2);
  EXPECT_EQ(to_string(m->sasAcreditationNumber), "GI-BA-UP-0419");
  EXPECT_EQ(to_bytes(m->ppVersion), hex("000000"));
}

TEST(RspMessages, EnableProfileRequestEncodes) {
  auto m = RSP_ASN1_MAKE(EnableProfileRequest);
  m->profileIdentifier.present = EnableProfileRequest__profileIdentifier_PR_iccid;
  set(m->profileIdentifier.choice.iccid, hex("98400923214315325476"));
  m->refreshFlag = 1;
  Bytes der = m.encode_der();
  EXPECT_EQ(der, hex("BF3111 A00C 5A0A98400923214315325476 8101FF"));
  auto back = RSP_ASN1_DECODE(EnableProfileRequest, der);
  EXPECT_EQ(back->profileIdentifier.present, EnableProfileRequest__profileIdentifier_PR_iccid);
  EXPECT_NE(back->refreshFlag, 0);
}

// SGP.22 v2.2.2: StoreMetadataRequest.profileClass is DEFAULT operational
// (ProfileInfo's is OPTIONAL). asn1c 0.9.28 leaves an absent DEFAULT member
// NULL (read it as operational).
TEST(RspMessages, StoreMetadataProfileClassDefault) {
  // BF25 { 5A iccid, 91 spn, 92 name } without 95
  Bytes der = hex("BF25 12 5A0A98001032547698103214 9101 41 9201 42");
  auto md = RSP_ASN1_DECODE(StoreMetadataRequest, der);
  EXPECT_EQ(md->profileClass, nullptr);  // absent: operational by DEFAULT
  EXPECT_EQ(rsp::to_hex(md.encode_der()), rsp::to_hex(der));
  Bytes test_der = hex("BF25 15 5A0A98001032547698103214 9101 41 9201 42 950100");
  auto test_class = RSP_ASN1_DECODE(StoreMetadataRequest, test_der);
  ASSERT_NE(test_class->profileClass, nullptr);
  EXPECT_EQ(to_int64(*test_class->profileClass), 0);
  EXPECT_EQ(rsp::to_hex(test_class.encode_der()), rsp::to_hex(test_der));
  // asn1c 0.9.28 does not drop a member set to its DEFAULT value: for DER,
  // callers leave profileClass unset for operational.
  md->profileClass = new_integer(2);
  EXPECT_EQ(rsp::to_hex(md.encode_der()), "bf25155a0a98001032547698103214910141920142950102");
}

TEST(RspMessages, ProfileInstallationResultError) {
  Bytes metadata = tlv("BF2F", {tlv("80", hex("01")), tlv("81", hex("0780")), tlv("0C", str("smdp.example.com"))});
  Bytes data = tlv("BF27", {tlv("80", kTid), metadata, tlv("06", hex("883703")),
                            tlv("A2", tlv("A1", {tlv("80", hex("05")), tlv("81", hex("08"))}))});
  Bytes sig(64, 0x5A);
  Bytes der = tlv("BF37", {data, tlv("5F37", sig)});

  auto pir = RSP_ASN1_DECODE(ProfileInstallationResult, der);
  const auto& d = pir->profileInstallationResultData;
  EXPECT_EQ(to_bytes(d.transactionId), kTid);
  EXPECT_EQ(to_int64(d.notificationMetadata.seqNumber), 1);
  EXPECT_TRUE(test_bit(d.notificationMetadata.profileManagementOperation, 0));  // notificationInstall
  EXPECT_EQ(bit_count(d.notificationMetadata.profileManagementOperation), 1u);
  EXPECT_EQ(to_string(d.notificationMetadata.notificationAddress), "smdp.example.com");
  EXPECT_EQ(d.notificationMetadata.iccid, nullptr);
  EXPECT_EQ(oid_to_string(d.smdpOid), "2.999.3");
  ASSERT_EQ(d.finalResult.present, ProfileInstallationResultData__finalResult_PR_errorResult);
  EXPECT_EQ(to_int64(d.finalResult.choice.errorResult.bppCommandId), BppCommandId_loadProfileElements);
  EXPECT_EQ(to_int64(d.finalResult.choice.errorResult.errorReason), ErrorReason_scp03tSecurityError);
  EXPECT_EQ(to_bytes(pir->euiccSignPIR), sig);
  EXPECT_EQ(pir.encode_der(), der);
  expect_every_prefix_fails<ProfileInstallationResult_t>(asn_DEF_ProfileInstallationResult, der);

  // The same bytes as a PendingNotification (CHOICE) and in a notification list.
  auto pn = RSP_ASN1_DECODE(PendingNotification, der);
  EXPECT_EQ(pn->present, PendingNotification_PR_profileInstallationResult);
  Bytes list = tlv("BF2B", tlv("A0", der));
  auto rnl = RSP_ASN1_DECODE(RetrieveNotificationsListResponse, list);
  ASSERT_EQ(rnl->present, RetrieveNotificationsListResponse_PR_notificationList);
  EXPECT_EQ(rnl->choice.notificationList.list.count, 1);
  EXPECT_EQ(rnl.encode_der(), list);
}

TEST(RspMessages, BoundProfilePackage) {
  Bytes crt = tlv("A6", {tlv("80", hex("88")), tlv("81", hex("10")), tlv("84", hex("0102030405060708"))});
  Bytes otpk = rsp::concat(hex("04"), Bytes(64, 0x11));
  Bytes isc = tlv("BF23", {tlv("82", hex("01")), tlv("80", kTid), crt, tlv("5F49", otpk), tlv("5F37", Bytes(64, 0x22))});
  Bytes der = tlv("BF36", {isc, tlv("A0", tlv("87", Bytes(40, 0x87))), tlv("A1", tlv("88", Bytes(50, 0x88))),
                           tlv("A3", {tlv("86", Bytes(200, 0x86)), tlv("86", Bytes(20, 0x86))})});
  auto bpp = RSP_ASN1_DECODE(BoundProfilePackage, der);
  const auto& i = bpp->initialiseSecureChannelRequest;
  EXPECT_EQ(to_int64(i.remoteOpId), RemoteOpId_installBoundProfilePackage);
  EXPECT_EQ(to_bytes(i.transactionId), kTid);
  EXPECT_EQ(to_bytes(i.controlRefTemplate.keyType), hex("88"));
  EXPECT_EQ(to_bytes(i.controlRefTemplate.hostId), hex("0102030405060708"));
  EXPECT_EQ(to_bytes(i.smdpOtpk), otpk);
  EXPECT_EQ(bpp->firstSequenceOf87.list.count, 1);
  EXPECT_EQ(bpp->sequenceOf88.list.count, 1);
  EXPECT_EQ(bpp->secondSequenceOf87, nullptr);
  ASSERT_EQ(bpp->sequenceOf86.list.count, 2);
  EXPECT_EQ(to_bytes(*bpp->sequenceOf86.list.array[0]).size(), 200u);
  EXPECT_EQ(bpp.encode_der(), der);
  expect_every_prefix_fails<BoundProfilePackage_t>(asn_DEF_BoundProfilePackage, der);
}

TEST(RspMessages, ProfileInfoList) {
  Bytes info = tlv("E3", {tlv("5A", hex("98400923214315325476")), tlv("9F70", hex("01")), tlv("91", str("Operator")),
                          tlv("92", str("Test profile")), tlv("95", hex("02"))});
  Bytes der = tlv("BF2D", tlv("A0", info));
  auto m = RSP_ASN1_DECODE(ProfileInfoListResponse, der);
  ASSERT_EQ(m->present, ProfileInfoListResponse_PR_profileInfoListOk);
  ASSERT_EQ(m->choice.profileInfoListOk.list.count, 1);
  const ProfileInfo_t& p = *m->choice.profileInfoListOk.list.array[0];
  ASSERT_NE(p.profileState, nullptr);
  EXPECT_EQ(to_int64(*p.profileState), ProfileState_enabled);
  EXPECT_EQ(to_string(*p.serviceProviderName), "Operator");
  EXPECT_EQ(to_bytes(p.iccid), hex("98400923214315325476"));
}

TEST(RspMessages, GetEuiccDataResponse) {
  Bytes der = hex("BF3E12 5A10 89049032123451234512345678901235");
  auto m = RSP_ASN1_DECODE(GetEuiccDataResponse, der);
  EXPECT_EQ(to_bytes(m->eidValue), hex("89049032123451234512345678901235"));
  EXPECT_EQ(m.encode_der(), der);
}

TEST(RspMessages, BuildAuthenticateServerRequest) {
  std::filesystem::path f = rsp::asn1::test::testdata() / "sgp26" / "DPauth" / "CERT_S_SM_DPauth_ECDSA_NIST.der";
  if (!std::filesystem::exists(f)) GTEST_SKIP() << "missing " << f;
  Bytes cert_der = rsp::asn1::test::read_file(f);

  auto req = RSP_ASN1_MAKE(AuthenticateServerRequest);
  set(req->serverSigned1.transactionId, kTid);
  set(req->serverSigned1.euiccChallenge, hex("000102030405060708090A0B0C0D0E0F"));
  set(req->serverSigned1.serverAddress, std::string_view("testsmdpplus1.example.com"));
  set(req->serverSigned1.serverChallenge, hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF"));
  set(req->serverSignature1, Bytes(64, 0x33));
  set(req->euiccCiPKIdToBeUsed, kCiPkid);
  move_into(req->serverCertificate, RSP_ASN1_DECODE(Certificate, cert_der));
  req->ctxParams1.present = CtxParams1_PR_ctxParamsForCommonAuthentication;
  auto& ctx = req->ctxParams1.choice.ctxParamsForCommonAuthentication;
  ctx.matchingId = new_octet_string(std::string_view("ABC-123"));
  set(ctx.deviceInfo.tac, hex("35290611"));
  ctx.deviceInfo.deviceCapabilities.eutranEpcSupportedRelease = new_octet_string(hex("0D0000"));

  Bytes der = req.encode_der();
  ASSERT_GT(der.size(), cert_der.size());
  EXPECT_EQ(Bytes(der.begin(), der.begin() + 2), hex("BF38"));

  // ctxParams1 is the last element: A0 { 80 matchingId, A1 { 80 tac, A1 {...} } }.
  Bytes ctx_der = tlv("A0", {tlv("80", str("ABC-123")),
                             tlv("A1", {tlv("80", hex("35290611")), tlv("A1", tlv("85", hex("0D0000")))})});
  ASSERT_GE(der.size(), ctx_der.size());
  EXPECT_EQ(Bytes(der.end() - static_cast<std::ptrdiff_t>(ctx_der.size()), der.end()), ctx_der);

  auto back = RSP_ASN1_DECODE(AuthenticateServerRequest, der);
  EXPECT_EQ(to_string(back->serverSigned1.serverAddress), "testsmdpplus1.example.com");
  EXPECT_EQ(encode_der(asn_DEF_Certificate, &back->serverCertificate), cert_der);
  EXPECT_EQ(to_bytes(back->ctxParams1.choice.ctxParamsForCommonAuthentication.matchingId), str("ABC-123"));
  EXPECT_EQ(back.encode_der(), der);
}

TEST(RspMessages, PrepareDownloadRequestTags) {
  // smdpSigned2 (30), smdpSignature2 (5F37), hashCc (04), certificate (30).
  Bytes cert = tlv("30", {tlv("30", {tlv("A0", tlv("02", hex("02"))), tlv("02", hex("01")), tlv("30", tlv("06", hex("2A8648CE3D040302"))),
                                     tlv("30", Bytes{}), tlv("30", {tlv("17", str("200101000000Z")), tlv("17", str("300101000000Z"))}),
                                     tlv("30", Bytes{}), tlv("30", {tlv("30", tlv("06", hex("2A8648CE3D0201"))), tlv("03", hex("0004"))})}),
                          tlv("30", tlv("06", hex("2A8648CE3D040302"))), tlv("03", hex("0000"))});
  Bytes der = tlv("BF21", {tlv("30", {tlv("80", kTid), tlv("01", hex("FF"))}), tlv("5F37", Bytes(64, 1)),
                           tlv("04", Bytes(32, 2)), cert});
  auto m = RSP_ASN1_DECODE(PrepareDownloadRequest, der);
  EXPECT_NE(m->smdpSigned2.ccRequiredFlag, 0);
  EXPECT_EQ(m->smdpSigned2.bppEuiccOtpk, nullptr);
  ASSERT_NE(m->hashCc, nullptr);
  EXPECT_EQ(to_bytes(*m->hashCc), Bytes(32, 2));
  EXPECT_EQ(m.encode_der(), der);
}

TEST(Helpers, BitStrings) {
  auto m = RSP_ASN1_MAKE(ListNotificationRequest);
  m->profileManagementOperation = alloc<NotificationEvent_t>();
  set_named_bits(*m->profileManagementOperation, {NotificationEvent_notificationDisable});
  EXPECT_EQ(m.encode_der(), hex("BF2804 81020520"));
  set_named_bit(*m->profileManagementOperation, NotificationEvent_notificationDisable, false);
  EXPECT_EQ(m.encode_der(), hex("BF2803 810100"));
  set_named_bits(*m->profileManagementOperation, {0, 3, 9});
  EXPECT_EQ(bit_count(*m->profileManagementOperation), 10u);
  EXPECT_TRUE(test_bit(*m->profileManagementOperation, 9));
  EXPECT_FALSE(test_bit(*m->profileManagementOperation, 8));
  EXPECT_FALSE(test_bit(*m->profileManagementOperation, 100));
  EXPECT_EQ(m.encode_der(), hex("BF2805 8103069040"));
}

TEST(Helpers, IntegersAndOids) {
  auto m = RSP_ASN1_MAKE(NotificationSentRequest);
  for (std::int64_t v : {0LL, 1LL, 127LL, 128LL, -1LL, -129LL, 65536LL, 9223372036854775807LL}) {
    set_int64(m->seqNumber, v);
    auto back = RSP_ASN1_DECODE(NotificationSentRequest, m.encode_der());
    EXPECT_EQ(to_int64(back->seqNumber), v);
  }
  set_int64(m->seqNumber, 128);
  EXPECT_EQ(m.encode_der(), hex("BF3004 80020080"));
  set_integer_bytes(m->seqNumber, hex("05"));
  EXPECT_EQ(integer_bytes(m->seqNumber), hex("05"));

  OBJECT_IDENTIFIER_t oid{};
  for (const char* s : {"2.23.146.1.2.1.0", "1.2.840.10045.4.3.2", "2.999.3", "0.9.2342.19200300.100.1.25"}) {
    set_oid(oid, s);
    EXPECT_EQ(oid_to_string(oid), s);
  }
  set_oid(oid, "1.2.840.10045.2.1");
  EXPECT_EQ(Bytes(oid.buf, oid.buf + oid.size), hex("2A8648CE3D0201"));
  EXPECT_THROW(set_oid(oid, "1"), Asn1Error);
  EXPECT_THROW(set_oid(oid, "3.1"), Asn1Error);
  EXPECT_THROW(set_oid(oid, "1.2..3"), Asn1Error);
  EXPECT_THROW(set_oid(oid, "1.40"), Asn1Error);
  free_contents(asn_DEF_OBJECT_IDENTIFIER, &oid);
}

TEST(Helpers, ValueIsMoveOnly) {
  static_assert(!std::is_copy_constructible_v<Value<GetEuiccChallengeResponse_t>>);
  static_assert(std::is_nothrow_move_constructible_v<Value<GetEuiccChallengeResponse_t>>);
  auto a = RSP_ASN1_DECODE(GetEuiccChallengeResponse, hex("BF2E12 8010 000102030405060708090A0B0C0D0E0F"));
  auto b = std::move(a);
  EXPECT_FALSE(a);
  EXPECT_TRUE(b);
  EXPECT_THROW(a.encode_der(), Asn1Error);
  std::size_t used = 0;
  Bytes two = hex("BF2E12 8010 000102030405060708090A0B0C0D0E0F BF2E12 8010 101112131415161718191A1B1C1D1E1F");
  auto first = Value<GetEuiccChallengeResponse_t>::decode_prefix(asn_DEF_GetEuiccChallengeResponse, two, used);
  EXPECT_EQ(used, 21u);
  int n = 0;
  decode_each<GetEuiccChallengeResponse_t>(asn_DEF_GetEuiccChallengeResponse, two,
                                           [&](Value<GetEuiccChallengeResponse_t>&& v, rsp::ByteView raw) {
                                             EXPECT_EQ(raw.size(), 21u);
                                             EXPECT_EQ(v->euiccChallenge.buf[0], n == 0 ? 0x00 : 0x10);
                                             ++n;
                                           });
  EXPECT_EQ(n, 2);
}
