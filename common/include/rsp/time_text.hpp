// Times as operators type them on a command line and read them in output:
// Unix seconds or ISO 8601 (RFC 3339 profile) in UTC. One parser for every
// tool, so `smdpd audit --since` and `market ... --expires` take the same text.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace rsp::time_text {

// "1796292900", "2026-12-03", "2026-12-03T10:15", "2026-12-03T10:15:00Z",
// "2026-12-03 10:15:00", "2026-12-03T11:15:00+01:00" -> Unix seconds. A time
// without an offset is UTC. Dates that do not exist (2026-02-30) and Unix
// seconds of more than 12 digits are refused. Throws std::invalid_argument
// with a message naming the accepted forms.
std::int64_t parse(std::string_view text);

// Unix seconds -> "2026-12-03T10:15:00Z".
std::string iso8601_utc(std::int64_t unix_seconds);

}  // namespace rsp::time_text
