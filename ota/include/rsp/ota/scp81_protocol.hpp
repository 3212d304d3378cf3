// The HTTP layer of SCP81: GlobalPlatform Card Specification Amendment B
// (Remote Application Management over HTTP) section 3.3-3.5, as ETSI TS
// 102 226 (annex B, RFM/RAM over HTTP) uses it. Both ends need these names:
// the OTA server's admin session handler and the card's admin agent.
//
// The exchange, over one PSK-TLS 1.2 connection the card opens:
//   card:   POST <admin URI>   X-Admin-Protocol, X-Admin-From, no body
//   server: 200 + X-Admin-Next-URI + a command script (card-content-mgt)
//   card:   POST <next URI>    X-Admin-Script-Status + the response script
//           (card-content-mgt-response, chunked transfer encoding)
//   server: 200 with the next script, or 204 No Content: the session ends.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace rsp::ota::scp81 {

inline constexpr std::string_view kHeaderProtocol = "X-Admin-Protocol";
inline constexpr std::string_view kHeaderFrom = "X-Admin-From";
inline constexpr std::string_view kHeaderTo = "X-Admin-To";
inline constexpr std::string_view kHeaderNextUri = "X-Admin-Next-URI";
inline constexpr std::string_view kHeaderScriptStatus = "X-Admin-Script-Status";
inline constexpr std::string_view kHeaderResume = "X-Admin-Resume";
inline constexpr std::string_view kHeaderTargetedApplication = "X-Admin-Targeted-Application";

inline constexpr std::string_view kProtocol = "globalplatform-remote-admin/1.0";
inline constexpr std::string_view kMediaCommand = "application/vnd.globalplatform.card-content-mgt;version=1.0";
inline constexpr std::string_view kMediaResponse =
    "application/vnd.globalplatform.card-content-mgt-response;version=1.0";

// X-Admin-Script-Status values (Amendment B 3.5.2).
enum class ScriptStatus { Ok, UnknownApplication, NotASecurityDomain, SecurityError };
std::string_view script_status_name(ScriptStatus s);
std::optional<ScriptStatus> parse_script_status(std::string_view value);

// X-Admin-From of a card: "//se-id/iccid/<ICCID>" (TS 102 226) or
// "//se-id/eid/<EID>" (Amendment B), optionally followed by
// ";//aa-id/aid/..." for the admin agent; the part before ';' names the card.
struct AdminFrom {
  std::string kind;  // "iccid" or "eid" (lower case)
  std::string id;    // the digits as sent
};
std::string format_admin_from(const AdminFrom& f);
std::optional<AdminFrom> parse_admin_from(std::string_view value);

// Content-Type comparison: media type and the version parameter, case and
// blanks around ';' ignored ("...-mgt-response; version=1.0" matches).
bool same_media_type(std::string_view a, std::string_view b);

}  // namespace rsp::ota::scp81
