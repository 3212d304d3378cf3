// SCP81 HTTP names (GlobalPlatform Amendment B 3.3-3.5); see scp81_protocol.hpp.
#include "rsp/ota/scp81_protocol.hpp"

#include <algorithm>
#include <cctype>

namespace rsp::ota::scp81 {

namespace {

std::string normalise(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' || c == '\t') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

}  // namespace

std::string_view script_status_name(ScriptStatus s) {
  switch (s) {
    case ScriptStatus::Ok: return "ok";
    case ScriptStatus::UnknownApplication: return "unknown-application";
    case ScriptStatus::NotASecurityDomain: return "not-a-security-domain";
    case ScriptStatus::SecurityError: return "security-error";
  }
  return "?";
}

std::optional<ScriptStatus> parse_script_status(std::string_view value) {
  const std::string v = normalise(value);
  for (auto s : {ScriptStatus::Ok, ScriptStatus::UnknownApplication, ScriptStatus::NotASecurityDomain,
                 ScriptStatus::SecurityError})
    if (v == script_status_name(s)) return s;
  return std::nullopt;
}

std::string format_admin_from(const AdminFrom& f) { return "//se-id/" + f.kind + "/" + f.id; }

std::optional<AdminFrom> parse_admin_from(std::string_view value) {
  std::string_view card = value.substr(0, value.find(';'));
  constexpr std::string_view prefix = "//se-id/";
  if (card.size() <= prefix.size() || normalise(card.substr(0, prefix.size())) != prefix) return std::nullopt;
  card.remove_prefix(prefix.size());
  auto slash = card.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= card.size()) return std::nullopt;
  AdminFrom f{normalise(card.substr(0, slash)), std::string(card.substr(slash + 1))};
  if (f.kind != "iccid" && f.kind != "eid") return std::nullopt;
  if (!std::all_of(f.id.begin(), f.id.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
    return std::nullopt;
  return f;
}

bool same_media_type(std::string_view a, std::string_view b) { return normalise(a) == normalise(b); }

}  // namespace rsp::ota::scp81
