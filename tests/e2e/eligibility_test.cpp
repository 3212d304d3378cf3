// Eligibility and Profile Policy Rules end to end (SGP.22 3.1.3, 5.6.3,
// 2.9): SM-DP+ over HTTPS, the LPA, the simulated eUICC. Each requirement the
// eUICC or device does not meet answers AuthenticateClient with 8.2.5/4.3
// (free memory: 8.1/4.8), binds nothing and is reported to the operator as
// notificationPointId 1 Failed; PPRs from the staging data reach the eUICC
// in StoreMetadata, which enforces them.
#include <gtest/gtest.h>

#include <mutex>

#include "attempt.hpp"
#include "rsp/lpa/es10.hpp"
#include "rsp/smdp/eligibility.hpp"

using namespace rsp;
using rsp::e2e::attempt;
using rsp::e2e::World;
namespace fs = std::filesystem;

namespace {

// A SAIP 2.3 package (ProfileHeader major-version 2, minor-version 3).
const fs::path kProfile = rsp::e2e::testdata("ts48/TS48V2-SAIP2-3-NOBERTLV-UNIQUE.der");

class EligibilityDownload : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kProfile)) GTEST_SKIP() << "TS.48 test profiles absent";
    w = std::make_unique<World>(crypto::Curve::P256, "eligibility");
    upp = rsp::e2e::read_file(kProfile);
    auto forward = w->smdp->es9plus().on_progress;
    w->smdp->es9plus().on_progress = [this, forward](const smdp::ProgressEvent& e) {
      {
        std::lock_guard l(mu);
        events.push_back(e);
      }
      if (forward) forward(e);
    };
  }
  // Stages `package` (default: the TS.48 one) for `matching_id`, owned by an
  // operator so that progress is reported.
  std::string stage(const std::string& matching_id, const smdp::ProfileRequirements& r = {},
                    std::optional<std::string> iccid = std::nullopt) {
    Bytes package = iccid ? smdp::with_header_iccid(upp, *iccid) : upp;
    smdp::Profile p;
    p.iccid = smdp::inspect_upp(package).iccid;
    p.matching_id = matching_id;
    p.state = smdp::ProfileState::Released;
    p.owner = "op1";
    p.service_provider_name = "Visited Operator";
    p.profile_name = "Roaming profile";
    w->smdp->profiles().stage(p, package, false, r);
    return p.iccid;
  }
  void euicc(const std::function<void(sim::EuiccConfig&)>& adjust) {
    auto c = w->euicc_config(w->pki.euicc.der, w->pki.euicc.key, w->pki.eum.der);
    adjust(c);
    w->euicc = std::make_unique<sim::Euicc>(c);
  }
  std::vector<smdp::ProgressEvent> point1(const std::string& iccid) {
    std::lock_guard l(mu);
    std::vector<smdp::ProgressEvent> out;
    for (const auto& e : events)
      if (e.iccid == iccid && e.notification_point_id == smdp::kPointEligibility) out.push_back(e);
    return out;
  }
  std::unique_ptr<World> w;
  Bytes upp;
  std::mutex mu;
  std::vector<smdp::ProgressEvent> events;
};

}  // namespace

// The eUICC takes packages up to SAIP 2.1; this one is 2.3.
TEST_F(EligibilityDownload, PackageVersionAboveTheEuiccsIs_8_2_5_4_3) {
  euicc([](sim::EuiccConfig& c) { c.profile_version = {2, 1, 0}; });
  stage("MID");
  auto a = attempt(*w, "MID");
  EXPECT_EQ(a.code(), "8.2.5/4.3") << a.what;
}

TEST_F(EligibilityDownload, ProtectionProfileVersionBelowTheRequiredIs_8_2_5_4_3) {
  smdp::ProfileRequirements r;
  r.min_pp_version = {2, 0, 0};  // the simulator reports 1.0.0
  stage("MID", r);
  EXPECT_EQ(attempt(*w, "MID").code(), "8.2.5/4.3");
}

TEST_F(EligibilityDownload, PprTheEuiccForbidsIs_8_2_5_4_3) {
  euicc([](sim::EuiccConfig& c) { c.forbidden_ppr = {smdp::kPpr1}; });
  smdp::ProfileRequirements r;
  r.ppr = {smdp::kPpr1};
  stage("MID", r);
  EXPECT_EQ(attempt(*w, "MID").code(), "8.2.5/4.3");
}

TEST_F(EligibilityDownload, MissingDeviceCapabilityIs_8_2_5_4_3) {
  smdp::ProfileRequirements r;
  r.device_capabilities = {{"nr5gcSupportedRelease", {15, 0, 0}}};
  stage("MID", r);
  // A device without 5G: no nr5gcSupportedRelease in its DeviceInfo.
  auto a = attempt(*w, "MID", {}, {}, std::nullopt, [](lpa::DownloadOptions& o) { o.device_info.nr_5gc.reset(); });
  EXPECT_EQ(a.code(), "8.2.5/4.3") << a.what;
  // An older release is not enough either.
  auto b = attempt(*w, "MID", {}, {}, std::nullopt, [](lpa::DownloadOptions& o) { o.device_info.nr_5gc = lpa::Version{14, 0, 0}; });
  EXPECT_EQ(b.code(), "8.2.5/4.3") << b.what;
  // The default device (release 15) gets it.
  EXPECT_TRUE(attempt(*w, "MID").installed());
}

