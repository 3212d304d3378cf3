// Certificate parsing: mbedTLS's X.509 parser for the structure (tbs, names,
// validity, key, keyUsage, basicConstraints, EKU, SAN dNSName) and rsp::tlv
// for the extension values mbedTLS 2.28 does not decode (SKI, AKI,
// certificatePolicies, nameConstraints).
#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crl.h>
#include <mbedtls/x509_crt.h>

#include <algorithm>
#include <cstring>

#include "rsp/certs.hpp"
#include "rsp/pki.hpp"
#include "rsp/tlv.hpp"

namespace rsp::certs {

namespace {

// Extension OIDs (id-ce 2.5.29.x), DER content bytes.
const Bytes kOidSki{0x55, 0x1D, 0x0E};
const Bytes kOidAki{0x55, 0x1D, 0x23};
const Bytes kOidPolicies{0x55, 0x1D, 0x20};
const Bytes kOidNameConstraints{0x55, 0x1D, 0x1E};
const Bytes kOidSubjectAltName{0x55, 0x1D, 0x11};
const Bytes kOidCrlDp{0x55, 0x1D, 0x1F};
const Bytes kOidCrlNumber{0x55, 0x1D, 0x14};
// SGP.22 4.6 partial-CRL extensions: id-rsp-totalPartialCrlNumber / id-rsp-partialCrlNumber (2.23.146.1.2.0.2/.3)
const Bytes kOidTotalPartialCrlNumber{0x67, 0x81, 0x12, 0x01, 0x02, 0x00, 0x02};
const Bytes kOidPartialCrlNumber{0x67, 0x81, 0x12, 0x01, 0x02, 0x00, 0x03};
const Bytes kOidAtOrganization{0x55, 0x04, 0x0A};
const Bytes kOidAtSerialNumber{0x55, 0x04, 0x05};

bool same(ByteView a, ByteView b) { return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin()); }

ByteView view(const mbedtls_x509_buf& b) { return ByteView(b.p, b.len); }

std::string dotted(ByteView oid_der_value) {
  mbedtls_asn1_buf b{};
  b.tag = MBEDTLS_ASN1_OID;
  b.len = oid_der_value.size();
  b.p = const_cast<unsigned char*>(oid_der_value.data());
  char buf[128];
  int n = mbedtls_oid_get_numeric_string(buf, sizeof buf, &b);
  if (n < 0) throw DecodeError("bad OBJECT IDENTIFIER");
  return std::string(buf, static_cast<std::size_t>(n));
}

// Critical extensions we process ourselves; mbedTLS asks about them through
// the callback because it does not know them (or, for certificatePolicies,
// because the policy is not anyPolicy).
int ext_cb(void*, mbedtls_x509_crt const*, mbedtls_x509_buf const* oid, int critical, const unsigned char*,
           const unsigned char*) {
  if (!critical) return 0;
  ByteView o = view(*oid);
  if (same(o, kOidPolicies) || same(o, kOidNameConstraints) || same(o, kOidSki) || same(o, kOidAki) ||
      same(o, kOidCrlDp))
    return 0;
  return MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE;
}

std::time_t to_time(const mbedtls_x509_time& t) {
  // days_from_civil (H. Hinnant), proleptic Gregorian, UTC.
  long long y = t.year - (t.mon <= 2 ? 1 : 0);
  long long era = (y >= 0 ? y : y - 399) / 400;
  long long yoe = y - era * 400;
  long long mp = (t.mon + 9) % 12;
  long long doy = (153 * mp + 2) / 5 + t.day - 1;
  long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  long long days = era * 146097 + doe - 719468;
  return static_cast<std::time_t>(days * 86400 + t.hour * 3600 + t.min * 60 + t.sec);
}

// ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } -> r||s, 32 bytes each.
Bytes der_sig_to_raw(ByteView der, std::size_t n) {
  auto seq = tlv::parse_one(der);
  if (seq.tag != 0x30 || seq.raw.size() != der.size()) throw DecodeError("signature is not a SEQUENCE");
  auto ints = tlv::parse_all(seq.value);
  if (ints.size() != 2 || ints[0].tag != 0x02 || ints[1].tag != 0x02) throw DecodeError("signature is not two INTEGERs");
  Bytes out;
  for (auto& i : ints) {
    ByteView v = i.value;
    if (v.empty() || (v[0] & 0x80)) throw DecodeError("signature INTEGER empty or negative");
    while (v.size() > 1 && v[0] == 0) v = v.subspan(1);
    if (v.size() > n) throw DecodeError("signature INTEGER too long");
    out.insert(out.end(), n - v.size(), 0);
    append(out, v);
  }
  return out;
}

// Walks a Name (SEQUENCE OF SET OF AttributeTypeAndValue) and returns the
// first value of the attribute `oid`.
std::optional<std::string> name_attr(ByteView name_value, ByteView oid) {
  for (auto& rdn : tlv::parse_all(name_value)) {
    if (rdn.tag != 0x31) throw DecodeError("Name: RDN is not a SET");
    for (auto& atv : tlv::parse_all(rdn.value)) {
      if (atv.tag != 0x30) throw DecodeError("Name: attribute is not a SEQUENCE");
      auto parts = tlv::parse_all(atv.value);
      if (parts.size() != 2 || parts[0].tag != 0x06) throw DecodeError("Name: bad AttributeTypeAndValue");
      if (same(parts[0].value, oid)) return to_string(parts[1].value);
    }
  }
  return std::nullopt;
}

void parse_policies(ByteView v, Certificate& c) {
  // certificatePolicies ::= SEQUENCE OF PolicyInformation { policyIdentifier, qualifiers OPTIONAL }
  auto seq = tlv::parse_one(v);
  if (seq.tag != 0x30) throw DecodeError("certificatePolicies is not a SEQUENCE");
  for (auto& pi : tlv::parse_all(seq.value)) {
    if (pi.tag != 0x30) throw DecodeError("PolicyInformation is not a SEQUENCE");
    auto oid = tlv::parse_one(pi.value);
    if (oid.tag != 0x06) throw DecodeError("PolicyInformation without OID");
    c.policies.push_back(dotted(oid.value));
  }
}

void parse_name_constraints(ByteView v, Certificate& c) {
  // NameConstraints ::= SEQUENCE { permittedSubtrees [0] GeneralSubtrees OPTIONAL, excludedSubtrees [1] ... }
  // GeneralSubtree ::= SEQUENCE { base GeneralName, minimum [0], maximum [1] }; directoryName is [4] EXPLICIT Name.
  auto seq = tlv::parse_one(v);
  if (seq.tag != 0x30) throw DecodeError("nameConstraints is not a SEQUENCE");
  c.has_name_constraints = true;
  auto permitted = tlv::find(seq.value, 0xA0);
  if (!permitted) return;
  for (auto& subtree : tlv::parse_all(permitted->value)) {
    if (subtree.tag != 0x30) throw DecodeError("GeneralSubtree is not a SEQUENCE");
    auto base = tlv::parse_one(subtree.value);
    if (base.tag != 0xA4) continue;  // only directoryName matters for SGP.22
    auto name = tlv::parse_one(base.value);
    if (name.tag != 0x30) throw DecodeError("directoryName is not a Name");
    Certificate::PermittedName pn;
    pn.eid_prefix = name_attr(name.value, kOidAtSerialNumber);
    pn.organization = name_attr(name.value, kOidAtOrganization);
    if (c.permitted_names.empty()) {
      c.permitted_eid_prefix = pn.eid_prefix;
      c.permitted_organization = pn.organization;
    }
    c.permitted_names.push_back(std::move(pn));
  }
}

void parse_extensions(ByteView v3_ext, Certificate& c) {
  // v3_ext is the Extensions SEQUENCE (inside [3]).
  auto seq = tlv::parse_one(v3_ext);
  if (seq.tag != 0x30) throw DecodeError("extensions are not a SEQUENCE");
  for (auto& ext : tlv::parse_all(seq.value)) {
    if (ext.tag != 0x30) throw DecodeError("Extension is not a SEQUENCE");
    auto parts = tlv::parse_all(ext.value);
    if (parts.size() < 2 || parts[0].tag != 0x06 || parts.back().tag != 0x04) throw DecodeError("bad Extension");
    ByteView oid = parts[0].value, value = parts.back().value;
    if (same(oid, kOidSki)) {
      auto os = tlv::parse_one(value);
      if (os.tag != 0x04) throw DecodeError("subjectKeyIdentifier is not an OCTET STRING");
      c.subject_key_id.assign(os.value.begin(), os.value.end());
    } else if (same(oid, kOidAki)) {
      // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL, ... }
      auto aki = tlv::parse_one(value);
      if (aki.tag != 0x30) throw DecodeError("authorityKeyIdentifier is not a SEQUENCE");
      if (auto kid = tlv::find(aki.value, 0x80)) c.authority_key_id.assign(kid->value.begin(), kid->value.end());
    } else if (same(oid, kOidPolicies)) {
      parse_policies(value, c);
    } else if (same(oid, kOidNameConstraints)) {
      parse_name_constraints(value, c);
    } else if (same(oid, kOidSubjectAltName)) {
      // GeneralNames ::= SEQUENCE OF GeneralName; registeredID is [8] IMPLICIT OBJECT IDENTIFIER.
      auto names = tlv::parse_one(value);
      if (names.tag != 0x30) throw DecodeError("subjectAltName is not a SEQUENCE");
      for (const auto& n : tlv::parse_all(names.value))
        if (n.tag == 0x88 && !c.registered_id) c.registered_id = dotted(n.value);
    }
  }
}

struct Crt {
  mbedtls_x509_crt crt;
  Crt() { mbedtls_x509_crt_init(&crt); }
  ~Crt() { mbedtls_x509_crt_free(&crt); }
  Crt(const Crt&) = delete;
  Crt& operator=(const Crt&) = delete;
};

std::string mbedtls_dn(const mbedtls_x509_name* dn) {
  char buf[1024];
  int n = mbedtls_x509_dn_gets(buf, sizeof buf, dn);
  return n < 0 ? std::string("?") : std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace

std::string_view role_name(Role r) {
  switch (r) {
    case Role::Ci: return "CI";
    case Role::Eum: return "EUM";
    case Role::Euicc: return "eUICC";
    case Role::DpTls: return "DPtls";
    case Role::DpAuth: return "DPauth";
    case Role::DpPb: return "DPpb";
  }
  return "?";
}

const char* role_policy_oid(Role r) {
  switch (r) {
    case Role::Ci: return oid::kCi;
    case Role::Eum: return oid::kEum;
    case Role::Euicc: return oid::kEuicc;
    case Role::DpTls: return oid::kDpTls;
    case Role::DpAuth: return oid::kDpAuth;
    case Role::DpPb: return oid::kDpPb;
  }
  return "";
}

bool Certificate::has_policy(std::string_view o) const {
  return std::find(policies.begin(), policies.end(), o) != policies.end();
}

crypto::EcKey Certificate::public_key() const { return crypto::EcKey::from_public_point(curve, public_point); }

namespace {
// `input` as DER (or its first PEM block decoded into `buf`): one SEQUENCE
// and nothing after it (mbedTLS ignores trailing bytes; we do not).
ByteView one_der_sequence(ByteView input, Bytes& buf, const std::string& what) {
  ByteView der = input;
  if (!input.empty() && input[0] != 0x30) {  // PEM?
    buf = der_from_pem_or_der(input);
    der = buf;
  }
  auto outer = tlv::parse_one(der);
  if (outer.tag != 0x30 || outer.raw.size() != der.size()) throw DecodeError(what + ": not one DER SEQUENCE");
  return der;
}

void check_mbedtls(int rc, const std::string& what) {
  if (rc == 0) return;
  char msg[160];
  mbedtls_strerror(rc, msg, sizeof msg);
  throw DecodeError(what + ": " + msg);
}
}  // namespace

Certificate parse(ByteView input) {
  Bytes der_buf;
  ByteView der = one_der_sequence(input, der_buf, "certificate");
  Crt h;
  check_mbedtls(mbedtls_x509_crt_parse_der_with_ext_cb(&h.crt, der.data(), der.size(), 1, ext_cb, nullptr),
                "certificate");
  const mbedtls_x509_crt& x = h.crt;
  if (x.version != 3) throw DecodeError("certificate: not X.509 v3");
  if (x.sig_pk != MBEDTLS_PK_ECDSA || x.sig_md != MBEDTLS_MD_SHA256)
    throw DecodeError("certificate: signature algorithm is not ecdsa-with-SHA256");
  if (mbedtls_pk_get_type(&x.pk) != MBEDTLS_PK_ECKEY) throw DecodeError("certificate: key is not id-ecPublicKey");

  Certificate c;
  c.der.assign(der.begin(), der.end());
  c.tbs.assign(x.tbs.p, x.tbs.p + x.tbs.len);
  c.signature_raw = der_sig_to_raw(view(x.sig), 32);
  c.subject = mbedtls_dn(&x.subject);
  c.issuer = mbedtls_dn(&x.issuer);
  c.subject_dn.assign(x.subject_raw.p, x.subject_raw.p + x.subject_raw.len);
  c.issuer_dn.assign(x.issuer_raw.p, x.issuer_raw.p + x.issuer_raw.len);
  c.serial.assign(x.serial.p, x.serial.p + x.serial.len);
  c.not_before = to_time(x.valid_from);
  c.not_after = to_time(x.valid_to);

  const mbedtls_ecp_keypair* ec = mbedtls_pk_ec(x.pk);
  if (ec->grp.id == MBEDTLS_ECP_DP_SECP256R1)
    c.curve = crypto::Curve::P256;
  else if (ec->grp.id == MBEDTLS_ECP_DP_BP256R1)
    c.curve = crypto::Curve::BrainpoolP256r1;
  else
    throw DecodeError("certificate: key is not on P-256 or brainpoolP256r1");
  c.public_point.resize(65);
  std::size_t olen = 0;
  if (mbedtls_ecp_point_write_binary(&ec->grp, &ec->Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, c.public_point.data(),
                                     c.public_point.size()) != 0)
    throw DecodeError("certificate: bad public key");
  c.public_point.resize(olen);

  c.has_key_usage = (x.ext_types & MBEDTLS_X509_EXT_KEY_USAGE) != 0;
  c.key_usage = x.key_usage;
  if (x.ext_types & MBEDTLS_X509_EXT_BASIC_CONSTRAINTS) {
    c.is_ca = x.ca_istrue != 0;
    c.path_len = x.max_pathlen > 0 ? x.max_pathlen - 1 : -1;  // mbedTLS stores pathLen + 1
  }
  if (x.ext_types & MBEDTLS_X509_EXT_EXTENDED_KEY_USAGE)
    for (auto* s = &x.ext_key_usage; s && s->buf.p; s = s->next)
      if (same(view(s->buf), ByteView(reinterpret_cast<const std::uint8_t*>(MBEDTLS_OID_SERVER_AUTH),
                                      MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH))))
        c.server_auth = true;
  if (x.ext_types & MBEDTLS_X509_EXT_SUBJECT_ALT_NAME)
    for (auto* s = &x.subject_alt_names; s && s->buf.p; s = s->next)
      if (s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2)) c.dns_names.push_back(to_string(view(s->buf)));

