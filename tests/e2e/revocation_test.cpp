// Issue 8 point 8 on the SM-DP+: CRLs in the configuration (verified with
// their CI at start, SGP.22 4.6), a revoked CERT.EUM refused in
// authenticateClient with 8.1.2/6.1 (SGP.22 5.6.3: revocation is a failed
// verification; the table has no other code), our own DPauth/DPpb/TLS
// credentials checked at start (key, role, chain, validity, revocation), and
// the legacy switch for EUMs without nameConstraints.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "attempt.hpp"
#include "world.hpp"

using namespace rsp;
using rsp::e2e::World;
namespace fs = std::filesystem;

namespace {

Bytes crl_of(const certs::Pki& p, std::vector<Bytes> revoked) {
  certs::CrlSpec spec;
  spec.revoked_serials = std::move(revoked);
  spec.this_update = std::time(nullptr) - 3600;
  spec.next_update = std::time(nullptr) + 86400;
  return certs::issue_crl(spec, p.ci.cert(), p.ci.key);
}

fs::path ts48_profile() { return e2e::testdata("ts48/TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der"); }

// The message a Server built on `c` refuses to start with ("" if it starts).
std::string start_error(const smdp::Config& c) {
  try {
    smdp::Server s(c);
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

bool has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

struct Scratch {
  fs::path dir = fs::temp_directory_path() / ("rsp-revocation-" + std::to_string(::getpid()));
  certs::Pki pki;
  Scratch() {
    fs::remove_all(dir);
    fs::create_directories(dir);
    certs::PkiOptions po;
    po.dp_host = "localhost";
    pki = certs::generate_pki(po);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  smdp::Config config() const {
    return smdp::config_from_pki(pki, "localhost:" + std::to_string(http::free_loopback_port()),
                                 (dir / "smdp.db").string());
  }
};

}  // namespace

TEST(Revocation, RevokedEumIsRefusedInAuthenticateClient) {
  if (!fs::exists(ts48_profile())) GTEST_SKIP() << "TS.48 test profiles absent";
  World w(crypto::Curve::P256, "crl-eum", [](World& self, smdp::Config& c) {
    c.crls.push_back({"test CRL", crl_of(self.pki, {self.pki.eum.cert().serial})});
  });
  w.stage(e2e::read_file(ts48_profile()), "CRL-EUM");
  auto a = e2e::attempt(w, "CRL-EUM");
  EXPECT_FALSE(a.installed());
  EXPECT_EQ(a.code(), "8.1.2/6.1") << a.what;
}

TEST(Revocation, ACrlListingOthersChangesNothing) {
  if (!fs::exists(ts48_profile())) GTEST_SKIP() << "TS.48 test profiles absent";
  World w(crypto::Curve::P256, "crl-other", [](World& self, smdp::Config& c) {
    c.crls.push_back({"test CRL", crl_of(self.pki, {Bytes{0x01, 0x02, 0x03}})});
  });
  w.stage(e2e::read_file(ts48_profile()), "CRL-OTHER");
  EXPECT_TRUE(e2e::attempt(w, "CRL-OTHER").installed());
}

TEST(Revocation, InvalidCrlsRefuseTheStartNamingTheCrl) {
  Scratch s;
  auto c = s.config();
  certs::PkiOptions po;
  po.dp_host = "rogue.example.com";
  auto foreign = certs::generate_pki(po);
  c.crls = {{"crls[0] (foreign.crl)", crl_of(foreign, {})}};
  std::string e = start_error(c);
  EXPECT_TRUE(has(e, "crls[0] (foreign.crl): CRL refused")) << e;
  Bytes tampered = crl_of(s.pki, {});
  tampered[tampered.size() - 5] ^= 0x01;
  c.crls = {{"crls[0] (tampered.crl)", tampered}};
  e = start_error(c);
  EXPECT_TRUE(has(e, "crls[0] (tampered.crl): CRL refused")) << e;
  c.crls = {{"crls[0] (garbage.crl)", to_bytes(std::string("not a CRL"))}};
  e = start_error(c);
  EXPECT_TRUE(has(e, "crls[0] (garbage.crl): not a valid CRL")) << e;
  c.crls = {{"crls[0] (good.crl)", crl_of(s.pki, {})}};
  EXPECT_EQ(start_error(c), "");
}

TEST(Revocation, OwnCredentialsAreCheckedAtStart) {
  Scratch s;
  // Revoked by a configured CRL.
  auto c = s.config();
  c.crls = {{"crl", crl_of(s.pki, {s.pki.dp_pb.cert().serial})}};
  std::string e = start_error(c);
  EXPECT_TRUE(has(e, "credentials[0].dppb_certificate (CERT.DPpb) is not usable")) << e;
  EXPECT_TRUE(has(e, "revoked")) << e;
  // DPpb's certificate and key where DPauth's belong: the role is wrong.
  c = s.config();
  c.credentials[0].dpauth_certificate = s.pki.dp_pb.der;
  c.credentials[0].dpauth_key_pem = s.pki.dp_pb.key.private_pem();
  e = start_error(c);
  EXPECT_TRUE(has(e, "credentials[0].dpauth_certificate (CERT.DPauth) is not usable")) << e;
  // A key that is not the certificate's.
  c = s.config();
  c.credentials[0].dppb_key_pem = s.pki.dp_auth.key.private_pem();
  e = start_error(c);
  EXPECT_TRUE(has(e, "credentials[0].dppb_certificate (CERT.DPpb) is not usable")) << e;
  // Expired.
  c = s.config();
  certs::CertSpec spec;
  spec.role = certs::Role::DpAuth;
  spec.subject = "O=RSP Test SM-DP+,CN=localhost";
  spec.not_before = std::time(nullptr) - 10 * 86400;
  spec.not_after = std::time(nullptr) - 86400;
  auto key = crypto::EcKey::generate(crypto::Curve::P256);
  auto ci = s.pki.ci.cert();
  c.credentials[0].dpauth_certificate = certs::issue_certificate(spec, key, s.pki.ci.key, &ci);
  c.credentials[0].dpauth_key_pem = key.private_pem();
  e = start_error(c);
  EXPECT_TRUE(has(e, "credentials[0].dpauth_certificate (CERT.DPauth) is not usable")) << e;
  // A TLS certificate under a CI we are not configured with.
  c = s.config();
  certs::PkiOptions po;
  po.dp_host = "localhost";
  auto foreign = certs::generate_pki(po);
  c.tls_certificate = foreign.dp_tls.der;
  c.tls_key = to_bytes(foreign.dp_tls.key.private_pem());
  e = start_error(c);
  EXPECT_TRUE(has(e, "tls.certificate (CERT.DPtls) is not usable")) << e;
  c.tls_ci_certificate = foreign.ci.der;  // configured as the TLS CI: fine
  EXPECT_EQ(start_error(c), "");
}

// SGP.22 4.5.2.1.0.2: an EUM without nameConstraints vouches for no EID,
// unless the legacy switch says otherwise.
TEST(Revocation, EumWithoutNameConstraintsNeedsTheLegacySwitch) {
  if (!fs::exists(ts48_profile())) GTEST_SKIP() << "TS.48 test profiles absent";
  for (bool legacy : {false, true}) {
    World w(crypto::Curve::P256, legacy ? "eum-legacy" : "eum-strict",
            [legacy](World&, smdp::Config& c) { c.allow_eum_without_name_constraints = legacy; });
    auto ci = w.pki.ci.cert();
    certs::CertSpec eum_spec;
    eum_spec.role = certs::Role::Eum;
    eum_spec.subject = "O=Legacy EUM,CN=Legacy EUM";
    eum_spec.not_before = std::time(nullptr) - 3600;
    eum_spec.not_after = std::time(nullptr) + 86400;
    auto eum_key = crypto::EcKey::generate(crypto::Curve::P256);
    Bytes eum_der = certs::issue_certificate(eum_spec, eum_key, w.pki.ci.key, &ci);
    auto eum = certs::parse(eum_der);
    ASSERT_FALSE(eum.has_name_constraints);
    certs::CertSpec euicc_spec;
    euicc_spec.role = certs::Role::Euicc;
    euicc_spec.subject = "O=Legacy EUM,serialNumber=89049032123451234512345678901235,CN=Legacy eUICC";
    euicc_spec.not_before = eum_spec.not_before;
    euicc_spec.not_after = eum_spec.not_after;
    auto euicc_key = crypto::EcKey::generate(crypto::Curve::P256);
    Bytes euicc_der = certs::issue_certificate(euicc_spec, euicc_key, eum_key, &eum);
    w.replace_euicc(euicc_der, euicc_key, eum_der);
    w.stage(e2e::read_file(ts48_profile()), "LEGACY-EUM");
    auto a = e2e::attempt(w, "LEGACY-EUM");
    if (legacy) {
      EXPECT_TRUE(a.installed()) << a.code() << " " << a.what;
    } else {
      EXPECT_FALSE(a.installed());
      EXPECT_EQ(a.code().substr(0, 5), "8.1.2") << a.code() << " " << a.what;
    }
  }
}

// The command line: a CRL issued with `rsp-certs crl` in smdp.json; smdpd
// refuses to serve when it revokes our own CERT.DPpb, and serves otherwise.
TEST(Revocation, SmdpdServeRefusesARevokedOwnCredential) {
  std::string bin = RSP_BINARY_DIR;
  if (!fs::exists(bin + "/smdp/smdpd") || !fs::exists(bin + "/certs/rsp-certs")) GTEST_SKIP() << "tools not built";
  Scratch s;
  auto run = [](const std::string& cmd, std::string* out = nullptr) {
    FILE* f = ::popen((cmd + " 2>&1").c_str(), "r");
    std::string text;
    char buf[512];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, f)) text.append(buf, n);
    int st = ::pclose(f);
    if (out) *out = text;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  };
  std::string pki = (s.dir / "pki").string();
  ASSERT_EQ(run(bin + "/certs/rsp-certs generate --out " + pki + " --dp-host localhost"), 0);
  ASSERT_EQ(run(bin + "/certs/rsp-certs crl --ci " + pki + "/CERT_CI_ECDSA_NIST.der --key " + pki +
                "/SK_CI_ECDSA_NIST.pem --revoke " + pki + "/CERT_S_SM_DPpb_ECDSA_NIST.der --out " +
                (s.dir / "revokes-dppb.crl").string()),
            0);
  ASSERT_EQ(run(bin + "/certs/rsp-certs crl --ci " + pki + "/CERT_CI_ECDSA_NIST.der --key " + pki +
                "/SK_CI_ECDSA_NIST.pem --revoke " + pki + "/CERT_EUM_ECDSA_NIST.der --out " +
                (s.dir / "revokes-eum.crl").string()),
            0);
  write_private_file((s.dir / "storage.key").string(), to_bytes(to_hex(crypto::random_bytes(32))));
  auto write_config = [&](const std::string& crl) {
    nlohmann::json j = {
        {"address", "localhost:0"}, {"port", 0}, {"db", "smdp.db"}, {"storage_key_file", "storage.key"},
        {"tls", {{"certificate", "pki/CERT_S_SM_DP_TLS_NIST.der"}, {"key", "pki/SK_S_SM_DP_TLS_NIST.pem"}}},
        {"credentials",
         {{{"ci_certificate", "pki/CERT_CI_ECDSA_NIST.der"},
           {"dpauth_certificate", "pki/CERT_S_SM_DPauth_ECDSA_NIST.der"},
           {"dpauth_key", "pki/SK_S_SM_DPauth_ECDSA_NIST.pem"},
           {"dppb_certificate", "pki/CERT_S_SM_DPpb_ECDSA_NIST.der"},
           {"dppb_key", "pki/SK_S_SM_DPpb_ECDSA_NIST.pem"}}}},
        {"crls", {crl}}};
    std::ofstream(s.dir / "smdp.json") << j.dump();
    return (s.dir / "smdp.json").string();
  };
  std::string out;
  EXPECT_EQ(run("timeout 20 " + bin + "/smdp/smdpd --config " + write_config("revokes-dppb.crl") + " serve", &out), 1);
  EXPECT_TRUE(has(out, "credentials[0].dppb_certificate (CERT.DPpb) is not usable")) << out;
  EXPECT_TRUE(has(out, "revoked")) << out;
  // The EUM's CRL is fine for serving: smdpd starts (and is stopped by timeout).
  std::string port_file = (s.dir / "port").string();
  int st = run("timeout --preserve-status -s INT 3 " + bin + "/smdp/smdpd --config " + write_config("revokes-eum.crl") +
                   " serve --port-file " + port_file,
               &out);
  EXPECT_TRUE(fs::exists(port_file)) << out;
  EXPECT_EQ(st, 0) << out;  // SIGINT: a clean stop
}
