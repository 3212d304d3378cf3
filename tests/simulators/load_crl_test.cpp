// ES10b.LoadCRL (SGP.22 5.7.7, CRLs per 4.6) on the simulated eUICC: a CRL a
// trusted CI signed is kept (across restarts) and AuthenticateServer /
// PrepareDownload then refuse the CERT.DPauth / CERT.DPpb it revokes with
// invalidCertificate (5.7.13 / 5.7.14); a CRL that does not verify is
// answered with its LoadCRLResponseError. Before issue 8, LoadCRL always
// answered undefinedError and revoked certificates were accepted.
#include <LoadCRLResponse.h>
#include <PrepareDownloadResponse.h>

#include "fake_smdp.hpp"
#include "rsp/log.hpp"
#include "rsp/tlv.hpp"
#include "sim_test_util.hpp"

using namespace rsp;
using namespace rsp::sim;
using namespace rsp::sim::test;

namespace {

// LoadCRLRequest ::= [53] SEQUENCE { crl CertificateList }
Bytes load_crl_request(ByteView crl_der) { return tlv::make(0xBF35, crl_der); }

// 0 for loadCRLResponseOk, else the loadCRLResponseError value.
long load_crl(Euicc& card, ByteView crl_der) {
  Bytes resp = es10(card, load_crl_request(crl_der));
  auto r = RSP_ASN1_DECODE(LoadCRLResponse, resp);
  if (r->present == LoadCRLResponse_PR_loadCRLResponseOk) return 0;
  return static_cast<long>(asn1::to_int64(r->choice.loadCRLResponseError));
}

Bytes crl(const certs::Pki& p, std::vector<Bytes> revoked, std::uint64_t number = 1) {
  certs::CrlSpec spec;
  spec.revoked_serials = std::move(revoked);
  spec.this_update = std::time(nullptr) - 3600;
  spec.next_update = std::time(nullptr) + 86400;
  spec.crl_number = number;
  return certs::issue_crl(spec, p.ci.cert(), p.ci.key);
}

Bytes challenge(Euicc& card) {
  Bytes r = es10(card, from_hex("BF2E00"));
  return Bytes(r.end() - 16, r.end());
}

long auth_code(const Bytes& resp) {
  auto r = RSP_ASN1_DECODE(AuthenticateServerResponse, resp);
  if (r->present == AuthenticateServerResponse_PR_authenticateResponseOk) return 0;
  return static_cast<long>(asn1::to_int64(r->choice.authenticateResponseError.authenticateErrorCode));
}

long prepare_code(const Bytes& resp) {
  auto r = RSP_ASN1_DECODE(PrepareDownloadResponse, resp);
  if (r->present == PrepareDownloadResponse_PR_downloadResponseOk) return 0;
  return static_cast<long>(asn1::to_int64(r->choice.downloadResponseError.downloadErrorCode));
}

}  // namespace

TEST(LoadCrl, RevokedDpAuthIsRefusedInAuthenticateServerAndTheCrlIsKept) {
  log::set_level(log::Level::Error);
  const auto& p = pki();
  std::string state = temp_path("crl-state.json");
  {
    Euicc card(config_for(p, state));
    select_isdr(card);
    FakeSmdp dp(p);
    ASSERT_EQ(auth_code(es10(card, dp.authenticate_server(challenge(card)))), 0);  // before: accepted
    card.reset();
    select_isdr(card);
    EXPECT_EQ(load_crl(card, crl(p, {p.dp_auth.cert().serial})), 0);
    EXPECT_EQ(auth_code(es10(card, dp.authenticate_server(challenge(card)))), 1);  // invalidCertificate
  }
  // Persistent: a restarted eUICC still refuses it.
  Euicc card(config_for(p, state));
  select_isdr(card);
  FakeSmdp dp(p);
  EXPECT_EQ(auth_code(es10(card, dp.authenticate_server(challenge(card)))), 1);
}

TEST(LoadCrl, RevokedDpPbIsRefusedInPrepareDownload) {
  log::set_level(log::Level::Error);
  const auto& p = pki();
  Euicc card(config_for(p));
  select_isdr(card);
  ASSERT_EQ(load_crl(card, crl(p, {p.dp_pb.cert().serial})), 0);
  FakeSmdp dp(p);
  Bytes ok = es10(card, dp.authenticate_server(challenge(card)));
  ASSERT_EQ(auth_code(ok), 0);  // CERT.DPauth is not revoked
  dp.take_auth_response(ok);
  EXPECT_EQ(prepare_code(es10(card, dp.prepare_download())), 1);  // invalidCertificate
}

TEST(LoadCrl, CrlsThatDoNotVerifyAreRefusedWithTheirError) {
  log::set_level(log::Level::Error);
  const auto& p = pki();
  Euicc card(config_for(p));
  select_isdr(card);
  Bytes good = crl(p, {p.dp_auth.cert().serial}, 5);
  Bytes tampered = good;
  tampered[tampered.size() - 5] ^= 0x01;  // inside the signature
  EXPECT_EQ(load_crl(card, tampered), 1);                                 // invalidSignature
  EXPECT_EQ(load_crl(card, Bytes{0x30, 0x03, 0x02, 0x01, 0x00}), 2);      // invalidCRLFormat
  EXPECT_EQ(load_crl(card, crl(foreign_pki(), {p.dp_auth.cert().serial})), 4);  // verificationKeyNotFound
  FakeSmdp dp(p);
  EXPECT_EQ(auth_code(es10(card, dp.authenticate_server(challenge(card)))), 0);  // none of them was kept
  EXPECT_EQ(load_crl(card, good), 0);
  EXPECT_EQ(load_crl(card, crl(p, {}, 4)), 5);  // fresherCrlAlreadyLoaded
  card.reset();
  select_isdr(card);
  EXPECT_EQ(auth_code(es10(card, dp.authenticate_server(challenge(card)))), 1);
  // A fresher CRL that no longer lists it replaces the first.
  EXPECT_EQ(load_crl(card, crl(p, {}, 6)), 0);
  card.reset();
  select_isdr(card);
  EXPECT_EQ(auth_code(es10(card, dp.authenticate_server(challenge(card)))), 0);
}