  if (auto v = name_attr(tlv::parse_one(view(x.subject_raw)).value, kOidAtSerialNumber)) c.subject_serial_number = *v;
  if (auto v = name_attr(tlv::parse_one(view(x.subject_raw)).value, kOidAtOrganization)) c.subject_organization = *v;
  if (x.v3_ext.p && x.v3_ext.len) parse_extensions(view(x.v3_ext), c);
  return c;
}

// ---------------------------------------------------------------- CRL

namespace {
struct CrlHandle {
  mbedtls_x509_crl crl;
  CrlHandle() { mbedtls_x509_crl_init(&crl); }
  ~CrlHandle() { mbedtls_x509_crl_free(&crl); }
  CrlHandle(const CrlHandle&) = delete;
  CrlHandle& operator=(const CrlHandle&) = delete;
};

// Extensions ::= SEQUENCE OF Extension { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
void parse_crl_extensions(ByteView exts, Crl& crl) {
  auto seq = tlv::parse_one(exts);
  if (seq.tag != 0x30) throw DecodeError("CRL: extensions are not a SEQUENCE");
  for (auto& ext : tlv::parse_all(seq.value)) {
    if (ext.tag != 0x30) throw DecodeError("CRL: Extension is not a SEQUENCE");
    auto parts = tlv::parse_all(ext.value);
    if (parts.size() < 2 || parts[0].tag != 0x06 || parts.back().tag != 0x04) throw DecodeError("CRL: bad Extension");
    bool critical = parts.size() == 3 && parts[1].tag == 0x01 && !parts[1].value.empty() && parts[1].value[0] != 0;
    ByteView oid = parts[0].value, value = parts.back().value;
    if (same(oid, kOidAki)) {
      auto aki = tlv::parse_one(value);
      if (aki.tag != 0x30) throw DecodeError("CRL: authorityKeyIdentifier is not a SEQUENCE");
      if (auto kid = tlv::find(aki.value, 0x80)) crl.authority_key_id.assign(kid->value.begin(), kid->value.end());
    } else if (same(oid, kOidCrlNumber)) {
      auto n = tlv::parse_one(value);
      if (n.tag != 0x02) throw DecodeError("CRL: cRLNumber is not an INTEGER");
      crl.crl_number.assign(n.value.begin(), n.value.end());
    } else if (same(oid, kOidTotalPartialCrlNumber) || same(oid, kOidPartialCrlNumber)) {
      // Partial CRLs (SGP.22 4.6): each part is a complete, signed list of
      // its own entries; nothing else to do with the numbers here.
    } else if (critical) {
      throw DecodeError("CRL: unsupported critical extension " + dotted(oid));  // e.g. deltaCRLIndicator
    }
  }
}
}  // namespace

