// The SGP.22 PKI (SGP.22 4.5, SGP.26): certificate parsing and the chain
// checks both sides use. Signatures and keys go through rsp::crypto.
#pragma once
#include <ctime>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/bytes.hpp"
#include "rsp/crypto.hpp"

namespace rsp::certs {

// SGP.22 4.5.2.1 certificate policies (id-rspRole arc 2.23.146.1.2.1.x).
namespace oid {
inline constexpr const char* kCi = "2.23.146.1.2.1.0";
inline constexpr const char* kEuicc = "2.23.146.1.2.1.1";
inline constexpr const char* kEum = "2.23.146.1.2.1.2";
inline constexpr const char* kDpTls = "2.23.146.1.2.1.3";
inline constexpr const char* kDpAuth = "2.23.146.1.2.1.4";
inline constexpr const char* kDpPb = "2.23.146.1.2.1.5";
}  // namespace oid

enum class Role { Ci, Eum, Euicc, DpTls, DpAuth, DpPb };
std::string_view role_name(Role r);        // "CI", "EUM", "eUICC", "DPtls", "DPauth", "DPpb"
const char* role_policy_oid(Role r);       // the oid:: constant for the role

// X.509 KeyUsage bits as mbedTLS numbers them (MBEDTLS_X509_KU_*).
namespace ku {
inline constexpr unsigned kDigitalSignature = 0x80;
inline constexpr unsigned kKeyCertSign = 0x04;
inline constexpr unsigned kCrlSign = 0x02;
}  // namespace ku

struct Certificate {
  Bytes der;
  Bytes tbs;                 // tbsCertificate DER, as signed
  Bytes signature_raw;       // r||s
  std::string subject;       // RFC 4514-ish, for messages only
  std::string issuer;        // same form
  Bytes subject_dn, issuer_dn;  // raw Name DER, for issuer/subject chaining
  Bytes serial;
  std::time_t not_before = 0, not_after = 0;
  Bytes subject_key_id, authority_key_id;
  std::vector<std::string> policies;  // dotted OIDs
  bool has_key_usage = false;
  unsigned key_usage = 0;    // ku:: bits
  bool is_ca = false;        // basicConstraints cA
  int path_len = -1;         // basicConstraints pathLenConstraint, -1 when absent
  bool server_auth = false;  // extendedKeyUsage contains id-kp-serverAuth
  std::vector<std::string> dns_names;  // subjectAltName dNSName entries
  // subjectAltName registeredID [8] (dotted): the SM-DP+ OID in CERT.DPauth /
  // CERT.DPpb (SGP.22 4.5.2.1.0.3), what the eUICC signs as smdpOid.
  std::optional<std::string> registered_id;
  crypto::Curve curve = crypto::Curve::P256;
  Bytes public_point;        // 04||X||Y
  std::string subject_serial_number;  // EID for an eUICC certificate (subject serialNumber)
  std::string subject_organization;   // subject O
  // EUM nameConstraints (SGP.22 4.5.2.1.0.2): every permittedSubtrees
  // directoryName, each an EID range (serialNumber prefix) with the O its
  // eUICCs carry. An EUM may hold several ranges.
  struct PermittedName {
    std::optional<std::string> organization, eid_prefix;
  };
  bool has_name_constraints = false;
  std::vector<PermittedName> permitted_names;
  // The first range's values (kept for display and older callers).
  std::optional<std::string> permitted_eid_prefix;
  std::optional<std::string> permitted_organization;
  bool has_policy(std::string_view oid) const;
  crypto::EcKey public_key() const;
};

// Parses DER (or one PEM "CERTIFICATE" block). Throws DecodeError on
// malformed input, trailing bytes, unknown critical extensions, a signature
// that is not ecdsa-with-SHA256 or a key not on P-256 / brainpoolP256r1.
Certificate parse(ByteView der);

// Why a chain check failed; the SM-DP+ and eUICC map these to their own codes
// (SGP.22 5.6.1 / 5.7.13: e.g. 8.1.2/6.1, 8.1.3/6.3, 8.11.1/3.9).
struct ValidationError : std::runtime_error {
  enum class Kind {
    UnknownCi,          // issuer chain ends at a CI we do not trust
    BadSignature,       // a certificate's signature does not verify
    Expired,            // outside validity at `now`
    WrongRole,          // policy OID / key usage not what the role needs
    EidOutsideConstraint,  // EID in none of the EUM's ranges, or the EUM has none
    Malformed,
    Revoked,               // listed in a verified CRL (SGP.22 4.6)
    KeyMismatch,           // a private key that is not the certificate's
  };
  Kind kind;
  Role which;  // Eum or Euicc (or DpAuth / DpPb)
  ValidationError(Kind k, Role w, const std::string& msg) : std::runtime_error(msg), kind(k), which(w) {}
};

// The per-role profile (SGP.22 4.5.2.1.0.x): the role's certificatePolicies
// OID, keyUsage (keyCertSign for CI/EUM, digitalSignature otherwise), cA for
// CI/EUM only, serverAuth for DPtls. Throws ValidationError(WrongRole).
void check_role(const Certificate& c, Role role);
// Issuer/subject chaining (AKI == parent SKI, issuer DN == parent subject DN)
// and the ECDSA-SHA256 signature with the parent's key. Throws
// ValidationError(BadSignature, which).
void check_signed_by(const Certificate& child, const Certificate& parent, Role which);
// Validity at `now`; throws ValidationError(Expired, which).
void check_validity(const Certificate& c, std::time_t now, Role which);
// The trusted CI whose subject key id equals c's authority key id, or nullptr.
const Certificate* find_issuer(const Certificate& c, const std::vector<Certificate>& trusted_cis);

// ---------------------------------------------------------------- CRLs
// SGP.22 4.6: X.509 v2 CRLs (RFC 5280 5.1) issued by a CI for the EUM and
// SM-DP+ certificates it signed (or by an EUM for its eUICC certificates),
// ecdsa-with-SHA256 like the certificates.
struct Crl {
  Bytes der;
  Bytes tbs;            // tbsCertList DER, as signed
  Bytes signature_raw;  // r||s
  Bytes issuer_dn;      // raw Name DER
  std::string issuer;   // for messages
  Bytes authority_key_id;
  std::time_t this_update = 0, next_update = 0;  // next_update 0: absent
  Bytes crl_number;                              // INTEGER content, empty when absent
  std::vector<Bytes> revoked_serials;            // as Certificate::serial
};
// Parses DER (or one PEM "X509 CRL" block). Throws DecodeError on malformed
// input, trailing bytes, a signature that is not ecdsa-with-SHA256, or a
// critical extension we do not implement (a delta CRL is refused).
Crl parse_crl(ByteView der);
// Checks `crl` was issued and signed by `issuer` (issuer DN, AKI = issuer SKI,
// signature, issuer a CA whose keyUsage has cRLSign) and is current at `now`
// (thisUpdate <= now <= nextUpdate). Throws ValidationError(which = Ci).
void verify_crl(const Crl& crl, const Certificate& issuer, std::time_t now);

// The CRLs a party has loaded and verified; certificates they list are
// refused by verify_euicc_chain / verify_dp_cert (ChainOptions::crls).
class CrlSet {
 public:
  // Parses `crl_der`, finds its issuer among `issuers` (by AKI), verifies it
  // (verify_crl) and keeps it, replacing an older CRL of the same issuer
  // (lower cRLNumber, or an earlier thisUpdate). Throws DecodeError /
  // ValidationError; the set is unchanged on error. Returns the CRL.
  const Crl& add(ByteView crl_der, const std::vector<Certificate>& issuers, std::time_t now);
  // True when a loaded CRL of c's issuer lists c's serial number.
  bool revoked(const Certificate& c) const;
  std::size_t size() const { return crls_.size(); }

