// SGP.22 PKI checks added for issue 8: EUM nameConstraints (fail closed,
// every permitted EID range), CRLs (SGP.22 4.6) with the SGP.26 CI's own key,
// and the SM-DP+'s start-up check of its own credentials.
#include <gtest/gtest.h>

#include <filesystem>

#include "rsp/certs.hpp"
#include "rsp/pki.hpp"
#include "certs_test_util.hpp"

using namespace rsp;
using namespace rsp::certs;
namespace fs = std::filesystem;
using Kind = ValidationError::Kind;

namespace {

using certs_test::expect_fail;
using certs_test::kSgp26;
using certs_test::utc;

const std::time_t k2025 = utc(2025, 1, 1);

bool have_sgp26() { return fs::exists(kSgp26 / "CertificateIssuer" / "SK_CI_ECDSA_NIST.pem"); }

// An EUM under a fresh CI with the given ranges (none: no nameConstraints),
// and an eUICC under it with `eid`.
struct Chain {
  Issued ci, eum;
  Bytes euicc;
  std::time_t now = std::time(nullptr);
  Chain(std::vector<std::string> ranges, const std::string& eid, const std::string& euicc_org = "RSP Test EUM") {
    auto key = [] { return crypto::EcKey::generate(crypto::Curve::P256); };
    auto base = [&](Role r, std::string subject) {
      CertSpec s;
      s.role = r;
      s.subject = std::move(subject);
      s.not_before = now - 3600;
      s.not_after = now + 3600;
      return s;
    };
    crypto::EcKey ci_key = key();
    ci = Issued{issue_certificate(base(Role::Ci, "CN=Test CI,O=RSP"), ci_key, ci_key, nullptr), std::move(ci_key)};
    CertSpec e = base(Role::Eum, "O=RSP Test EUM,CN=Test EUM");
    if (!ranges.empty()) {
      e.eum_organization = "RSP Test EUM";
      e.eid_prefix = ranges[0];
      e.more_eid_prefixes.assign(ranges.begin() + 1, ranges.end());
    }
    Certificate ci_cert = ci.cert();
    crypto::EcKey eum_key = key();
    eum = Issued{issue_certificate(e, eum_key, ci.key, &ci_cert), std::move(eum_key)};
    Certificate eum_cert = eum.cert();
    euicc = issue_certificate(base(Role::Euicc, "O=" + euicc_org + ",serialNumber=" + eid + ",CN=x"), key(), eum.key,
                              &eum_cert);
  }
  std::vector<Certificate> cis() const { return {ci.cert()}; }
};

struct Sgp26 {
  Certificate ci, eum, dp_auth;
  Bytes ci_der, eum_der, euicc_der, auth_der, pb_der;
  crypto::EcKey ci_key, auth_key;
  Sgp26()
      : ci_key(crypto::EcKey::from_pem_or_der(read_file(kSgp26 / "CertificateIssuer" / "SK_CI_ECDSA_NIST.pem"))),
        auth_key(crypto::EcKey::from_pem_or_der(read_file(kSgp26 / "DPauth" / "SK_S_SM_DPauth_ECDSA_NIST.pem"))) {
    ci_der = read_file(kSgp26 / "CertificateIssuer" / "CERT_CI_ECDSA_NIST.der");
    eum_der = read_file(kSgp26 / "EUM" / "CERT_EUM_ECDSA_NIST.der");
    euicc_der = read_file(kSgp26 / "eUICC" / "CERT_EUICC_ECDSA_NIST.der");
    auth_der = read_file(kSgp26 / "DPauth" / "CERT_S_SM_DPauth_ECDSA_NIST.der");
    pb_der = read_file(kSgp26 / "DPpb" / "CERT_S_SM_DPpb_ECDSA_NIST.der");
    ci = parse(ci_der);
    eum = parse(eum_der);
    dp_auth = parse(auth_der);
  }
  Bytes crl(std::vector<Bytes> serials, std::uint64_t number = 1) const {
    CrlSpec s;
    s.revoked_serials = std::move(serials);
    s.this_update = utc(2024, 12, 1);
    s.next_update = utc(2025, 6, 1);
    s.crl_number = number;
    return issue_crl(s, ci, ci_key);
  }
};

}  // namespace

// ---------------------------------------------------------------- nameConstraints

TEST(NameConstraints, EumWithoutConstraintsVouchesForNoEid) {
  Chain c({}, "89049032123451234512345678901235");
  EXPECT_FALSE(c.eum.cert().has_name_constraints);
  auto e = expect_fail([&] { verify_euicc_chain(c.euicc, c.eum.der, c.cis(), c.now); });
  EXPECT_EQ(e.kind, Kind::EidOutsideConstraint);
  EXPECT_EQ(e.which, Role::Eum);
  // Only with the explicit legacy switch.
  ChainOptions legacy;
  legacy.allow_eum_without_name_constraints = true;
  EXPECT_NO_THROW(verify_euicc_chain(c.euicc, c.eum.der, c.cis(), c.now, legacy));
}

