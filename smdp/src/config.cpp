#include "rsp/smdp/config.hpp"


#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "rsp/file.hpp"
#include "rsp/json.hpp"
#include "rsp/store.hpp"
#include "rsp/pki.hpp"
#include "rsp/pkcs11.hpp"
#include "rsp/smdp/token_keys.hpp"

namespace rsp::smdp {

namespace {

using nlohmann::json;

// Reads one JSON object of the configuration: every key must be known, every
// value of the right type and in range; errors name the field ("limits.port").
class Section {
 public:
  Section(const json& j, std::string path, std::set<std::string> known) : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) fail(path_.empty() ? "the configuration" : path_, "must be an object");
    for (auto it = j_.begin(); it != j_.end(); ++it)
      if (!known.count(it.key())) fail(name(it.key()), "is not a configuration key");
  }

  bool has(const char* k) const { return j_.contains(k); }
  const json& at(const char* k) const {
    if (!has(k)) fail(name(k), "is required");
    return j_.at(k);
  }
  std::string name(const std::string& k) const { return path_.empty() ? k : path_ + "." + k; }

  std::string text(const char* k, const std::string& fallback, bool required = false) const {
    if (!has(k)) {
      if (required) fail(name(k), "is required");
      return fallback;
    }
    const json& v = j_.at(k);
    if (!v.is_string()) fail(name(k), "must be a string");
    return v.get<std::string>();
  }
  bool flag(const char* k, bool fallback) const {
    if (!has(k)) return fallback;
    if (!j_.at(k).is_boolean()) fail(name(k), "must be true or false");
    return j_.at(k).get<bool>();
  }
  std::int64_t integer(const char* k, std::int64_t fallback, std::int64_t min, std::int64_t max) const {
    if (!has(k)) return fallback;
    const json& v = j_.at(k);
    if (!v.is_number_integer()) fail(name(k), "must be an integer");
    // Unsigned values above INT64_MAX are out of range as well.
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(max))
      fail(name(k), std::to_string(v.get<std::uint64_t>()) + " " + out_of_range(min, max));
    std::int64_t x = v.get<std::int64_t>();
    if (x < min || x > max) fail(name(k), std::to_string(x) + " " + out_of_range(min, max));
    return x;
  }
  double number(const char* k, double fallback, double min, double max) const {
    if (!has(k)) return fallback;
    const json& v = j_.at(k);
    if (!v.is_number()) fail(name(k), "must be a number");
    double x = v.get<double>();
    if (!std::isfinite(x) || x < min || x > max)
      fail(name(k), "is out of range (" + std::to_string(min) + " to " + std::to_string(max) + ")");
    return x;
  }

  [[noreturn]] static void fail(const std::string& field, const std::string& why) {
    throw std::runtime_error(field + " " + why);
  }

 private:
  static std::string out_of_range(std::int64_t min, std::int64_t max) {
    return "is out of range (" + std::to_string(min) + " to " + std::to_string(max) + ")";
  }
  const json& j_;
  std::string path_;
};

constexpr std::int64_t kDay = 86400;

// Key files must be private to their owner: a key others can read is a key
// others may have (the check is on the mode bits, as root can read anyway).
Bytes read_key_file(const std::filesystem::path& p, const std::string& field) {
  std::error_code ec;
  if (!std::filesystem::exists(p, ec)) Section::fail(field, "names " + p.string() + ", which cannot be read");
  try {
    return read_private_file(p.string());
  } catch (const std::runtime_error& e) {
    Section::fail(field, std::string("names ") + e.what());
  }
}

// A DPauth/DPpb key that is not the one of its certificate would only show
// when an eUICC refuses the first signature: refuse it at start.
void check_key_matches(const Bytes& cert_der, const std::string& key_pem, const std::string& field) {
  Bytes cert_point, key_point;
  try {
    cert_point = certs::parse(cert_der).public_point;
  } catch (const std::exception&) {
    Section::fail(field, "certificate is not a valid X.509 certificate");
  }
  try {
    key_point = crypto::EcKey::from_pem_or_der(to_bytes(key_pem)).public_point();
  } catch (const std::exception&) {
    Section::fail(field, "key is not a valid EC private key");
  }
  if (cert_point != key_point) Section::fail(field, "key does not match its certificate");
}

