// rsp_certs: SGP.26 chains, negative cases, our generated PKI (checked by us
// and by OpenSSL), and the rsp-certs tool.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "rsp/certs.hpp"
#include "rsp/pki.hpp"
#include "rsp/tlv.hpp"
#include "certs_test_util.hpp"

using namespace rsp;
using namespace rsp::certs;
namespace fs = std::filesystem;
using Kind = ValidationError::Kind;

namespace {

using certs_test::expect_fail;
using certs_test::kSgp26;
using certs_test::utc;
const std::string kEid = "89049032123451234512345678901235";

const std::time_t k2025 = utc(2025, 1, 1);

#define REQUIRE_SGP26()                                                                   \
  do {                                                                                    \
    if (!fs::exists(kSgp26 / "eUICC")) GTEST_SKIP() << "no SGP.26 material at " << kSgp26; \
  } while (0)

struct Sgp26 {
  std::string s;  // "NIST" / "BRP"
  Bytes ci, eum, euicc, dp_auth, dp_pb, dp2_auth, dp2_pb;
  explicit Sgp26(std::string sfx) : s(std::move(sfx)) {
    ci = read_file(kSgp26 / "CertificateIssuer" / ("CERT_CI_ECDSA_" + s + ".der"));
    eum = read_file(kSgp26 / "EUM" / ("CERT_EUM_ECDSA_" + s + ".der"));
    euicc = read_file(kSgp26 / "eUICC" / ("CERT_EUICC_ECDSA_" + s + ".der"));
    dp_auth = read_file(kSgp26 / "DPauth" / ("CERT_S_SM_DPauth_ECDSA_" + s + ".der"));
    dp_pb = read_file(kSgp26 / "DPpb" / ("CERT_S_SM_DPpb_ECDSA_" + s + ".der"));
    dp2_auth = read_file(kSgp26 / "DPauth" / ("CERT_S_SM_DP2auth_ECDSA_" + s + ".der"));
    dp2_pb = read_file(kSgp26 / "DPpb" / ("CERT_S_SM_DP2pb_ECDSA_" + s + ".der"));
  }
  std::vector<Certificate> trusted() const { return {parse(ci)}; }
};

Bytes flip_last(Bytes der) {
  der.back() ^= 0x01;  // last byte of s in the signature
  return der;
}

struct Cmd {
  int rc;
  std::string out;
};
Cmd run(const std::string& cmd) {
  Cmd r{-1, {}};
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = ::pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}
bool have_openssl() { return run("openssl version").rc == 0; }

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "rsp-certs-test-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

const Pki& generated(crypto::Curve c) {
  static Pki nist = generate_pki(PkiOptions{});
  static Pki brp = [] {
    PkiOptions o;
    o.curve = crypto::Curve::BrainpoolP256r1;
    return generate_pki(o);
  }();
  return c == crypto::Curve::P256 ? nist : brp;
}

}  // namespace

// ---------------------------------------------------------------- SGP.26

class Sgp26Chain : public ::testing::TestWithParam<std::string> {};

TEST_P(Sgp26Chain, EuiccChainVerifies) {
  REQUIRE_SGP26();
  Sgp26 t(GetParam());
  Certificate euicc = verify_euicc_chain(t.euicc, t.eum, t.trusted(), k2025);
  EXPECT_EQ(euicc.subject_serial_number, kEid);
  EXPECT_EQ(euicc.curve, GetParam() == "NIST" ? crypto::Curve::P256 : crypto::Curve::BrainpoolP256r1);
  // Both CIs trusted: the right one is found by the EUM's AKI.
  std::vector<Certificate> both{parse(Sgp26("NIST").ci), parse(Sgp26("BRP").ci)};
  EXPECT_NO_THROW(verify_euicc_chain(t.euicc, t.eum, both, k2025));
  // The eUICC certificate is valid to 7496; the EUM to 2054.
  EXPECT_NO_THROW(verify_euicc_chain(t.euicc, t.eum, t.trusted(), utc(2050, 6, 1)));
}

