// The simulated eUICC with the GSMA SGP.26 test PKI (skipped when the
// material is absent): the SGP.26 eUICC identity, CERT.DPauth / CERT.DPpb as
// test SM-DP+ present them, on NIST P-256 and brainpoolP256r1.
#include <LoadCRLResponse.h>

#include "fake_smdp.hpp"
#include "rsp/log.hpp"
#include "rsp/tlv.hpp"
#include "sim_test_util.hpp"

using namespace rsp;
using namespace rsp::sim;
using namespace rsp::sim::test;

namespace {

std::string dir() { return std::string(RSP_SHARED_TESTDATA) + "/sgp26"; }

std::optional<certs::Pki> load_sgp26(const std::string& sfx) {
  auto ld = [&](const std::string& cert, const std::string& key) {
    return certs::load_issued(dir() + "/" + cert, dir() + "/" + key);
  };
  auto ci = ld("CertificateIssuer/CERT_CI_ECDSA_" + sfx + ".der", "CertificateIssuer/SK_CI_ECDSA_" + sfx + ".pem");
  auto eum = ld("EUM/CERT_EUM_ECDSA_" + sfx + ".der", "EUM/SK_EUM_ECDSA_" + sfx + ".pem");
  auto euicc = ld("eUICC/CERT_EUICC_ECDSA_" + sfx + ".der", "eUICC/SK_EUICC_ECDSA_" + sfx + ".pem");
  auto auth = ld("DPauth/CERT_S_SM_DPauth_ECDSA_" + sfx + ".der", "DPauth/SK_S_SM_DPauth_ECDSA_" + sfx + ".pem");
  auto pb = ld("DPpb/CERT_S_SM_DPpb_ECDSA_" + sfx + ".der", "DPpb/SK_S_SM_DPpb_ECDSA_" + sfx + ".pem");
  if (!ci || !eum || !euicc || !auth || !pb) return std::nullopt;
  certs::Pki p;
  p.curve = sfx == "NIST" ? crypto::Curve::P256 : crypto::Curve::BrainpoolP256r1;
  p.ci = std::move(*ci);
  p.eum = std::move(*eum);
  p.euicc = std::move(*euicc);
  p.dp_auth = std::move(*auth);
  p.dp_pb = std::move(*pb);
  return p;
}

class Sgp26 : public ::testing::TestWithParam<std::string> {};

TEST_P(Sgp26, AuthenticateAndPrepare) {
  log::set_level(log::Level::Error);
  auto p = load_sgp26(GetParam());
  if (!p) GTEST_SKIP() << "SGP.26 material not found in " << dir();
  auto cfg = config_for(*p);
  std::time_t valid_at = p->dp_auth.cert().not_before + 86400;
  cfg.now = [valid_at] { return valid_at; };
  Euicc card(std::move(cfg));
  EXPECT_EQ(card.eid_hex(), "89049032123451234512345678901235");
  select_isdr(card);

  auto challenge = [&] {
    Bytes r = es10(card, from_hex("BF2E00"));
    return Bytes(r.end() - 16, r.end());
  };
  auto auth_code = [&](const Bytes& resp) -> long {
    auto r = RSP_ASN1_DECODE(AuthenticateServerResponse, resp);
    if (r->present == AuthenticateServerResponse_PR_authenticateResponseOk) return 0;
    return static_cast<long>(asn1::to_int64(r->choice.authenticateResponseError.authenticateErrorCode));
  };

  FakeSmdp dp(*p);
  // Tampered serverSignature1.
  FakeSmdp::AuthOptions bad;
  bad.tamper_signature = true;
  EXPECT_EQ(auth_code(es10(card, dp.authenticate_server(challenge(), bad))), 2);
  // Wrong challenge.
  challenge();
  EXPECT_EQ(auth_code(es10(card, dp.authenticate_server(crypto::random_bytes(16)))), 6);
  // DPauth of the other curve's CI.
  auto other = load_sgp26(GetParam() == "NIST" ? "BRP" : "NIST");
  if (other) {
    FakeSmdp::AuthOptions o;
    o.dp_auth_der = &other->dp_auth.der;
    o.dp_auth_key = &other->dp_auth.key;
    long code = auth_code(es10(card, dp.authenticate_server(challenge(), o)));
    EXPECT_TRUE(code == 7 || code == 1) << code;
  }
  // The real thing.
  Bytes ok = es10(card, dp.authenticate_server(challenge()));
  ASSERT_EQ(auth_code(ok), 0);
  dp.take_auth_response(ok);
  EXPECT_TRUE(dp.take_prepare_response(es10(card, dp.prepare_download())));
}

// ES10b.LoadCRL with a CRL the SGP.26 CI signs (issue 8): the SGP.26
// CERT.DPauth it revokes is refused in AuthenticateServer (invalidCertificate).
TEST_P(Sgp26, LoadCrlFromTheSgp26CiRevokesItsDpAuth) {
  log::set_level(log::Level::Error);
  auto p = load_sgp26(GetParam());
  if (!p) GTEST_SKIP() << "SGP.26 material not found in " << dir();
  auto cfg = config_for(*p);
  std::time_t valid_at = p->dp_auth.cert().not_before + 86400;
  cfg.now = [valid_at] { return valid_at; };
  Euicc card(std::move(cfg));
  select_isdr(card);
  certs::CrlSpec spec;
  spec.revoked_serials = {p->dp_auth.cert().serial};
  spec.this_update = valid_at - 3600;
  spec.next_update = valid_at + 86400;
  Bytes crl = certs::issue_crl(spec, p->ci.cert(), p->ci.key);
  auto lr = RSP_ASN1_DECODE(LoadCRLResponse, es10(card, tlv::make(0xBF35, crl)));
  EXPECT_EQ(lr->present, LoadCRLResponse_PR_loadCRLResponseOk);
  Bytes r = es10(card, from_hex("BF2E00"));
  FakeSmdp dp(*p);
  auto ar = RSP_ASN1_DECODE(AuthenticateServerResponse, es10(card, dp.authenticate_server(Bytes(r.end() - 16, r.end()))));
  ASSERT_EQ(ar->present, AuthenticateServerResponse_PR_authenticateResponseError);
  EXPECT_EQ(asn1::to_int64(ar->choice.authenticateResponseError.authenticateErrorCode), 1);
}

INSTANTIATE_TEST_SUITE_P(Curves, Sgp26, ::testing::Values("NIST", "BRP"));

}  // namespace
