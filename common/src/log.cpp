#include "rsp/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <cstdlib>
#include <mutex>

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
}  // namespace

void set_level(Level l) { current() = l; }
Level level() { return current(); }

Level level_from_name(std::string_view n) {
  if (n == "debug") return Level::Debug;
  if (n == "warn") return Level::Warn;
  if (n == "error") return Level::Error;
  if (n == "off") return Level::Off;
  return Level::Info;
}

void write(Level l, std::string_view component, std::string_view message) {
  static std::mutex m;
  static const char* names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  std::lock_guard lock(m);
  std::fprintf(stderr, "%s.%03dZ %-5s [%.*s] %.*s\n", ts, static_cast<int>(ms), names[static_cast<int>(l)],
               static_cast<int>(component.size()), component.data(), static_cast<int>(message.size()), message.data());
}

}  // namespace rsp::log