TEST_P(Sgp26Chain, DpCertsVerify) {
  REQUIRE_SGP26();
  Sgp26 t(GetParam());
  EXPECT_NO_THROW(verify_dp_cert(t.dp_auth, Role::DpAuth, t.trusted(), k2025));
  EXPECT_NO_THROW(verify_dp_cert(t.dp_pb, Role::DpPb, t.trusted(), k2025));
  EXPECT_NO_THROW(verify_dp_cert(t.dp2_auth, Role::DpAuth, t.trusted(), k2025));
  EXPECT_NO_THROW(verify_dp_cert(t.dp2_pb, Role::DpPb, t.trusted(), k2025));
  // VARO TLS: the only SGP.26 TLS certificates still valid (Jul 2026 .. Feb 2027).
  Bytes tls = read_file(kSgp26 / "DPtls" / ("CERT_S_SM_DP_VARO_TLS_" + GetParam() + ".der"));
  Certificate c = verify_dp_cert(tls, Role::DpTls, t.trusted(), utc(2026, 12, 1));
  EXPECT_TRUE(c.server_auth);
  EXPECT_EQ(c.dns_names, std::vector<std::string>{"testsmdpplus1.example.com"});
}

TEST_P(Sgp26Chain, KeysMatchCertificates) {
  REQUIRE_SGP26();
  Sgp26 t(GetParam());
  // The SK_*.pem files start with an "EC PARAMETERS" block before the key.
  auto key = crypto::EcKey::from_pem_or_der(read_file(kSgp26 / "eUICC" / ("SK_EUICC_ECDSA_" + GetParam() + ".pem")));
  Certificate euicc = parse(t.euicc);
  EXPECT_EQ(key.public_point(), euicc.public_point);
  Bytes sig = key.sign(to_bytes("euiccSigned1"));
  EXPECT_TRUE(euicc.public_key().verify(to_bytes("euiccSigned1"), sig));
}

INSTANTIATE_TEST_SUITE_P(Curves, Sgp26Chain, ::testing::Values("NIST", "BRP"));

TEST(Sgp26Fields, ParsedAsExpected) {
  REQUIRE_SGP26();
  Sgp26 t("NIST");
  Certificate ci = parse(t.ci), eum = parse(t.eum), euicc = parse(t.euicc), auth = parse(t.dp_auth);
  EXPECT_EQ(euicc.subject_serial_number, kEid);
  EXPECT_EQ(euicc.subject_organization, "RSP Test EUM");
  EXPECT_EQ(to_hex(euicc.serial, true), "020000000000000001");
  EXPECT_GT(euicc.not_after, utc(7000, 1, 1));
  ASSERT_TRUE(eum.permitted_eid_prefix);
  EXPECT_EQ(*eum.permitted_eid_prefix, "89049032");
  ASSERT_TRUE(eum.permitted_organization);
  EXPECT_EQ(*eum.permitted_organization, "RSP Test EUM");
  EXPECT_FALSE(euicc.permitted_eid_prefix);
  EXPECT_EQ(to_hex(ci.subject_key_id, true), "F54172BDF98A95D65CBEB88A38A1C11D800A85C3");
  EXPECT_TRUE(ci.authority_key_id.empty());
  EXPECT_EQ(eum.authority_key_id, ci.subject_key_id);
  EXPECT_EQ(euicc.authority_key_id, eum.subject_key_id);
  EXPECT_EQ(ci.policies, std::vector<std::string>{oid::kCi});
  EXPECT_EQ(eum.policies, std::vector<std::string>{oid::kEum});
  EXPECT_EQ(euicc.policies, std::vector<std::string>{oid::kEuicc});
  EXPECT_EQ(auth.policies, std::vector<std::string>{oid::kDpAuth});
  EXPECT_TRUE(ci.is_ca);
  EXPECT_EQ(ci.key_usage, ku::kKeyCertSign | ku::kCrlSign);
  EXPECT_TRUE(eum.is_ca);
  EXPECT_EQ(eum.path_len, 0);
  EXPECT_EQ(euicc.key_usage, ku::kDigitalSignature);
  EXPECT_FALSE(euicc.is_ca);
  EXPECT_EQ(euicc.public_point.size(), 65u);
  EXPECT_EQ(euicc.signature_raw.size(), 64u);
  EXPECT_EQ(euicc.issuer_dn, eum.subject_dn);
  EXPECT_EQ(parse(Sgp26("BRP").eum).curve, crypto::Curve::BrainpoolP256r1);
  // PEM input parses to the same certificate.
  Certificate from_pem = parse(read_file(kSgp26 / "CertificateIssuer" / "CERT_CI_ECDSA_NIST.pem"));
  EXPECT_EQ(from_pem.der, ci.der);
}

