// smdp.json is refused, with the field named, when a key is unknown, a value
// is out of range, a key does not match its certificate or a key file is
// readable by others (issue 9); and smdpd turns failed writes into errors.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "rsp/file.hpp"
#include "rsp/pki.hpp"
#include "rsp/smdp/config.hpp"
#include "rsp/smdp/profile_store.hpp"

using namespace rsp;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct ConfigDir {
  fs::path dir;
  json base;
  ConfigDir() {
    dir = fs::temp_directory_path() / ("rsp-config-test-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    certs::PkiOptions po;
    po.dp_host = "localhost";
    certs::write_pki(certs::generate_pki(po), dir);
    write_private_file((dir / "storage.key").string(), to_bytes(std::string(64, 'a')));
    base = json::parse(R"({
      "address": "localhost:8443", "port": 8443, "threads": 2, "db": "smdp.db",
      "storage_key_file": "storage.key",
      "tls": {"certificate": "CERT_S_SM_DP_TLS_NIST.der", "key": "SK_S_SM_DP_TLS_NIST.pem"},
      "credentials": [{"ci_certificate": "CERT_CI_ECDSA_NIST.der",
        "dpauth_certificate": "CERT_S_SM_DPauth_ECDSA_NIST.der", "dpauth_key": "SK_S_SM_DPauth_ECDSA_NIST.pem",
        "dppb_certificate": "CERT_S_SM_DPpb_ECDSA_NIST.der", "dppb_key": "SK_S_SM_DPpb_ECDSA_NIST.pem"}]})");
  }
  ~ConfigDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string write(const json& j) {
    std::string p = (dir / "smdp.json").string();
    std::ofstream(p) << j.dump();
    return p;
  }
  // The error message load_config gives for `j`, or "" when it loads.
  std::string error(const json& j) {
    try {
      smdp::load_config(write(j));
      return "";
    } catch (const std::exception& e) {
      return e.what();
    }
  }
};

bool has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

}  // namespace

TEST(SmdpConfig, TheExampleLoads) {
  ConfigDir d;
  EXPECT_EQ(d.error(d.base), "");
  auto j = d.base;
  j["limits"] = {{"es9plus_max_body_bytes", 32768}, {"initiate_authentication_per_second", 0.5}};
  auto c = smdp::load_config(d.write(j));
  EXPECT_EQ(c.limits.es9plus_max_body_bytes, 32768u);
  EXPECT_DOUBLE_EQ(c.limits.initiate_authentication_per_second, 0.5);
}

TEST(SmdpConfig, UnknownKeysAreRefusedByName) {
  ConfigDir d;
  auto j = d.base;
  j["prot"] = 8443;
  EXPECT_TRUE(has(d.error(j), "prot is not a configuration key")) << d.error(j);
  j = d.base;
  j["tls"]["keyfile"] = "x";
  EXPECT_TRUE(has(d.error(j), "tls.keyfile is not a configuration key")) << d.error(j);
  j = d.base;
  j["credentials"][0]["dppb_kye"] = "x";
  EXPECT_TRUE(has(d.error(j), "credentials[0].dppb_kye is not a configuration key")) << d.error(j);
  j = d.base;
  j["limits"] = {{"max_conections", 10}};
  EXPECT_TRUE(has(d.error(j), "limits.max_conections is not a configuration key")) << d.error(j);
}

TEST(SmdpConfig, OutOfRangeValuesAreRefusedByName) {
  ConfigDir d;
  auto expect = [&](const char* key, json value, const std::string& needle) {
    auto j = d.base;
    j[key] = value;
    std::string e = d.error(j);
    EXPECT_TRUE(has(e, needle)) << key << ": " << e;
  };
  expect("port", 70000, "port 70000 is out of range (0 to 65535)");
  expect("port", -1, "port -1 is out of range");
  expect("port", "8443", "port must be an integer");
  expect("threads", -5, "threads -5 is out of range");
  expect("threads", 0, "threads 0 is out of range");
  expect("session_timeout_seconds", -10, "session_timeout_seconds -10 is out of range");
  expect("order_expiry_seconds", -1, "order_expiry_seconds -1 is out of range");
  expect("max_cc_attempts", 1.5, "max_cc_attempts must be an integer");
  expect("use_ppk", "yes", "use_ppk must be true or false");
  auto j = d.base;
  j["limits"] = {{"read_timeout_seconds", -3}};
  EXPECT_TRUE(has(d.error(j), "limits.read_timeout_seconds -3 is out of range")) << d.error(j);
  j["limits"] = {{"initiate_authentication_per_second", -1}};
  EXPECT_TRUE(has(d.error(j), "limits.initiate_authentication_per_second is out of range")) << d.error(j);
  j = d.base;
  j["es2plus"] = {{"port", 70000}, {"client_ca", "CERT_CI_ECDSA_NIST.pem"}};
  EXPECT_TRUE(has(d.error(j), "es2plus.port 70000 is out of range")) << d.error(j);
}