TEST(NameConstraints, EveryPermittedRangeIsHonoured) {
  for (const std::string eid : {"89049032123451234512345678901235", "89044045000000000000000000000001",
                                "89033023999999999999999999999999"}) {
    SCOPED_TRACE(eid);
    Chain c({"89049032", "89044045", "8903302"}, eid);
    EXPECT_EQ(c.eum.cert().permitted_names.size(), 3u);
    EXPECT_NO_THROW(verify_euicc_chain(c.euicc, c.eum.der, c.cis(), c.now));
  }
  Chain outside({"89049032", "89044045"}, "89049033123451234512345678901235");
  auto e = expect_fail([&] { verify_euicc_chain(outside.euicc, outside.eum.der, outside.cis(), outside.now); });
  EXPECT_EQ(e.kind, Kind::EidOutsideConstraint);
  EXPECT_EQ(e.which, Role::Euicc);
  // The range's O binds too: right EID prefix, another O.
  Chain other_o({"89049032", "89044045"}, "89044045000000000000000000000001", "Other EUM");
  e = expect_fail([&] { verify_euicc_chain(other_o.euicc, other_o.eum.der, other_o.cis(), other_o.now); });
  EXPECT_EQ(e.kind, Kind::EidOutsideConstraint);
}

// ---------------------------------------------------------------- CRLs (SGP.22 4.6)

TEST(Crl, IssuedBySgp26CiParsesAndVerifies) {
  if (!have_sgp26()) GTEST_SKIP() << "no SGP.26 material at " << kSgp26;
  Sgp26 t;
  Bytes der = t.crl({t.eum.serial, t.dp_auth.serial}, 7);
  Crl crl = parse_crl(der);
  EXPECT_EQ(crl.issuer_dn, t.ci.subject_dn);
  EXPECT_EQ(crl.authority_key_id, t.ci.subject_key_id);
  EXPECT_EQ(crl.this_update, utc(2024, 12, 1));
  EXPECT_EQ(crl.next_update, utc(2025, 6, 1));
  EXPECT_EQ(to_hex(crl.crl_number), "07");
  ASSERT_EQ(crl.revoked_serials.size(), 2u);
  EXPECT_NO_THROW(verify_crl(crl, t.ci, k2025));
  // PEM as well.
  EXPECT_EQ(parse_crl(to_bytes(to_pem(der, "X509 CRL"))).der, der);
  // Outside thisUpdate..nextUpdate.
  EXPECT_EQ(expect_fail([&] { verify_crl(crl, t.ci, utc(2025, 7, 1)); }).kind, Kind::Expired);
  EXPECT_EQ(expect_fail([&] { verify_crl(crl, t.ci, utc(2024, 11, 1)); }).kind, Kind::Expired);
  // A flipped signature byte, and another issuer.
  Bytes bad = der;
  bad.back() ^= 0x01;
  EXPECT_EQ(expect_fail([&] { verify_crl(parse_crl(bad), t.ci, k2025); }).kind, Kind::BadSignature);
  EXPECT_EQ(expect_fail([&] { verify_crl(crl, t.eum, k2025); }).kind, Kind::BadSignature);
  // Garbage and trailing bytes are DecodeErrors.
  EXPECT_THROW(parse_crl(from_hex("300100")), DecodeError);
  Bytes trailing = der;
  trailing.push_back(0);
  EXPECT_THROW(parse_crl(trailing), DecodeError);
}

TEST(Crl, RevokedEumAndDpCertificatesAreRefused) {
  if (!have_sgp26()) GTEST_SKIP() << "no SGP.26 material at " << kSgp26;
  Sgp26 t;
  std::vector<Certificate> cis{t.ci};
  CrlSet empty;
  ChainOptions opt;
  opt.crls = &empty;
  EXPECT_NO_THROW(verify_euicc_chain(t.euicc_der, t.eum_der, cis, k2025, opt));
  EXPECT_NO_THROW(verify_dp_cert(t.auth_der, Role::DpAuth, cis, k2025, opt));

  CrlSet crls;
  crls.add(t.crl({t.eum.serial, t.dp_auth.serial}), cis, k2025);
  EXPECT_EQ(crls.size(), 1u);
  opt.crls = &crls;
  auto e = expect_fail([&] { verify_euicc_chain(t.euicc_der, t.eum_der, cis, k2025, opt); });
  EXPECT_EQ(e.kind, Kind::Revoked);
  EXPECT_EQ(e.which, Role::Eum);
  e = expect_fail([&] { verify_dp_cert(t.auth_der, Role::DpAuth, cis, k2025, opt); });
  EXPECT_EQ(e.kind, Kind::Revoked);
  EXPECT_EQ(e.which, Role::DpAuth);
  EXPECT_NO_THROW(verify_dp_cert(t.pb_der, Role::DpPb, cis, k2025, opt));  // not listed

  // A newer CRL (higher cRLNumber) replaces it; an older one is refused.
  crls.add(t.crl({t.dp_auth.serial}, 2), cis, k2025);
  EXPECT_EQ(crls.size(), 1u);
  EXPECT_NO_THROW(verify_euicc_chain(t.euicc_der, t.eum_der, cis, k2025, opt));  // EUM no longer listed
  EXPECT_EQ(expect_fail([&] { crls.add(t.crl({}, 1), cis, k2025); }).kind, Kind::Expired);
  EXPECT_TRUE(crls.revoked(t.dp_auth));
}