// ---------------------------------------------------------------- negative

TEST(Negative, UntrustedCi) {
  REQUIRE_SGP26();
  Sgp26 nist("NIST"), brp("BRP");
  auto e = expect_fail([&] { verify_euicc_chain(nist.euicc, nist.eum, brp.trusted(), k2025); });
  EXPECT_EQ(e.kind, Kind::UnknownCi);
  EXPECT_EQ(e.which, Role::Eum);
  e = expect_fail([&] { verify_euicc_chain(nist.euicc, nist.eum, {}, k2025); });
  EXPECT_EQ(e.kind, Kind::UnknownCi);
  e = expect_fail([&] {
    verify_euicc_chain(nist.euicc, nist.eum, {generated(crypto::Curve::P256).ci.cert()}, k2025);
  });
  EXPECT_EQ(e.kind, Kind::UnknownCi);
  e = expect_fail([&] { verify_dp_cert(brp.dp_auth, Role::DpAuth, nist.trusted(), k2025); });
  EXPECT_EQ(e.kind, Kind::UnknownCi);
}

TEST(Negative, FlippedSignatureByte) {
  REQUIRE_SGP26();
  for (std::string s : {"NIST", "BRP"}) {
    Sgp26 t(s);
    auto e = expect_fail([&] { verify_euicc_chain(flip_last(t.euicc), t.eum, t.trusted(), k2025); });
    EXPECT_EQ(e.kind, Kind::BadSignature);
    EXPECT_EQ(e.which, Role::Euicc);
    e = expect_fail([&] { verify_euicc_chain(t.euicc, flip_last(t.eum), t.trusted(), k2025); });
    EXPECT_EQ(e.kind, Kind::BadSignature);
    EXPECT_EQ(e.which, Role::Eum);
    e = expect_fail([&] { verify_dp_cert(flip_last(t.dp_pb), Role::DpPb, t.trusted(), k2025); });
    EXPECT_EQ(e.kind, Kind::BadSignature);
  }
  // A byte of the signed part changed (inside the subject CN) breaks it too.
  Sgp26 t("NIST");
  Bytes der = t.euicc;
  std::string cn = "Test eUICC";
  auto it = std::search(der.begin(), der.end(), cn.begin(), cn.end());
  ASSERT_NE(it, der.end());
  *it = 'B';
  auto e = expect_fail([&] { verify_euicc_chain(der, t.eum, t.trusted(), k2025); });
  EXPECT_EQ(e.kind, Kind::BadSignature);
}

TEST(Negative, OutsideValidity) {
  REQUIRE_SGP26();
  Sgp26 t("NIST");
  Certificate auth = parse(t.dp_auth);
  auto e = expect_fail([&] { verify_dp_cert(t.dp_auth, Role::DpAuth, t.trusted(), auth.not_after + 1); });
  EXPECT_EQ(e.kind, Kind::Expired);
  EXPECT_NO_THROW(verify_dp_cert(t.dp_auth, Role::DpAuth, t.trusted(), auth.not_after));
  e = expect_fail([&] { verify_dp_cert(t.dp_auth, Role::DpAuth, t.trusted(), auth.not_before - 1); });
  EXPECT_EQ(e.kind, Kind::Expired);
  e = expect_fail([&] { verify_euicc_chain(t.euicc, t.eum, t.trusted(), utc(2060, 1, 1)); });  // EUM ends 2054
  EXPECT_EQ(e.kind, Kind::Expired);
  EXPECT_EQ(e.which, Role::Eum);
  Bytes tls = read_file(kSgp26 / "DPtls" / "CERT_S_SM_DP2_TLS.der");
  e = expect_fail([&] { verify_dp_cert(tls, Role::DpTls, t.trusted(), utc(2026, 1, 1)); });
  EXPECT_EQ(e.kind, Kind::Expired);
}

