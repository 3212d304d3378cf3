// webd's configuration file (docs/web.md, "Configuration"): JSON, every key
// known (a typo is an error, not a default).
#include <filesystem>
#include <set>
#include <stdexcept>

#include "rsp/file.hpp"
#include "rsp/json.hpp"
#include "rsp/web/app.hpp"

namespace rsp::web {
namespace {

void only_keys(const nlohmann::json& j, const std::string& where, const std::set<std::string>& allowed) {
  if (!j.is_object()) throw std::runtime_error(where + " must be a JSON object");
  for (const auto& [k, v] : j.items())
    if (!allowed.count(k)) throw std::runtime_error("unknown key '" + k + "' in " + where);
}

std::string str(const nlohmann::json& j, const std::string& key, const std::string& where, bool required = true) {
  if (!j.contains(key)) {
    if (required) throw std::runtime_error(where + ": '" + key + "' is required");
    return "";
  }
  if (!j.at(key).is_string() || j.at(key).get<std::string>().empty())
    throw std::runtime_error(where + ": '" + key + "' must be a non-empty string");
  return j.at(key).get<std::string>();
}

std::int64_t num(const nlohmann::json& j, const std::string& key, const std::string& where, std::int64_t def, std::int64_t min,
                 std::int64_t max) {
  if (!j.contains(key)) return def;
  if (!j.at(key).is_number_integer()) throw std::runtime_error(where + ": '" + key + "' must be an integer");
  auto v = j.at(key).get<std::int64_t>();
  if (v < min || v > max)
    throw std::runtime_error(where + ": '" + key + "' must be from " + std::to_string(min) + " to " + std::to_string(max));
  return v;
}

}  // namespace

WebConfig WebConfig::load(const std::string& path) {
  auto text = read_file(path, 1 << 20);
  nlohmann::json j;
  try {
    j = parse_json(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()));
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  auto base = std::filesystem::path(path).parent_path();
  auto rel = [&](const std::string& p) {
    if (p.empty() || std::filesystem::path(p).is_absolute() || p.rfind("postgres", 0) == 0) return p;
    return (base / p).string();
  };
  only_keys(j, "the configuration", {"listen", "port", "tls", "store", "ledger", "session", "login", "tenants"});
  WebConfig c;
  c.bind_address = j.contains("listen") ? str(j, "listen", "the configuration") : "127.0.0.1";
  c.port = static_cast<std::uint16_t>(num(j, "port", "the configuration", 8443, 0, 65535));
  if (!j.contains("tls")) throw std::runtime_error("the configuration: 'tls' is required (webd serves HTTPS only)");
  only_keys(j.at("tls"), "tls", {"cert", "key"});
  c.tls_cert = rel(str(j.at("tls"), "cert", "tls"));
  c.tls_key = rel(str(j.at("tls"), "key", "tls"));
  c.store = rel(str(j, "store", "the configuration"));
  if (!j.contains("ledger")) throw std::runtime_error("the configuration: 'ledger' is required");
  only_keys(j.at("ledger"), "ledger", {"embedded"});
  c.ledger = rel(str(j.at("ledger"), "embedded", "ledger"));
  if (j.contains("session")) {
    only_keys(j.at("session"), "session", {"idle_minutes", "absolute_hours"});
    c.session_idle_seconds = num(j.at("session"), "idle_minutes", "session", 30, 1, 24 * 60) * 60;
    c.session_absolute_seconds = num(j.at("session"), "absolute_hours", "session", 12, 1, 24 * 7) * 3600;
  }
  if (j.contains("login")) {
    only_keys(j.at("login"), "login", {"max_failures", "window_minutes"});
    c.login_max_failures = static_cast<int>(num(j.at("login"), "max_failures", "login", 5, 1, 1000));
    c.login_window_seconds = num(j.at("login"), "window_minutes", "login", 15, 1, 24 * 60) * 60;
  }
  if (!j.contains("tenants") || !j.at("tenants").is_array() || j.at("tenants").empty())
    throw std::runtime_error("the configuration: 'tenants' must be a non-empty array");
  std::set<std::string> ids;
  for (const auto& t : j.at("tenants")) {
    only_keys(t, "a tenant", {"id", "name", "kind", "ledger_key", "seal_key", "reply_key"});
    TenantConfig tc;
    tc.id = str(t, "id", "a tenant");
    std::string where = "tenant " + tc.id;
    if (!ids.insert(tc.id).second) throw std::runtime_error(where + " is listed twice");
    tc.name = t.contains("name") ? str(t, "name", where) : tc.id;
    std::string kind = str(t, "kind", where);
    if (kind == "home-operator") tc.kind = TenantKind::HomeOperator;
    else if (kind == "visited-operator") tc.kind = TenantKind::VisitedOperator;
    else if (kind == "service-provider") tc.kind = TenantKind::ServiceProvider;
    else throw std::runtime_error(where + ": 'kind' must be home-operator, visited-operator or service-provider");
    tc.ledger_key = rel(str(t, "ledger_key", where));
    tc.seal_key = rel(str(t, "seal_key", where, tc.kind != TenantKind::HomeOperator));
    if (tc.kind == TenantKind::HomeOperator) tc.reply_key = rel(str(t, "reply_key", where, false));
    c.tenants.push_back(tc);
  }
  return c;
}

}  // namespace rsp::web
