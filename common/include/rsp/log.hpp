// Minimal structured logging to stderr. Never pass secrets (keys, Ki/OPc,
// profile plaintext) to it: callers log identifiers and sizes only.
#pragma once
#include <string>
#include <string_view>

namespace rsp::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3, Off = 4 };
void set_level(Level l);
Level level();
Level level_from_name(std::string_view name);  // debug|info|warn|error|off
void write(Level l, std::string_view component, std::string_view message);

inline void debug(std::string_view c, std::string_view m) { if (level() <= Level::Debug) write(Level::Debug, c, m); }
inline void info(std::string_view c, std::string_view m) { if (level() <= Level::Info) write(Level::Info, c, m); }
inline void warn(std::string_view c, std::string_view m) { if (level() <= Level::Warn) write(Level::Warn, c, m); }
inline void error(std::string_view c, std::string_view m) { if (level() <= Level::Error) write(Level::Error, c, m); }

}  // namespace rsp::log