// Configuration files are small and flat.
const JsonLimits kConfigLimits = [] {
  JsonLimits l;
  l.max_bytes = 1024 * 1024;
  l.max_depth = 8;
  l.max_values = 10'000;
  l.max_string_bytes = 64 * 1024;
  return l;
}();

}  // namespace

Config load_config(const std::string& path) {
  std::filesystem::path base = std::filesystem::path(path).parent_path();
  auto rel = [&](const std::string& p) {
    return std::filesystem::path(p).is_absolute() ? std::filesystem::path(p) : base / p;
  };
  json j;
  try {
    j = parse_json(to_string(read_file(path)), kConfigLimits);
  } catch (const JsonError& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  Config c;
  try {
    Section top(j, "",
                {"address", "db", "session_timeout_seconds", "max_cc_attempts", "max_download_attempts",
                 "order_expiry_seconds", "use_ppk", "listen", "port", "threads", "tls", "storage_key_file", "es2plus",
                 "operators", "credentials", "limits", "crls", "allow_eum_without_name_constraints", "admin", "log"});
    c.address = top.text("address", c.address);
    c.db_path = top.text("db", c.db_path);
    if (!store::is_postgres_uri(c.db_path)) c.db_path = rel(c.db_path).string();  // a URI is no file name
    c.session_timeout_seconds =
        static_cast<int>(top.integer("session_timeout_seconds", c.session_timeout_seconds, 1, kDay));
    c.max_cc_attempts = static_cast<int>(top.integer("max_cc_attempts", c.max_cc_attempts, 1, 1000));
    c.max_download_attempts = static_cast<int>(top.integer("max_download_attempts", c.max_download_attempts, 1, 1000));
    c.order_expiry_seconds = top.integer("order_expiry_seconds", c.order_expiry_seconds, 0, 3650 * kDay);
    c.use_ppk = top.flag("use_ppk", c.use_ppk);
    c.listen = top.text("listen", c.listen);
    c.port = static_cast<std::uint16_t>(top.integer("port", c.port, 0, 65535));
    c.threads = static_cast<std::size_t>(top.integer("threads", static_cast<std::int64_t>(c.threads), 1, 256));

    Section tls(top.at("tls"), "tls", {"certificate", "key", "ci_certificate"});
    c.tls_certificate = read_file(rel(tls.text("certificate", "", true)).string());
    // A key file, or a key in a PKCS#11 token (docs/hardening.md, "Keys in
    // an HSM"), which OpenSSL's handshakes sign with through our signer.
    if (std::string ref = tls.text("key", "", true); pkcs11::is_uri(ref))
      c.tls_signer = open_token_key(ref, base, c.tls_certificate, "tls.key");
    else
      c.tls_key = read_key_file(rel(ref), "tls.key");
    if (tls.has("ci_certificate")) c.tls_ci_certificate = read_file(rel(tls.text("ci_certificate", "")).string());
    c.allow_eum_without_name_constraints =
        top.flag("allow_eum_without_name_constraints", c.allow_eum_without_name_constraints);
    if (top.has("crls")) {
      const json& crls = top.at("crls");
      if (!crls.is_array()) Section::fail("crls", "must be an array of file names");
      for (std::size_t i = 0; i < crls.size(); ++i) {
        std::string at = "crls[" + std::to_string(i) + "]";
        if (!crls[i].is_string()) Section::fail(at, "must be a file name");
        auto file = rel(crls[i].get<std::string>());
        if (!std::filesystem::exists(file)) Section::fail(at, "names " + file.string() + ", which cannot be read");
        CrlSource src;
        src.name = at + " (" + file.string() + ")";
        src.der = read_file(file.string());
        c.crls.push_back(std::move(src));
      }
    }

    std::string key_hex = to_string(read_key_file(rel(top.text("storage_key_file", "", true)), "storage_key_file"));
    while (!key_hex.empty() && std::isspace(static_cast<unsigned char>(key_hex.back()))) key_hex.pop_back();
    try {
      c.storage_key = from_hex(key_hex);
    } catch (const DecodeError&) {
      Section::fail("storage_key_file", "must hold 64 hex digits (an AES-256 key)");
    }
    if (c.storage_key.size() != 32) Section::fail("storage_key_file", "must hold 64 hex digits (an AES-256 key)");

    if (top.has("es2plus")) {
      Section e(top.at("es2plus"), "es2plus",
                {"port", "client_ca", "endpoint_ca", "client_certificate", "client_key", "functional_id"});
      c.es2plus_port = static_cast<std::uint16_t>(e.integer("port", 8444, 1, 65535));
      c.operator_ca = read_file(rel(e.text("client_ca", "", true)).string());
      if (e.has("endpoint_ca")) c.operator_endpoint_ca_file = rel(e.text("endpoint_ca", "")).string();
      // Our client credential for the calls to operators (HandleDownloadProgressInfo, SGP.22 5.3.5): ES2+ is
      // mutually authenticated both ways.
      if (e.has("client_certificate")) c.es2_client_certificate = read_file(rel(e.text("client_certificate", "")).string());
      if (e.has("client_key")) c.es2_client_key = read_key_file(rel(e.text("client_key", "")), "es2plus.client_key");
      c.functional_id = e.text("functional_id", c.functional_id);
    }
    if (top.has("operators")) {
      const json& ops = top.at("operators");
      if (!ops.is_array()) Section::fail("operators", "must be an array");
      for (std::size_t i = 0; i < ops.size(); ++i) {
        Section o(ops[i], "operators[" + std::to_string(i) + "]", {"id", "certificate", "notification_url"});
        OperatorConfig oc;
        oc.id = o.text("id", "", true);
        oc.certificate = certs::der_from_pem_or_der(read_file(rel(o.text("certificate", "", true)).string()));
        oc.notification_url = o.text("notification_url", "");
        c.operators.push_back(std::move(oc));
      }
    }
    // Our ES2+ calls to operators (libcurl) present the TLS certificate and
    // key unless es2plus names others; libcurl cannot sign with a token key.
    bool notifies = false;
    for (const auto& o : c.operators) notifies = notifies || !o.notification_url.empty();
    if (c.tls_signer && notifies && c.es2_client_key.empty())
      Section::fail("es2plus.client_key", "is needed when tls.key is a PKCS#11 key and operators have a "
                                          "notification_url (the ES2+ client cannot sign with a token key)");
    const json& creds = top.at("credentials");
    if (!creds.is_array() || creds.empty()) Section::fail("credentials", "must be a non-empty array");
    for (std::size_t i = 0; i < creds.size(); ++i) {
      std::string at = "credentials[" + std::to_string(i) + "]";
      Section cj(creds[i], at, {"ci_certificate", "dpauth_certificate", "dpauth_key", "dppb_certificate", "dppb_key"});
      CredentialSet s;
      s.ci_certificate = read_file(rel(cj.text("ci_certificate", "", true)).string());
      s.dpauth_certificate = read_file(rel(cj.text("dpauth_certificate", "", true)).string());
      s.dppb_certificate = read_file(rel(cj.text("dppb_certificate", "", true)).string());
      // A key file, or a key in a PKCS#11 token (an RFC 7512 URI).
      auto load_key = [&](const char* k, const Bytes& cert, std::string& pem, std::shared_ptr<const crypto::Signer>& signer) {
        std::string ref = cj.text(k, "", true), f = at + "." + k;
        if (pkcs11::is_uri(ref)) {
          signer = open_token_key(ref, base, cert, f);
          return;
        }
        pem = to_string(read_key_file(rel(ref), f));
        check_key_matches(certs::der_from_pem_or_der(cert), pem, f);
      };
      load_key("dpauth_key", s.dpauth_certificate, s.dpauth_key_pem, s.dpauth_signer);
      load_key("dppb_key", s.dppb_certificate, s.dppb_key_pem, s.dppb_signer);
      c.credentials.push_back(std::move(s));
    }
    if (top.has("limits")) {
      Section l(top.at("limits"), "limits",
                {"es9plus_max_body_bytes", "es9plus_small_body_bytes", "es2plus_max_body_bytes", "max_connections", "handshake_timeout_seconds",
                 "header_timeout_seconds", "read_timeout_seconds", "initiate_authentication_per_second",
                 "initiate_authentication_burst", "session_retention_seconds", "session_purge_interval_seconds"});
      Limits& L = c.limits;
      auto size = [&](const char* k, std::size_t v, std::int64_t min, std::int64_t max) {
        return static_cast<std::size_t>(l.integer(k, static_cast<std::int64_t>(v), min, max));
      };
      auto secs = [&](const char* k, int v, std::int64_t min, std::int64_t max) {
        return static_cast<int>(l.integer(k, v, min, max));
      };
      L.es9plus_max_body_bytes = size("es9plus_max_body_bytes", L.es9plus_max_body_bytes, 1024, 4 << 20);
      L.es9plus_small_body_bytes = size("es9plus_small_body_bytes", L.es9plus_small_body_bytes, 1024, 4 << 20);
      L.es2plus_max_body_bytes = size("es2plus_max_body_bytes", L.es2plus_max_body_bytes, 1024, 4 << 20);
      L.max_connections = size("max_connections", L.max_connections, 1, 1'000'000);
      L.handshake_timeout_seconds = secs("handshake_timeout_seconds", L.handshake_timeout_seconds, 1, 3600);
      L.header_timeout_seconds = secs("header_timeout_seconds", L.header_timeout_seconds, 1, 3600);
      L.read_timeout_seconds = secs("read_timeout_seconds", L.read_timeout_seconds, 1, 3600);
      L.initiate_authentication_per_second =
          l.number("initiate_authentication_per_second", L.initiate_authentication_per_second, 0, 1e6);
      L.initiate_authentication_burst =
          secs("initiate_authentication_burst", L.initiate_authentication_burst, 0, 1'000'000);
      L.session_retention_seconds = secs("session_retention_seconds", L.session_retention_seconds, 0, 365 * kDay);
      L.session_purge_interval_seconds =
          secs("session_purge_interval_seconds", L.session_purge_interval_seconds, 1, kDay);
    }
    if (top.has("admin")) {
      Section a(top.at("admin"), "admin", {"listen", "port", "allow_remote"});
      c.admin.listen = a.text("listen", c.admin.listen);
      c.admin.port = static_cast<std::uint16_t>(a.integer("port", 0, 0, 65535));
      c.admin.allow_remote = a.flag("allow_remote", false);
      c.admin.enabled = c.admin.port != 0;
      if (c.admin.enabled) check_admin_listen(c.admin);
    }
    if (top.has("log")) {
      Section l(top.at("log"), "log", {"format", "access", "level"});
      c.log_format = l.text("format", "");
      if (!c.log_format.empty() && c.log_format != "text" && c.log_format != "json")
        Section::fail("log.format", "must be \"text\" or \"json\"");
      c.access_log = l.flag("access", false);
      c.log_level = l.text("level", "");
      if (!c.log_level.empty() && c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" &&
          c.log_level != "error")
        Section::fail("log.level", "must be debug, info, warn or error");
    }
  } catch (const nlohmann::json::exception& e) {  // not expected: every access above is checked
    throw std::runtime_error(path + ": invalid configuration");
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  return c;
}

Config config_from_pki(const certs::Pki& pki, const std::string& address, const std::string& db_path) {
  Config c;
  c.address = address;
  if (auto colon = address.rfind(':'); colon != std::string::npos)
    c.port = static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1)));
  c.db_path = db_path;
  c.storage_key = crypto::random_bytes(32);
  c.tls_certificate = pki.dp_tls.der;
  c.tls_key = to_bytes(pki.dp_tls.key.private_pem());
  if (pki.tls_ci) c.tls_ci_certificate = pki.tls_ci->der;
  CredentialSet cs;
  cs.ci_certificate = pki.ci.der;
  cs.dpauth_certificate = pki.dp_auth.der;
  cs.dpauth_key_pem = pki.dp_auth.key.private_pem();
  cs.dppb_certificate = pki.dp_pb.der;
  cs.dppb_key_pem = pki.dp_pb.key.private_pem();
  c.credentials.push_back(cs);
  return c;
}

std::size_t es9plus_body_limit(const Limits& limits, std::string_view path) {
  std::string_view function = path.substr(path.rfind('/') + 1);
  if (function == "authenticateClient" || function == "handleNotification") return limits.es9plus_max_body_bytes;
  return std::min(limits.es9plus_small_body_bytes, limits.es9plus_max_body_bytes);
}

}  // namespace rsp::smdp
