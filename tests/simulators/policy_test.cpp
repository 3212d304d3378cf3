// Profile Policy Rules on the simulated eUICC (SGP.22 2.9): a PPR1 profile
// cannot be disabled and a PPR2 profile cannot be deleted (disallowedByPolicy,
// 3, in DisableProfileResponse / DeleteProfileResponse); PPRs the Rules
// Authorisation Table does not allow for the profile owner refuse the install
// (pprNotAllowed, 15, at storeMetadata, 2); GetProfilesInfo shows the PPRs;
// EUICCInfo2's ppVersion, profileVersion, free memory and
// forbiddenProfilePolicyRules are configurable. The PPR and owner fields of
// StoreMetadata and every ES10c request here are assembled by hand from the
// module's tags, not encoded by our asn1c code.
#include <DeleteProfileResponse.h>
#include <DisableProfileResponse.h>
#include <EUICCInfo2.h>
#include <EnableProfileResponse.h>
#include <ProfileElement.h>
#include <ProfileInstallationResult.h>

#include <fstream>
#include <iterator>

#include "fake_smdp.hpp"
#include "rsp/log.hpp"
#include "rsp/tlv.hpp"
#include "sim_test_util.hpp"

using namespace rsp;
using namespace rsp::sim;
using namespace rsp::sim::test;

