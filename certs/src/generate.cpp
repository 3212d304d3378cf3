// An SGP.26-shaped test PKI issued with mbedtls_x509write_crt. Extension
// values are built as DER with rsp::tlv and handed to
// mbedtls_x509write_crt_set_extension, so every extension is exactly what
// SGP.22 4.5.2 asks for (mbedTLS's own helpers cannot write policies,
// nameConstraints, registeredID or a chosen criticality).
#include <fcntl.h>
#include <mbedtls/bignum.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "rsp/pki.hpp"
#include "rsp/tlv.hpp"

namespace rsp::certs {

namespace {

void check(int rc, const char* what) {
  if (rc == 0) return;
  char msg[160];
  mbedtls_strerror(rc, msg, sizeof msg);
  throw crypto::CryptoError(std::string(what) + ": " + msg);
}

// mbedTLS wants an f_rng; draw from rsp::crypto's DRBG.
int rng(void*, unsigned char* out, std::size_t len) {
  try {
    Bytes b = crypto::random_bytes(len);
    std::memcpy(out, b.data(), len);
    return 0;
  } catch (...) {
    return MBEDTLS_ERR_MPI_BAD_INPUT_DATA;
  }
}

// Dotted OID -> DER content octets (X.690 8.19).
Bytes oid_der(std::string_view dotted) {
  std::vector<unsigned long> arcs;
  unsigned long cur = 0;
  bool digit = false;
  for (char ch : std::string(dotted) + ".") {
    if (ch == '.') {
      if (!digit) throw std::invalid_argument("bad OID '" + std::string(dotted) + "'");
      arcs.push_back(cur);
      cur = 0;
      digit = false;
    } else if (ch >= '0' && ch <= '9') {
      cur = cur * 10 + static_cast<unsigned long>(ch - '0');
      digit = true;
    } else {
      throw std::invalid_argument("bad OID '" + std::string(dotted) + "'");
    }
  }
  if (arcs.size() < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] > 39))
    throw std::invalid_argument("bad OID '" + std::string(dotted) + "'");
  Bytes out;
  auto put = [&](unsigned long v) {
    Bytes tmp{static_cast<std::uint8_t>(v & 0x7F)};
    for (v >>= 7; v; v >>= 7) tmp.insert(tmp.begin(), static_cast<std::uint8_t>(0x80 | (v & 0x7F)));
    append(out, tmp);
  };
  put(arcs[0] * 40 + arcs[1]);
  for (std::size_t i = 2; i < arcs.size(); ++i) put(arcs[i]);
  return out;
}

Bytes seq(ByteView v) { return tlv::make(0x30, v); }

Bytes key_usage_der(unsigned bits) {
  // KeyUsage BIT STRING; mbedTLS's KU numbers are the first octet's bits.
  auto b = static_cast<std::uint8_t>(bits);
  std::uint8_t unused = 0;
  while (unused < 7 && !(b & (1u << unused))) ++unused;
  return tlv::make(0x03, Bytes{unused, b});
}

Bytes basic_constraints_ca(int path_len) {
  Bytes v{0x01, 0x01, 0xFF};
  if (path_len >= 0) append(v, tlv::make(0x02, Bytes{static_cast<std::uint8_t>(path_len)}));
  return seq(v);
}

Bytes policies_der(const char* oid) { return seq(seq(tlv::make(0x06, oid_der(oid)))); }

Bytes name_constraints_der(const std::string& org, const std::vector<std::string>& prefixes) {
  // NameConstraints { permittedSubtrees [0] { GeneralSubtree { directoryName [4] Name } ... } }, one per EID range
  Bytes subtrees;
  for (const auto& prefix : prefixes) {
    Bytes name = seq(concat(tlv::make(0x31, seq(concat(tlv::make(0x06, Bytes{0x55, 0x04, 0x0A}), tlv::make(0x0C, to_bytes(org))))),
                            tlv::make(0x31, seq(concat(tlv::make(0x06, Bytes{0x55, 0x04, 0x05}), tlv::make(0x13, to_bytes(prefix)))))));
    append(subtrees, seq(tlv::make(0xA4, name)));
  }
  return seq(tlv::make(0xA0, subtrees));
}

