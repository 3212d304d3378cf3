// Issue 8 point 12: `smdpd stage` for test labs. The command line stages a
// profile with a chosen ICCID under a named matching id in each state a lab
// needs; a real download (LPA + eUICC simulator over HTTPS, as the other
// end-to-end tests) then gets what SGP.22 5.6.3 says for that state, and the
// metadata options (icon, class, names, notification configuration) reach
// the eUICC's profile list.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "attempt.hpp"
#include "rsp/lpa/es10.hpp"
#include "rsp/smdp/profile_generator.hpp"
#include "rsp/smdp/qr_code.hpp"
#include "rsp/tlv.hpp"
#include "world.hpp"

using namespace rsp;
using rsp::e2e::World;
namespace fs = std::filesystem;

namespace {

const std::string kSmdpd = std::string(RSP_BINARY_DIR) + "/smdp/smdpd";

struct Run {
  int status = -1;
  std::string output;  // stdout and stderr
};

// A World whose SM-DP+ also has a configuration file, so that the smdpd
// command line works on the store the running server uses.
struct Lab {
  World w;
  std::string config;
  explicit Lab(const std::string& name) : w(crypto::Curve::P256, name) {
    write_private_file((w.dir / "storage.key").string(), to_bytes(to_hex(w.config.storage_key)));
    nlohmann::json j = {
        {"address", w.address},
        {"db", w.config.db_path},
        {"storage_key_file", "storage.key"},
        {"tls", {{"certificate", "CERT_S_SM_DP_TLS_NIST.der"}, {"key", "SK_S_SM_DP_TLS_NIST.pem"}}},
        {"credentials",
         {{{"ci_certificate", "CERT_CI_ECDSA_NIST.der"},
           {"dpauth_certificate", "CERT_S_SM_DPauth_ECDSA_NIST.der"},
           {"dpauth_key", "SK_S_SM_DPauth_ECDSA_NIST.pem"},
           {"dppb_certificate", "CERT_S_SM_DPpb_ECDSA_NIST.der"},
           {"dppb_key", "SK_S_SM_DPpb_ECDSA_NIST.pem"}}}},
        {"max_download_attempts", w.config.max_download_attempts}};
    config = (w.dir / "smdp.json").string();
    std::ofstream(config) << j.dump(2);
  }
  // Runs `smdpd --config <config> <args>`.
  Run smdpd(const std::vector<std::string>& args) const {
    std::string cmd = "timeout 30 " + kSmdpd + " --config '" + config + "'";
    for (const auto& a : args) cmd += " '" + a + "'";
    cmd += " 2>&1";
    Run r;
    FILE* f = ::popen(cmd.c_str(), "r");
    if (!f) return r;
    char buf[512];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, f)) r.output.append(buf, n);
    int st = ::pclose(f);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return r;
  }
};

std::string iccid(const std::string& eighteen_digits) { return smdp::luhn_complete(eighteen_digits); }

bool has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

#define SKIP_WITHOUT_SMDPD() \
  if (!fs::exists(kSmdpd)) GTEST_SKIP() << "smdpd not built"

}  // namespace

TEST(LabStaging, ReleasedProfileInstallsWithItsIccidIconAndNames) {
  SKIP_WITHOUT_SMDPD();
  Lab lab("lab-released");
  // A real PNG (the QR code writer's), small enough for StoreMetadata's icon.
  Bytes icon = smdp::qr_png("icon", 1);
  ASSERT_LE(icon.size(), 1024u);
  fs::path icon_file = lab.w.dir / "icon.png";
  std::ofstream(icon_file, std::ios::binary).write(reinterpret_cast<const char*>(icon.data()),
                                                   static_cast<std::streamsize>(icon.size()));
  std::string id = iccid("894901234500000001");
  auto r = lab.smdpd({"stage", "--template", "builtin", "--iccid", id, "--matching-id", "LAB-RELEASED", "--spn",
                      "Lab Operator", "--name", "Lab profile", "--icon", icon_file.string()});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(has(r.output, "staged ICCID " + id)) << r.output;

  auto a = e2e::attempt(lab.w, "LAB-RELEASED");
  ASSERT_TRUE(a.installed()) << a.stage << " " << a.code() << " " << a.what;
  EXPECT_EQ(lab.w.smdp->profiles().by_iccid(id)->state, smdp::ProfileState::Installed);

  lpa::Es10Client es10(*lab.w.euicc);
  auto list = es10.get_profiles_info();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].iccid, id);
  EXPECT_EQ(list[0].service_provider_name, "Lab Operator");
  EXPECT_EQ(list[0].profile_name, "Lab profile");
  EXPECT_EQ(list[0].icon_type, 1);  // png
  EXPECT_EQ(list[0].icon, icon);
}

