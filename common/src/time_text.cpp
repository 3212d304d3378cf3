#include "rsp/time_text.hpp"

#include <ctime>
#include <regex>
#include <stdexcept>

namespace rsp::time_text {

std::int64_t parse(std::string_view text_view) {
  const std::string text(text_view);
  static const std::regex kUnix(R"(-?[0-9]{1,12})");
  static const std::regex kIso(
      R"(([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?)?(Z|([+-])([0-9]{2}):?([0-9]{2}))?)");
  const std::invalid_argument bad("time '" + text + "': give Unix seconds or ISO 8601 (YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM])");
  if (std::regex_match(text, kUnix)) return std::stoll(text);
  std::smatch m;
  if (!std::regex_match(text, m, kIso)) throw bad;
  auto num = [&](int i) { return m[i].matched ? std::stoi(m[i].str()) : 0; };
  std::tm tm{};
  tm.tm_year = num(1) - 1900;
  tm.tm_mon = num(2) - 1;
  tm.tm_mday = num(3);
  tm.tm_hour = num(4);
  tm.tm_min = num(5);
  tm.tm_sec = num(6);
  const std::tm asked = tm;
  std::int64_t t = static_cast<std::int64_t>(timegm(&tm));
  // timegm normalises 2026-02-30 to March 2 and 24:00 to the next day: such a time is refused.
  if (tm.tm_year != asked.tm_year || tm.tm_mon != asked.tm_mon || tm.tm_mday != asked.tm_mday ||
      tm.tm_hour != asked.tm_hour || tm.tm_min != asked.tm_min || tm.tm_sec != asked.tm_sec)
    throw bad;
  if (m[8].matched) {
    if (num(9) > 23 || num(10) > 59) throw bad;
    const std::int64_t offset = static_cast<std::int64_t>(num(9)) * 3600 + static_cast<std::int64_t>(num(10)) * 60;
    t += m[8].str() == "+" ? -offset : offset;  // 08:00+01:00 is 07:00Z
  }
  return t;
}

std::string iso8601_utc(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace rsp::time_text
