// rsp-certs: generate an SGP.26-shaped test PKI, check eUICC / SM-DP+
// certificate chains the way the SM-DP+ and the eUICC do, show a certificate.
//
//   rsp-certs generate --out DIR --curve nist|brp|both [--eid EID] [--dp-host HOST] [--days N] [--eum-org O] [--force]
//   rsp-certs verify-euicc --ci CI.der [--ci CI2.der] --eum EUM.der --euicc EUICC.der [--at 2025-01-01]
//   rsp-certs verify-dp --ci CI.der --cert DP.der --role auth|pb|tls [--at ...]
//   rsp-certs show FILE.der|FILE.pem ...
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>

#include "rsp/certs.hpp"
#include "rsp/cli.hpp"
#include "rsp/pki.hpp"

using namespace rsp;
using namespace rsp::certs;

namespace {

std::string fmt_time(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::time_t parse_time(const std::string& s) {
  if (s.empty() || s == "now") return std::time(nullptr);
  std::tm tm{};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &se) >= 3) {
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    return timegm(&tm);
  }
  throw CLI::ValidationError("--at", "expected YYYY-MM-DD[THH:MM:SS] or 'now'");
}

Certificate load(const std::string& path) { return parse(der_from_pem_or_der(read_file(path))); }

std::string role_of(const Certificate& c) {
  std::string out;
  for (Role r : {Role::Ci, Role::Eum, Role::Euicc, Role::DpTls, Role::DpAuth, Role::DpPb})
    if (c.has_policy(role_policy_oid(r))) out += (out.empty() ? "" : ", ") + std::string(role_name(r));
  return out.empty() ? "(no SGP.22 role policy)" : out;
}

void show(const Certificate& c) {
  std::cout << "subject:        " << c.subject << "\n"
            << "issuer:         " << c.issuer << "\n"
            << "serial:         " << to_hex(c.serial, true) << "\n"
            << "validity:       " << fmt_time(c.not_before) << " .. " << fmt_time(c.not_after) << "\n"
            << "curve:          " << crypto::curve_name(c.curve) << "\n"
            << "public key:     " << to_hex(c.public_point, true) << "\n"
            << "role:           " << role_of(c) << "\n"
            << "policies:      ";
  for (auto& p : c.policies) std::cout << " " << p;
  std::cout << "\n";
  std::cout << "keyUsage:      ";
  if (!c.has_key_usage) std::cout << " (absent)";
  if (c.key_usage & ku::kDigitalSignature) std::cout << " digitalSignature";
  if (c.key_usage & ku::kKeyCertSign) std::cout << " keyCertSign";
  if (c.key_usage & ku::kCrlSign) std::cout << " cRLSign";
  std::cout << "\n";
  std::cout << "basic:          " << (c.is_ca ? "CA" : "end entity");
  if (c.path_len >= 0) std::cout << ", pathLen " << c.path_len;
  std::cout << "\n";
  std::cout << "SKI:            " << to_hex(c.subject_key_id, true) << "\n";
  std::cout << "AKI:            " << to_hex(c.authority_key_id, true) << "\n";
  if (!c.subject_serial_number.empty()) std::cout << "subject serial: " << c.subject_serial_number << "\n";
  if (c.permitted_eid_prefix || c.permitted_organization)
    std::cout << "permitted:      O=" << c.permitted_organization.value_or("") << ", EID prefix "
              << c.permitted_eid_prefix.value_or("") << "\n";
  if (c.server_auth) std::cout << "EKU:            serverAuth\n";
  for (auto& d : c.dns_names) std::cout << "dNSName:        " << d << "\n";
}

