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
                               std::time_t now) {
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

  // The EID (subject serialNumber) inside the EUM's nameConstraints.
  const std::string& eid = euicc.subject_serial_number;
  if (eid.size() != 32 || !all_digits(eid))
    fail(Kind::EidOutsideConstraint, Role::Euicc, "subject serialNumber '" + eid + "' is not a 32-digit EID");
  if (eum.permitted_eid_prefix && eid.rfind(*eum.permitted_eid_prefix, 0) != 0)
    fail(Kind::EidOutsideConstraint, Role::Euicc,
         "EID " + eid + " is outside the EUM's permitted prefix " + *eum.permitted_eid_prefix);
  if (eum.permitted_organization && euicc.subject_organization != *eum.permitted_organization)
    fail(Kind::EidOutsideConstraint, Role::Euicc,
         "subject O '" + euicc.subject_organization + "' is not the EUM's permitted O '" + *eum.permitted_organization + "'");
  return euicc;
}

Certificate verify_dp_cert(ByteView der, Role role, const std::vector<Certificate>& trusted_cis, std::time_t now) {
  Certificate c = parse_as(der, role);
  const Certificate* ci = find_issuer(c, trusted_cis);
  if (!ci) fail(Kind::UnknownCi, role, "issued by CI key id " + hex_or_none(c.authority_key_id) + ", which is not trusted");
  check_signed_by(c, *ci, role);
  check_role(c, role);
  check_validity(c, now, role);
  return c;
}

}  // namespace rsp::certs