Bytes ski_of(const crypto::EcKey& k) { return crypto::sha1(k.public_point()); }  // RFC 5280 4.2.1.2 method 1

std::string x509_time(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return buf;
}

void add_ext(mbedtls_x509write_cert& w, const Bytes& oid, bool critical, const Bytes& value) {
  check(mbedtls_x509write_crt_set_extension(&w, reinterpret_cast<const char*>(oid.data()), oid.size(), critical ? 1 : 0,
                                            value.data(), value.size()),
        "x509write_crt_set_extension");
}

void write_file(const std::filesystem::path& p, std::string_view data, bool secret) {
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, secret ? 0600 : 0644);
  if (fd < 0) throw std::runtime_error("cannot write " + p.string() + ": " + std::strerror(errno));
  if (secret) ::fchmod(fd, 0600);  // also when the file existed with a wider mode
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      throw std::runtime_error("write " + p.string() + ": " + std::strerror(errno));
    }
    off += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) throw std::runtime_error("close " + p.string() + ": " + std::strerror(errno));
}

Issued make_issued(Bytes der, crypto::EcKey key) {
  Issued i;
  i.der = std::move(der);
  i.key = std::move(key);
  return i;
}

}  // namespace

std::string file_suffix(crypto::Curve c) { return c == crypto::Curve::P256 ? "NIST" : "BRP"; }

std::string to_pem(ByteView der, const char* label) {
  std::string b64 = to_base64(der);
  std::string out = std::string("-----BEGIN ") + label + "-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  out += std::string("-----END ") + label + "-----\n";
  return out;
}

Bytes der_from_pem_or_der(ByteView data) {
  if (!data.empty() && data[0] == 0x30) return Bytes(data.begin(), data.end());
  std::string_view s(reinterpret_cast<const char*>(data.data()), data.size());
  auto begin = s.find("-----BEGIN ");
  if (begin == std::string_view::npos) throw DecodeError("neither DER nor PEM");
  auto body = s.find('\n', begin);
  auto end = s.find("-----END ", begin);
  if (body == std::string_view::npos || end == std::string_view::npos || end < body) throw DecodeError("truncated PEM");
  std::string b64;
  for (char ch : s.substr(body, end - body))
    if (!std::isspace(static_cast<unsigned char>(ch))) b64 += ch;
  return from_base64(b64);
}

