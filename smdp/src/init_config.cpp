#include "rsp/smdp/init_config.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <system_error>

#include "rsp/certs.hpp"
#include "rsp/crypto.hpp"
#include "rsp/file.hpp"
#include "rsp/pki.hpp"
#include "rsp/smdp/config.hpp"
#include "rsp/smdp/credential_check.hpp"

namespace rsp::smdp {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& why) { throw std::runtime_error(why); }

bool path_exists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(p, ec));
}

// Absolute, so the configuration works whatever folder smdpd is started from
// and wherever smdpd.json is moved to (load_config resolves relative paths
// against the configuration's folder, not the rsp-certs one).
std::string absolute_path(const fs::path& p) { return fs::weakly_canonical(fs::absolute(p)).string(); }

certs::Certificate parse_certificate(const fs::path& p, const std::string& what) {
  try {
    return certs::parse(certs::der_from_pem_or_der(read_file(p.string())));
  } catch (const std::exception& e) {
    fail(what + " " + p.string() + " is not a usable certificate: " + e.what());
  }
}

void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove(p, ec);
}

}  // namespace

InitOperator parse_init_operator(const std::string& spec) {
  auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    throw std::invalid_argument("--operator wants ID=CERT.pem[,NOTIFICATION_URL], got '" + spec + "'");
  InitOperator o;
  o.id = spec.substr(0, eq);
  std::string rest = spec.substr(eq + 1);
  if (auto comma = rest.find(','); comma != std::string::npos) {
    o.notification_url = rest.substr(comma + 1);
    rest = rest.substr(0, comma);
    if (o.notification_url.rfind("https://", 0) != 0)
      throw std::invalid_argument("--operator " + o.id + ": the notification URL must be https:// (ES2+ is mutual TLS)");
  }
  o.certificate = rest;
  return o;
}

