// Minimal structured logging to stderr. Never pass secrets (keys, Ki/OPc,
// profile plaintext) to it: callers log identifiers and sizes only.
//
// Two formats, one for every program (docs/operations.md, "Logs"):
//   text (default): 2026-12-03T07:00:00.123Z INFO  [component] message key=value ...
//   json:           {"ts":"2026-12-03T07:00:00.123Z","level":"info","component":"...","msg":"...","key":"value"}
// one object per line, chosen with RSP_LOG_FORMAT=json or set_format().
#pragma once
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace rsp::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3, Off = 4 };
void set_level(Level l);
Level level();
Level level_from_name(std::string_view name);  // debug|info|warn|error|off
void write(Level l, std::string_view component, std::string_view message);

enum class Format { Text, Json };
void set_format(Format f);
Format format();
// "text" or "json"; std::invalid_argument otherwise (a configuration typo
// must not silently fall back).
Format format_from_name(std::string_view name);

// Extra fields of one line (JSON members; key=value in text). Values are
// strings; keep keys to [a-z_].
using Fields = std::initializer_list<std::pair<std::string_view, std::string_view>>;
void write(Level l, std::string_view component, std::string_view message, Fields fields);

inline void debug(std::string_view c, std::string_view m) { if (level() <= Level::Debug) write(Level::Debug, c, m); }
inline void info(std::string_view c, std::string_view m) { if (level() <= Level::Info) write(Level::Info, c, m); }
inline void warn(std::string_view c, std::string_view m) { if (level() <= Level::Warn) write(Level::Warn, c, m); }
inline void error(std::string_view c, std::string_view m) { if (level() <= Level::Error) write(Level::Error, c, m); }
inline void info(std::string_view c, std::string_view m, Fields f) { if (level() <= Level::Info) write(Level::Info, c, m, f); }

// One log line as write() renders it, without the trailing newline (for tests
// and for sinks that are not stderr). `ts` is the RFC 3339 UTC timestamp.
std::string render(Format f, std::string_view ts, Level l, std::string_view component, std::string_view message,
                   Fields fields = {});

}  // namespace rsp::log