Bytes issue_certificate(const CertSpec& spec, const crypto::EcKey& subject_key, const crypto::EcKey& issuer_key,
                        const Certificate* issuer) {
  if (!issuer_key.has_private()) throw crypto::CryptoError("issuer key has no private part");
  mbedtls_x509write_cert w;
  mbedtls_x509write_crt_init(&w);
  mbedtls_mpi serial;
  mbedtls_mpi_init(&serial);
  mbedtls_x509_crt issuer_crt;
  mbedtls_x509_crt_init(&issuer_crt);
  std::vector<mbedtls_asn1_named_data> issuer_name;  // ours; detached before mbedtls_x509write_crt_free
  struct Cleanup {
    mbedtls_x509write_cert& w;
    mbedtls_mpi& s;
    mbedtls_x509_crt& c;
    std::vector<mbedtls_asn1_named_data>& borrowed;
    ~Cleanup() {
      // Detach only our copied issuer name; mbedTLS owns (and frees) the list
      // set_issuer_name made for a self-signed certificate.
      if (!borrowed.empty() && w.issuer == borrowed.data()) w.issuer = nullptr;
      mbedtls_x509write_crt_free(&w);
      mbedtls_mpi_free(&s);
      mbedtls_x509_crt_free(&c);
    }
  } cleanup{w, serial, issuer_crt, issuer_name};

  mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
  Bytes serial_bytes;
  if (spec.serial) {
    serial_bytes = *spec.serial;
  } else {
    serial_bytes = crypto::random_bytes(9);
    serial_bytes[0] = static_cast<std::uint8_t>((serial_bytes[0] & 0x7F) | 0x40);  // positive, exactly 9 bytes
  }
  check(mbedtls_mpi_read_binary(&serial, serial_bytes.data(), serial_bytes.size()), "serial");
  check(mbedtls_x509write_crt_set_serial(&w, &serial), "set_serial");
  check(mbedtls_x509write_crt_set_validity(&w, x509_time(spec.not_before).c_str(), x509_time(spec.not_after).c_str()),
        "set_validity");
  check(mbedtls_x509write_crt_set_subject_name(&w, spec.subject.c_str()), "set_subject_name");
  if (issuer) {
    // Copy the issuer's subject Name exactly (string types included): mbedTLS
    // writes the list back to front, so link it in reverse order.
    check(mbedtls_x509_crt_parse_der_with_ext_cb(
              &issuer_crt, issuer->der.data(), issuer->der.size(), 0,
              [](void*, mbedtls_x509_crt const*, mbedtls_x509_buf const*, int, const unsigned char*,
                 const unsigned char*) { return 0; },
              nullptr),
          "parse issuer");
    for (const mbedtls_x509_name* n = &issuer_crt.subject; n && n->oid.p; n = n->next) issuer_name.push_back(*n);
    std::reverse(issuer_name.begin(), issuer_name.end());
    for (std::size_t i = 0; i < issuer_name.size(); ++i) {
      issuer_name[i].next = i + 1 < issuer_name.size() ? &issuer_name[i + 1] : nullptr;
      issuer_name[i].next_merged = 0;
    }
    if (issuer_name.empty()) throw DecodeError("issuer certificate has an empty subject");
    w.issuer = issuer_name.data();
  } else {
    check(mbedtls_x509write_crt_set_issuer_name(&w, spec.subject.c_str()), "set_issuer_name");
  }
  mbedtls_x509write_crt_set_subject_key(&w, static_cast<mbedtls_pk_context*>(subject_key.native_pk()));
  mbedtls_x509write_crt_set_issuer_key(&w, static_cast<mbedtls_pk_context*>(issuer_key.native_pk()));

  const Bytes oid_ski{0x55, 0x1D, 0x0E}, oid_aki{0x55, 0x1D, 0x23}, oid_ku{0x55, 0x1D, 0x0F},
      oid_bc{0x55, 0x1D, 0x13}, oid_pol{0x55, 0x1D, 0x20}, oid_nc{0x55, 0x1D, 0x1E}, oid_san{0x55, 0x1D, 0x11},
      oid_eku{0x55, 0x1D, 0x25};

  if (issuer) {  // a self-signed CI carries no AKI (as in SGP.26)
    if (issuer->subject_key_id.empty()) throw DecodeError("issuer certificate has no subjectKeyIdentifier");
    add_ext(w, oid_aki, false, seq(tlv::make(0x80, issuer->subject_key_id)));
  }
  add_ext(w, oid_ski, false, tlv::make(0x04, ski_of(subject_key)));

  Bytes san;
  auto add_registered_id = [&] {
    if (!spec.registered_id.empty()) append(san, tlv::make(0x88, oid_der(spec.registered_id)));
  };
  switch (spec.role) {
    case Role::Ci:
      add_ext(w, oid_bc, true, basic_constraints_ca(-1));
      add_ext(w, oid_pol, true, policies_der(oid::kCi));
      add_ext(w, oid_ku, true, key_usage_der(ku::kKeyCertSign | ku::kCrlSign));
      break;
    case Role::Eum:
      add_ext(w, oid_ku, true, key_usage_der(ku::kKeyCertSign));
      add_ext(w, oid_pol, true, policies_der(oid::kEum));
      add_ext(w, oid_bc, true, basic_constraints_ca(0));
      if (!spec.eid_prefix.empty() || !spec.eum_organization.empty()) {
        std::vector<std::string> prefixes{spec.eid_prefix};
        prefixes.insert(prefixes.end(), spec.more_eid_prefixes.begin(), spec.more_eid_prefixes.end());
        add_ext(w, oid_nc, true, name_constraints_der(spec.eum_organization, prefixes));
      }
      break;
    case Role::Euicc:
      add_ext(w, oid_ku, true, key_usage_der(ku::kDigitalSignature));
      add_ext(w, oid_pol, true, policies_der(oid::kEuicc));
      break;
    case Role::DpAuth:
    case Role::DpPb:
      add_registered_id();
      if (!san.empty()) add_ext(w, oid_san, false, seq(san));
      add_ext(w, oid_ku, true, key_usage_der(ku::kDigitalSignature));
      add_ext(w, oid_pol, true, policies_der(role_policy_oid(spec.role)));
      break;
    case Role::DpTls: {
      add_ext(w, oid_ku, true, key_usage_der(ku::kDigitalSignature));
      Bytes kp_server{0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01}, kp_client{0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02};
      add_ext(w, oid_eku, true, seq(concat(tlv::make(0x06, kp_server), tlv::make(0x06, kp_client))));
      add_ext(w, oid_pol, false, policies_der(oid::kDpTls));
      for (auto& d : spec.dns_names) append(san, tlv::make(0x82, to_bytes(d)));
      for (auto& ip : spec.ip_addresses) append(san, tlv::make(0x87, ip));
      add_registered_id();
      if (!san.empty()) add_ext(w, oid_san, false, seq(san));
      break;
    }
  }

  Bytes buf(4096);
  int n = mbedtls_x509write_crt_der(&w, buf.data(), buf.size(), rng, nullptr);
  if (n < 0) check(n, "x509write_crt_der");
  return Bytes(buf.end() - n, buf.end());
}