// SGP.22 5.6.3: insufficient memory has its own code.
TEST_F(EligibilityDownload, TooLittleFreeMemoryIs_8_1_4_8) {
  euicc([&](sim::EuiccConfig& c) { c.free_nvm = static_cast<std::uint32_t>(upp.size() - 1); });
  stage("MID");
  auto a = attempt(*w, "MID");
  EXPECT_EQ(a.code(), "8.1/4.8");
  EXPECT_NE(a.what.find("eUICC - Insufficient Memory"), std::string::npos) << a.what;
}

// A failed check binds nothing (no EID, no attempt counted), tells the
// operator point 1 Failed with the code; once the eUICC qualifies, the same
// order downloads and point 1 reports success. Before this check existed,
// point 1 said success without any check.
TEST_F(EligibilityDownload, FailedCheckIsReportedAndBindsNothing) {
  euicc([](sim::EuiccConfig& c) { c.profile_version = {2, 1, 0}; });
  std::string iccid = stage("MID");
  EXPECT_EQ(attempt(*w, "MID").code(), "8.2.5/4.3");
  auto p = w->smdp->profiles().by_iccid(iccid);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->state, smdp::ProfileState::Released);
  EXPECT_TRUE(p->eid.empty());
  EXPECT_EQ(p->download_attempts, 0);
  auto ev = point1(iccid);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_FALSE(ev[0].success);
  EXPECT_EQ(ev[0].subject_code + "/" + ev[0].reason_code, "8.2.5/4.3");

  euicc([](sim::EuiccConfig&) {});
  EXPECT_TRUE(attempt(*w, "MID").installed());
  ev = point1(iccid);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_TRUE(ev[1].success);
}

// PPRs set at staging travel in StoreMetadata (with profileOwner), the
// eUICC shows them in GetProfilesInfo and refuses to disable the PPR1
// profile and to delete the PPR2 profile; the LPA names the refusal.
TEST_F(EligibilityDownload, PprsReachTheEuiccAndAreEnforced) {
  smdp::ProfileRequirements r1;
  r1.ppr = {smdp::kPpr1};
  r1.profile_owner_mcc_mnc = smdp::mcc_mnc_from_digits("00101");
  std::string iccid1 = stage("MID1", r1, "8949000000000000011");
  smdp::ProfileRequirements r2;
  r2.ppr = {smdp::kPpr2};
  r2.profile_owner_mcc_mnc = smdp::mcc_mnc_from_digits("00101");
  std::string iccid2 = stage("MID2", r2, "8949000000000000029");
  auto a1 = attempt(*w, "MID1");
  ASSERT_TRUE(a1.installed()) << a1.what;
  EXPECT_EQ(a1.result->offer.policy_rules, std::vector<int>{1});  // shown to the user before consent
  ASSERT_TRUE(attempt(*w, "MID2").installed());

  lpa::Es10Client es10(*w->euicc);
  std::map<std::string, std::vector<int>> ppr;
  for (const auto& info : es10.get_profiles_info()) ppr[info.iccid.value_or("")] = info.policy_rules;
  EXPECT_EQ(ppr[iccid1], std::vector<int>{1});
  EXPECT_EQ(ppr[iccid2], std::vector<int>{2});

  EXPECT_TRUE(es10.enable_profile(lpa::ProfileId::from_iccid(iccid1)).ok());
  auto d = es10.disable_profile(lpa::ProfileId::from_iccid(iccid1));
  EXPECT_EQ(d.code, 3);
  EXPECT_EQ(d.name, "disallowedByPolicy");
  auto del = es10.delete_profile(lpa::ProfileId::from_iccid(iccid2));  // disabled, but PPR2
  EXPECT_EQ(del.code, 3);
  EXPECT_EQ(del.name, "disallowedByPolicy");
  EXPECT_EQ(w->euicc->profiles().size(), 2u);
}

// The eUICC's RAT allows PPR1 only: a PPR2 profile fails at storeMetadata
// with pprNotAllowed, which the LPA reports and the SM-DP+ records.
TEST_F(EligibilityDownload, PprNotAllowedByTheRatFailsTheInstall) {
  euicc([](sim::EuiccConfig& c) { c.rat_der = sim::make_rat_der({1}, {"00101"}, false); });
  smdp::ProfileRequirements r;
  r.ppr = {smdp::kPpr2};
  r.profile_owner_mcc_mnc = smdp::mcc_mnc_from_digits("00101");
  std::string iccid = stage("MID", r);
  auto a = attempt(*w, "MID");
  ASSERT_TRUE(a.result) << a.what;
  EXPECT_FALSE(a.installed());
  EXPECT_EQ(a.result->installation.describe(), "error: storeMetadata / pprNotAllowed");
  EXPECT_TRUE(w->euicc->profiles().empty());
  EXPECT_EQ(w->smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Error);
}
