#include "rsp/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <cstdlib>
#include <mutex>
#include <stdexcept>

namespace rsp::log {

namespace {
Level initial_level() {
  const char* env = std::getenv("RSP_LOG");
  return env ? level_from_name(env) : Level::Info;
}
std::atomic<Level>& current() {
  static std::atomic<Level> l{initial_level()};
  return l;
}
// RSP_LOG_FORMAT=json; anything else (or unset) is text: a typo in the
// environment must not stop a program from logging at all.
Format initial_format() {
  const char* env = std::getenv("RSP_LOG_FORMAT");
  return env && std::string_view(env) == "json" ? Format::Json : Format::Text;
}
std::atomic<Format>& current_format() {
  static std::atomic<Format> f{initial_format()};
  return f;
}

// RFC 8259 string escaping: quote, backslash, control characters; bytes
// >= 0x80 pass as they are (messages are UTF-8).
void json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[40];
  std::size_t n = std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(ts + n, sizeof ts - n, ".%03dZ", static_cast<int>(ms));
  return ts;
}
}  // namespace

void set_level(Level l) { current() = l; }
Level level() { return current(); }
void set_format(Format f) { current_format() = f; }
Format format() { return current_format(); }

Format format_from_name(std::string_view n) {
  if (n == "text") return Format::Text;
  if (n == "json") return Format::Json;
  throw std::invalid_argument("log format must be text or json, not '" + std::string(n) + "'");
}

Level level_from_name(std::string_view n) {
  if (n == "debug") return Level::Debug;
  if (n == "warn") return Level::Warn;
  if (n == "error") return Level::Error;
  if (n == "off") return Level::Off;
  return Level::Info;
}

std::string render(Format f, std::string_view ts, Level l, std::string_view component, std::string_view message,
                   Fields fields) {
  static const char* upper[] = {"DEBUG", "INFO", "WARN", "ERROR"};
  static const char* lower[] = {"debug", "info", "warn", "error"};
  const int li = static_cast<int>(l) < 4 ? static_cast<int>(l) : 3;
  std::string out;
  if (f == Format::Json) {
    out += "{\"ts\":";
    json_string(out, ts);
    out += ",\"level\":\"";
    out += lower[li];
    out += "\",\"component\":";
    json_string(out, component);
    out += ",\"msg\":";
    json_string(out, message);
    for (const auto& [k, v] : fields) {
      out += ',';
      json_string(out, k);
      out += ':';
      json_string(out, v);
    }
    out += '}';
    return out;
  }
  char head[24];
  std::snprintf(head, sizeof head, " %-5s [", upper[li]);
  out.append(ts).append(head).append(component).append("] ").append(message);
  for (const auto& [k, v] : fields) out.append(" ").append(k).append("=").append(v);
  return out;
}

void write(Level l, std::string_view component, std::string_view message, Fields fields) {
  static std::mutex m;
  std::string line = render(format(), timestamp(), l, component, message, fields);
  line += '\n';
  std::lock_guard lock(m);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

void write(Level l, std::string_view component, std::string_view message) { write(l, component, message, {}); }

}  // namespace rsp::log