namespace {
// UTCTime through 2049, GeneralizedTime after (RFC 5280 5.1.2.4).
Bytes time_der(std::time_t t) {
  std::string g = x509_time(t) + "Z";
  if (g.compare(0, 4, "2050") < 0) return tlv::make(0x17, to_bytes(g.substr(2)));
  return tlv::make(0x18, to_bytes(g));
}
// A non-negative INTEGER from its big-endian magnitude, minimal DER.
Bytes unsigned_integer(ByteView magnitude) {
  while (magnitude.size() > 1 && magnitude[0] == 0) magnitude = magnitude.subspan(1);
  Bytes v;
  if (magnitude.empty() || (magnitude[0] & 0x80)) v.push_back(0x00);
  append(v, magnitude);
  return tlv::make(0x02, v);
}
}  // namespace

Bytes issue_crl(const CrlSpec& spec, const Certificate& issuer, const crypto::EcKey& issuer_key) {
  const Bytes ecdsa_sha256 = seq(tlv::make(0x06, oid_der("1.2.840.10045.4.3.2")));
  Bytes revoked;
  for (const auto& serial : spec.revoked_serials)
    append(revoked, seq(concat(unsigned_integer(serial), time_der(spec.this_update))));
  Bytes number(8);
  for (int i = 0; i < 8; ++i) number[7 - i] = static_cast<std::uint8_t>(spec.crl_number >> (8 * i));
  Bytes exts = seq(concat(
      seq(concat(tlv::make(0x06, Bytes{0x55, 0x1D, 0x23}), tlv::make(0x04, seq(tlv::make(0x80, issuer.subject_key_id))))),
      seq(concat(tlv::make(0x06, Bytes{0x55, 0x1D, 0x14}), tlv::make(0x04, unsigned_integer(number))))));
  Bytes tbs = seq(concat(tlv::make(0x02, Bytes{0x01}), ecdsa_sha256, issuer.subject_dn, time_der(spec.this_update),
                         spec.next_update ? time_der(spec.next_update) : Bytes{},
                         revoked.empty() ? Bytes{} : seq(revoked), tlv::make(0xA0, exts)));
  Bytes raw = issuer_key.sign(tbs);  // r||s
  std::size_t half = raw.size() / 2;
  Bytes sig = seq(concat(unsigned_integer(ByteView(raw).first(half)), unsigned_integer(ByteView(raw).last(half))));
  Bytes bit_string{0x00};
  append(bit_string, sig);
  return seq(concat(tbs, ecdsa_sha256, tlv::make(0x03, bit_string)));
}

