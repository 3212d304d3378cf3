// rsp::time_text against GNU date(1), an independent parser of the same
// ISO 8601 forms, and the refusals both smdpd audit and market rely on.
#include "rsp/time_text.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>

namespace {

// `date -u -d TEXT +%s`, or nothing if date is absent or refuses the text.
std::optional<long long> gnu_date(const std::string& text) {
  std::string cmd = "date -u -d '" + text + "' +%s 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return std::nullopt;
  char buf[64] = {};
  bool got = std::fgets(buf, sizeof buf, p) != nullptr;
  int rc = pclose(p);
  if (!got || rc != 0) return std::nullopt;
  return std::stoll(buf);
}

}  // namespace

TEST(TimeText, AgreesWithGnuDateOnEveryAcceptedForm) {
  const char* forms[] = {"2026-12-03",          "2026-12-03T10:15",          "2026-12-03T10:15:00Z",
                         "2026-12-03 10:15:07", "2026-12-03T11:15:00+01:00", "2026-12-03T05:45:00-04:30",
                         "2024-02-29T23:59:59Z", "1970-01-01T00:00:00Z",     "2038-01-19T03:14:08Z"};
  for (const char* f : forms) {
    auto want = gnu_date(f);
    if (!want) GTEST_SKIP() << "GNU date not usable here";
    EXPECT_EQ(rsp::time_text::parse(f), *want) << f;
  }
  EXPECT_EQ(rsp::time_text::parse("1796292900"), 1796292900);
  EXPECT_EQ(rsp::time_text::parse("-1"), -1);
}

TEST(TimeText, RefusesTimesThatDoNotExistAndOtherText) {
  for (const char* bad : {"", "yesterday", "2026-13-01", "2026-02-30", "2025-02-29", "2026-12-03T24:00",
                          "2026-12-03T10:60", "2026-12-03T10:15:00+24:00", "2026-12-03T10:15:00+01:60", "2026-12-3",
                          "1234567890123", "2026-12-03T10:15:00ZZ", " 2026-12-03"})
    EXPECT_THROW(rsp::time_text::parse(bad), std::invalid_argument) << '"' << bad << '"';
}

TEST(TimeText, FormatsUtcWithZ) {
  EXPECT_EQ(rsp::time_text::iso8601_utc(1796292900), "2026-12-03T10:15:00Z");  // date -ud @1796292900
  EXPECT_EQ(rsp::time_text::iso8601_utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(rsp::time_text::parse(rsp::time_text::iso8601_utc(951782400)), 951782400);  // 2000-02-29
}
