// SGP.22 download end to end, in one process but over real HTTPS and real
// APDUs: LPA -> SM-DP+ (ES9+) -> eUICC simulator (ES10) -> enable -> IMSI.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "rsp/http_client.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/tlv.hpp"
#include "world.hpp"

using namespace rsp;
using rsp::e2e::World;
namespace fs = std::filesystem;

namespace {

using rsp::e2e::read_file;

// EF IMSI (TS 31.102 4.2.2): length, then digits in swapped nibbles with the
// parity nibble first.
std::string decode_imsi(ByteView ef) {
  std::string out;
  if (ef.empty() || ef[0] == 0 || ef[0] > ef.size() - 1) return out;
  for (std::size_t i = 1; i <= ef[0]; ++i) {
    for (int n : {ef[i] & 0x0F, ef[i] >> 4}) {
      if (i == 1 && n == (ef[1] & 0x0F)) continue;  // parity nibble
      if (n != 0x0F) out.push_back(static_cast<char>('0' + n));
    }
  }
  return out;
}

apdu::Response send(apdu::Transport& t, const std::string& hex) { return apdu::Response::parse(t.transmit(from_hex(hex))); }

// SELECT the USIM ADF by AID, then EF IMSI, READ BINARY, as a handset would.
std::string read_imsi(apdu::Transport& card, ByteView usim_aid) {
  auto r = send(card, "00A4040C" + to_hex(Bytes{static_cast<std::uint8_t>(usim_aid.size())}) + to_hex(usim_aid));
  if (r.sw != 0x9000) return "SELECT ADF failed " + to_hex(Bytes{r.sw1(), r.sw2()});
  r = send(card, "00A4000C026F07");
  if (r.sw != 0x9000) return "SELECT EF IMSI failed " + to_hex(Bytes{r.sw1(), r.sw2()});
  r = send(card, "00B0000009");
  if (r.sw != 0x9000) return "READ BINARY failed " + to_hex(Bytes{r.sw1(), r.sw2()});
  return decode_imsi(r.data);
}

fs::path ts48(const std::string& name) { return rsp::e2e::testdata("ts48/" + name); }

struct Case {
  const char* name;
  crypto::Curve curve;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class Download : public ::testing::TestWithParam<Case> {};

}  // namespace

TEST_P(Download, InstallsEnablesAndReportsInstalled) {
  auto profile = ts48("TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der");
  if (!fs::exists(profile)) GTEST_SKIP() << "TS.48 test profiles absent";
  World w(GetParam().curve, GetParam().name);
  std::string iccid = w.stage(read_file(profile), "MATCHING-ID-1");

  lpa::DownloadOptions opt;
  opt.es9.http.ca_file = w.tls_ca_pem;
  auto result = lpa::download(*w.euicc, lpa::ActivationCode::parse(w.activation_code("MATCHING-ID-1")), opt);
  ASSERT_TRUE(result.installation.success);
  EXPECT_TRUE(result.notification_sent);
  EXPECT_EQ(result.offer.iccid, iccid);

  auto installed = w.smdp->profiles().by_iccid(iccid);
  ASSERT_TRUE(installed);
  EXPECT_EQ(installed->state, smdp::ProfileState::Installed);

  lpa::Es10Client es10(*w.euicc);
  auto profiles = es10.get_profiles_info();
  ASSERT_EQ(profiles.size(), 1u);
  es10.enable_profile(lpa::ProfileId::from_iccid(iccid));
  auto sims = w.euicc->profiles();
  ASSERT_EQ(sims.size(), 1u);
  EXPECT_TRUE(sims[0].enabled);
  std::string imsi = read_imsi(*w.euicc, sims[0].usim_aid);
  EXPECT_EQ(imsi.size(), 15u) << imsi;
  EXPECT_EQ(imsi.substr(0, 5), "00101") << imsi;  // TS.48 test PLMN 001-01
}

TEST_P(Download, ConfirmationCodeWrongThenRight) {
  auto profile = ts48("TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der");
  if (!fs::exists(profile)) GTEST_SKIP() << "TS.48 test profiles absent";
  World w(GetParam().curve, std::string(GetParam().name) + "-cc");
  std::string iccid = w.stage(read_file(profile), "MATCHING-CC", "4711");
  auto ac = lpa::ActivationCode::parse(w.activation_code("MATCHING-CC") + "$$1");

  lpa::DownloadOptions opt;
  opt.es9.http.ca_file = w.tls_ca_pem;
  opt.confirmation_code = "0000";
  try {
    lpa::download(*w.euicc, ac, opt);
    FAIL() << "a wrong confirmation code was accepted";
  } catch (const lpa::DownloadError& e) {
    try {
      std::rethrow_exception(e.cause);
    } catch (const lpa::Es9Error& es9) {
      EXPECT_EQ(es9.subject_code, "8.2.7");
      EXPECT_EQ(es9.reason_code, "3.8");
    } catch (...) {
      FAIL() << "unexpected cause of " << e.what();
    }
  }
  EXPECT_TRUE(w.euicc->profiles().empty());

  opt.confirmation_code = "4711";
  auto result = lpa::download(*w.euicc, ac, opt);
  ASSERT_TRUE(result.installation.success);
  EXPECT_EQ(w.smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Installed);
}

// SGP.22 2.5.3: protected once with PPKs at staging, bound to this eUICC at
// download with ReplaceSessionKeys.
TEST_P(Download, ProtectedOnceBoundLaterWithReplaceSessionKeys) {
  auto profile = ts48("TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der");
  if (!fs::exists(profile)) GTEST_SKIP() << "TS.48 test profiles absent";
  World w(GetParam().curve, std::string(GetParam().name) + "-ppk");
  std::string iccid = w.stage(read_file(profile), "MATCHING-PPK", {}, {}, true);
  bool had_a2 = false;
  lpa::DownloadOptions opt;
  opt.es9.http.ca_file = w.tls_ca_pem;
  auto client = std::make_shared<http::Client>(opt.es9.http);
  opt.es9.post = [&](const std::string& url, const http::Headers& h, const std::string& body) {
    auto r = client->post(url, body, h);
    if (url.ends_with("getBoundProfilePackage")) {
      auto bpp = from_base64(nlohmann::json::parse(r.body)["boundProfilePackage"].get<std::string>());
      for (auto& t : tlv::parse_all(tlv::parse_one(bpp).value)) had_a2 |= t.tag == 0xA2;
    }
    return r;
  };
  auto result = lpa::download(*w.euicc, lpa::ActivationCode::parse(w.activation_code("MATCHING-PPK")), opt);
  EXPECT_TRUE(had_a2) << "no secondSequenceOf87 (ReplaceSessionKeys) in the BPP";
  ASSERT_TRUE(result.installation.success) << result.installation.describe();
  EXPECT_EQ(w.smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Installed);
  EXPECT_EQ(w.euicc->profiles().at(0).iccid, iccid);
}

INSTANTIATE_TEST_SUITE_P(Curves, Download,
                         ::testing::Values(Case{"nist", crypto::Curve::P256},
                                           Case{"brp", crypto::Curve::BrainpoolP256r1}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

// Every TS.48 test profile, served unchanged and installed on the simulator.
TEST(Ts48, EveryProfileDownloadsAndInstalls) {
  auto folder = rsp::e2e::testdata("ts48");
  if (!fs::exists(folder)) GTEST_SKIP() << "TS.48 test profiles absent";
  std::vector<fs::path> files;
  for (auto& e : fs::directory_iterator(folder))
    if (e.path().extension() == ".der") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());
  for (const auto& f : files) {
    SCOPED_TRACE(f.filename().string());
    World w(crypto::Curve::P256, "ts48");
    std::string iccid = w.stage(read_file(f), "TS48");
    lpa::DownloadOptions opt;
    opt.es9.http.ca_file = w.tls_ca_pem;
    auto result = lpa::download(*w.euicc, lpa::ActivationCode::parse(w.activation_code("TS48")), opt);
    EXPECT_TRUE(result.installation.success);
    auto sims = w.euicc->profiles();
    ASSERT_EQ(sims.size(), 1u);
    EXPECT_EQ(sims[0].iccid, iccid);
    EXPECT_EQ(w.smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Installed);
  }
}