InitResult init_config(const InitOptions& opt) {
  const fs::path& in = opt.certs_dir;
  std::error_code ec;
  if (!fs::is_directory(in, ec)) fail("--certs " + in.string() + " is not a folder (make one with rsp-certs generate --out)");

  // What `rsp-certs generate` writes (certs/src/generate.cpp pki_file_paths):
  // one credential set per curve present, the TLS certificate always P-256
  // under the NIST CI (SGP.22 2.6.6).
  auto need = [&](const std::string& name) {
    fs::path p = in / name;
    if (!path_exists(p)) fail(in.string() + " has no " + name + ": not an rsp-certs folder? (rsp-certs generate --out " + in.string() + ")");
    return p;
  };
  fs::path tls_cert = need("CERT_S_SM_DP_TLS_NIST.der"), tls_key = need("SK_S_SM_DP_TLS_NIST.pem"),
           tls_ci = need("CERT_CI_ECDSA_NIST.der");
  nlohmann::ordered_json credentials = nlohmann::ordered_json::array();
  for (const char* sfx : {"NIST", "BRP"}) {
    std::string s = sfx;
    if (!path_exists(in / ("CERT_S_SM_DPauth_ECDSA_" + s + ".der"))) continue;
    credentials.push_back({{"ci_certificate", absolute_path(need("CERT_CI_ECDSA_" + s + ".der"))},
                           {"dpauth_certificate", absolute_path(need("CERT_S_SM_DPauth_ECDSA_" + s + ".der"))},
                           {"dpauth_key", absolute_path(need("SK_S_SM_DPauth_ECDSA_" + s + ".pem"))},
                           {"dppb_certificate", absolute_path(need("CERT_S_SM_DPpb_ECDSA_" + s + ".der"))},
                           {"dppb_key", absolute_path(need("SK_S_SM_DPpb_ECDSA_" + s + ".pem"))}});
  }
  if (credentials.empty())
    fail(in.string() + " has no CERT_S_SM_DPauth_ECDSA_NIST.der nor _BRP.der: not an rsp-certs folder?");

  // The address is what activation codes carry and what the LPA's TLS check
  // matches against the certificate's dNSName (SGP.22 4.1, 2.6.6): a name
  // the certificate does not carry would make every download fail.
  auto tls = parse_certificate(tls_cert, "the TLS certificate");
  std::string host = opt.hostname;
  if (host.empty()) {
    if (tls.dns_names.empty()) fail(tls_cert.string() + " names no host (no dNSName): give --hostname");
    host = tls.dns_names.front();
  } else {
    auto lower = [](std::string s) {
      std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
      return s;
    };
    bool named = false;
    for (const auto& d : tls.dns_names) named = named || lower(d) == lower(host);
    if (!named)
      fail("the TLS certificate " + tls_cert.string() + " is for " +
           (tls.dns_names.empty() ? std::string("no host") : tls.dns_names.front()) + ", not " + host +
           " (rsp-certs generate --dp-host " + host + ")");
  }
  std::string address = opt.port == 443 ? host : host + ":" + std::to_string(opt.port);

  // ES2+ (SGP.22 5.3): the operators' CA and each operator's own certificate.
  fs::path op_ca = opt.operator_ca;
  if (op_ca.empty() && path_exists(in / "operators-ca.pem")) op_ca = in / "operators-ca.pem";
  std::vector<std::string> notes;
  nlohmann::ordered_json operators = nlohmann::ordered_json::array();
  if (!op_ca.empty()) {
    auto ca = parse_certificate(op_ca, "the operator CA");
    for (const auto& o : opt.operators) {
      auto c = parse_certificate(o.certificate, "operator " + o.id + "'s certificate");
      if (c.issuer_dn != ca.subject_dn)
        fail("operator " + o.id + "'s certificate " + o.certificate.string() + " is issued by " + c.issuer + ", not by the operator CA " +
             ca.subject);
      nlohmann::ordered_json j = {{"id", o.id}, {"certificate", absolute_path(o.certificate)}};
      if (!o.notification_url.empty()) j["notification_url"] = o.notification_url;
      operators.push_back(std::move(j));
    }
  } else if (!opt.operators.empty()) {
    fail("--operator needs the operators' CA (--operator-ca FILE)");
  }
  bool es2plus = !op_ca.empty() && opt.es2plus_port != 0;
  if (!es2plus) notes.push_back("ES2+ is off: give --operator-ca (and --operator ID=CERT) to serve operators");

  fs::path out = opt.out_dir;
  fs::path config = out / "smdpd.json", key = out / "storage.key";
  if (path_exists(config) && !opt.force) fail(config.string() + " exists; not overwriting it (--force to replace)");
  bool keep_key = path_exists(key);
  if (keep_key && !opt.force) fail(key.string() + " exists; not overwriting it (--force keeps it and replaces smdpd.json)");

  nlohmann::ordered_json j;
  j["address"] = address;
  j["listen"] = opt.listen;
  j["port"] = opt.port;
  j["db"] = opt.store.empty() ? std::string("smdp.db") : opt.store;
  j["storage_key_file"] = "storage.key";
  j["tls"] = {{"certificate", absolute_path(tls_cert)}, {"key", absolute_path(tls_key)}, {"ci_certificate", absolute_path(tls_ci)}};
  j["credentials"] = credentials;
  if (es2plus) {
    j["es2plus"] = {{"port", opt.es2plus_port}, {"client_ca", absolute_path(op_ca)}, {"functional_id", host}};
    j["operators"] = operators;
  }
  if (opt.admin_port) j["admin"] = {{"listen", "127.0.0.1"}, {"port", opt.admin_port}};

  bool made_dir = !fs::exists(out, ec);
  fs::create_directories(out, ec);
  if (ec) fail("cannot create " + out.string() + ": " + ec.message());
  InitResult r;
  r.config = config;
  r.notes = std::move(notes);
  bool made_key = false;
  fs::path tmp = out / "smdpd.json.tmp";
  try {
    if (!keep_key) {
      // A fresh AES-256 key for the packages at rest (Ki, OPc), never printed.
      SecretBytes k(crypto::random_bytes(32));
      std::string hex = to_hex(k) + "\n";
      create_private_file(key.string(), to_bytes(hex));
      wipe(hex.data(), hex.size());
      made_key = true;
      r.written.push_back(key.string() + " (storage key, mode 0600)");
    } else {
      r.notes.push_back("kept " + key.string() + ": the profiles in the store are encrypted under it");
    }
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      f << j.dump(2) << "\n";
      f.close();
      if (!f) fail("cannot write " + tmp.string());
    }
    // The very checks `serve` makes at start, before anything is replaced.
    Config loaded = load_config(tmp.string());
    std::time_t now = std::time(nullptr);
    check_own_credentials(loaded, load_crls(loaded, now), now);
    fs::rename(tmp, config, ec);
    if (ec) fail("cannot write " + config.string() + ": " + ec.message());
  } catch (...) {
    remove_quietly(tmp);
    if (made_key) remove_quietly(key);
    if (made_dir) remove_quietly(out);
    throw;
  }
  r.written.push_back(config.string() + " (configuration: ES9+ https://" + address +
                      (es2plus ? ", ES2+ port " + std::to_string(opt.es2plus_port) : std::string()) +
                      (opt.admin_port ? ", admin port " + std::to_string(opt.admin_port) : std::string()) + ")");
  return r;
}

}  // namespace rsp::smdp