Pki generate_pki(const PkiOptions& opt, std::optional<Issued> tls_ci) {
  using crypto::Curve;
  using crypto::EcKey;
  const std::string& eid = opt.eid;
  if (eid.size() != 32 || !std::all_of(eid.begin(), eid.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
    throw std::invalid_argument("EID must be 32 decimal digits");
  if (opt.days <= 0) throw std::invalid_argument("days must be positive");
  std::time_t now = opt.now ? opt.now : std::time(nullptr);
  std::time_t nb = now - 86400, na = now + static_cast<std::time_t>(opt.days) * 86400;
  const std::string sfx = file_suffix(opt.curve);
  auto spec = [&](Role r, std::string subject) {
    CertSpec s;
    s.role = r;
    s.subject = std::move(subject);
    s.not_before = nb;
    s.not_after = na;
    return s;
  };

  Pki p;
  p.curve = opt.curve;
  {
    EcKey k = EcKey::generate(opt.curve);
    Bytes der = issue_certificate(spec(Role::Ci, "CN=RSP Test CI " + sfx + ",O=RSP Local Test PKI"), k, k, nullptr);
    p.ci = make_issued(std::move(der), std::move(k));
  }
  Certificate ci = p.ci.cert();
  {
    EcKey k = EcKey::generate(opt.curve);
    CertSpec s = spec(Role::Eum, "O=" + opt.eum_organization + ",CN=RSP Test EUM " + sfx);
    s.eum_organization = opt.eum_organization;
    s.eid_prefix = eid.substr(0, 8);
    Bytes der = issue_certificate(s, k, p.ci.key, &ci);
    p.eum = make_issued(std::move(der), std::move(k));
  }
  {
    Certificate eum = p.eum.cert();
    EcKey k = EcKey::generate(opt.curve);
    Bytes der = issue_certificate(
        spec(Role::Euicc, "O=" + opt.eum_organization + ",serialNumber=" + eid + ",CN=RSP Test eUICC"), k, p.eum.key, &eum);
    p.euicc = make_issued(std::move(der), std::move(k));
  }
  for (Role r : {Role::DpAuth, Role::DpPb}) {
    EcKey k = EcKey::generate(opt.curve);
    Bytes der = issue_certificate(spec(r, "O=RSP Test SM-DP+,CN=" + opt.dp_host), k, p.ci.key, &ci);
    (r == Role::DpAuth ? p.dp_auth : p.dp_pb) = make_issued(std::move(der), std::move(k));
  }

  // TLS: always P-256 (see the header); under the NIST CI.
  const Issued* tls_issuer = &p.ci;
  if (opt.curve != Curve::P256) {
    if (!tls_ci) {
      EcKey k = EcKey::generate(Curve::P256);
      Bytes der = issue_certificate(spec(Role::Ci, "CN=RSP Test CI NIST,O=RSP Local Test PKI"), k, k, nullptr);
      tls_ci = make_issued(std::move(der), std::move(k));
    }
    if (tls_ci->key.curve() != Curve::P256) throw std::invalid_argument("the TLS CI must be on P-256");
    p.tls_ci = std::move(tls_ci);
    tls_issuer = &*p.tls_ci;
  }
  {
    Certificate issuer = tls_issuer->cert();
    EcKey k = EcKey::generate(Curve::P256);
    CertSpec s = spec(Role::DpTls, "O=RSP Test SM-DP+,CN=" + opt.dp_host);
    s.dns_names = {opt.dp_host};
    if (opt.dp_host != "localhost") s.dns_names.push_back("localhost");
    s.ip_addresses = {Bytes{127, 0, 0, 1}};
    Bytes der = issue_certificate(s, k, tls_issuer->key, &issuer);
    p.dp_tls = make_issued(std::move(der), std::move(k));
  }
  return p;
}

std::vector<std::filesystem::path> write_pki(const Pki& pki, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  std::vector<std::filesystem::path> written;
  auto put = [&](const Issued& i, const std::string& cert_name, const std::string& key_name) {
    write_file(dir / (cert_name + ".der"), to_string(i.der), false);
    write_file(dir / (cert_name + ".pem"), to_pem(i.der), false);
    write_file(dir / (key_name + ".pem"), i.key.private_pem(), true);
    written.push_back(dir / (cert_name + ".der"));
    written.push_back(dir / (cert_name + ".pem"));
    written.push_back(dir / (key_name + ".pem"));
  };
  const std::string s = file_suffix(pki.curve);
  put(pki.ci, "CERT_CI_ECDSA_" + s, "SK_CI_ECDSA_" + s);
  put(pki.eum, "CERT_EUM_ECDSA_" + s, "SK_EUM_ECDSA_" + s);
  put(pki.euicc, "CERT_EUICC_ECDSA_" + s, "SK_EUICC_ECDSA_" + s);
  put(pki.dp_auth, "CERT_S_SM_DPauth_ECDSA_" + s, "SK_S_SM_DPauth_ECDSA_" + s);
  put(pki.dp_pb, "CERT_S_SM_DPpb_ECDSA_" + s, "SK_S_SM_DPpb_ECDSA_" + s);
  if (pki.tls_ci) put(*pki.tls_ci, "CERT_CI_ECDSA_NIST", "SK_CI_ECDSA_NIST");
  put(pki.dp_tls, "CERT_S_SM_DP_TLS_NIST", "SK_S_SM_DP_TLS_NIST");
  return written;
}

std::vector<std::filesystem::path> pki_file_paths(crypto::Curve curve, const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> paths;
  const std::string s = file_suffix(curve);
  for (const auto& [cert_name, key_name] : std::vector<std::pair<std::string, std::string>>{
           {"CERT_CI_ECDSA_" + s, "SK_CI_ECDSA_" + s},
           {"CERT_EUM_ECDSA_" + s, "SK_EUM_ECDSA_" + s},
           {"CERT_EUICC_ECDSA_" + s, "SK_EUICC_ECDSA_" + s},
           {"CERT_S_SM_DPauth_ECDSA_" + s, "SK_S_SM_DPauth_ECDSA_" + s},
           {"CERT_S_SM_DPpb_ECDSA_" + s, "SK_S_SM_DPpb_ECDSA_" + s},
           {"CERT_S_SM_DP_TLS_NIST", "SK_S_SM_DP_TLS_NIST"}}) {
    paths.push_back(dir / (cert_name + ".der"));
    paths.push_back(dir / (cert_name + ".pem"));
    paths.push_back(dir / (key_name + ".pem"));
  }
  return paths;
}

std::optional<Issued> load_issued(const std::filesystem::path& cert_der, const std::filesystem::path& key_pem) {
  std::error_code ec;
  if (!std::filesystem::exists(cert_der, ec) || !std::filesystem::exists(key_pem, ec)) return std::nullopt;
  Bytes der = der_from_pem_or_der(read_file(cert_der));
  Bytes key_bytes = read_file(key_pem);
  crypto::EcKey key = crypto::EcKey::from_pem_or_der(key_bytes);
  wipe(key_bytes.data(), key_bytes.size());
  Certificate c = parse(der);
  if (!key.has_private() || key.public_point() != c.public_point) return std::nullopt;
  return make_issued(std::move(der), std::move(key));
}


namespace {
// Operators' ES2+ TLS certificates: no SGP.22 registeredID, valid from an hour ago.
CertSpec operator_spec(Role role, const std::string& cn, int days) {
  CertSpec spec;
  spec.role = role;
  spec.subject = "O=" + cn + ",CN=" + cn;
  spec.not_before = std::time(nullptr) - 3600;
  spec.not_after = std::time(nullptr) + 86400L * days;
  spec.registered_id.clear();
  return spec;
}
}  // namespace

Issued issue_operator_ca(const std::string& cn, int days) {
  auto key = crypto::EcKey::generate(crypto::Curve::P256);
  Bytes der = issue_certificate(operator_spec(Role::Ci, cn, days), key, key, nullptr);
  return {der, std::move(key)};
}

Issued issue_operator_certificate(const Issued& ca, const std::string& cn, int days) {
  auto key = crypto::EcKey::generate(crypto::Curve::P256);
  auto ca_cert = ca.cert();
  return {issue_certificate(operator_spec(Role::DpTls, cn, days), key, ca.key, &ca_cert), std::move(key)};
}

}  // namespace rsp::certs