// A 1,024-byte icon makes StoreMetadata longer than one 1,020-byte segment
// (SGP.22 2.5.5): it travels in several 88 segments and still installs.
TEST(LabStaging, LargestIconIsSegmentedAndInstalls) {
  SKIP_WITHOUT_SMDPD();
  Lab lab("lab-bigicon");
  Bytes icon = {0xFF, 0xD8, 0xFF, 0xE0};  // a JPEG's SOI and APP0 markers
  icon.resize(1024, 0x42);
  fs::path icon_file = lab.w.dir / "icon.jpg";
  std::ofstream(icon_file, std::ios::binary).write(reinterpret_cast<const char*>(icon.data()),
                                                   static_cast<std::streamsize>(icon.size()));
  std::string id = iccid("894901234500000019");
  auto r = lab.smdpd({"stage", "--template", "builtin", "--iccid", id, "--matching-id", "LAB-ICON", "--class",
                      "test", "--icon", icon_file.string()});
  ASSERT_EQ(r.status, 0) << r.output;
  std::size_t md_segments = 0, longest = 0;
  auto a = e2e::attempt(lab.w, "LAB-ICON", {}, [&](const std::string& function, nlohmann::json& body) {
    if (function != "getBoundProfilePackage") return;
    auto bpp = from_base64(body["boundProfilePackage"].get<std::string>());
    for (const auto& seq : tlv::parse_all(tlv::parse_one(bpp).value))
      if (seq.tag == 0xA1)
        for (const auto& seg : tlv::parse_all(seq.value)) ++md_segments, longest = std::max(longest, seg.raw.size());
  });
  ASSERT_TRUE(a.installed()) << a.stage << " " << a.code() << " " << a.what;
  EXPECT_GE(md_segments, 2u);
  EXPECT_LE(longest, 1020u);
  auto list = lpa::Es10Client(*lab.w.euicc).get_profiles_info();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].icon_type, 0);  // jpg
  EXPECT_EQ(list[0].icon, icon);
  EXPECT_EQ(list[0].profile_class, 0);  // test
}

TEST(LabStaging, EachOrderStateAnswersItsSgp22Code) {
  SKIP_WITHOUT_SMDPD();
  Lab lab("lab-states");
  struct Case {
    const char* state;
    const char* matching_id;
    std::string expected;  // subject/reason (SGP.22 5.6.3)
  };
  const Case cases[] = {{"not-released", "LAB-NOT-RELEASED", "8.2/1.2"},
                        {"expired", "LAB-EXPIRED", "8.8.5/4.10"},
                        {"retry-limit", "LAB-RETRIES", "8.8.5/6.4"}};
  int n = 2;
  for (const auto& c : cases) {
    std::string id = iccid("89490123450000000" + std::to_string(n++));
    auto r = lab.smdpd({"stage", "--template", "builtin", "--iccid", id, "--matching-id", c.matching_id, "--state",
                        c.state});
    ASSERT_EQ(r.status, 0) << c.state << ": " << r.output;
    auto a = e2e::attempt(lab.w, c.matching_id);
    EXPECT_FALSE(a.installed()) << c.state;
    EXPECT_EQ(a.code(), c.expected) << c.state << ": " << a.what;
  }
  EXPECT_TRUE(lab.w.euicc->profiles().empty());
}