TEST(Negative, EidOutsideConstraint) {
  const Pki& p = generated(crypto::Curve::P256);
  Certificate eum = p.eum.cert();
  std::time_t now = std::time(nullptr);
  auto issue_euicc = [&](const std::string& subject) {
    CertSpec s;
    s.role = Role::Euicc;
    s.subject = subject;
    s.not_before = now - 3600;
    s.not_after = now + 3600;
    return issue_certificate(s, crypto::EcKey::generate(crypto::Curve::P256), p.eum.key, &eum);
  };
  std::vector<Certificate> ci{p.ci.cert()};
  EXPECT_NO_THROW(verify_euicc_chain(issue_euicc("O=RSP Test EUM,serialNumber=89049032999999999999999999999999,CN=x"),
                                     p.eum.der, ci, now));
  auto e = expect_fail([&] {
    verify_euicc_chain(issue_euicc("O=RSP Test EUM,serialNumber=89049099123451234512345678901235,CN=x"), p.eum.der, ci, now);
  });
  EXPECT_EQ(e.kind, Kind::EidOutsideConstraint);
  EXPECT_EQ(e.which, Role::Euicc);
  e = expect_fail([&] {
    verify_euicc_chain(issue_euicc("O=Other EUM,serialNumber=" + kEid + ",CN=x"), p.eum.der, ci, now);
  });
  EXPECT_EQ(e.kind, Kind::EidOutsideConstraint);
  e = expect_fail([&] { verify_euicc_chain(issue_euicc("O=RSP Test EUM,CN=no serial"), p.eum.der, ci, now); });
  EXPECT_EQ(e.kind, Kind::EidOutsideConstraint);
}

TEST(Negative, EidOutsideSgp26EumConstraint) {
  // Signed with the SGP.26 EUM's own key: the issuer Name is copied byte for
  // byte from CERT.EUM, so only the EID check can fail.
  REQUIRE_SGP26();
  Sgp26 t("NIST");
  Certificate eum = parse(t.eum);
  auto eum_key = crypto::EcKey::from_pem_or_der(read_file(kSgp26 / "EUM" / "SK_EUM_ECDSA_NIST.pem"));
  CertSpec s;
  s.role = Role::Euicc;
  s.subject = "C=ES,O=RSP Test EUM,serialNumber=89044045123451234512345678901235,CN=Test eUICC";
  s.not_before = utc(2024, 1, 1);
  s.not_after = utc(2030, 1, 1);
  Bytes der = issue_certificate(s, crypto::EcKey::generate(crypto::Curve::P256), eum_key, &eum);
  EXPECT_EQ(parse(der).issuer_dn, eum.subject_dn);
  auto e = expect_fail([&] { verify_euicc_chain(der, t.eum, t.trusted(), k2025); });
  EXPECT_EQ(e.kind, Kind::EidOutsideConstraint);
}

TEST(Negative, WrongRole) {
  REQUIRE_SGP26();
  Sgp26 t("NIST");
  auto e = expect_fail([&] { verify_dp_cert(t.dp_auth, Role::DpPb, t.trusted(), k2025); });
  EXPECT_EQ(e.kind, Kind::WrongRole);
  EXPECT_EQ(e.which, Role::DpPb);
  e = expect_fail([&] { verify_dp_cert(t.dp_pb, Role::DpAuth, t.trusted(), k2025); });
  EXPECT_EQ(e.kind, Kind::WrongRole);
  e = expect_fail([&] { verify_dp_cert(t.dp_auth, Role::DpTls, t.trusted(), k2025); });
  EXPECT_EQ(e.kind, Kind::WrongRole);
  // An EUM certificate presented as the eUICC's (and vice versa) is rejected.
  e = expect_fail([&] { verify_euicc_chain(t.eum, t.eum, t.trusted(), k2025); });
  EXPECT_NE(e.kind, Kind::UnknownCi);
  // A DP certificate in the EUM's place: signed by the CI, wrong role.
  e = expect_fail([&] { verify_euicc_chain(t.euicc, t.dp_auth, t.trusted(), k2025); });
  EXPECT_EQ(e.kind, Kind::WrongRole);
  EXPECT_EQ(e.which, Role::Eum);
}