TEST(SmdpConfig, MissingOrWrongTypedFieldsAreNamed) {
  ConfigDir d;
  auto j = d.base;
  j.erase("storage_key_file");
  EXPECT_TRUE(has(d.error(j), "storage_key_file is required")) << d.error(j);
  j = d.base;
  j["credentials"] = json::array();
  EXPECT_TRUE(has(d.error(j), "credentials must be a non-empty array")) << d.error(j);
  EXPECT_TRUE(has(d.error(json::array()), "the configuration must be an object"));
}

TEST(SmdpConfig, KeyThatDoesNotMatchItsCertificateIsRefused) {
  ConfigDir d;
  auto j = d.base;
  j["credentials"][0]["dpauth_key"] = "SK_S_SM_DPpb_ECDSA_NIST.pem";  // DPpb's key for DPauth
  EXPECT_TRUE(has(d.error(j), "credentials[0].dpauth_key key does not match its certificate")) << d.error(j);
  j = d.base;
  j["credentials"][0]["dppb_key"] = "SK_EUICC_ECDSA_NIST.pem";
  EXPECT_TRUE(has(d.error(j), "credentials[0].dppb_key key does not match its certificate")) << d.error(j);
}

TEST(SmdpConfig, KeyFilesReadableByOthersAreRefused) {
  ConfigDir d;
  // Mode bits, not access(): the tests run as root, who can read anything.
  for (const char* key : {"storage.key", "SK_S_SM_DP_TLS_NIST.pem", "SK_S_SM_DPauth_ECDSA_NIST.pem"}) {
    ::chmod((d.dir / key).c_str(), 0644);
    std::string e = d.error(d.base);
    EXPECT_TRUE(has(e, "mode 0644 lets others read it")) << key << ": " << e;
    ::chmod((d.dir / key).c_str(), 0640);
    EXPECT_TRUE(has(d.error(d.base), "mode 0640")) << key;
    ::chmod((d.dir / key).c_str(), 0600);
    EXPECT_EQ(d.error(d.base), "") << key;
  }
}

