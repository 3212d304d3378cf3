// Keys in an HSM (issue 9): the SM-DP+'s SK.DPauth, SK.DPpb and SK.DP.TLS in
// a SoftHSM2 token, named in smdp.json by RFC 7512 URIs and loaded by the
// same configuration loader smdpd uses; a whole download through our LPA into
// the simulated eUICC verifies every signature they make (the TLS
// handshakes' ServerKeyExchange, serverSignature1, smdpSignature2, the BPP's
// InitialiseSecureChannel). The token lives in a
// temporary folder (SOFTHSM2_CONF points to its own softhsm2.conf), removed
// on every exit path.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "rsp/file.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/smdp/config.hpp"
#include "rsp/smdp/profile_generator.hpp"
#include "rsp/smdp/profile_template.hpp"
#include "rsp/smdp/token_keys.hpp"
#include "world.hpp"

extern char** environ;

namespace rsp::crypto {
void PrintTo(Curve c, std::ostream* os) { *os << curve_name(c); }  // test names in ctest
}  // namespace rsp::crypto

using namespace rsp;
using rsp::e2e::World;
namespace fs = std::filesystem;

namespace {

const char* kPin = "314159";
const char* kSoPin = "27182818";

std::string softhsm_module() {
  if (const char* m = std::getenv("RSP_SOFTHSM2_MODULE")) return m;
  for (const char* p : {"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"})
    if (fs::exists(p)) return p;
  return {};
}

// Runs a program (found on PATH) with its output discarded; its exit status.
int run(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool on_path(const std::string& tool) { return run({"sh", "-c", "command -v " + tool}) == 0; }

// A SoftHSM2 token in a temporary folder: its own softhsm2.conf (through
// SOFTHSM2_CONF), one token "smdp", the PIN in a 0600 file. The destructor
// removes the folder and restores SOFTHSM2_CONF, whatever the test did.
class Token {
 public:
  Token() : dir_(fs::temp_directory_path() / ("rsp-hsm-" + std::to_string(::getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "tokens");
    if (const char* old = std::getenv("SOFTHSM2_CONF")) old_conf_ = old;
    std::ofstream(dir_ / "softhsm2.conf") << "directories.tokendir = " << (dir_ / "tokens").string()
                                          << "\nobjectstore.backend = file\nlog.level = ERROR\n";
    ::setenv("SOFTHSM2_CONF", (dir_ / "softhsm2.conf").c_str(), 1);
    if (run({"softhsm2-util", "--init-token", "--free", "--label", "smdp", "--pin", kPin, "--so-pin", kSoPin}) != 0)
      throw std::runtime_error("softhsm2-util --init-token failed");
    write_private_file(pin_file().string(), to_bytes(std::string(kPin) + "\n"));
  }
  ~Token() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    if (old_conf_) ::setenv("SOFTHSM2_CONF", old_conf_->c_str(), 1);
    else ::unsetenv("SOFTHSM2_CONF");
  }
  Token(const Token&) = delete;
  Token& operator=(const Token&) = delete;

  const fs::path& dir() const { return dir_; }
  fs::path pin_file() const { return dir_ / "user.pin"; }

  // Imports `key` as a private key object (PKCS#8, as softhsm2-util wants
  // it); the PKCS#8 file is deleted right after.
  void import(const crypto::EcKey& key, const std::string& label, const std::string& id) {
    fs::path sec1 = dir_ / (label + ".sec1.pem"), p8 = dir_ / (label + ".p8");
    write_private_file(sec1.string(), to_bytes(key.private_pem()));
    int rc = run({"openssl", "pkcs8", "-topk8", "-nocrypt", "-in", sec1.string(), "-out", p8.string()});
    if (rc == 0)
      rc = run({"softhsm2-util", "--import", p8.string(), "--token", "smdp", "--label", label, "--id", id, "--pin", kPin});
    fs::remove(sec1);
    fs::remove(p8);
    if (rc != 0) throw std::runtime_error("softhsm2-util --import " + label + " failed");
  }

  std::string uri(const std::string& object, const std::string& pin_source) const {
    return "pkcs11:token=smdp;object=" + object + ";type=private?module-path=" + softhsm_module() +
           (pin_source.empty() ? "" : "&pin-source=" + pin_source);
  }
  std::string uri(const std::string& object) const { return uri(object, "file:" + pin_file().string()); }

 private:
  fs::path dir_;
  std::optional<std::string> old_conf_;
};

// smdp.json in `dir` for the PKI written in `pki_dir`, with the given
// DPauth/DPpb key references (file names or PKCS#11 URIs).
fs::path write_config(const fs::path& dir, const fs::path& pki_dir, crypto::Curve curve, const std::string& dpauth_key,
                      const std::string& dppb_key, const std::string& tls_key = "") {
  std::string sfx = certs::file_suffix(curve);
  auto in_pki = [&](const std::string& f) { return (pki_dir / f).string(); };
  if (!fs::exists(dir / "storage.key"))
    write_private_file((dir / "storage.key").string(), to_bytes(to_hex(crypto::random_bytes(32))));
  nlohmann::json j = {
      {"address", "localhost:8443"},
      {"db", "smdp.db"},
      {"storage_key_file", "storage.key"},
      {"tls",
       {{"certificate", in_pki("CERT_S_SM_DP_TLS_NIST.der")},
        {"key", tls_key.empty() ? in_pki("SK_S_SM_DP_TLS_NIST.pem") : tls_key}}},
      {"credentials",
       {{{"ci_certificate", in_pki("CERT_CI_ECDSA_" + sfx + ".der")},
         {"dpauth_certificate", in_pki("CERT_S_SM_DPauth_ECDSA_" + sfx + ".der")},
         {"dpauth_key", dpauth_key},
         {"dppb_certificate", in_pki("CERT_S_SM_DPpb_ECDSA_" + sfx + ".der")},
         {"dppb_key", dppb_key}}}}};
  fs::path p = dir / "smdp.json";
  std::ofstream(p) << j.dump(2);
  return p;
}

bool tools_present() { return !softhsm_module().empty() && on_path("softhsm2-util") && on_path("openssl"); }

class HsmDownload : public ::testing::TestWithParam<crypto::Curve> {
 protected:
  void SetUp() override {
    if (!tools_present()) GTEST_SKIP() << "SoftHSM2 (softhsm2-util, libsofthsm2.so) or openssl absent: scripts/deps.sh";
  }
};

}  // namespace

TEST_P(HsmDownload, FullDownloadWithDpauthDppbAndTlsKeysInSoftHsm2) {
  Token token;
  const crypto::Curve curve = GetParam();
  bool keys_from_token = false;
  World w(curve, std::string("hsm-") + (curve == crypto::Curve::P256 ? "nist" : "brp"), [&](World& world, smdp::Config& c) {
    token.import(world.pki.dp_auth.key, "dpauth", "01");
    token.import(world.pki.dp_pb.key, "dppb", "02");
    token.import(world.pki.dp_tls.key, "tls", "03");
    // Loaded as smdpd loads it: the keys are URIs, nothing else names them.
    auto loaded = smdp::load_config(
        write_config(token.dir(), world.dir, curve, token.uri("dpauth"), token.uri("dppb"), token.uri("tls")).string());
    ASSERT_EQ(loaded.credentials.size(), 1u);
    const auto& cs = loaded.credentials[0];
    keys_from_token = cs.dpauth_signer && cs.dppb_signer && cs.dpauth_key_pem.empty() && cs.dppb_key_pem.empty() &&
                      loaded.tls_signer && loaded.tls_key.empty();
    c.credentials = loaded.credentials;
    c.tls_certificate = loaded.tls_certificate;
    c.tls_key = loaded.tls_key;  // empty: OpenSSL never holds SK.DP.TLS
    c.tls_signer = loaded.tls_signer;
  });
  ASSERT_TRUE(keys_from_token) << "the loader did not take the keys from the token";
  smdp::SubscriberValues v;
  v.iccid = smdp::luhn_complete("894410000000001234");
  v.imsi = "001010000001234";
  v.ki = crypto::random_bytes(16);
  v.opc = crypto::random_bytes(16);
  std::string iccid = w.stage(smdp::generate_profile(smdp::minimal_profile_template(), v), "HSM-1");

  lpa::DownloadOptions opt;
  opt.es9.http.ca_file = w.tls_ca_pem;
  auto r = lpa::download(*w.euicc, lpa::ActivationCode::parse(w.activation_code("HSM-1")), opt);
  // The LPA verified the TLS handshakes (signed in the token with SK.DP.TLS);
  // the eUICC checked serverSignature1 (DPauth), smdpSignature2 and the
  // InitialiseSecureChannel signature (DPpb) before installing.
  ASSERT_TRUE(r.installation.success) << r.installation.describe();
  EXPECT_TRUE(r.notification_sent) << r.notification_error;
  ASSERT_EQ(w.euicc->profiles().size(), 1u);
  EXPECT_EQ(w.euicc->profiles()[0].iccid, iccid);
  EXPECT_EQ(w.smdp->profiles().by_iccid(iccid)->state, smdp::ProfileState::Installed);
}

INSTANTIATE_TEST_SUITE_P(Curves, HsmDownload, ::testing::Values(crypto::Curve::P256, crypto::Curve::BrainpoolP256r1),
                         [](const auto& tp) { return tp.param == crypto::Curve::P256 ? "Nist" : "Brainpool"; });

// What the loader refuses, with the field named and the PIN never shown.
TEST(HsmConfig, RefusesWrongPinUnknownKeyWrongKeyReadablePinFileAndPinInUri) {
  if (!tools_present()) GTEST_SKIP() << "SoftHSM2 or openssl absent";
  Token token;
  certs::PkiOptions po;
  po.dp_host = "localhost";
  auto pki = certs::generate_pki(po);
  fs::path pki_dir = token.dir() / "pki";
  fs::create_directories(pki_dir);
  certs::write_pki(pki, pki_dir);
  token.import(pki.dp_auth.key, "dpauth", "01");
  token.import(pki.dp_pb.key, "dppb", "02");
  const crypto::Curve nist = crypto::Curve::P256;
  auto error = [&](const std::string& dpauth, const std::string& dppb, const std::string& tls = "") -> std::string {
    try {
      smdp::load_config(write_config(token.dir(), pki_dir, nist, dpauth, dppb, tls).string());
    } catch (const std::exception& e) {
      return e.what();
    }
    return "loaded";
  };
  auto has = [](const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; };

  EXPECT_EQ(error(token.uri("dpauth"), token.uri("dppb")), "loaded");

  fs::path wrong_pin = token.dir() / "wrong.pin";
  write_private_file(wrong_pin.string(), to_bytes(std::string("000000")));
  std::string e = error(token.uri("dpauth", "file:" + wrong_pin.string()), token.uri("dppb"));
  EXPECT_TRUE(has(e, "credentials[0].dpauth_key") && has(e, "CKR_PIN_INCORRECT")) << e;
  EXPECT_FALSE(has(e, "000000")) << e;

  ::setenv("RSP_TEST_SMDP_PIN", kPin, 1);
  EXPECT_EQ(error(token.uri("dpauth", "env:RSP_TEST_SMDP_PIN"), token.uri("dppb", "env:RSP_TEST_SMDP_PIN")), "loaded");
  ::unsetenv("RSP_TEST_SMDP_PIN");
  e = error(token.uri("dpauth", "env:RSP_TEST_SMDP_PIN"), token.uri("dppb"));
  EXPECT_TRUE(has(e, "credentials[0].dpauth_key") && has(e, "RSP_TEST_SMDP_PIN is not set")) << e;

  e = error(token.uri("dpauth"), token.uri("no-such-key"));
  EXPECT_TRUE(has(e, "credentials[0].dppb_key") && has(e, "no private key in the token matches")) << e;

  // DPpb's key where DPauth's belongs.
  e = error(token.uri("dppb"), token.uri("dppb"));
  EXPECT_TRUE(has(e, "credentials[0].dpauth_key key does not match its certificate")) << e;

  ::chmod(token.pin_file().c_str(), 0644);
  e = error(token.uri("dpauth"), token.uri("dppb"));
  EXPECT_TRUE(has(e, "credentials[0].dpauth_key") && has(e, "0644") && has(e, "chmod 600")) << e;
  ::chmod(token.pin_file().c_str(), 0600);

  e = error("pkcs11:token=smdp;object=dpauth?module-path=" + softhsm_module() + "&pin-value=" + kPin, token.uri("dppb"));
  EXPECT_TRUE(has(e, "credentials[0].dpauth_key") && has(e, "pin-value is not accepted")) << e;
  EXPECT_FALSE(has(e, kPin)) << e;

  e = error("pkcs11:token=smdp;object=dpauth", token.uri("dppb"));
  EXPECT_TRUE(has(e, "no module-path")) << e;

  // The TLS key in the token: loaded when it is the certificate's, refused
  // (field named) when it is not or is missing.
  token.import(pki.dp_tls.key, "tls", "03");
  EXPECT_EQ(error(token.uri("dpauth"), token.uri("dppb"), token.uri("tls")), "loaded");
  e = error(token.uri("dpauth"), token.uri("dppb"), token.uri("dpauth"));
  EXPECT_TRUE(has(e, "tls.key key does not match its certificate")) << e;
  e = error(token.uri("dpauth"), token.uri("dppb"), token.uri("no-tls-key"));
  EXPECT_TRUE(has(e, "tls.key") && has(e, "no private key in the token matches")) << e;
}

// smdpd signs from several worker threads: the token signer's sessions
// (one operation at a time each) must never be shared by two signatures.
TEST(HsmConfig, ConcurrentSignaturesFromOneTokenKeyAllVerify) {
  if (!tools_present()) GTEST_SKIP() << "SoftHSM2 or openssl absent";
  Token token;
  auto key = crypto::EcKey::generate(crypto::Curve::P256);
  token.import(key, "dpauth", "01");
  certs::PkiOptions po;
  auto pki = certs::generate_pki(po);
  certs::CertSpec spec;
  spec.role = certs::Role::DpAuth;
  spec.subject = "CN=RSP Test DPauth";
  spec.not_before = std::time(nullptr) - 3600;
  spec.not_after = std::time(nullptr) + 86400;
  auto ci = pki.ci.cert();
  Bytes cert = certs::issue_certificate(spec, key, pki.ci.key, &ci);
  auto signer = smdp::open_token_key(token.uri("dpauth"), token.dir(), cert, "dpauth_key");
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        Bytes msg = to_bytes("message " + std::to_string(t) + "/" + std::to_string(i));
        try {
          if (key.verify(msg, signer->sign(msg))) ++good;
        } catch (const std::exception&) {  // e.g. CKR_OPERATION_ACTIVE on a shared session
        }
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 100);
}