TEST(Negative, Garbage) {
  Bytes garbage = to_bytes("this is not a certificate at all");
  EXPECT_THROW(parse(garbage), DecodeError);
  EXPECT_THROW(parse(Bytes{}), DecodeError);
  EXPECT_THROW(parse(Bytes{0x30, 0x03, 0x02, 0x01, 0x00}), DecodeError);
  auto e = expect_fail([&] { verify_dp_cert(garbage, Role::DpAuth, {}, k2025); });
  EXPECT_EQ(e.kind, Kind::Malformed);
  const Pki& p = generated(crypto::Curve::P256);
  e = expect_fail([&] { verify_euicc_chain(p.euicc.der, garbage, {p.ci.cert()}, k2025); });
  EXPECT_EQ(e.kind, Kind::Malformed);
  EXPECT_EQ(e.which, Role::Eum);
  // Trailing bytes and truncation.
  Bytes trailing = p.euicc.der;
  trailing.push_back(0);
  EXPECT_THROW(parse(trailing), DecodeError);
  Bytes truncated(p.euicc.der.begin(), p.euicc.der.end() - 10);
  EXPECT_THROW(parse(truncated), DecodeError);
}

// ---------------------------------------------------------------- generated PKI

class Generated : public ::testing::TestWithParam<crypto::Curve> {};

TEST_P(Generated, ValidatesWithOurChecks) {
  const Pki& p = generated(GetParam());
  std::time_t now = std::time(nullptr);
  std::vector<Certificate> ci{p.ci.cert()};
  Certificate euicc = verify_euicc_chain(p.euicc.der, p.eum.der, ci, now);
  EXPECT_EQ(euicc.subject_serial_number, kEid);
  EXPECT_EQ(euicc.curve, GetParam());
  EXPECT_NO_THROW(verify_dp_cert(p.dp_auth.der, Role::DpAuth, ci, now));
  EXPECT_NO_THROW(verify_dp_cert(p.dp_pb.der, Role::DpPb, ci, now));
  // TLS: always P-256 under a P-256 CI.
  std::vector<Certificate> tls_ci{(p.tls_ci ? *p.tls_ci : p.ci).cert()};
  EXPECT_EQ(tls_ci[0].curve, crypto::Curve::P256);
  Certificate tls = verify_dp_cert(p.dp_tls.der, Role::DpTls, tls_ci, now);
  EXPECT_EQ(tls.curve, crypto::Curve::P256);
  EXPECT_EQ(tls.dns_names, (std::vector<std::string>{"smdp.example.com", "localhost"}));
  EXPECT_EQ(p.tls_ci.has_value(), GetParam() != crypto::Curve::P256);

  Certificate eum = p.eum.cert();
  EXPECT_EQ(eum.permitted_eid_prefix.value_or(""), "89049032");
  EXPECT_EQ(eum.permitted_organization.value_or(""), "RSP Test EUM");
  EXPECT_EQ(eum.path_len, 0);
  for (const Issued* i : {&p.ci, &p.eum, &p.euicc, &p.dp_auth, &p.dp_pb, &p.dp_tls}) {
    Certificate c = i->cert();
    EXPECT_EQ(c.serial.size(), 9u);
    EXPECT_EQ(c.serial[0] & 0x80, 0);
    EXPECT_EQ(c.subject_key_id, crypto::sha1(c.public_point));
    EXPECT_EQ(i->key.public_point(), c.public_point);
    EXPECT_EQ(c.policies.size(), 1u);
  }
}

