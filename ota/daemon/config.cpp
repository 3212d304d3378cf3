#include "rsp/otad/config.hpp"

#include <cctype>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "rsp/file.hpp"
#include "rsp/json.hpp"

namespace rsp::otad {

namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& field, const std::string& why) { throw std::runtime_error(field + " " + why); }

// One JSON object of the file: known keys only, typed and ranged values
// (issue 9: "port 70000, threads -5 ... refused with the field named").
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
    if (!j_.at(k).is_string()) fail(name(k), "must be a string");
    return j_.at(k).get<std::string>();
  }
  std::int64_t integer(const char* k, std::int64_t fallback, std::int64_t min, std::int64_t max) const {
    if (!has(k)) return fallback;
    const json& v = j_.at(k);
    if (!v.is_number_integer()) fail(name(k), "must be an integer");
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(max))
      fail(name(k), "is out of range (" + std::to_string(min) + " to " + std::to_string(max) + ")");
    std::int64_t x = v.get<std::int64_t>();
    if (x < min || x > max) fail(name(k), "is out of range (" + std::to_string(min) + " to " + std::to_string(max) + ")");
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

 private:
  const json& j_;
  std::string path_;
};

SecretBytes private_file(const std::filesystem::path& p, const std::string& field) {
  try {
    return read_private_file(p.string());
  } catch (const std::exception& e) {
    fail(field, std::string("names a file that cannot be used: ") + e.what());
  }
}