TEST(SmdpConfig, HostileConfigurationJsonIsRefused) {
  ConfigDir d;
  std::string p = (d.dir / "smdp.json").string();
  std::ofstream(p) << std::string(100'000, '[') << std::string(100'000, ']');
  try {
    smdp::load_config(p);
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_TRUE(has(e.what(), "nested deeper than 8")) << e.what();
  }
}

namespace {
// Runs smdpd with `args`; its exit status (or 128 + signal).
int run_smdpd(const std::vector<std::string>& args) {
  std::string cmd = "timeout 20 " + std::string(RSP_BINARY_DIR) + "/smdp/smdpd";
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " >/dev/null 2>&1";
  int st = std::system(cmd.c_str());
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return WEXITSTATUS(st);
}
}  // namespace

TEST(SmdpdTool, FailedWritesAreErrors) {
  if (!fs::exists(std::string(RSP_BINARY_DIR) + "/smdp/smdpd")) GTEST_SKIP() << "smdpd not built";
  ConfigDir d;
  auto j = d.base;
  j["port"] = 0;
  std::string cfg = d.write(j);
  EXPECT_EQ(run_smdpd({"qr", "--ac", "LPA:1$localhost$X", "--png", "/nonexistent-dir/ac.png"}), 1);
  EXPECT_EQ(run_smdpd({"qr", "--ac", "LPA:1$localhost$X", "--svg", "/nonexistent-dir/ac.svg"}), 1);
  EXPECT_EQ(run_smdpd({"qr", "--ac", "LPA:1$localhost$X", "--png", (d.dir / "ac.png").string()}), 0);
  // serve: the port file cannot be written -> exit 1 at once (not serving on).
  EXPECT_EQ(run_smdpd({"--config", cfg, "serve", "--port-file", "/nonexistent-dir/port"}), 1);
  ::chmod((d.dir / "storage.key").c_str(), 0604);
  EXPECT_EQ(run_smdpd({"--config", cfg, "stats"}), 1);
}

// Issue 8: the PKI keys (crls, allow_eum_without_name_constraints,
// tls.ci_certificate) are read and their errors named.
TEST(SmdpConfig, PkiKeysAreReadAndTheirErrorsNamed) {
  ConfigDir d;
  auto j = d.base;
  j["crls"] = "ci.crl";
  EXPECT_TRUE(has(d.error(j), "crls must be an array of file names")) << d.error(j);
  j["crls"] = {"missing.crl"};
  EXPECT_TRUE(has(d.error(j), "crls[0] names")) << d.error(j);
  EXPECT_TRUE(has(d.error(j), "which cannot be read")) << d.error(j);
  j = d.base;
  j["allow_eum_without_name_constraints"] = "yes";
  EXPECT_TRUE(has(d.error(j), "allow_eum_without_name_constraints must be true or false")) << d.error(j);
  std::ofstream(d.dir / "ci.crl") << "x";
  j = d.base;
  j["crls"] = {"ci.crl"};
  j["allow_eum_without_name_constraints"] = true;
  j["tls"]["ci_certificate"] = "CERT_CI_ECDSA_NIST.der";
  auto c = smdp::load_config(d.write(j));
  ASSERT_EQ(c.crls.size(), 1u);
  EXPECT_TRUE(has(c.crls[0].name, "crls[0] (")) << c.crls[0].name;
  EXPECT_TRUE(c.allow_eum_without_name_constraints);
  EXPECT_FALSE(c.tls_ci_certificate.empty());
}

// smdpd stage records the profile's requirements and Profile Policy Rules
// (table profile_requirements) from its options; a bad one stages nothing.
TEST(SmdpdTool, StageRecordsRequirementsAndPolicyRules) {
  if (!fs::exists(std::string(RSP_BINARY_DIR) + "/smdp/smdpd")) GTEST_SKIP() << "smdpd not built";
  std::string upp = std::string(RSP_SHARED_TESTDATA) + "/ts48/TS48V2-SAIP2-3-NOBERTLV-UNIQUE.der";
  if (!fs::exists(upp)) GTEST_SKIP() << "TS.48 test profiles absent";
  ConfigDir d;
  std::string cfg = d.write(d.base);
  EXPECT_EQ(run_smdpd({"--config", cfg, "stage", "--upp", upp, "--matching-id", "BAD", "--requires",
                       "warpDriveSupportedRelease=1.0.0"}),
            1);
  EXPECT_NE(run_smdpd({"--config", cfg, "stage", "--upp", upp, "--matching-id", "BAD", "--ppr", "3"}), 0);
  EXPECT_EQ(run_smdpd({"--config", cfg, "stage", "--upp", upp, "--matching-id", "M1", "--ppr", "1", "--ppr", "2",
                       "--owner-plmn", "00101", "--min-pp-version", "1.1.0", "--requires",
                       "nr5gcSupportedRelease=15.0.0"}),
            0);
  auto config = smdp::load_config(cfg);
  store::Db db(config.db_path);
  smdp::ProfileStore store(db, config.storage_key);
  EXPECT_FALSE(store.by_matching_id("BAD"));
  auto p = store.by_matching_id("M1");
  ASSERT_TRUE(p);
  auto r = store.requirements(p->iccid);
  EXPECT_EQ(r.ppr, (std::vector<unsigned>{1, 2}));
  EXPECT_EQ(to_hex(r.profile_owner_mcc_mnc), "00f110");
  EXPECT_EQ(r.min_pp_version, (Bytes{1, 1, 0}));
  EXPECT_EQ(r.profile_version, (Bytes{2, 3, 0}));
  EXPECT_EQ(r.nvm_bytes, fs::file_size(upp));
  ASSERT_EQ(r.device_capabilities.size(), 1u);
  EXPECT_EQ(r.device_capabilities[0].first, "nr5gcSupportedRelease");
}

// admin (docs/operations.md, "Health and metrics"): port 0 or absent = off;
// a non-loopback listen address only with allow_remote; log keys checked.
TEST(SmdpConfig, AdminListenerIsLoopbackUnlessAllowedAndLogKeysAreChecked) {
  ConfigDir d;
  auto c = smdp::load_config(d.write(d.base));
  EXPECT_FALSE(c.admin.enabled);
  auto j = d.base;
  j["admin"] = {{"port", 9100}};
  c = smdp::load_config(d.write(j));
  EXPECT_TRUE(c.admin.enabled);
  EXPECT_EQ(c.admin.listen, "127.0.0.1");
  EXPECT_EQ(c.admin.port, 9100);
  j["admin"] = {{"port", 9100}, {"listen", "0.0.0.0"}};
  EXPECT_TRUE(has(d.error(j), "admin.listen 0.0.0.0 is not a loopback address")) << d.error(j);
  j["admin"]["allow_remote"] = true;
  EXPECT_EQ(d.error(j), "");
  j["admin"] = {{"port", 9100}, {"listen", "::1"}};
  EXPECT_EQ(d.error(j), "");
  j["admin"] = {{"port", 0}, {"listen", "0.0.0.0"}};  // off: nothing binds
  EXPECT_EQ(d.error(j), "");
  j["admin"] = {{"port", 9100}, {"allow_remot", true}};
  EXPECT_TRUE(has(d.error(j), "admin.allow_remot is not a configuration key")) << d.error(j);

  j = d.base;
  j["log"] = {{"format", "json"}, {"access", true}, {"level", "warn"}};
  c = smdp::load_config(d.write(j));
  EXPECT_EQ(c.log_format, "json");
  EXPECT_TRUE(c.access_log);
  EXPECT_EQ(c.log_level, "warn");
  j["log"] = {{"format", "xml"}};
  EXPECT_TRUE(has(d.error(j), "log.format must be")) << d.error(j);
  j["log"] = {{"access", "yes"}};
  EXPECT_TRUE(has(d.error(j), "log.access must be true or false")) << d.error(j);
}