 private:
  std::vector<Crl> crls_;
};

// ---------------------------------------------------------------- chains
struct ChainOptions {
  // SGP.22 4.5.2.1.0.2: CERT.EUM carries nameConstraints naming its EID
  // range(s). An EUM without them vouches for no EID (fail closed); true only
  // for legacy test PKIs whose EUM has no constraint (configuration switch).
  bool allow_eum_without_name_constraints = false;
  // SGP.22 4.6: refuse certificates these CRLs revoke (nullptr: none loaded).
  const CrlSet* crls = nullptr;
};

// SGP.22 5.6.1 step (SM-DP+ checks the eUICC): CERT.EUM signed by a trusted
// CI (matched by authority key id), CERT.EUICC signed by CERT.EUM, validity,
// roles, the EID inside one of the EUM's permitted ranges, neither revoked.
// Returns the eUICC certificate.
Certificate verify_euicc_chain(ByteView euicc_der, ByteView eum_der, const std::vector<Certificate>& trusted_cis,
                               std::time_t now, const ChainOptions& opt = {});
// SGP.22 5.7.13 / 5.7.3 (eUICC checks the SM-DP+): CERT.DPauth or CERT.DPpb
// signed by a trusted CI, valid, with the role's policy, not revoked.
Certificate verify_dp_cert(ByteView der, Role role, const std::vector<Certificate>& trusted_cis, std::time_t now,
                           const ChainOptions& opt = {});

// A CI certificate as a trust anchor (SGP.22 4.5.2.1.0.1): self-signed (its
// signature verifies with its own key), the CI role profile, valid at `now`.
// Throws ValidationError(which = Ci).
void check_ci_certificate(const Certificate& ci, std::time_t now);

// The SM-DP+'s own credential at start-up (CERT.DPauth / CERT.DPpb /
// CERT.DP.TLS with its private key): the key is the certificate's, the role
// profile, a chain to one of `trusted_cis` (each checked with
// check_ci_certificate), valid at `now` and not revoked. Throws
// ValidationError with a message naming the role and what is wrong; returns
// the parsed certificate.
// check_own_credential without the key: for a key held in a token, whose
// match with the certificate its loader proves by a signature.
Certificate check_own_certificate(ByteView cert_der, Role role, const std::vector<Certificate>& trusted_cis,
                                  std::time_t now, const ChainOptions& opt = {});
Certificate check_own_credential(ByteView cert_der, const crypto::EcKey& private_key, Role role,
                                 const std::vector<Certificate>& trusted_cis, std::time_t now,
                                 const ChainOptions& opt = {});

}  // namespace rsp::certs