int run_generate(const std::string& out, const std::string& curve, const PkiOptions& base, bool force) {
  std::vector<crypto::Curve> curves;
  if (curve == "both")
    curves = {crypto::Curve::P256, crypto::Curve::BrainpoolP256r1};
  else
    curves = {crypto::curve_from_name(curve)};
  // Refuse before writing anything: a second run into the same folder would
  // replace every key and certificate that SM-DP+s and eUICCs already trust
  // (issue 13). A reused NIST CI (brainpool set) is written back unchanged and
  // is not an overwrite; the DP TLS certificate under it is.
  if (!force) {
    for (auto c : curves) {
      for (const auto& p : pki_file_paths(c, out)) {
        std::error_code ec;
        if (std::filesystem::exists(std::filesystem::symlink_status(p, ec))) {
          std::cerr << "rsp-certs: " << p.string() << " exists; not overwriting keys and certificates (--force to replace)\n";
          return cli::exit_failed;
        }
      }
    }
  }
  for (auto c : curves) {
    PkiOptions o = base;
    o.curve = c;
    std::optional<Issued> tls_ci;
    if (c != crypto::Curve::P256) {
      // Keep an existing NIST CI so a NIST set generated earlier stays valid.
      tls_ci = load_issued(std::filesystem::path(out) / "CERT_CI_ECDSA_NIST.der",
                           std::filesystem::path(out) / "SK_CI_ECDSA_NIST.pem");
      if (tls_ci) std::cerr << "reusing " << out << "/CERT_CI_ECDSA_NIST.der as the TLS CI\n";
    }
    Pki pki = generate_pki(o, std::move(tls_ci));
    for (auto& p : write_pki(pki, out)) std::cout << p.string() << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"SGP.22 / SGP.26 certificates: generate a test PKI, verify chains, show certificates"};
  app.require_subcommand(1);

  auto* gen = app.add_subcommand("generate", "create CI, EUM, eUICC, DPauth, DPpb and DP TLS certificates and keys");
  std::string out, curve = "nist";
  PkiOptions opt;
  gen->add_option("--out", out, "output folder")->required();
  gen->add_option("--curve", curve, "nist, brp or both")->check(CLI::IsMember({"nist", "brp", "both"}));
  gen->add_option("--eid", opt.eid, "EID of the eUICC (32 digits; its first 8 become the EUM's permitted prefix)");
  gen->add_option("--dp-host", opt.dp_host, "SM-DP+ host name (DP certificates' CN, TLS dNSName)");
  gen->add_option("--days", opt.days, "validity in days")->check(CLI::PositiveNumber);
  gen->add_option("--eum-org", opt.eum_organization, "EUM organisation (O of the EUM and eUICC)");
  bool force = false;
  gen->add_flag("--force", force, "replace keys and certificates already in --out (default: refuse, exit 1)");

  auto* ve = app.add_subcommand("verify-euicc", "check CERT.EUICC under CERT.EUM under a trusted CI (SGP.22 5.6.1)");
  std::vector<std::string> cis;
  std::string eum, euicc, at;
  ve->add_option("--ci", cis, "trusted CI certificate(s)")->required();
  ve->add_option("--eum", eum, "EUM certificate")->required();
  ve->add_option("--euicc", euicc, "eUICC certificate")->required();
  ve->add_option("--at", at, "check validity at this time (YYYY-MM-DD[THH:MM:SS], UTC; default now)");

  auto* vd = app.add_subcommand("verify-dp", "check CERT.DPauth / CERT.DPpb / DP TLS under a trusted CI");
  std::string dp, role = "auth";
  vd->add_option("--ci", cis, "trusted CI certificate(s)")->required();
  vd->add_option("--cert", dp, "SM-DP+ certificate")->required();
  vd->add_option("--role", role, "auth, pb or tls")->check(CLI::IsMember({"auth", "pb", "tls"}));
  vd->add_option("--at", at, "check validity at this time (default now)");

  auto* sh = app.add_subcommand("show", "print a certificate's SGP.22-relevant fields");
  std::vector<std::string> files;
  sh->add_option("files", files, "certificate files (DER or PEM)")->required();

  auto* crl_cmd = app.add_subcommand("crl", "issue a CRL (SGP.22 4.6) with a CI's key, revoking certificates it issued");
  std::string crl_ci, crl_key, crl_out;
  std::vector<std::string> revoke;
  int crl_days = 7;
  std::uint64_t crl_number = 1;
  crl_cmd->add_option("--ci", crl_ci, "issuer certificate (the CI)")->required();
  crl_cmd->add_option("--key", crl_key, "issuer private key (PEM)")->required();
  crl_cmd->add_option("--revoke", revoke, "certificate(s) to list as revoked (DER or PEM)");
  crl_cmd->add_option("--days", crl_days, "nextUpdate this many days from now")->check(CLI::PositiveNumber);
  crl_cmd->add_option("--number", crl_number, "cRLNumber (a fresher CRL needs a higher one)");
  crl_cmd->add_option("--out", crl_out, "output file (DER)")->required();

  if (auto rc = cli::parse(app, argc, argv, "rsp-certs")) return *rc;

  try {
    if (*gen) return run_generate(out, curve, opt, force);
    if (*ve || *vd) {
      std::vector<Certificate> trusted;
      for (auto& f : cis) trusted.push_back(load(f));
      std::time_t now = parse_time(at);
      try {
        if (*ve) {
          Certificate c = verify_euicc_chain(der_from_pem_or_der(read_file(euicc)), der_from_pem_or_der(read_file(eum)),
                                             trusted, now);
          std::cout << "OK: eUICC " << c.subject_serial_number << " (" << crypto::curve_name(c.curve) << ")\n";
        } else {
          Role r = role == "auth" ? Role::DpAuth : role == "pb" ? Role::DpPb : Role::DpTls;
          Certificate c = verify_dp_cert(der_from_pem_or_der(read_file(dp)), r, trusted, now);
          std::cout << "OK: " << role_name(r) << " " << c.subject << "\n";
        }
      } catch (const ValidationError& e) {
        static const char* kinds[] = {"UnknownCi", "BadSignature", "Expired",   "WrongRole",
                                      "EidOutsideConstraint", "Malformed", "Revoked", "KeyMismatch"};
        std::cout << "FAILED (" << kinds[static_cast<int>(e.kind)] << "): " << e.what() << "\n";
        return 1;
      }
      return 0;
    }
    if (*crl_cmd) {
      Certificate issuer = load(crl_ci);
      auto key = crypto::EcKey::from_pem_or_der(read_file(crl_key));
      CrlSpec spec;
      for (const auto& f : revoke) spec.revoked_serials.push_back(load(f).serial);
      spec.this_update = std::time(nullptr) - 60;
      spec.next_update = std::time(nullptr) + static_cast<std::time_t>(crl_days) * 86400;
      spec.crl_number = crl_number;
      Bytes der = issue_crl(spec, issuer, key);
      std::ofstream f(crl_out, std::ios::binary);
      f.write(reinterpret_cast<const char*>(der.data()), static_cast<std::streamsize>(der.size()));
      if (!f.flush()) throw std::runtime_error("cannot write " + crl_out);
      std::cout << crl_out << ": " << revoke.size() << " revoked, cRLNumber " << crl_number << "\n";
      return 0;
    }
    if (*sh) {
      bool first = true;
      for (auto& f : files) {
        if (!first) std::cout << "\n";
        first = false;
        if (files.size() > 1) std::cout << "== " << f << "\n";
        show(load(f));
      }
      return 0;
    }
  } catch (const CLI::ValidationError& e) {  // --at that does not parse: a usage error
    std::cerr << "rsp-certs: " << e.what() << "\n";
    return cli::exit_usage;
  } catch (const std::exception& e) {
    std::cerr << "rsp-certs: " << e.what() << "\n";
    return cli::exit_failed;
  }
  return 0;
}
