#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "rsp/pki.hpp"
#include "rsp/smdp/config.hpp"

#include "rsp/file.hpp"

namespace rsp::smdp {

Config load_config(const std::string& path) {
  std::filesystem::path base = std::filesystem::path(path).parent_path();
  auto rel = [&](const std::string& p) { return std::filesystem::path(p).is_absolute() ? std::filesystem::path(p) : base / p; };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(to_string(read_file(path)));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  Config c;
  c.address = j.value("address", c.address);
  c.db_path = rel(j.value("db", c.db_path)).string();
  c.session_timeout_seconds = j.value("session_timeout_seconds", c.session_timeout_seconds);
  c.max_cc_attempts = j.value("max_cc_attempts", c.max_cc_attempts);
  c.max_download_attempts = j.value("max_download_attempts", c.max_download_attempts);
  c.order_expiry_seconds = j.value("order_expiry_seconds", c.order_expiry_seconds);
  c.use_ppk = j.value("use_ppk", c.use_ppk);
  c.listen = j.value("listen", c.listen);
  c.port = j.value("port", c.port);
  c.threads = j.value("threads", c.threads);
  c.tls_certificate = read_file(rel(j.at("tls").at("certificate")));
  c.tls_key = read_file(rel(j.at("tls").at("key")));
  std::string key_hex = to_string(read_file(rel(j.at("storage_key_file").get<std::string>())));
  while (!key_hex.empty() && std::isspace(static_cast<unsigned char>(key_hex.back()))) key_hex.pop_back();
  c.storage_key = from_hex(key_hex);
  if (j.contains("es2plus")) {
    const auto& e = j.at("es2plus");
    c.es2plus_port = e.value("port", std::uint16_t{8444});
    c.operator_ca = read_file(rel(e.at("client_ca")));
    if (e.contains("endpoint_ca")) c.operator_endpoint_ca_file = rel(e.at("endpoint_ca")).string();
    if (e.contains("client_certificate")) c.es2_client_certificate = read_file(rel(e.at("client_certificate")));
    if (e.contains("client_key")) c.es2_client_key = read_file(rel(e.at("client_key")));
    c.functional_id = e.value("functional_id", c.functional_id);
  }
  for (const auto& oj : j.value("operators", nlohmann::json::array())) {
    OperatorConfig o;
    o.id = oj.at("id");
    o.certificate = certs::der_from_pem_or_der(read_file(rel(oj.at("certificate"))));  // compared as DER
    o.notification_url = oj.value("notification_url", "");
    c.operators.push_back(std::move(o));
  }
  for (const auto& cj : j.at("credentials")) {
    CredentialSet s;
    s.ci_certificate = read_file(rel(cj.at("ci_certificate")));
    s.dpauth_certificate = read_file(rel(cj.at("dpauth_certificate")));
    s.dpauth_key_pem = to_string(read_file(rel(cj.at("dpauth_key"))));
    s.dppb_certificate = read_file(rel(cj.at("dppb_certificate")));
    s.dppb_key_pem = to_string(read_file(rel(cj.at("dppb_key"))));
    c.credentials.push_back(std::move(s));
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
  CredentialSet cs;
  cs.ci_certificate = pki.ci.der;
  cs.dpauth_certificate = pki.dp_auth.der;
  cs.dpauth_key_pem = pki.dp_auth.key.private_pem();
  cs.dppb_certificate = pki.dp_pb.der;
  cs.dppb_key_pem = pki.dp_pb.key.private_pem();
  c.credentials.push_back(cs);
  return c;
}

}  // namespace rsp::smdp
