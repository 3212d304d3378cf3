// The SM-DP+'s eligibility check (SGP.22 3.1.3, 5.6.3) against EUICCInfo2
// and DeviceInfo as an eUICC and an LPA send them. Both are assembled here
// by hand from the SGP.22 v2.2.2 module's tags (EUICCInfo2 [34] = BF22 with
// its members [1]..[12], [25] = 99 and the untagged ppVersion 04; DeviceInfo
// a SEQUENCE of tac [0], deviceCapabilities [1] with releases [0]..[10]), so
// the test does not depend on our encoder (which the simulator and the SM-DP+
// share). Also: the requirements a staged profile gets, and their storage.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "rsp/crypto.hpp"
#include "rsp/smdp/eligibility.hpp"
#include "rsp/smdp/profile_store.hpp"
#include "rsp/smdp/status.hpp"
#include "rsp/tlv.hpp"
#include "../common/pg_cluster.hpp"

using namespace rsp;
using namespace rsp::smdp;

namespace {

Bytes tlv(std::uint32_t tag, const Bytes& v) { return rsp::tlv::make(tag, v); }
Bytes hex(const char* h) { return from_hex(h); }

struct Info2 {
  Bytes profile_version = {2, 3, 1};
  Bytes pp_version = {1, 0, 0};
  std::uint32_t free_nvm = 0x10000;
  Bytes forbidden;  // 99 value, e.g. 0640 (ppr1); empty: absent
  Bytes der() const {
    Bytes ski(20, 0xA5);
    Bytes nvm = {static_cast<std::uint8_t>(free_nvm >> 24), static_cast<std::uint8_t>(free_nvm >> 16),
                 static_cast<std::uint8_t>(free_nvm >> 8), static_cast<std::uint8_t>(free_nvm)};
    Bytes ecr = concat(tlv(0x81, hex("01")), tlv(0x82, nvm), tlv(0x83, hex("00004000")));
    Bytes body = concat(tlv(0x81, profile_version), tlv(0x82, hex("020202")), tlv(0x83, hex("010000")), tlv(0x84, ecr),
                        tlv(0x85, hex("0676FF")), tlv(0x88, hex("0490")), tlv(0xA9, tlv(0x04, ski)),
                        tlv(0xAA, tlv(0x04, ski)), tlv(0x8B, hex("02")));
    if (!forbidden.empty()) append(body, tlv(0x99, forbidden));
    append(body, concat(tlv(0x04, pp_version), tlv(0x0C, to_bytes("GI-BA-UP-0419"))));
    return tlv(0xBF22, body);
  }
};

// tac 35674108; GSM (80), UTRAN (81), E-UTRAN/EPC (85) release 15; no NR.
Bytes device_info() {
  Bytes caps = concat(tlv(0x80, hex("0F0000")), tlv(0x81, hex("0F0000")), tlv(0x85, hex("0F0000")));
  return tlv(0x30, concat(tlv(0x80, hex("35674108")), tlv(0xA1, caps)));
}

// "subject/reason" of the FunctionError the check throws, "" if it passes.
std::string verdict(const ProfileRequirements& r, const Info2& info2 = {}) {
  try {
    check_eligibility_der(r, info2.der(), device_info());
    return "";
  } catch (const FunctionError& e) {
    return e.subject_code + "/" + e.reason_code;
  }
}

ProfileRequirements typical() {
  ProfileRequirements r;
  r.profile_version = {2, 3, 0};
  r.nvm_bytes = 30000;
  r.ppr = {kPpr2};
  r.min_pp_version = {1, 0, 0};
  r.device_capabilities = {{"eutranEpcSupportedRelease", {13, 0, 0}}};
  return r;
}

}  // namespace

TEST(Eligibility, MetRequirementsPass) {
  EXPECT_EQ(verdict(typical()), "");
  EXPECT_EQ(verdict(ProfileRequirements{}), "");  // a profile staged before requirements existed
  Info2 forbids_ppr1;
  forbids_ppr1.forbidden = hex("0640");
  EXPECT_EQ(verdict(typical(), forbids_ppr1), "");  // the profile has PPR2 only
}

TEST(Eligibility, PackageVersionNewerThanTheEuiccTakesIs_8_2_5_4_3) {
  auto r = typical();
  r.profile_version = {2, 4, 0};
  EXPECT_EQ(verdict(r), "8.2.5/4.3");
  Info2 old;
  old.profile_version = {2, 1, 0};
  EXPECT_EQ(verdict(typical(), old), "8.2.5/4.3");
}