namespace {

std::optional<Bytes> ts48() {
  std::ifstream in(std::string(RSP_SHARED_TESTDATA) + "/ts48/TS48v4_SAIP2.1A_NoBERTLV.der", std::ios::binary);
  if (!in) return std::nullopt;
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Bytes header_iccid(ByteView package) {
  std::size_t used = 0;
  auto pe = asn1::Value<ProfileElement_t>::decode_prefix(asn_DEF_ProfileElement, package, used);
  return asn1::to_bytes(pe->choice.header.iccid);
}

// PprIds (BIT STRING, [25] -> 99) in DER's minimal form.
const char* kPpr1 = "99020640";  // ppr1: bit 1, 6 unused bits
const char* kPpr2 = "99020520";  // ppr2: bit 2, 5 unused bits
// profileOwner [23] OperatorId { mccMnc [0] } for MCC 001 / MNC 01 and 002 / 02.
const char* kOwner00101 = "B705800300F110";
const char* kOwner00202 = "B705800300F220";

struct Policy : ::testing::Test {
  void SetUp() override {
    log::set_level(log::Level::Error);
    package = ts48();
    if (!package) GTEST_SKIP() << "no TS.48 test profiles";
    iccid = header_iccid(*package);
  }
  void make_card(const std::function<void(EuiccConfig&)>& adjust) {
    auto c = config_for(pki());
    adjust(c);
    card = std::make_unique<Euicc>(c);
  }
  std::optional<Bytes> package;
  Bytes iccid;
  std::unique_ptr<Euicc> card = std::make_unique<Euicc>(config_for(pki()));

  Bytes call(const Bytes& req) {
    std::uint16_t sw = 0;
    Bytes r = es10(*card, req, &sw);
    EXPECT_EQ(sw, 0x9000);
    return r;
  }
  // StoreMetadata with the hand-assembled fields appended inside BF25 (B7
  // and 99 follow B6 in the module's order).
  Bytes metadata(const std::string& extra_hex) {
    Bytes md = FakeSmdp::store_metadata(iccid, "RSP Test Operator", "TS.48 test", "notify.example.com");
    return tlv::make(0xBF25, concat(tlv::parse_one(md).value, from_hex(extra_hex)));
  }
  // A whole download; the ProfileInstallationResult's finalResult as
  // "ok" or "<bppCommandId>/<errorReason>".
  std::string install(const std::string& extra_hex) {
    select_isdr(*card);
    FakeSmdp dp(pki());
    Bytes challenge_response = call(from_hex("BF2E00"));
    auto challenge = tlv::require(tlv::parse_one(challenge_response).value, 0x80);
    dp.take_auth_response(call(dp.authenticate_server(challenge.value)));
    EXPECT_TRUE(dp.take_prepare_response(call(dp.prepare_download())));
    auto segs = dp.bound_profile_package(card->eid(), metadata(extra_hex), *package, FakeSmdp::BppOptions{});
    for (const auto& s : segs) {
      std::uint16_t sw = 0;
      Bytes r = es10(*card, s, &sw);
      EXPECT_EQ(sw, 0x9000);
      if (r.empty()) continue;
      auto pir = RSP_ASN1_DECODE(ProfileInstallationResult, r);
      const auto& fr = pir->profileInstallationResultData.finalResult;
      if (fr.present == ProfileInstallationResultData__finalResult_PR_successResult) return "ok";
      return std::to_string(asn1::to_int64(fr.choice.errorResult.bppCommandId)) + "/" +
             std::to_string(asn1::to_int64(fr.choice.errorResult.errorReason));
    }
    return "no result";
  }
  // EnableProfile / DisableProfile / DeleteProfile by ICCID (5A), refreshFlag false.
  long enable() { return result(call(tlv::make(0xBF31, concat(tlv::make(0xA0, tlv::make(0x5A, iccid)), from_hex("810100"))))); }
  long disable() { return result(call(tlv::make(0xBF32, concat(tlv::make(0xA0, tlv::make(0x5A, iccid)), from_hex("810100"))))); }
  long remove() { return result(call(tlv::make(0xBF33, tlv::make(0x5A, iccid)))); }
  // The one INTEGER (80) inside the response.
  static long result(const Bytes& r) {
    auto v = tlv::require(tlv::parse_one(r).value, 0x80).value;
    return v.empty() ? -1 : v[0];
  }
};

}  // namespace

// PPR1: disabling not allowed -> disableResult disallowedByPolicy (3); the
// profile stays enabled. GetProfilesInfo shows the rule (99, ppr1).
TEST_F(Policy, Ppr1ProfileCannotBeDisabled) {
  ASSERT_EQ(install(std::string(kOwner00101) + kPpr1), "ok");
  EXPECT_EQ(enable(), 0);
  EXPECT_EQ(disable(), DisableProfileResponse__disableResult_disallowedByPolicy);
  ASSERT_EQ(card->profiles().size(), 1u);
  EXPECT_TRUE(card->profiles()[0].enabled);
  EXPECT_EQ(card->profiles()[0].ppr, std::vector<unsigned>{1});
  Bytes info = call(from_hex("BF2D035C0199"));  // GetProfilesInfo, tagList: profilePolicyRules
  auto e3 = tlv::require(tlv::require(tlv::parse_one(info).value, 0xA0).value, 0xE3);
  EXPECT_EQ(to_hex(e3.value, true), kPpr1);
}

// PPR2: deletion not allowed -> deleteResult disallowedByPolicy (3); the
// profile stays; disabling it is allowed.
TEST_F(Policy, Ppr2ProfileCannotBeDeleted) {
  ASSERT_EQ(install(std::string(kOwner00101) + kPpr2), "ok");
  EXPECT_EQ(enable(), 0);
  EXPECT_EQ(disable(), 0);
  EXPECT_EQ(remove(), DeleteProfileResponse__deleteResult_disallowedByPolicy);
  ASSERT_EQ(card->profiles().size(), 1u);
  EXPECT_EQ(card->profiles()[0].ppr, std::vector<unsigned>{2});
}

// A profile without PPRs is disabled and deleted as before.
TEST_F(Policy, ProfileWithoutPprsCanBeDisabledAndDeleted) {
  ASSERT_EQ(install(kOwner00101), "ok");
  EXPECT_EQ(enable(), 0);
  EXPECT_EQ(disable(), 0);
  EXPECT_EQ(remove(), 0);
  EXPECT_TRUE(card->profiles().empty());
}

// The RAT allows only PPR1, only for 001/01: PPR2, or PPR1 for another
// owner (or with no profileOwner), is refused at storeMetadata (2) with
// pprNotAllowed (15) and nothing is installed.
TEST_F(Policy, PprsTheRatDoesNotAllowRefuseTheInstall) {
  make_card([](EuiccConfig& c) { c.rat_der = make_rat_der({1}, {"00101"}, false); });
  EXPECT_EQ(install(std::string(kOwner00101) + kPpr2), "2/15");
  EXPECT_EQ(install(std::string(kOwner00202) + kPpr1), "2/15");
  EXPECT_EQ(install(kPpr1), "2/15");
  EXPECT_TRUE(card->profiles().empty());
  EXPECT_EQ(install(std::string(kOwner00101) + kPpr1), "ok");
}

// 'E' digits of a RAT operator are wildcards (001 with any MNC here).
TEST_F(Policy, RatOperatorWildcards) {
  make_card([](EuiccConfig& c) { c.rat_der = make_rat_der({2}, {"001EE"}, false); });
  EXPECT_EQ(install(std::string(kOwner00202) + kPpr2), "2/15");
  EXPECT_EQ(install(std::string(kOwner00101) + kPpr2), "ok");
}

// EUICCInfo2 values for the SM-DP+'s eligibility tests: profileVersion (81),
// extCardResource free NVM (84 { 82 }), forbiddenProfilePolicyRules (99),
// ppVersion (04), read from the bytes.
TEST_F(Policy, EuiccInfo2ValuesAreConfigurable) {
  make_card([](EuiccConfig& c) {
    c.profile_version = {2, 1, 0};
    c.pp_version = {0, 0, 1};
    c.free_nvm = 0x1234;
    c.forbidden_ppr = {1};
  });
  select_isdr(*card);
  Bytes info2 = call(from_hex("BF2200"));
  auto body = tlv::parse_one(info2).value;
  EXPECT_EQ(to_hex(tlv::require(body, 0x81).value), "020100");
  EXPECT_EQ(to_hex(tlv::require(tlv::require(body, 0x84).value, 0x82).value), "00001234");
  EXPECT_EQ(to_hex(tlv::require(body, 0x99).raw, true), kPpr1);
  EXPECT_EQ(to_hex(tlv::require(body, 0x04).value), "000001");
  // Unconfigured: no forbiddenProfilePolicyRules at all.
  card = std::make_unique<Euicc>(config_for(pki()));
  select_isdr(*card);
  Bytes plain = call(from_hex("BF2200"));
  EXPECT_FALSE(tlv::find(tlv::parse_one(plain).value, 0x99));
}
