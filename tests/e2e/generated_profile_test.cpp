// A profile generated for one subscriber (ICCID, IMSI, Ki, OPc) goes through
// the SM-DP+ and the LPA into the eUICC simulator; the handset-side reads and
// a USIM AUTHENTICATE then give exactly what the generated values predict.
#include <gtest/gtest.h>

#include "rsp/lpa/download.hpp"
#include "rsp/tlv.hpp"
#include "rsp/milenage.hpp"
#include "rsp/sim/usim_authenticate.hpp"
#include "rsp/smdp/profile_generator.hpp"
#include "usim_check.hpp"
#include "world.hpp"

using namespace rsp;
using rsp::e2e::World;
namespace fs = std::filesystem;

namespace {
apdu::Response send(apdu::Transport& t, ByteView capdu) { return apdu::Response::parse(t.transmit(capdu)); }
}  // namespace

TEST(GeneratedProfile, DownloadsAndAuthenticatesWithItsKiOpc) {
  auto tmpl = rsp::e2e::testdata("ts48/TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der");
  if (!fs::exists(tmpl)) GTEST_SKIP() << "TS.48 template absent";
  std::ifstream f(tmpl, std::ios::binary);
  Bytes upp(std::istreambuf_iterator<char>(f), {});

  smdp::SubscriberValues v;
  v.iccid = smdp::luhn_complete("894410000000012345");
  v.imsi = "001019990001234";
  v.ki = from_hex("000102030405060708090a0b0c0d0e0f");
  v.opc = from_hex("cd63cb71954a9f4e48a5994e37a02baf");
  Bytes generated = smdp::generate_profile(upp, v);

  World w(crypto::Curve::P256, "generated");
  w.euicc->set_uicc_command_hook(sim::make_usim_authenticate_hook());
  EXPECT_EQ(w.stage(generated, "GEN-1"), v.iccid);
  lpa::DownloadOptions opt;
  opt.es9.http.ca_file = w.tls_ca_pem;
  auto result = lpa::download(*w.euicc, lpa::ActivationCode::parse(w.activation_code("GEN-1")), opt);
  ASSERT_TRUE(result.installation.success) << result.installation.describe();
  lpa::Es10Client(*w.euicc).enable_profile(lpa::ProfileId::from_iccid(v.iccid));

  // EF ICCID and EF IMSI hold the generated values (TS 102 221 / TS 31.102 coding).
  EXPECT_EQ(w.euicc->read_file({0x2FE2}), iccid_to_bcd(v.iccid));
  EXPECT_EQ(to_hex(*w.euicc->read_file({0x7FFF, 0x6F07})), "080910109909002143");  // 001019990001234

  // AUTHENTICATE (TS 31.102 7.1.2) on the USIM with an AUTN built from the generated Ki/OPc.
  auto usim = w.euicc->profiles().at(0).usim_aid;
  ASSERT_EQ(send(*w.euicc, concat(from_hex("00A4040C"), Bytes{static_cast<std::uint8_t>(usim.size())}, usim)).sw, 0x9000);
  e2e::expect_milenage_authenticate(*w.euicc, v.ki, v.opc);
}
