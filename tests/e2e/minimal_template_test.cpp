// The SM-DP+'s own minimal template, personalized for one subscriber, goes
// through the SM-DP+ and the LPA into the eUICC simulator, without any GSMA
// test material: the handset-side reads (EF ICCID, EF DIR -> USIM -> EF IMSI),
// a USIM AUTHENTICATE and a Milenage attach to the visited network give what
// the generated values predict.
#include <gtest/gtest.h>

#include "rsp/lpa/download.hpp"
#include "rsp/milenage.hpp"
#include "rsp/sim/usim_authenticate.hpp"
#include "rsp/sim/visited_network.hpp"
#include "rsp/smdp/profile_generator.hpp"
#include "rsp/smdp/profile_template.hpp"
#include "rsp/store.hpp"
#include "rsp/tlv.hpp"
#include "usim_check.hpp"
#include "world.hpp"

using namespace rsp;
using rsp::e2e::World;

TEST(MinimalTemplate, DownloadsEnablesReadsAndAuthenticates) {
  smdp::SubscriberValues v;
  v.iccid = smdp::luhn_complete("894410000000067890");
  v.imsi = "001019990005678";
  v.ki = from_hex("465b5ce8b199b49faa5f0a2ee238a6bc");
  v.opc = from_hex("cd63cb71954a9f4e48a5994e37a02baf");
  v.spn = "Visited";
  Bytes generated = smdp::generate_profile(smdp::minimal_profile_template(), v);

  World w(crypto::Curve::P256, "minimal-template");
  w.euicc->set_uicc_command_hook(sim::make_usim_authenticate_hook());
  EXPECT_EQ(w.stage(generated, "MIN-1"), v.iccid);
  lpa::DownloadOptions opt;
  opt.es9.http.ca_file = w.tls_ca_pem;
  auto result = lpa::download(*w.euicc, lpa::ActivationCode::parse(w.activation_code("MIN-1")), opt);
  ASSERT_TRUE(result.installation.success) << result.installation.describe();
  lpa::Es10Client(*w.euicc).enable_profile(lpa::ProfileId::from_iccid(v.iccid));
  auto profiles = w.euicc->profiles();
  ASSERT_EQ(profiles.size(), 1u);
  EXPECT_TRUE(profiles[0].enabled);
  EXPECT_EQ(profiles[0].usim_aid, from_hex(std::string(smdp::kMinimalTemplateUsimAid)));

  // EF ICCID and EF IMSI hold the generated values (TS 102 221 / TS 31.102 coding).
  auto ef_iccid = w.euicc->read_file({0x2FE2});
  ASSERT_TRUE(ef_iccid);
  EXPECT_EQ(*ef_iccid, iccid_to_bcd(v.iccid));
  EXPECT_EQ(iccid_from_bcd(*ef_iccid), v.iccid);
  auto ef_imsi = w.euicc->read_file({0x7FFF, 0x6F07});
  ASSERT_TRUE(ef_imsi);
  EXPECT_EQ(to_hex(*ef_imsi, true), "080910109909006587");  // 001019990005678
  auto ef_spn = w.euicc->read_file({0x7FFF, 0x6F46});
  ASSERT_TRUE(ef_spn);
  EXPECT_EQ(to_string(ByteView(*ef_spn).subspan(1, 7)), "Visited");

  // What a handset does: EF DIR -> the USIM's AID -> SELECT -> EF IMSI.
  EXPECT_EQ(sim::ue::read_imsi(*w.euicc), v.imsi);

  // AUTHENTICATE (TS 31.102 7.1.2) on the selected USIM with an AUTN built
  // from the generated Ki / OPc and the default Milenage constants.
  e2e::expect_milenage_authenticate(*w.euicc, v.ki, v.opc);

  // A wrong OPc on the network side gives a MAC failure.
  milenage::Milenage other(v.ki, from_hex("00000000000000000000000000000000"));
  EXPECT_EQ(e2e::usim_authenticate(*w.euicc, other, from_hex("23553cbe9637a89d218ae64dae47bf35"), from_hex("000000000041")).sw,
            0x9862);

  // And the visited network's attach (HSS with the same Ki / OPc).
  store::Db db(":memory:");
  sim::Hss hss(db, Bytes(32, 0x42));
  hss.provision(v.imsi, v.iccid, v.ki, v.opc);
  sim::VisitedNetwork net(hss, "00101");
  auto attach = net.attach(*w.euicc);
  EXPECT_TRUE(attach.accepted) << attach.cause;
  EXPECT_EQ(attach.imsi, v.imsi);
  EXPECT_EQ(attach.iccid, v.iccid);
}
