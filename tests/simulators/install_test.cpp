// A whole download (TS.48 test profile through a BPP), then ES10c profile
// management and the UICC side (SELECT / READ BINARY of the enabled profile).
#include <EnableProfileResponse.h>
#include <DisableProfileResponse.h>
#include <DeleteProfileResponse.h>
#include <ListNotificationResponse.h>
#include <ProfileElement.h>
#include <ProfileHeader.h>
#include <ProfileInfo.h>
#include <ProfileInfoListResponse.h>
#include <ProfileInstallationResult.h>
#include <RetrieveNotificationsListResponse.h>
#include <PendingNotification.h>
#include <SetNicknameResponse.h>

#include <fstream>
#include <iterator>

#include "fake_smdp.hpp"
#include "rsp/log.hpp"
#include "sim_test_util.hpp"

using namespace rsp;
using namespace rsp::sim;
using namespace rsp::sim::test;

namespace {

std::optional<Bytes> read_testdata(const std::string& rel) {
  std::ifstream in(std::string(RSP_SHARED_TESTDATA) + "/" + rel, std::ios::binary);
  if (!in) return std::nullopt;
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The ProfileHeader's iccid octets. (The TS.48 test profiles code them
// without the nibble swap that EF.ICCID uses; the SM-DP+ passes them on in
// StoreMetadata as they are.)
Bytes header_iccid(ByteView package) {
  std::size_t used = 0;
  auto pe = asn1::Value<ProfileElement_t>::decode_prefix(asn_DEF_ProfileElement, package, used);
  if (pe->present != ProfileElement_PR_header) throw std::runtime_error("first PE is not the header");
  return asn1::to_bytes(pe->choice.header.iccid);
}

// EF.ICCID of the package's MF PE (what the UICC side shows).
Bytes swapped(Bytes b) {
  for (auto& x : b) x = static_cast<std::uint8_t>(x << 4 | x >> 4);
  return b;
}

struct Install : ::testing::Test {
  void SetUp() override { log::set_level(log::Level::Error); }
  std::string state = temp_path("install.json");
  std::unique_ptr<Euicc> card = std::make_unique<Euicc>(config_for(pki(), state));

  Bytes call(const Bytes& req) {
    std::uint16_t sw = 0;
    Bytes r = es10(*card, req, &sw);
    EXPECT_EQ(sw, 0x9000);
    return r;
  }

  // Runs a download of `package`; returns the PIR.
  Bytes download(ByteView package, const Bytes& iccid, bool rsk = false, bool expect_complete = true,
                 std::size_t segment_plaintext = scp03t::kMaxSegmentPlaintext) {
    select_isdr(*card);
    FakeSmdp dp(pki());
    Bytes ch_resp = call(from_hex("BF2E00"));
    auto challenge = tlv::require(tlv::parse_one(ch_resp).value, 0x80);
    dp.take_auth_response(call(dp.authenticate_server(challenge.value)));
    EXPECT_TRUE(dp.take_prepare_response(call(dp.prepare_download())));
    FakeSmdp::BppOptions o;
    o.replace_session_keys = rsk;
    o.segment_plaintext = segment_plaintext;
    auto segs = dp.bound_profile_package(card->eid(), FakeSmdp::store_metadata(iccid, "RSP Test Operator", "TS.48 test", "notify.example.com"),
                                         package, o);
    for (std::size_t i = 0; i < segs.size(); ++i) {
      std::uint16_t sw = 0;
      Bytes r = es10(*card, segs[i], &sw);
      EXPECT_EQ(sw, 0x9000);
      if (!r.empty()) {
        if (expect_complete) {
          EXPECT_EQ(i + 1, segs.size()) << "answered before the last segment: " << to_hex(r);
        }
        return r;
      }
    }
    return {};
  }

  static long enable_result(const Bytes& r) {
    return static_cast<long>(asn1::to_int64(RSP_ASN1_DECODE(EnableProfileResponse, r)->enableResult));
  }
};

TEST_F(Install, Ts48ProfileInstallEnableReadImsi) {
  auto package = read_testdata("ts48/TS48v5_SAIP2.3_NoBERTLV.der");
  if (!package) GTEST_SKIP() << "no TS.48 test profiles in " << RSP_SHARED_TESTDATA;
  Bytes iccid = header_iccid(*package);

  Bytes pir = download(*package, iccid);
  auto r = RSP_ASN1_DECODE(ProfileInstallationResult, pir);
  auto& d = r->profileInstallationResultData;
  ASSERT_EQ(d.finalResult.present, ProfileInstallationResultData__finalResult_PR_successResult);
  Bytes isdp = asn1::to_bytes(d.finalResult.choice.successResult.aid);
  EXPECT_EQ(isdp.size(), 16u);
  ASSERT_NE(d.notificationMetadata.iccid, nullptr);
  EXPECT_EQ(asn1::to_bytes(*d.notificationMetadata.iccid), iccid);
  EXPECT_EQ(asn1::to_string(d.notificationMetadata.notificationAddress), "smdp.example.com");
  EXPECT_EQ(asn1::oid_to_string(d.smdpOid), "2.999.10");

  // GetProfilesInfo: one disabled profile.
  auto pl = RSP_ASN1_DECODE(ProfileInfoListResponse, call(from_hex("BF2D00")));
  ASSERT_EQ(pl->choice.profileInfoListOk.list.count, 1);
  const ProfileInfo_t* pi = pl->choice.profileInfoListOk.list.array[0];
  ASSERT_TRUE(pi->iccid && pi->isdpAid && pi->profileState && pi->serviceProviderName && pi->profileName);
  EXPECT_EQ(asn1::to_bytes(*pi->iccid), iccid);
  EXPECT_EQ(asn1::to_bytes(*pi->isdpAid), isdp);
  EXPECT_EQ(asn1::to_int64(*pi->profileState), 0);
  EXPECT_EQ(asn1::to_string(*pi->serviceProviderName), "RSP Test Operator");
  ASSERT_NE(pi->notificationConfigurationInfo, nullptr);
  EXPECT_EQ(pi->notificationConfigurationInfo->list.count, 1);

  // tagList: only the ICCID and state.
  auto pl2 = RSP_ASN1_DECODE(ProfileInfoListResponse, call(from_hex("BF2D065C045A9F7090")));
  const ProfileInfo_t* pi2 = pl2->choice.profileInfoListOk.list.array[0];
  EXPECT_TRUE(pi2->iccid && pi2->profileState);
  EXPECT_FALSE(pi2->isdpAid || pi2->serviceProviderName);
  EXPECT_FALSE(pi2->profileNickname);  // asked for, but no nickname is set: absent

  // Nothing to read before the profile is enabled.
  EXPECT_EQ(tx(*card, "00A4080C022FE2").sw, 0x6A82);

  // Enable by ICCID (BF31 { A0 { 5A iccid }, 81 refreshFlag }), after selecting the
  // ISD-R again (the file SELECT above took the basic channel to the MF).
  select_isdr(*card);
  Bytes enable = tlv::make(0xBF31, concat(tlv::make(0xA0, tlv::make(0x5A, iccid)), from_hex("8101FF")));
  EXPECT_EQ(enable_result(call(enable)), 0);
  EXPECT_EQ(enable_result(call(enable)), 2);  // profileNotInDisabledState

  // UICC side on the basic channel: EF ICCID under the MF.
  auto sel = tx(*card, "00A40004022FE200");
  ASSERT_EQ(sel.sw, 0x9000);
  EXPECT_EQ(tlv::parse_one(sel.data).tag, 0x62u);
  auto rb = tx(*card, "00B000000A");
  ASSERT_EQ(rb.sw, 0x9000);
  EXPECT_TRUE(rb.data == iccid || rb.data == swapped(iccid)) << to_hex(rb.data);
  // ADF USIM by AID, then EF IMSI.
  auto profiles = card->profiles();
  ASSERT_EQ(profiles.size(), 1u);
  ASSERT_FALSE(profiles[0].usim_aid.empty());
  apdu::Command sel_usim{0x00, 0xA4, 0x04, 0x04, profiles[0].usim_aid, 256};
  auto su = apdu::Response::parse(card->transmit(sel_usim.encode()));
  ASSERT_EQ(su.sw, 0x9000);
  auto fcp = tlv::parse_one(su.data);
  ASSERT_TRUE(tlv::find(fcp.value, 0x84));
  EXPECT_EQ(tx(*card, "00A4000C026F07").sw, 0x9000);
  auto imsi = tx(*card, "00B0000009");
  ASSERT_EQ(imsi.sw, 0x9000);
  ASSERT_EQ(imsi.data.size(), 9u);
  EXPECT_EQ(imsi.data[0], 0x08);  // length byte of EF IMSI
  EXPECT_EQ(card->read_file({0x7FFF, 0x6F07}), imsi.data);
  // The same by path from the MF (7FFF = current application), and by SFI.
  EXPECT_EQ(tx(*card, "00A4080C047FFF6F07").sw, 0x9000);
  EXPECT_EQ(tx(*card, "00B0870009").data, imsi.data);
  // READ BINARY past the end / on a DF.
  EXPECT_EQ(tx(*card, "00B0001000").sw, 0x6B00);
  EXPECT_EQ(tx(*card, "00A40004023F0000").sw, 0x9000);
  EXPECT_EQ(tx(*card, "00B0000001").sw, 0x6986);

  // Notifications: install (from the download) and enable.
  select_isdr(*card);
  auto nl = RSP_ASN1_DECODE(ListNotificationResponse, call(from_hex("BF2800")));
  ASSERT_EQ(nl->choice.notificationMetadataList.list.count, 2);
  auto rl = RSP_ASN1_DECODE(RetrieveNotificationsListResponse, call(from_hex("BF2B00")));
  ASSERT_EQ(rl->choice.notificationList.list.count, 2);
  const PendingNotification_t* other = rl->choice.notificationList.list.array[1];
  ASSERT_EQ(other->present, PendingNotification_PR_otherSignedNotification);
  Bytes tbs = RSP_ASN1_ENCODE(NotificationMetadata, &other->choice.otherSignedNotification.tbsOtherNotification);
  EXPECT_TRUE(pki().euicc.cert().public_key().verify(
      tbs, asn1::view(other->choice.otherSignedNotification.euiccNotificationSignature)));
  EXPECT_EQ(asn1::to_string(other->choice.otherSignedNotification.tbsOtherNotification.notificationAddress),
            "notify.example.com");

  // Nickname, then restart: everything persisted.
  Bytes nick = tlv::make(0xBF29, concat(tlv::make(0x5A, iccid), tlv::make(0x90, to_bytes("work"))));
  EXPECT_EQ(asn1::to_int64(RSP_ASN1_DECODE(SetNicknameResponse, call(nick))->setNicknameResult), 0);
  card = std::make_unique<Euicc>(config_for(pki(), state));
  profiles = card->profiles();
  ASSERT_EQ(profiles.size(), 1u);
  EXPECT_TRUE(profiles[0].enabled);
  EXPECT_EQ(profiles[0].nickname, "work");
  EXPECT_EQ(card->notifications().size(), 2u);
  EXPECT_EQ(tx(*card, "00A4080C047FFF6F07").sw, 0x9000);
  EXPECT_EQ(tx(*card, "00B0000009").data, imsi.data);

  // Disable, delete.
  select_isdr(*card);
  Bytes del = tlv::make(0xBF33, tlv::make(0x5A, iccid));
  EXPECT_EQ(asn1::to_int64(RSP_ASN1_DECODE(DeleteProfileResponse, call(del))->deleteResult), 2);  // still enabled
  Bytes disable = tlv::make(0xBF32, concat(tlv::make(0xA0, tlv::make(0x4F, isdp)), from_hex("8101FF")));
  EXPECT_EQ(asn1::to_int64(RSP_ASN1_DECODE(DisableProfileResponse, call(disable))->disableResult), 0);
  EXPECT_EQ(tx(*card, "00A4080C047FFF6F07").sw, 0x6A82);
  select_isdr(*card);
  EXPECT_EQ(asn1::to_int64(RSP_ASN1_DECODE(DeleteProfileResponse, call(del))->deleteResult), 0);
  EXPECT_TRUE(card->profiles().empty());
  EXPECT_EQ(card->notifications().size(), 4u);  // install, enable, disable, delete
}

TEST_F(Install, ReplaceSessionKeysAndDuplicateIccid) {
  auto package = read_testdata("ts48/TS48v4_SAIP2.1A_NoBERTLV.der");
  if (!package) GTEST_SKIP() << "no TS.48 test profiles";
  Bytes iccid = header_iccid(*package);
  Bytes pir = download(*package, iccid, true);
  auto r = RSP_ASN1_DECODE(ProfileInstallationResult, pir);
  ASSERT_EQ(r->profileInstallationResultData.finalResult.present, ProfileInstallationResultData__finalResult_PR_successResult);
  // The same ICCID again: installFailedDueToIccidAlreadyExistsOnEuicc (9), at storeMetadata.
  pir = download(*package, iccid, true, false);
  r = RSP_ASN1_DECODE(ProfileInstallationResult, pir);
  auto& fr = r->profileInstallationResultData.finalResult;
  ASSERT_EQ(fr.present, ProfileInstallationResultData__finalResult_PR_errorResult);
  EXPECT_EQ(asn1::to_int64(fr.choice.errorResult.bppCommandId), 2);
  EXPECT_EQ(asn1::to_int64(fr.choice.errorResult.errorReason), 9);
  EXPECT_EQ(card->profiles().size(), 1u);
}

// SGP.22 2.5.5: a profile segment over 1,020 bytes (here 1,008 plaintext
// bytes: 1,036 on the wire) is refused as a real eUICC refuses it, with
// loadProfileElements(5) / scp03tStructureError(7), and nothing is installed.
TEST_F(Install, SegmentOver1020BytesRefused) {
  auto package = read_testdata("ts48/TS48v4_SAIP2.1A_NoBERTLV.der");
  if (!package) GTEST_SKIP() << "no TS.48 test profiles";
  Bytes pir = download(*package, header_iccid(*package), false, false, 1008);
  auto r = RSP_ASN1_DECODE(ProfileInstallationResult, pir);
  auto& fr = r->profileInstallationResultData.finalResult;
  ASSERT_EQ(fr.present, ProfileInstallationResultData__finalResult_PR_errorResult);
  EXPECT_EQ(asn1::to_int64(fr.choice.errorResult.bppCommandId), BppCommandId_loadProfileElements);
  EXPECT_EQ(asn1::to_int64(fr.choice.errorResult.errorReason), ErrorReason_scp03tStructureError);
  EXPECT_TRUE(card->profiles().empty());
  // 1,007 (the limit) installs.
  pir = download(*package, header_iccid(*package));
  r = RSP_ASN1_DECODE(ProfileInstallationResult, pir);
  EXPECT_EQ(r->profileInstallationResultData.finalResult.present,
            ProfileInstallationResultData__finalResult_PR_successResult);
}

TEST_F(Install, IccidMismatchRejected) {
  auto package = read_testdata("ts48/TS48v4_SAIP2.1A_NoBERTLV.der");
  if (!package) GTEST_SKIP() << "no TS.48 test profiles";
  Bytes pir = download(*package, iccid_to_bcd("8949000000000000001"), false, false);
  auto r = RSP_ASN1_DECODE(ProfileInstallationResult, pir);
  auto& fr = r->profileInstallationResultData.finalResult;
  ASSERT_EQ(fr.present, ProfileInstallationResultData__finalResult_PR_errorResult);
  EXPECT_EQ(asn1::to_int64(fr.choice.errorResult.errorReason), 13);  // installFailedDueToDataMismatch
  EXPECT_TRUE(card->profiles().empty());
}

// What the card changes (an UPDATE BINARY, a PIN counter) is in the state
// file: a restarted eUICC rebuilds the file system from the package and
// shows the changes (issue 15).
TEST_F(Install, CardChangesSurviveRestart) {
  auto package = read_testdata("ts48/TS48v5_SAIP2.3_NoBERTLV.der");
  if (!package) GTEST_SKIP() << "no TS.48 test profiles in " << RSP_SHARED_TESTDATA;
  Bytes iccid = header_iccid(*package);
  download(*package, iccid);
  select_isdr(*card);
  Bytes enable = tlv::make(0xBF31, concat(tlv::make(0xA0, tlv::make(0x5A, iccid)), from_hex("8101FF")));
  ASSERT_EQ(enable_result(call(enable)), 0);
  auto usim = card->profiles()[0].usim_aid;
  apdu::Command sel_usim{0x00, 0xA4, 0x04, 0x0C, usim, std::nullopt};
  ASSERT_EQ(apdu::Response::parse(card->transmit(sel_usim.encode())).sw, 0x9000);
  ASSERT_EQ(tx(*card, "00A4000C026F07").sw, 0x9000);
  EXPECT_EQ(tx(*card, "00D600000109").sw, 0x6982);                     // EF.IMSI: ADM only
  EXPECT_EQ(tx(*card, "002000810831313131FFFFFFFF").sw, 0x63C2);       // a wrong PIN2
  EXPECT_EQ(tx(*card, "0020000A083535353535353535").sw, 0x9000);       // ADM1
  EXPECT_EQ(tx(*card, "00D600000109").sw, 0x9000);
  Bytes imsi = tx(*card, "00B0000009").data;
  EXPECT_EQ(imsi[0], 0x09);
  EXPECT_EQ(card->read_file({0x7FFF, 0x6F07}), imsi);
  card = std::make_unique<Euicc>(config_for(pki(), state));
  EXPECT_EQ(card->read_file({0x7FFF, 0x6F07}), imsi);
  EXPECT_EQ(tx(*card, "0020008100").sw, 0x63C2);  // the counter too
  EXPECT_NE(card->dump_file_system().find("3F00/2FE2 transparent size=10 sfi=02"), std::string::npos);
}

// Every TS.48 profile installs and shows an IMSI.
TEST_F(Install, AllTs48Profiles) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(RSP_SHARED_TESTDATA) / "ts48";
  if (!fs::exists(dir)) GTEST_SKIP() << "no TS.48 test profiles";
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".der") continue;
    SCOPED_TRACE(e.path().filename().string());
    card = std::make_unique<Euicc>(config_for(pki()));
    std::ifstream in(e.path(), std::ios::binary);
    Bytes package((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Bytes iccid = header_iccid(package);
    Bytes pir = download(package, iccid);
    auto r = RSP_ASN1_DECODE(ProfileInstallationResult, pir);
    ASSERT_EQ(r->profileInstallationResultData.finalResult.present, ProfileInstallationResultData__finalResult_PR_successResult);
    Bytes enable = tlv::make(0xBF31, concat(tlv::make(0xA0, tlv::make(0x5A, iccid)), from_hex("8101FF")));
    ASSERT_EQ(enable_result(call(enable)), 0);
    auto imsi = card->read_file({0x7FFF, 0x6F07});
    ASSERT_TRUE(imsi);
    EXPECT_EQ(imsi->size(), 9u);
    auto ef_iccid = card->read_file({0x2FE2});
    ASSERT_TRUE(ef_iccid);
    EXPECT_TRUE(*ef_iccid == iccid || *ef_iccid == swapped(iccid)) << to_hex(*ef_iccid);
    ++n;
  }
  EXPECT_GT(n, 0);
}

}  // namespace
