// The LPA against the in-process eUICC simulator (rsp::sim::Euicc): chip
// info, profile list, notifications, over the real APDU path.
#include <gtest/gtest.h>

#ifdef RSP_HAVE_EUICC_SIM
#include <filesystem>

#include "rsp/lpa/es10.hpp"
#include "rsp/sim/euicc.hpp"

using namespace rsp;
using namespace rsp::lpa;

namespace {

const std::string kSgp26 = std::string(RSP_SHARED_TESTDATA) + "/sgp26";

std::unique_ptr<sim::Euicc> make_euicc() {
  if (!std::filesystem::exists(kSgp26 + "/eUICC/CERT_EUICC_ECDSA_NIST.der")) return nullptr;
  auto cfg = sim::EuiccConfig::from_files(
      kSgp26 + "/eUICC/CERT_EUICC_ECDSA_NIST.der", kSgp26 + "/eUICC/SK_EUICC_ECDSA_NIST.pem",
      kSgp26 + "/EUM/CERT_EUM_ECDSA_NIST.der", {kSgp26 + "/CertificateIssuer/CERT_CI_ECDSA_NIST.der"}, "");
  cfg.initial_default_dp_address = "smdp.example.com";
  return std::make_unique<sim::Euicc>(std::move(cfg));
}

}  // namespace

TEST(LpaOnSimulator, ChipInfo) {
  auto card = make_euicc();
  if (!card) GTEST_SKIP() << "SGP.26 test material not found under " << kSgp26;
  Es10Client euicc(*card);
  EXPECT_EQ(euicc.get_eid(), "89049032123451234512345678901235");
  EXPECT_EQ(euicc.get_eid(), card->eid_hex());
  EuiccInfo2 info = euicc.get_euicc_info2();
  EXPECT_EQ(info.raw.size() > 2 && info.raw[0] == 0xBF && info.raw[1] == 0x22, true);
  EXPECT_EQ(version_to_string(info.svn), "2.2.2");
  EXPECT_FALSE(info.ci_pkids_verification.empty());
  EXPECT_FALSE(info.ci_pkids_signing.empty());
  EuiccInfo1 info1 = euicc.get_euicc_info1();
  EXPECT_EQ(info1.ci_pkids_signing, info.ci_pkids_signing);
  ConfiguredAddresses addr = euicc.get_configured_addresses();
  EXPECT_EQ(addr.default_dp_address.value_or(""), "smdp.example.com");
  EXPECT_FALSE(addr.root_ds_address.empty());
  EXPECT_EQ(euicc.get_euicc_challenge().size(), 16u);
  EXPECT_NE(euicc.channel().channel(), 0);  // a logical channel was opened
}

TEST(LpaOnSimulator, EmptyCardAndSettings) {
  auto card = make_euicc();
  if (!card) GTEST_SKIP() << "SGP.26 test material not found";
  Es10Client euicc(*card);
  EXPECT_TRUE(euicc.get_profiles_info().empty());
  EXPECT_TRUE(euicc.list_notifications().empty());
  EXPECT_TRUE(euicc.retrieve_notifications().empty());
  EXPECT_TRUE(euicc.set_default_dp_address("other.example.com").ok());
  EXPECT_EQ(euicc.get_configured_addresses().default_dp_address.value_or(""), "other.example.com");
  EXPECT_EQ(card->default_dp_address().value_or(""), "other.example.com");
  auto r = euicc.enable_profile(ProfileId::parse("8944476500000000014"));
  EXPECT_EQ(r.name, "iccidOrAidNotFound");
  // Without a session, CancelSession is an error from the eUICC, not a crash.
  auto cs = euicc.cancel_session(Bytes(16, 1), CancelSessionReason::EndUserRejection);
  EXPECT_FALSE(cs.ok);
}

TEST(LpaOnSimulator, SmallBlocksAndBasicChannel) {
  auto card = make_euicc();
  if (!card) GTEST_SKIP() << "SGP.26 test material not found";
  ChannelOptions o;
  o.block_size = 7;
  o.logical_channel = false;
  Es10Client euicc(*card, o);
  EXPECT_EQ(euicc.get_eid(), card->eid_hex());
  EXPECT_FALSE(euicc.get_euicc_info2().raw.empty());
}
#else
TEST(LpaOnSimulator, NotBuilt) { GTEST_SKIP() << "rsp_euicc_sim is not part of this build"; }
#endif