TEST(LabStaging, DuplicatesNameTheStagedProfileAndItsState) {
  SKIP_WITHOUT_SMDPD();
  Lab lab("lab-dup");
  std::string id = iccid("894901234500000050"), other = iccid("894901234500000068");
  ASSERT_EQ(lab.smdpd({"stage", "--template", "builtin", "--iccid", id, "--matching-id", "LAB-DUP"}).status, 0);

  auto r = lab.smdpd({"stage", "--template", "builtin", "--iccid", id, "--matching-id", "LAB-DUP-2"});
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_TRUE(has(r.output, "ICCID " + id + " is already staged (state released, matching id LAB-DUP)")) << r.output;
  EXPECT_FALSE(has(r.output, "UNIQUE constraint")) << r.output;

  r = lab.smdpd({"stage", "--template", "builtin", "--iccid", other, "--matching-id", "LAB-DUP"});
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_TRUE(has(r.output, "matching id LAB-DUP is already used by ICCID " + id + " (state released)")) << r.output;
  r = lab.smdpd({"stage", "--template", "builtin", "--iccid", other, "--matching-id", "LAB-DUP", "--state", "expired"});
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_TRUE(has(r.output, "matching id LAB-DUP is already used by ICCID " + id)) << r.output;
  // Nothing half-written: the other ICCID is not staged.
  EXPECT_FALSE(lab.w.smdp->profiles().by_iccid(other));
  EXPECT_TRUE(has(lab.smdpd({"show", "--iccid", id}).output, "state released matching id LAB-DUP"));
}

TEST(LabStaging, BadMetadataOptionsAreRefusedClearly) {
  SKIP_WITHOUT_SMDPD();
  Lab lab("lab-bad");
  std::string id = iccid("894901234500000076");
  fs::path big = lab.w.dir / "big.png", text = lab.w.dir / "icon.txt";
  Bytes png = smdp::qr_png("x");
  png.resize(1025);
  std::ofstream(big, std::ios::binary).write(reinterpret_cast<const char*>(png.data()), 1025);
  std::ofstream(text) << "not an image";
  auto r = lab.smdpd({"stage", "--template", "builtin", "--iccid", id, "--matching-id", "LAB-BAD", "--icon",
                      big.string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(has(r.output, "icon of 1025 bytes: SGP.22 allows at most 1024")) << r.output;
  r = lab.smdpd({"stage", "--template", "builtin", "--iccid", id, "--matching-id", "LAB-BAD", "--icon", text.string()});
  EXPECT_TRUE(has(r.output, "neither a PNG nor a JPEG")) << r.output;
  r = lab.smdpd({"stage", "--template", "builtin", "--iccid", id, "--matching-id", "LAB-BAD", "--notify", "enabel"});
  EXPECT_TRUE(has(r.output, "unknown notification event 'enabel'")) << r.output;
  r = lab.smdpd({"stage", "--template", "builtin", "--iccid", id, "--matching-id", "LAB-BAD", "--class", "gold"});
  EXPECT_TRUE(has(r.output, "unknown profile class 'gold'")) << r.output;
  std::string wrong_luhn = id;
  wrong_luhn.back() = static_cast<char>('0' + (wrong_luhn.back() - '0' + 1) % 10);
  r = lab.smdpd({"stage", "--template", "builtin", "--iccid", wrong_luhn, "--matching-id", "LAB-BAD"});
  EXPECT_TRUE(has(r.output, "wrong Luhn check digit")) << r.output;
  EXPECT_FALSE(lab.w.smdp->profiles().by_iccid(id));
}

// --notify: the eUICC sends the notifications the metadata configures, and
// only those (SGP.22 5.7.16-18).
TEST(LabStaging, NotificationConfigurationReachesTheEuicc) {
  SKIP_WITHOUT_SMDPD();
  Lab lab("lab-notify");
  std::string id = iccid("894901234500000084");
  auto r = lab.smdpd({"stage", "--template", "builtin", "--iccid", id, "--matching-id", "LAB-NOTIFY", "--notify",
                      "disable=ops.example.com"});
  ASSERT_EQ(r.status, 0) << r.output;
  auto a = e2e::attempt(lab.w, "LAB-NOTIFY");
  ASSERT_TRUE(a.installed()) << a.code() << " " << a.what;
  lpa::Es10Client es10(*lab.w.euicc);
  auto list = es10.get_profiles_info();
  ASSERT_EQ(list.size(), 1u);
  ASSERT_EQ(list[0].notification_configuration.size(), 1u);
  EXPECT_EQ(list[0].notification_configuration[0].second, "ops.example.com");
  es10.enable_profile(lpa::ProfileId::from_iccid(id), false);
  es10.disable_profile(lpa::ProfileId::from_iccid(id), false);
  auto pending = lab.w.euicc->notifications();
  ASSERT_EQ(pending.size(), 1u);  // disable only: no enable notification was configured
  EXPECT_EQ(pending[0].op, sim::NotificationSummary::Op::Disable);
  EXPECT_EQ(pending[0].address, "ops.example.com");
}
