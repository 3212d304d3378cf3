// A test PKI shaped like GSMA SGP.26 (CI, EUM, eUICC, DPauth, DPpb, DP TLS),
// issued with mbedTLS's certificate writer. For tests, simulators and local
// deployments: real CIs are run by GSMA-accredited operators.
#pragma once
#include "rsp/file.hpp"
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "rsp/certs.hpp"

namespace rsp::certs {

// What one certificate should say. The role picks the extension profile
// (SGP.22 4.5.2.1.0.x, as SGP.26 fills it in):
//  Ci     self-signed (or under `issuer`), basicConstraints cA, keyCertSign+cRLSign, policy .0
//  Eum    cA pathLen 0, keyCertSign, policy .2, nameConstraints DirName {O, serialNumber=prefix}
//  Euicc  digitalSignature, policy .1 (subject carries serialNumber=EID)
//  DpAuth digitalSignature, policy .4, subjectAltName registeredID 2.999.10
//  DpPb   digitalSignature, policy .5, subjectAltName registeredID 2.999.10
//  DpTls  digitalSignature, EKU serverAuth+clientAuth, policy .3 (not critical),
//         subjectAltName dNSName(s), iPAddress(es), registeredID 2.999.10
// Every certificate gets a SKI (SHA-1 of the public key) and, unless
// self-signed, an AKI equal to the issuer's SKI.
struct CertSpec {
  Role role = Role::Euicc;
  std::string subject;  // mbedTLS string form, e.g. "C=ES,O=RSP Test EUM,serialNumber=8904...,CN=Test eUICC"
  std::time_t not_before = 0, not_after = 0;
  std::optional<Bytes> serial;                 // default: 9 random bytes, positive
  std::string eum_organization, eid_prefix;    // Eum: nameConstraints content (both empty: none)
  std::vector<std::string> more_eid_prefixes;  // Eum: further permitted EID ranges, same O
  std::vector<std::string> dns_names;          // DpTls
  std::vector<Bytes> ip_addresses;             // DpTls, 4 or 16 bytes each
  std::string registered_id = "2.999.10";      // DpAuth/DpPb/DpTls SAN registeredID ("" = none)
};

// Issues a certificate for `subject_key` signed by `issuer_key`. `issuer`
// is the issuer's certificate (its subject DN and SKI are copied into the new
// certificate); nullptr means self-signed. Returns the DER.
Bytes issue_certificate(const CertSpec& spec, const crypto::EcKey& subject_key, const crypto::EcKey& issuer_key,
                        const Certificate* issuer);

// An X.509 v2 CRL (SGP.22 4.6, RFC 5280 5.1) issued by `issuer` (its subject
// as issuer, its SKI as authorityKeyIdentifier) and signed with `issuer_key`
// (ecdsa-with-SHA256), listing `revoked_serials` (INTEGER contents, as
// Certificate::serial), with a cRLNumber. For tests and labs.
struct CrlSpec {
  std::vector<Bytes> revoked_serials;
  std::time_t this_update = 0, next_update = 0;  // next_update 0: omitted
  std::uint64_t crl_number = 1;
};
Bytes issue_crl(const CrlSpec& spec, const Certificate& issuer, const crypto::EcKey& issuer_key);

// A certificate with its key pair.
struct Issued {
  Bytes der;
  crypto::EcKey key;
  Certificate cert() const { return parse(der); }
};

struct PkiOptions {
  crypto::Curve curve = crypto::Curve::P256;
  std::string eid = "89049032123451234512345678901235";  // 32 digits; the EUM prefix is its first 8
  std::string eum_organization = "RSP Test EUM";
  std::string dp_host = "smdp.example.com";
  int days = 3650;
  std::time_t now = 0;  // 0: the current time. Certificates start one day before `now`.
};

// The SGP.26-shaped set for one curve. The DP TLS certificate is always on
// P-256 under a P-256 CI, because TLS clients built on OpenSSL (curl) offer no
// brainpool groups by default: with curve P256 that CI is `ci`; with
// BrainpoolP256r1 it is `tls_ci`, which the caller can pass in (to keep an
// existing NIST CI) or leave empty to get a fresh one.
struct Pki {
  crypto::Curve curve = crypto::Curve::P256;
  Issued ci, eum, euicc, dp_auth, dp_pb, dp_tls;
  std::optional<Issued> tls_ci;  // only for brainpool sets
};
Pki generate_pki(const PkiOptions& opt, std::optional<Issued> tls_ci = std::nullopt);

// A CA for operators' ES2+ TLS client certificates (P-256, self-signed), and
// an operator's certificate under it (clientAuth; certificatePolicies not
// critical, which mbedTLS needs in a client certificate). Valid from an hour
// ago for `days`.
Issued issue_operator_ca(const std::string& cn, int days = 1);
Issued issue_operator_certificate(const Issued& ca, const std::string& cn, int days = 1);

// Writes the set in SGP.26 file names: CERT_CI_ECDSA_NIST.der/.pem,
// SK_CI_ECDSA_NIST.pem, CERT_EUM_ECDSA_NIST..., CERT_EUICC_ECDSA_NIST...,
// CERT_S_SM_DPauth_ECDSA_NIST..., CERT_S_SM_DPpb_ECDSA_NIST...,
// CERT_S_SM_DP_TLS_NIST.der/.pem + SK_S_SM_DP_TLS_NIST.pem (BRP instead of NIST
// for brainpool, except the TLS files and their CI, which are always NIST).
// Keys are SEC1 PEM, mode 0600. Returns the paths written.
std::vector<std::filesystem::path> write_pki(const Pki& pki, const std::filesystem::path& dir);

// The files write_pki writes for a set of `curve` in `dir` that has no reused
// TLS CI (a reused CI is written back unchanged), in write_pki's order: what
// `rsp-certs generate` checks before writing so it never overwrites a key or
// certificate without --force (issue 13).
std::vector<std::filesystem::path> pki_file_paths(crypto::Curve curve, const std::filesystem::path& dir);

// Reads CERT_CI_ECDSA_NIST.der + SK_CI_ECDSA_NIST.pem from `dir` if both
// exist and match, for reuse as the TLS CI of a brainpool set.
std::optional<Issued> load_issued(const std::filesystem::path& cert_der, const std::filesystem::path& key_pem);

// Helpers shared with the tool and tests.
std::string to_pem(ByteView der, const char* label = "CERTIFICATE");
using rsp::read_file;  // rsp/file.hpp
// DER as is, or the first PEM block of the file decoded.
Bytes der_from_pem_or_der(ByteView data);
std::string file_suffix(crypto::Curve c);  // "NIST" / "BRP"

}  // namespace rsp::certs