TEST(Eligibility, ProtectionProfileVersionBelowTheRequiredIs_8_2_5_4_3) {
  auto r = typical();
  r.min_pp_version = {1, 1, 0};
  EXPECT_EQ(verdict(r), "8.2.5/4.3");
}

TEST(Eligibility, ForbiddenPolicyRuleIs_8_2_5_4_3) {
  Info2 forbids;
  forbids.forbidden = hex("0520");  // ppr2
  EXPECT_EQ(verdict(typical(), forbids), "8.2.5/4.3");
}

TEST(Eligibility, MissingOrOlderDeviceCapabilityIs_8_2_5_4_3) {
  auto r = typical();
  r.device_capabilities = {{"nr5gcSupportedRelease", {15, 0, 0}}};  // the device has no NR
  EXPECT_EQ(verdict(r), "8.2.5/4.3");
  r.device_capabilities = {{"eutranEpcSupportedRelease", {16, 0, 0}}};
  EXPECT_EQ(verdict(r), "8.2.5/4.3");
}

// SGP.22 5.6.3 gives insufficient memory its own code.
TEST(Eligibility, ProfileLargerThanFreeMemoryIs_8_1_4_8) {
  Info2 small;
  small.free_nvm = 29999;
  EXPECT_EQ(verdict(typical(), small), "8.1/4.8");
  small.free_nvm = 30000;
  EXPECT_EQ(verdict(typical(), small), "");
}

TEST(Eligibility, RequirementsFromTheProfilePackage) {
  std::ifstream in(std::string(RSP_SHARED_TESTDATA) + "/ts48/TS48V2-SAIP2-3-NOBERTLV-UNIQUE.der", std::ios::binary);
  if (!in) GTEST_SKIP() << "TS.48 test profiles absent";
  Bytes upp(std::istreambuf_iterator<char>(in), {});
  auto r = requirements_from_upp(upp);
  EXPECT_EQ(r.profile_version, (Bytes{2, 3, 0}));  // ProfileHeader major-version 2, minor-version 3
  EXPECT_EQ(r.nvm_bytes, upp.size());
}

TEST(Eligibility, VersionsAndOperators) {
  EXPECT_EQ(parse_version("15.1.0"), (Bytes{15, 1, 0}));
  EXPECT_THROW(parse_version("15.1"), std::invalid_argument);
  EXPECT_THROW(parse_version("256.0.0"), std::invalid_argument);
  EXPECT_EQ(to_hex(mcc_mnc_from_digits("00101")), "00f110");   // TS 24.008: MNC digit 3 'F'
  EXPECT_EQ(to_hex(mcc_mnc_from_digits("310410")), "130014");
  EXPECT_THROW(mcc_mnc_from_digits("0010"), std::invalid_argument);
}

// Requirements live in their own table, keyed by ICCID; staging fills the
// package's version and size unless given, and refuses bad values without
// leaving the profile half-staged.
TEST(Eligibility, StoredWithTheProfile) {
  store::Db db{rsp::test::test_store()};
  ProfileStore store{db, crypto::random_bytes(32)};
  Profile p;
  p.iccid = "8949000000000000011";
  p.matching_id = "M1";
  p.state = ProfileState::Released;
  ProfileRequirements given;
  given.ppr = {kPpr1, kPpr2};
  given.profile_owner_mcc_mnc = mcc_mnc_from_digits("00101");
  given.device_capabilities = {{"eutranEpcSupportedRelease", {15, 0, 0}}, {"nr5gcSupportedRelease", {16, 0, 0}}};
  Bytes not_a_package = {1, 2, 3, 4, 5};
  store.stage(p, not_a_package, false, given);
  auto got = store.requirements(p.iccid);
  EXPECT_EQ(got.ppr, (std::vector<unsigned>{kPpr1, kPpr2}));
  EXPECT_EQ(got.profile_owner_mcc_mnc, given.profile_owner_mcc_mnc);
  EXPECT_EQ(got.device_capabilities, given.device_capabilities);
  EXPECT_EQ(got.nvm_bytes, 5u);  // not decodable: its size still counts
  EXPECT_TRUE(got.profile_version.empty());
  EXPECT_TRUE(store.requirements("8949000000000000029").ppr.empty());  // none stored

  Profile q = p;
  q.iccid = "8949000000000000029";
  q.matching_id = "M2";
  ProfileRequirements bad;
  bad.device_capabilities = {{"warpDriveSupportedRelease", {1, 0, 0}}};
  EXPECT_THROW(store.stage(q, not_a_package, false, bad), std::invalid_argument);
  EXPECT_FALSE(store.by_iccid(q.iccid));  // nothing half-written
}