TEST(Crl, OnlyATrustedIssuersVerifiedCrlIsLoaded) {
  if (!have_sgp26()) GTEST_SKIP() << "no SGP.26 material at " << kSgp26;
  Sgp26 t;
  CrlSet crls;
  // Signed with another key under the same name: refused, nothing loaded.
  CrlSpec s;
  s.revoked_serials = {t.eum.serial};
  s.this_update = utc(2024, 12, 1);
  Bytes forged = issue_crl(s, t.ci, crypto::EcKey::generate(crypto::Curve::P256));
  EXPECT_EQ(expect_fail([&] { crls.add(forged, {t.ci}, k2025); }).kind, Kind::BadSignature);
  // A CI we do not trust.
  Bytes good = t.crl({t.eum.serial});
  EXPECT_EQ(expect_fail([&] { crls.add(good, {t.eum}, k2025); }).kind, Kind::UnknownCi);
  EXPECT_EQ(expect_fail([&] { crls.add(from_hex("3000"), {t.ci}, k2025); }).kind, Kind::Malformed);
  EXPECT_EQ(crls.size(), 0u);
  EXPECT_FALSE(crls.revoked(t.eum));
}

// ---------------------------------------------------------------- own credentials

TEST(OwnCredential, Sgp26DpAuthWithItsKey) {
  if (!have_sgp26()) GTEST_SKIP() << "no SGP.26 material at " << kSgp26;
  Sgp26 t;
  std::vector<Certificate> cis{t.ci};
  Certificate c = check_own_credential(t.auth_der, t.auth_key, Role::DpAuth, cis, k2025);
  EXPECT_EQ(c.der, t.auth_der);
  // Another key.
  auto e = expect_fail([&] {
    check_own_credential(t.auth_der, crypto::EcKey::generate(crypto::Curve::P256), Role::DpAuth, cis, k2025);
  });
  EXPECT_EQ(e.kind, Kind::KeyMismatch);
  EXPECT_NE(std::string(e.what()).find("private key"), std::string::npos);
  // The DPpb key for the DPauth certificate.
  auto pb_key = crypto::EcKey::from_pem_or_der(read_file(kSgp26 / "DPpb" / "SK_S_SM_DPpb_ECDSA_NIST.pem"));
  EXPECT_EQ(expect_fail([&] { check_own_credential(t.auth_der, pb_key, Role::DpAuth, cis, k2025); }).kind,
            Kind::KeyMismatch);
  // Wrong role, expired, no CI, revoked.
  EXPECT_EQ(expect_fail([&] { check_own_credential(t.auth_der, t.auth_key, Role::DpPb, cis, k2025); }).kind,
            Kind::WrongRole);
  EXPECT_EQ(expect_fail([&] { check_own_credential(t.auth_der, t.auth_key, Role::DpAuth, cis, utc(2031, 1, 1)); })
                .kind,
            Kind::Expired);
  EXPECT_EQ(expect_fail([&] { check_own_credential(t.auth_der, t.auth_key, Role::DpAuth, {}, k2025); }).kind,
            Kind::UnknownCi);
  CrlSet crls;
  crls.add(t.crl({t.dp_auth.serial}), cis, k2025);
  ChainOptions opt;
  opt.crls = &crls;
  EXPECT_EQ(expect_fail([&] { check_own_credential(t.auth_der, t.auth_key, Role::DpAuth, cis, k2025, opt); }).kind,
            Kind::Revoked);
}

TEST(OwnCredential, CiCertificatesAreChecked) {
  if (!have_sgp26()) GTEST_SKIP() << "no SGP.26 material at " << kSgp26;
  Sgp26 t;
  EXPECT_NO_THROW(check_ci_certificate(t.ci, k2025));
  EXPECT_EQ(expect_fail([&] { check_ci_certificate(t.eum, k2025); }).kind, Kind::WrongRole);
  Bytes bad = t.ci_der;
  bad.back() ^= 0x01;
  EXPECT_EQ(expect_fail([&] { check_ci_certificate(parse(bad), k2025); }).kind, Kind::BadSignature);
  // A broken CI in the trust list stops the start-up check too.
  EXPECT_EQ(expect_fail([&] {
              check_own_credential(t.auth_der, t.auth_key, Role::DpAuth, {t.ci, parse(bad)}, k2025);
            }).kind,
            Kind::BadSignature);
}