Crl parse_crl(ByteView input) {
  Bytes der_buf;
  ByteView der = one_der_sequence(input, der_buf, "CRL");
  CrlHandle h;
  check_mbedtls(mbedtls_x509_crl_parse_der(&h.crl, der.data(), der.size()), "CRL");
  const mbedtls_x509_crl& x = h.crl;
  if (x.version != 2) throw DecodeError("CRL: not an X.509 v2 CRL");
  if (x.sig_pk != MBEDTLS_PK_ECDSA || x.sig_md != MBEDTLS_MD_SHA256)
    throw DecodeError("CRL: signature algorithm is not ecdsa-with-SHA256");
  Crl c;
  c.der.assign(der.begin(), der.end());
  c.tbs.assign(x.tbs.p, x.tbs.p + x.tbs.len);
  c.signature_raw = der_sig_to_raw(view(x.sig), 32);
  c.issuer_dn.assign(x.issuer_raw.p, x.issuer_raw.p + x.issuer_raw.len);
  c.issuer = mbedtls_dn(&x.issuer);
  c.this_update = to_time(x.this_update);
  if (x.next_update.year != 0) c.next_update = to_time(x.next_update);
  for (const mbedtls_x509_crl_entry* e = &x.entry; e && e->raw.p; e = e->next) {
    // An entry extension marked critical (e.g. certificateIssuer for an
    // indirect CRL) changes whom the entry is about: not supported.
    // raw: the entry's content (userCertificate, revocationDate, [crlEntryExtensions]).
    auto fields = tlv::parse_all(view(e->raw));
    if (fields.size() == 3 && fields[2].tag == 0x30) {
      for (auto& ext : tlv::parse_all(fields[2].value)) {
        auto parts = tlv::parse_all(ext.value);
        if (parts.size() == 3 && parts[1].tag == 0x01 && !parts[1].value.empty() && parts[1].value[0] != 0)
          throw DecodeError("CRL: unsupported critical entry extension");
      }
    }
    c.revoked_serials.emplace_back(e->serial.p, e->serial.p + e->serial.len);
  }
  if (x.crl_ext.p && x.crl_ext.len) parse_crl_extensions(view(x.crl_ext), c);
  return c;
}

}  // namespace rsp::certs