std::string trimmed(SecretBytes b) {
  std::string s(b.begin(), b.end());
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

const JsonLimits kConfigLimits = [] {
  JsonLimits l;
  l.max_bytes = 256 * 1024;
  l.max_depth = 6;
  l.max_values = 2'000;
  l.max_string_bytes = 4 * 1024;
  return l;
}();

std::chrono::milliseconds ms(std::int64_t v) { return std::chrono::milliseconds(v); }

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
  Section top(j, "",
              {"db", "storage_key_file", "listen", "port", "threads", "tls", "client_ca", "smpp", "originator",
               "por_timeout_ms", "campaigns", "limits", "scp81", "admin"});
  c.db_path = rel(top.text("db", c.db_path)).string();
  c.listen = top.text("listen", c.listen);
  c.port = static_cast<std::uint16_t>(top.integer("port", c.port, 0, 65535));
  c.threads = static_cast<std::size_t>(top.integer("threads", static_cast<std::int64_t>(c.threads), 1, 64));
  Section tls(top.at("tls"), "tls", {"certificate", "key"});
  c.tls_certificate = read_file(rel(tls.text("certificate", "", true)).string());
  c.tls_key = private_file(rel(tls.text("key", "", true)), "tls.key");
  // Mutual TLS is not optional: the API moves keys and accounts onto cards.
  c.client_ca = read_file(rel(top.text("client_ca", "", true)).string());
  try {
    c.storage_key = from_hex(trimmed(private_file(rel(top.text("storage_key_file", "", true)), "storage_key_file")));
  } catch (const DecodeError&) {
    fail("storage_key_file", "must hold 64 hex digits (an AES-256 key)");
  }
  if (c.storage_key.size() != 32) fail("storage_key_file", "must hold 64 hex digits (an AES-256 key)");
  c.originator = top.text("originator", c.originator);
  if (c.originator.empty() || c.originator.size() > 20 ||
      c.originator.find_first_not_of("0123456789") != std::string::npos)
    fail("originator", "must be 1 to 20 digits");
  c.por_timeout_ms = static_cast<int>(top.integer("por_timeout_ms", c.por_timeout_ms, 100, 3'600'000));

  Section s(top.at("smpp"), "smpp",
            {"host", "port", "system_id", "password_file", "system_type", "window", "max_submits_per_second",
             "enquire_link_interval_ms", "response_timeout_ms", "max_reconnect_delay_ms"});
  c.smpp.host = s.text("host", c.smpp.host);
  c.smpp.port = static_cast<std::uint16_t>(s.integer("port", c.smpp.port, 1, 65535));
  c.smpp.bind.system_id = s.text("system_id", "", true);
  if (c.smpp.bind.system_id.size() > 15) fail("smpp.system_id", "is longer than 15 characters (SMPP 3.4 4.1.1)");
  c.smpp.bind.system_type = s.text("system_type", "");
  if (c.smpp.bind.system_type.size() > 12) fail("smpp.system_type", "is longer than 12 characters");
  if (s.has("password_file")) {
    c.smpp.bind.password = trimmed(private_file(rel(s.text("password_file", "")), "smpp.password_file"));
    if (c.smpp.bind.password.size() > 8) fail("smpp.password_file", "holds more than 8 characters (SMPP 3.4 4.1.1)");
  }
  c.smpp.window = static_cast<std::size_t>(s.integer("window", static_cast<std::int64_t>(c.smpp.window), 1, 1000));
  c.smpp.max_submits_per_second = s.number("max_submits_per_second", c.smpp.max_submits_per_second, 0, 100'000);
  c.smpp.enquire_link_interval =
      ms(s.integer("enquire_link_interval_ms", c.smpp.enquire_link_interval.count(), 100, 3'600'000));
  c.smpp.response_timeout = ms(s.integer("response_timeout_ms", c.smpp.response_timeout.count(), 100, 600'000));
  c.smpp.max_reconnect_delay =
      ms(s.integer("max_reconnect_delay_ms", c.smpp.max_reconnect_delay.count(), 100, 600'000));

  if (top.has("campaigns")) {
    Section p(top.at("campaigns"), "campaigns",
              {"commands_per_second", "max_in_flight", "max_attempts", "retry_backoff_ms", "max_retry_backoff_ms",
               "tick_ms"});
    auto& cp = c.campaigns;
    cp.commands_per_second = p.number("commands_per_second", cp.commands_per_second, 0.01, 100'000);
    cp.max_in_flight = static_cast<std::size_t>(
        p.integer("max_in_flight", static_cast<std::int64_t>(cp.max_in_flight), 1, 100'000));
    cp.max_attempts = static_cast<int>(p.integer("max_attempts", cp.max_attempts, 1, 100));
    cp.retry_backoff_ms = static_cast<int>(p.integer("retry_backoff_ms", cp.retry_backoff_ms, 10, 3'600'000));
    cp.max_retry_backoff_ms =
        static_cast<int>(p.integer("max_retry_backoff_ms", cp.max_retry_backoff_ms, cp.retry_backoff_ms, 86'400'000));
    cp.tick_ms = static_cast<int>(p.integer("tick_ms", cp.tick_ms, 5, 10'000));
  }
  if (top.has("limits")) {
    Section l(top.at("limits"), "limits",
              {"campaign_body_bytes", "command_body_bytes", "small_body_bytes", "max_json_depth", "max_campaign_cards",
               "max_connections", "handshake_timeout_seconds", "header_timeout_seconds", "read_timeout_seconds"});
    auto& lim = c.limits;
    auto size = [&](const char* k, std::size_t& v, std::int64_t lo, std::int64_t hi) {
      v = static_cast<std::size_t>(l.integer(k, static_cast<std::int64_t>(v), lo, hi));
    };
    size("campaign_body_bytes", lim.campaign_body_bytes, 1024, 16 << 20);
    size("command_body_bytes", lim.command_body_bytes, 1024, 16 << 20);
    size("small_body_bytes", lim.small_body_bytes, 512, 1 << 20);
    size("max_json_depth", lim.max_json_depth, 2, 32);
    size("max_campaign_cards", lim.max_campaign_cards, 1, 1'000'000);
    size("max_connections", lim.max_connections, 1, 100'000);
    lim.handshake_timeout_seconds = static_cast<int>(l.integer("handshake_timeout_seconds", lim.handshake_timeout_seconds, 1, 600));
    lim.header_timeout_seconds = static_cast<int>(l.integer("header_timeout_seconds", lim.header_timeout_seconds, 1, 600));
    lim.read_timeout_seconds = static_cast<int>(l.integer("read_timeout_seconds", lim.read_timeout_seconds, 1, 3600));
  }
  if (top.has("scp81")) {
    Section p(top.at("scp81"), "scp81",
              {"listen", "port", "admin_path", "session_timeout_ms", "public_address", "public_port"});
    auto& sc = c.scp81;
    sc.listen = p.text("listen", sc.listen);
    sc.port = static_cast<std::uint16_t>(p.integer("port", 0, 0, 65535));
    sc.enabled = sc.port != 0;
    sc.admin_path = p.text("admin_path", sc.admin_path);
    // The admin URI goes into the trigger ('8C') and the Next-URIs are built
    // under it: an absolute path of URI characters, no query.
    if (sc.admin_path.size() < 2 || sc.admin_path.size() > 64 || sc.admin_path[0] != '/' || sc.admin_path.back() == '/' ||
        sc.admin_path.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/-._~") !=
            std::string::npos)
      fail("scp81.admin_path", "must be an absolute path like /gp/admin (letters, digits, / - . _ ~; at most 64)");
    sc.session_timeout_ms = static_cast<int>(p.integer("session_timeout_ms", sc.session_timeout_ms, 100, 3'600'000));
    sc.public_address = p.text("public_address", "");
    sc.public_port = static_cast<std::uint16_t>(p.integer("public_port", 0, 0, 65535));
    const std::string& advertised = sc.public_address.empty() ? sc.listen : sc.public_address;
    if (sc.enabled && !is_ipv4(advertised))
      fail(sc.public_address.empty() ? "scp81.listen" : "scp81.public_address",
           "must be an IPv4 address the cards can reach (the trigger carries one, TS 102 223 8.58)");
    if (sc.enabled && advertised == "0.0.0.0") fail("scp81.public_address", "is required when listening on 0.0.0.0");
  }
  if (top.has("admin")) {
    Section a(top.at("admin"), "admin", {"listen", "port", "allow_remote"});
    c.admin.listen = a.text("listen", c.admin.listen);
    c.admin.port = static_cast<std::uint16_t>(a.integer("port", 0, 0, 65535));
    if (a.has("allow_remote")) {
      if (!a.at("allow_remote").is_boolean()) fail("admin.allow_remote", "must be true or false");
      c.admin.allow_remote = a.at("allow_remote").get<bool>();
    }
    c.admin.enabled = c.admin.port != 0;
    if (c.admin.enabled) check_admin_listen(c.admin);  // loopback unless allowed (no authentication)
  }
  return c;
}

bool is_ipv4(const std::string& s) {
  int parts = 0;
  std::size_t i = 0;
  while (i <= s.size()) {
    std::size_t j = s.find('.', i);
    if (j == std::string::npos) j = s.size();
    std::string part = s.substr(i, j - i);
    if (part.empty() || part.size() > 3 || part.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(part) > 255)
      return false;
    ++parts;
    i = j + 1;
  }
  return parts == 4;
}

}  // namespace rsp::otad
