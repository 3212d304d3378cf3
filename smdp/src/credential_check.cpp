#include "rsp/smdp/credential_check.hpp"

#include <stdexcept>
#include <string>

#include "rsp/pki.hpp"

namespace rsp::smdp {

namespace {

certs::Certificate parse_named(ByteView der_or_pem, const std::string& what) {
  try {
    return certs::parse(certs::der_from_pem_or_der(der_or_pem));
  } catch (const std::exception& e) {
    throw std::runtime_error(what + " is not a valid certificate: " + e.what());
  }
}

// The credential sets' CIs, then the TLS CI if configured.
std::vector<certs::Certificate> all_cis(const Config& config) {
  std::vector<certs::Certificate> out;
  for (std::size_t i = 0; i < config.credentials.size(); ++i)
    out.push_back(parse_named(config.credentials[i].ci_certificate,
                              "credentials[" + std::to_string(i) + "].ci_certificate (CERT.CI)"));
  if (!config.tls_ci_certificate.empty())
    out.push_back(parse_named(config.tls_ci_certificate, "tls.ci_certificate (the TLS CI)"));
  return out;
}

// `in_token`: the key is in a PKCS#11 token (token_keys.cpp): its loader has
// already proved it is the certificate's key by a signature, so only the
// certificate is checked here.
void check_one(const std::string& what, ByteView cert, const std::string& key_pem_or_der, bool in_token,
               certs::Role role, const std::vector<certs::Certificate>& anchors, std::time_t now,
               const certs::ChainOptions& opt) {
  crypto::EcKey key;
  if (!in_token) {
    try {
      key = crypto::EcKey::from_pem_or_der(to_bytes(key_pem_or_der));
    } catch (const std::exception& e) {
      throw std::runtime_error(what + ": the private key is not a valid EC key");
    }
  }
  try {
    if (in_token)
      certs::check_own_certificate(certs::der_from_pem_or_der(cert), role, anchors, now, opt);
    else
      certs::check_own_credential(certs::der_from_pem_or_der(cert), key, role, anchors, now, opt);
  } catch (const certs::ValidationError& e) {
    throw std::runtime_error(what + " (CERT." + std::string(certs::role_name(role)) + ") is not usable: " + e.what());
  } catch (const DecodeError& e) {
    throw std::runtime_error(what + " (CERT." + std::string(certs::role_name(role)) +
                             ") is not a valid certificate: " + e.what());
  }
}

}  // namespace

certs::CrlSet load_crls(const Config& config, std::time_t now) {
  certs::CrlSet set;
  if (config.crls.empty()) return set;
  auto cis = all_cis(config);
  for (const auto& crl : config.crls) {
    try {
      set.add(certs::der_from_pem_or_der(crl.der), cis, now);
    } catch (const certs::ValidationError& e) {
      throw std::runtime_error(crl.name + ": CRL refused: " + e.what());
    } catch (const DecodeError& e) {
      throw std::runtime_error(crl.name + ": not a valid CRL: " + e.what());
    }
  }
  return set;
}

void check_own_credentials(const Config& config, const certs::CrlSet& crls, std::time_t now) {
  certs::ChainOptions opt;
  opt.crls = &crls;
  auto cis = all_cis(config);
  for (std::size_t i = 0; i < config.credentials.size(); ++i) {
    const auto& s = config.credentials[i];
    std::string at = "credentials[" + std::to_string(i) + "]";
    std::vector<certs::Certificate> ci = {cis[i]};
    check_one(at + ".dpauth_certificate", s.dpauth_certificate, s.dpauth_key_pem, s.dpauth_signer != nullptr,
              certs::Role::DpAuth, ci, now, opt);
    check_one(at + ".dppb_certificate", s.dppb_certificate, s.dppb_key_pem, s.dppb_signer != nullptr, certs::Role::DpPb,
              ci, now, opt);
  }
  if (!config.tls_certificate.empty()) {
    std::vector<certs::Certificate> tls_anchors = config.tls_ci_certificate.empty()
                                                      ? std::vector<certs::Certificate>(cis.begin(), cis.end())
                                                      : std::vector<certs::Certificate>{cis.back()};
    check_one("tls.certificate", config.tls_certificate, to_string(config.tls_key), config.tls_signer != nullptr,
              certs::Role::DpTls, tls_anchors, now, opt);
  }
}

}  // namespace rsp::smdp