TEST_P(Generated, FilesAndOpenSsl) {
  const Pki& p = generated(GetParam());
  TempDir d;
  auto files = write_pki(p, d.path);
  const std::string s = file_suffix(GetParam());
  // What `rsp-certs generate` checks before writing is what write_pki writes
  // (plus the TLS CI files when it writes a fresh TLS CI for a brainpool set).
  auto expected = pki_file_paths(GetParam(), d.path);
  if (p.tls_ci)
    for (std::string f : {"CERT_CI_ECDSA_NIST.der", "CERT_CI_ECDSA_NIST.pem", "SK_CI_ECDSA_NIST.pem"})
      expected.insert(expected.end() - 3, d.path / f);
  EXPECT_EQ(files, expected);
  for (std::string f : {"CERT_CI_ECDSA_", "SK_CI_ECDSA_", "CERT_EUM_ECDSA_", "SK_EUM_ECDSA_", "CERT_EUICC_ECDSA_",
                        "SK_EUICC_ECDSA_", "CERT_S_SM_DPauth_ECDSA_", "SK_S_SM_DPauth_ECDSA_", "CERT_S_SM_DPpb_ECDSA_",
                        "SK_S_SM_DPpb_ECDSA_"}) {
    bool cert = f.rfind("CERT", 0) == 0;
    EXPECT_TRUE(fs::exists(d.path / (f + s + (cert ? ".der" : ".pem")))) << f;
    if (cert) {
      EXPECT_TRUE(fs::exists(d.path / (f + s + ".pem"))) << f;
    }
  }
  EXPECT_TRUE(fs::exists(d.path / "CERT_S_SM_DP_TLS_NIST.der"));
  EXPECT_TRUE(fs::exists(d.path / "CERT_S_SM_DP_TLS_NIST.pem"));
  EXPECT_TRUE(fs::exists(d.path / "CERT_CI_ECDSA_NIST.der"));
  for (auto& f : files) {
    struct stat st{};
    ASSERT_EQ(::stat(f.c_str(), &st), 0);
    if (f.filename().string().rfind("SK_", 0) == 0) {
      EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
      std::string pem = to_string(read_file(f));
      EXPECT_NE(pem.find("-----BEGIN EC PRIVATE KEY-----"), std::string::npos) << f;  // SEC1
    }
  }
  auto reloaded = load_issued(d.path / ("CERT_EUICC_ECDSA_" + s + ".der"), d.path / ("SK_EUICC_ECDSA_" + s + ".pem"));
  ASSERT_TRUE(reloaded);
  EXPECT_EQ(reloaded->der, p.euicc.der);
  EXPECT_EQ(parse(read_file(d.path / ("CERT_EUM_ECDSA_" + s + ".pem"))).der, p.eum.der);

  if (!have_openssl()) GTEST_SKIP() << "openssl not installed";
  auto f = [&](const std::string& name) { return (d.path / name).string(); };
  const std::string ci = f("CERT_CI_ECDSA_" + s + ".pem");
  // DP and EUM certificates: stock `openssl verify` accepts them as they are
  // (critical certificatePolicies and nameConstraints are known to OpenSSL).
  for (std::string c : {"CERT_S_SM_DPauth_ECDSA_", "CERT_S_SM_DPpb_ECDSA_", "CERT_EUM_ECDSA_"}) {
    auto r = run("openssl verify -CAfile " + ci + " " + f(c + s + ".pem"));
    EXPECT_EQ(r.rc, 0) << c << ": " << r.out;
    EXPECT_NE(r.out.find(": OK"), std::string::npos) << r.out;
  }
  auto r = run("openssl verify -purpose sslserver -CAfile " + f("CERT_CI_ECDSA_NIST.pem") + " " +
               f("CERT_S_SM_DP_TLS_NIST.pem"));
  EXPECT_EQ(r.rc, 0) << r.out;
  // eUICC: OpenSSL applies RFC 5280 DirName semantics to the EUM's
  // nameConstraints and rejects it (as it does SGP.26's own eUICC); check
  // the signature with `openssl dgst` instead.
  r = run("openssl verify -CAfile " + ci + " -untrusted " + f("CERT_EUM_ECDSA_" + s + ".pem") + " " +
          f("CERT_EUICC_ECDSA_" + s + ".pem"));
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("permitted subtree violation"), std::string::npos) << r.out;
  {
    auto top = tlv::parse_all(tlv::parse_one(p.euicc.der).value);  // tbs, sigAlg, BIT STRING
    ASSERT_EQ(top.size(), 3u);
    std::ofstream(f("tbs.der"), std::ios::binary).write(reinterpret_cast<const char*>(top[0].raw.data()),
                                                       static_cast<std::streamsize>(top[0].raw.size()));
    std::ofstream(f("sig.der"), std::ios::binary).write(reinterpret_cast<const char*>(top[2].value.data() + 1),
                                                       static_cast<std::streamsize>(top[2].value.size() - 1));
    ASSERT_EQ(run("openssl x509 -in " + f("CERT_EUM_ECDSA_" + s + ".pem") + " -pubkey -noout -out " + f("eum.pub")).rc, 0);
    r = run("openssl dgst -sha256 -verify " + f("eum.pub") + " -signature " + f("sig.der") + " " + f("tbs.der"));
    EXPECT_EQ(r.rc, 0) << r.out;
    EXPECT_NE(r.out.find("Verified OK"), std::string::npos) << r.out;
  }
  // The extensions as OpenSSL reads them.
  r = run("openssl x509 -noout -text -in " + f("CERT_EUM_ECDSA_" + s + ".pem"));
  EXPECT_NE(r.out.find("Certificate Policies: critical"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Policy: 2.23.146.1.2.1.2"), std::string::npos);
  EXPECT_NE(r.out.find("CA:TRUE, pathlen:0"), std::string::npos);
  EXPECT_NE(r.out.find("DirName:O = RSP Test EUM, serialNumber = 89049032"), std::string::npos);
  EXPECT_NE(r.out.find("Certificate Sign"), std::string::npos);
  r = run("openssl x509 -noout -text -in " + f("CERT_EUICC_ECDSA_" + s + ".pem"));
  EXPECT_NE(r.out.find("serialNumber = " + kEid), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Policy: 2.23.146.1.2.1.1"), std::string::npos);
  EXPECT_NE(r.out.find("Digital Signature"), std::string::npos);
  EXPECT_NE(r.out.find(GetParam() == crypto::Curve::P256 ? "prime256v1" : "brainpoolP256r1"), std::string::npos);
  r = run("openssl x509 -noout -text -in " + f("CERT_S_SM_DPauth_ECDSA_" + s + ".pem"));
  EXPECT_NE(r.out.find("Registered ID:2.999.10"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Policy: 2.23.146.1.2.1.4"), std::string::npos);
  r = run("openssl x509 -noout -text -in " + f("CERT_S_SM_DP_TLS_NIST.pem"));
  EXPECT_NE(r.out.find("TLS Web Server Authentication"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("DNS:smdp.example.com, DNS:localhost, IP Address:127.0.0.1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Policy: 2.23.146.1.2.1.3"), std::string::npos);
  r = run("openssl ec -noout -check -in " + f("SK_EUICC_ECDSA_" + s + ".pem"));
  EXPECT_EQ(r.rc, 0) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Curves, Generated, ::testing::Values(crypto::Curve::P256, crypto::Curve::BrainpoolP256r1),
                         [](const ::testing::TestParamInfo<crypto::Curve>& pi) { return file_suffix(pi.param); });

// ---------------------------------------------------------------- the tool

TEST(Tool, GenerateVerifyShow) {
  TempDir d;
  const std::string tool = RSP_CERTS_TOOL, out = d.path.string();
  const std::string opts = " --dp-host dp.test.local --days 30 --eid 89049032000000000000000000000017";
  auto r = run(tool + " generate --out " + out + " --curve nist" + opts);
  ASSERT_EQ(r.rc, 0) << r.out;
  auto nist_ci = read_file(d.path / "CERT_CI_ECDSA_NIST.der");
  // Adding a brainpool set reissues the DP TLS certificate: only with --force.
  r = run(tool + " generate --out " + out + " --curve brp" + opts);
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_FALSE(fs::exists(d.path / "CERT_CI_ECDSA_BRP.der"));
  r = run(tool + " generate --out " + out + " --curve brp --force" + opts);
  ASSERT_EQ(r.rc, 0) << r.out;
  // The brainpool run kept the NIST CI (so the NIST set stays valid) and put its TLS certificate under it.
  EXPECT_EQ(read_file(d.path / "CERT_CI_ECDSA_NIST.der"), nist_ci);
  for (std::string s : {"NIST", "BRP"}) {
    r = run(tool + " verify-euicc --ci " + out + "/CERT_CI_ECDSA_NIST.der --ci " + out + "/CERT_CI_ECDSA_BRP.pem --eum " +
            out + "/CERT_EUM_ECDSA_" + s + ".der --euicc " + out + "/CERT_EUICC_ECDSA_" + s + ".der");
    EXPECT_EQ(r.rc, 0) << r.out;
    EXPECT_NE(r.out.find("OK: eUICC"), std::string::npos) << r.out;
    r = run(tool + " verify-dp --ci " + out + "/CERT_CI_ECDSA_" + s + ".der --cert " + out + "/CERT_S_SM_DPpb_ECDSA_" + s +
            ".der --role pb");
    EXPECT_EQ(r.rc, 0) << r.out;
    r = run(tool + " verify-dp --ci " + out + "/CERT_CI_ECDSA_" + s + ".der --cert " + out + "/CERT_S_SM_DPpb_ECDSA_" + s +
            ".der --role auth");
    EXPECT_EQ(r.rc, 1) << r.out;
    EXPECT_NE(r.out.find("WrongRole"), std::string::npos) << r.out;
  }
  r = run(tool + " verify-dp --ci " + out + "/CERT_CI_ECDSA_NIST.der --cert " + out + "/CERT_S_SM_DP_TLS_NIST.der --role tls");
  EXPECT_EQ(r.rc, 0) << r.out;
  r = run(tool + " verify-dp --ci " + out + "/CERT_CI_ECDSA_NIST.der --cert " + out +
          "/CERT_S_SM_DPauth_ECDSA_NIST.der --role auth --at 2100-01-01");
  EXPECT_NE(r.out.find("Expired"), std::string::npos) << r.out;
  r = run(tool + " show " + out + "/CERT_EUICC_ECDSA_BRP.pem");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("89049032000000000000000000000017"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("brainpoolP256r1"), std::string::npos);
  r = run(tool + " show " + out + "/CERT_S_SM_DP_TLS_NIST.der");
  EXPECT_NE(r.out.find("dp.test.local"), std::string::npos) << r.out;
  r = run(tool + " generate --out " + out + " --curve nist --eid 1234");
  EXPECT_NE(r.rc, 0);
}

// A second run into the same folder refuses before writing anything, naming
// the first file it would replace (issue 13); --force replaces.
TEST(Tool, GenerateRefusesToOverwrite) {
  TempDir d;
  const std::string tool = RSP_CERTS_TOOL, out = d.path.string();
  auto r = run(tool + " generate --out " + out + " --curve nist --days 2");
  ASSERT_EQ(r.rc, 0) << r.out;
  auto ci = read_file(d.path / "CERT_CI_ECDSA_NIST.der");
  auto ci_key = read_file(d.path / "SK_CI_ECDSA_NIST.pem");
  // Only one file of the set is there: still a refusal, naming that file.
  TempDir e;
  rsp::write_private_file((e.path / "SK_EUM_ECDSA_NIST.pem").string(), to_bytes("keep me"));
  r = run(tool + " generate --out " + e.path.string() + " --curve nist --days 2");
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find((e.path / "SK_EUM_ECDSA_NIST.pem").string() + " exists"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--force"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(e.path / "CERT_CI_ECDSA_NIST.der"));  // nothing half-written
  EXPECT_EQ(to_string(read_file(e.path / "SK_EUM_ECDSA_NIST.pem")), "keep me");

  for (std::string curve : {"nist", "both"}) {
    r = run(tool + " generate --out " + out + " --curve " + curve + " --days 2");
    EXPECT_EQ(r.rc, 1) << curve << ": " << r.out;
    EXPECT_NE(r.out.find("CERT_CI_ECDSA_NIST.der exists"), std::string::npos) << r.out;
  }
  EXPECT_EQ(read_file(d.path / "CERT_CI_ECDSA_NIST.der"), ci);
  EXPECT_EQ(read_file(d.path / "SK_CI_ECDSA_NIST.pem"), ci_key);
  r = run(tool + " generate --out " + out + " --curve nist --days 2 --force");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(read_file(d.path / "CERT_CI_ECDSA_NIST.der"), ci);
  EXPECT_NE(read_file(d.path / "SK_CI_ECDSA_NIST.pem"), ci_key);
  // A bad --at is a usage error.
  r = run(tool + " verify-dp --ci " + out + "/CERT_CI_ECDSA_NIST.der --cert " + out +
          "/CERT_S_SM_DP_TLS_NIST.der --role tls --at yesterday");
  EXPECT_EQ(r.rc, 2) << r.out;
}

TEST(Tool, VerifiesSgp26) {
  REQUIRE_SGP26();
  auto p = [](const std::string& rel) { return (kSgp26 / rel).string(); };
  auto r = run(std::string(RSP_CERTS_TOOL) + " verify-euicc --ci " + p("CertificateIssuer/CERT_CI_ECDSA_NIST.der") +
               " --eum " + p("EUM/CERT_EUM_ECDSA_NIST.der") + " --euicc " + p("eUICC/CERT_EUICC_ECDSA_NIST.der") +
               " --at 2025-01-01");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("89049032123451234512345678901235"), std::string::npos);
}
