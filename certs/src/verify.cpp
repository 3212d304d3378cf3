// SGP.22 chain checks: the SM-DP+ verifying CERT.EUICC/CERT.EUM
// (ES9+.AuthenticateClient, 5.6.1 / 3.1.3) and the eUICC verifying
// CERT.DPauth / CERT.DPpb (ES10b.AuthenticateServer 5.7.13, PrepareDownload
// 5.7.5), per the certificate profiles of 4.5.2.
#include <algorithm>

#include "rsp/certs.hpp"

namespace rsp::certs {

namespace {

using Kind = ValidationError::Kind;

[[noreturn]] void fail(Kind k, Role r, const std::string& msg) {
  throw ValidationError(k, r, std::string(role_name(r)) + " certificate: " + msg);
}

Certificate parse_as(ByteView der, Role r) {
  try {
    return parse(der);
  } catch (const DecodeError& e) {
    fail(Kind::Malformed, r, e.what());
  } catch (const crypto::CryptoError& e) {
    fail(Kind::Malformed, r, e.what());
  }
}

bool all_digits(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

std::string hex_or_none(const Bytes& b) { return b.empty() ? std::string("(none)") : to_hex(b, true); }

}  // namespace

void check_role(const Certificate& c, Role role) {
  const char* want = role_policy_oid(role);
  if (!c.has_policy(want)) fail(Kind::WrongRole, role, std::string("certificatePolicies lack ") + want);
  // A certificate carrying another role's policy as well is not for this role alone.
  for (Role other : {Role::Ci, Role::Eum, Role::Euicc, Role::DpTls, Role::DpAuth, Role::DpPb})
    if (other != role && c.has_policy(role_policy_oid(other)))
      fail(Kind::WrongRole, role, std::string("also carries the ") + std::string(role_name(other)) + " policy");
  if (!c.has_key_usage) fail(Kind::WrongRole, role, "no keyUsage extension");
  bool ca_role = role == Role::Ci || role == Role::Eum;
  if (ca_role) {
    if (!(c.key_usage & ku::kKeyCertSign)) fail(Kind::WrongRole, role, "keyUsage lacks keyCertSign");
    if (!c.is_ca) fail(Kind::WrongRole, role, "basicConstraints cA is not set");
  } else {
    if (!(c.key_usage & ku::kDigitalSignature)) fail(Kind::WrongRole, role, "keyUsage lacks digitalSignature");
    if (c.key_usage & (ku::kKeyCertSign | ku::kCrlSign)) fail(Kind::WrongRole, role, "end-entity key may sign certificates");
    if (c.is_ca) fail(Kind::WrongRole, role, "end-entity certificate has cA set");
  }
  if (role == Role::DpTls && !c.server_auth) fail(Kind::WrongRole, role, "extendedKeyUsage lacks serverAuth");
}

void check_signed_by(const Certificate& child, const Certificate& parent, Role which) {
  if (child.authority_key_id.empty() || child.authority_key_id != parent.subject_key_id)
    fail(Kind::BadSignature, which,
         "authorityKeyIdentifier " + hex_or_none(child.authority_key_id) + " is not the issuer's subjectKeyIdentifier " +
             hex_or_none(parent.subject_key_id));
  if (child.issuer_dn != parent.subject_dn)
    fail(Kind::BadSignature, which, "issuer '" + child.issuer + "' is not the subject '" + parent.subject + "'");
  bool ok = false;
  try {
    ok = parent.public_key().verify(child.tbs, child.signature_raw);
  } catch (const crypto::CryptoError& e) {
    fail(Kind::Malformed, which, std::string("issuer key: ") + e.what());
  }
  if (!ok) fail(Kind::BadSignature, which, "signature does not verify with the key of '" + parent.subject + "'");
}

void check_validity(const Certificate& c, std::time_t now, Role which) {
  if (now < c.not_before) fail(Kind::Expired, which, "not yet valid");
  if (now > c.not_after) fail(Kind::Expired, which, "expired");
}

const Certificate* find_issuer(const Certificate& c, const std::vector<Certificate>& trusted_cis) {
  if (c.authority_key_id.empty()) return nullptr;
  for (auto& ci : trusted_cis)
    if (ci.subject_key_id == c.authority_key_id) return &ci;
  return nullptr;
}

Certificate verify_euicc_chain(ByteView euicc_der, ByteView eum_der, const std::vector<Certificate>& trusted_cis,
                               std::time_t now, const ChainOptions& opt) {
  Certificate eum = parse_as(eum_der, Role::Eum);
  Certificate euicc = parse_as(euicc_der, Role::Euicc);

  // CERT.EUM: issued by one of our CIs (found by its AKI), signed by it, valid, an EUM.
  const Certificate* ci = find_issuer(eum, trusted_cis);
  if (!ci) fail(Kind::UnknownCi, Role::Eum, "issued by CI key id " + hex_or_none(eum.authority_key_id) + ", which is not trusted");
  check_signed_by(eum, *ci, Role::Eum);
  check_role(eum, Role::Eum);
  check_validity(eum, now, Role::Eum);

  // CERT.EUICC: signed by the EUM, valid, an eUICC.
  check_signed_by(euicc, eum, Role::Euicc);
  check_role(euicc, Role::Euicc);
  check_validity(euicc, now, Role::Euicc);

  // The EID (subject serialNumber) inside one of the EUM's permitted ranges
  // (SGP.22 4.5.2.1.0.2): a directoryName subtree whose serialNumber is a
  // prefix of the EID and whose O, when given, is the eUICC's O. An EUM with
  // no range vouches for no EID unless the legacy switch says otherwise.
  const std::string& eid = euicc.subject_serial_number;
  if (eid.size() != 32 || !all_digits(eid))
    fail(Kind::EidOutsideConstraint, Role::Euicc, "subject serialNumber '" + eid + "' is not a 32-digit EID");
  bool has_range = false, inside = false;
  for (const auto& pn : eum.permitted_names) {
    if (!pn.eid_prefix) continue;
    has_range = true;
    if (eid.rfind(*pn.eid_prefix, 0) == 0 && (!pn.organization || *pn.organization == euicc.subject_organization))
      inside = true;
  }
  if (!has_range && !opt.allow_eum_without_name_constraints)
    fail(Kind::EidOutsideConstraint, Role::Eum,
         "no nameConstraints with an EID range (serialNumber): it vouches for no EID");
  if (has_range && !inside) {
    std::string ranges;
    for (const auto& pn : eum.permitted_names)
      if (pn.eid_prefix)
        ranges += (ranges.empty() ? "" : ", ") + *pn.eid_prefix + (pn.organization ? " (O=" + *pn.organization + ")" : "");
    fail(Kind::EidOutsideConstraint, Role::Euicc,
         "EID " + eid + " with O '" + euicc.subject_organization + "' is in none of the EUM's ranges: " + ranges);
  }
  if (opt.crls) {
    if (opt.crls->revoked(eum)) fail(Kind::Revoked, Role::Eum, "serial " + to_hex(eum.serial, true) + " is revoked");
    if (opt.crls->revoked(euicc))
      fail(Kind::Revoked, Role::Euicc, "serial " + to_hex(euicc.serial, true) + " is revoked");
  }
  return euicc;
}

Certificate verify_dp_cert(ByteView der, Role role, const std::vector<Certificate>& trusted_cis, std::time_t now,
                           const ChainOptions& opt) {
  Certificate c = parse_as(der, role);
  const Certificate* ci = find_issuer(c, trusted_cis);
  if (!ci) fail(Kind::UnknownCi, role, "issued by CI key id " + hex_or_none(c.authority_key_id) + ", which is not trusted");
  check_signed_by(c, *ci, role);
  check_role(c, role);
  check_validity(c, now, role);
  if (opt.crls && opt.crls->revoked(c)) fail(Kind::Revoked, role, "serial " + to_hex(c.serial, true) + " is revoked");
  return c;
}

// ---------------------------------------------------------------- CRLs (SGP.22 4.6)

void verify_crl(const Crl& crl, const Certificate& issuer, std::time_t now) {
  if (crl.issuer_dn != issuer.subject_dn)
    fail(Kind::BadSignature, Role::Ci, "CRL issuer '" + crl.issuer + "' is not '" + issuer.subject + "'");
  if (crl.authority_key_id.empty() || crl.authority_key_id != issuer.subject_key_id)
    fail(Kind::BadSignature, Role::Ci,
         "CRL authorityKeyIdentifier " + hex_or_none(crl.authority_key_id) + " is not the issuer's " +
             hex_or_none(issuer.subject_key_id));
  if (!issuer.is_ca || !(issuer.key_usage & ku::kCrlSign))
    fail(Kind::WrongRole, Role::Ci, "CRL issuer '" + issuer.subject + "' may not sign CRLs (cA, keyUsage cRLSign)");
  bool ok = false;
  try {
    ok = issuer.public_key().verify(crl.tbs, crl.signature_raw);
  } catch (const crypto::CryptoError& e) {
    fail(Kind::Malformed, Role::Ci, std::string("CRL issuer key: ") + e.what());
  }
  if (!ok) fail(Kind::BadSignature, Role::Ci, "CRL signature does not verify with the key of '" + issuer.subject + "'");
  if (now < crl.this_update) fail(Kind::Expired, Role::Ci, "CRL not yet valid (thisUpdate in the future)");
  if (crl.next_update != 0 && now > crl.next_update) fail(Kind::Expired, Role::Ci, "CRL outdated (nextUpdate passed)");
}

const Crl& CrlSet::add(ByteView crl_der, const std::vector<Certificate>& issuers, std::time_t now) {
  Crl crl;
  try {
    crl = parse_crl(crl_der);
  } catch (const DecodeError& e) {
    fail(Kind::Malformed, Role::Ci, e.what());
  }
  const Certificate* issuer = nullptr;
  for (const auto& c : issuers)
    if (!crl.authority_key_id.empty() && c.subject_key_id == crl.authority_key_id) issuer = &c;
  if (!issuer) fail(Kind::UnknownCi, Role::Ci, "CRL issued by key id " + hex_or_none(crl.authority_key_id) + ", which is not trusted");
  verify_crl(crl, *issuer, now);
  auto newer = [](const Crl& a, const Crl& b) {  // is a newer than b?
    if (!a.crl_number.empty() && !b.crl_number.empty()) {
      Bytes x = a.crl_number, y = b.crl_number;
      while (x.size() > 1 && x[0] == 0) x.erase(x.begin());
      while (y.size() > 1 && y[0] == 0) y.erase(y.begin());
      return x.size() != y.size() ? x.size() > y.size() : x > y;
    }
    return a.this_update > b.this_update;
  };
  for (auto& have : crls_) {
    if (have.issuer_dn != crl.issuer_dn || have.authority_key_id != crl.authority_key_id) continue;
    if (!newer(crl, have)) fail(Kind::Expired, Role::Ci, "a fresher CRL of '" + crl.issuer + "' is already loaded");
    have = std::move(crl);
    return have;
  }
  crls_.push_back(std::move(crl));
  return crls_.back();
}

bool CrlSet::revoked(const Certificate& c) const {
  auto norm = [](ByteView s) {  // INTEGER content without leading zero bytes
    while (s.size() > 1 && s[0] == 0) s = s.subspan(1);
    return Bytes(s.begin(), s.end());
  };
  Bytes serial = norm(c.serial);
  for (const auto& crl : crls_) {
    if (crl.issuer_dn != c.issuer_dn) continue;
    if (!c.authority_key_id.empty() && crl.authority_key_id != c.authority_key_id) continue;
    for (const auto& r : crl.revoked_serials)
      if (norm(r) == serial) return true;
  }
  return false;
}

// ---------------------------------------------------------------- start-up checks

void check_ci_certificate(const Certificate& ci, std::time_t now) {
  check_role(ci, Role::Ci);
  if (!ci.authority_key_id.empty() && ci.authority_key_id != ci.subject_key_id)
    fail(Kind::BadSignature, Role::Ci, "'" + ci.subject + "' is not self-signed (AKI differs from SKI)");
  if (ci.issuer_dn != ci.subject_dn) fail(Kind::BadSignature, Role::Ci, "'" + ci.subject + "' is not self-signed");
  bool ok = false;
  try {
    ok = ci.public_key().verify(ci.tbs, ci.signature_raw);
  } catch (const crypto::CryptoError& e) {
    fail(Kind::Malformed, Role::Ci, e.what());
  }
  if (!ok) fail(Kind::BadSignature, Role::Ci, "'" + ci.subject + "': self-signature does not verify");
  check_validity(ci, now, Role::Ci);
}

Certificate check_own_certificate(ByteView cert_der, Role role, const std::vector<Certificate>& trusted_cis,
                                  std::time_t now, const ChainOptions& opt) {
  for (const auto& ci : trusted_cis) check_ci_certificate(ci, now);
  return verify_dp_cert(cert_der, role, trusted_cis, now, opt);
}

Certificate check_own_credential(ByteView cert_der, const crypto::EcKey& private_key, Role role,
                                 const std::vector<Certificate>& trusted_cis, std::time_t now,
                                 const ChainOptions& opt) {
  Certificate c = check_own_certificate(cert_der, role, trusted_cis, now, opt);
  if (private_key.curve() != c.curve || private_key.public_point() != c.public_point)
    fail(Kind::KeyMismatch, role, "the private key is not the key of '" + c.subject + "'");
  return c;
}

}  // namespace rsp::certs
