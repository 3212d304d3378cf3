// ES10b.LoadCRL (SGP.22 5.7.7; CRLs per 4.6): the eUICC verifies a CRL with
// a CI it trusts and keeps it; AuthenticateServer and PrepareDownload then
// refuse the CERT.DPauth / CERT.DPpb it revokes (invalidCertificate, as any
// certificate that fails verification, 5.7.13 / 5.7.14).
#include <LoadCRLRequest.h>
#include <LoadCRLResponse.h>

#include "asn1_util.hpp"
#include "rsp/log.hpp"
#include "rsp/tlv.hpp"

namespace rsp::sim {

namespace {
constexpr const char* kLog = "euicc.crl";
// LoadCRLResponseError values (SGP.22 5.7.7).
enum CrlErr { kInvalidSignature = 1, kInvalidCrlFormat = 2, kVerificationKeyNotFound = 4, kFresherCrlAlreadyLoaded = 5,
              kUndefinedError = 127 };
}  // namespace

void Euicc::Impl::restore_crls() {
  // Each stored CRL was verified when it was loaded; one no longer current
  // (past its nextUpdate by this eUICC's clock) is dropped.
  std::vector<Bytes> kept;
  for (const auto& der : state.crls) {
    try {
      crls.add(der, cis, now());
      kept.push_back(der);
    } catch (const std::exception& e) {
      log::info(kLog, std::string("stored CRL dropped: ") + e.what());
    }
  }
  state.crls = std::move(kept);
}

certs::ChainOptions Euicc::Impl::chain_options() const {
  certs::ChainOptions opt;
  opt.crls = &crls;
  return opt;
}

Bytes Euicc::Impl::load_crl(ByteView request) {
  auto answer = [&](std::optional<int> error) {
    auto r = RSP_ASN1_MAKE(LoadCRLResponse);
    if (error) {
      log::info(kLog, "LoadCRL failed with loadCRLResponseError " + std::to_string(*error));
      r->present = LoadCRLResponse_PR_loadCRLResponseError;
      asn1::set_int64(r->choice.loadCRLResponseError, *error);
    } else {
      r->present = LoadCRLResponse_PR_loadCRLResponseOk;  // complete CRL: no missingParts
    }
    return r.encode_der();
  };
  // LoadCRLRequest ::= [53] SEQUENCE { crl CertificateList }: the CRL as received.
  Bytes crl_der;
  certs::Crl crl;
  try {
    auto outer = tlv::parse_one(request);
    auto parts = tlv::parse_all(outer.value);
    if (parts.size() != 1) return answer(kInvalidCrlFormat);
    crl_der.assign(parts[0].raw.begin(), parts[0].raw.end());
    crl = certs::parse_crl(crl_der);
  } catch (const DecodeError& e) {
    log::info(kLog, std::string("CRL does not parse: ") + e.what());
    return answer(kInvalidCrlFormat);
  }
  const certs::Certificate* issuer = nullptr;
  for (const auto& c : cis)
    if (!crl.authority_key_id.empty() && c.subject_key_id == crl.authority_key_id) issuer = &c;
  if (!issuer) return answer(kVerificationKeyNotFound);
  try {
    certs::verify_crl(crl, *issuer, now());
  } catch (const certs::ValidationError& e) {
    log::info(kLog, std::string("CRL refused: ") + e.what());
    return answer(e.kind == certs::ValidationError::Kind::BadSignature ? kInvalidSignature : kUndefinedError);
  }
  try {
    crls.add(crl_der, cis, now());  // verified above: it fails only if a fresher one is loaded
  } catch (const certs::ValidationError& e) {
    log::info(kLog, std::string("CRL refused: ") + e.what());
    return answer(kFresherCrlAlreadyLoaded);
  }
  // Keep it, replacing the stored CRL of the same issuer.
  std::erase_if(state.crls, [&](const Bytes& der) {
    try {
      return certs::parse_crl(der).issuer_dn == crl.issuer_dn;
    } catch (const DecodeError&) {
      return true;
    }
  });
  state.crls.push_back(crl_der);
  save();
  log::info(kLog, "CRL of '" + crl.issuer + "' loaded, " + std::to_string(crl.revoked_serials.size()) + " revoked");
  return answer(std::nullopt);
}

}  // namespace rsp::sim
