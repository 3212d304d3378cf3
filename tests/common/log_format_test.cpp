// rsp::log's two formats (docs/operations.md, "Logs"): the text line as it
// always was, and one JSON object per line with ts, level, component, msg
// and the fields, escaped so that any message stays one valid line.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "rsp/log.hpp"

using namespace rsp::log;

TEST(LogFormat, TextLineIsUnchangedAndFieldsFollow) {
  EXPECT_EQ(render(Format::Text, "2026-12-03T07:00:00.123Z", Level::Info, "smdpd", "listening"),
            "2026-12-03T07:00:00.123Z INFO  [smdpd] listening");
  EXPECT_EQ(render(Format::Text, "2026-12-03T07:00:00.123Z", Level::Warn, "access", "GET /x 404",
                   {{"status", "404"}, {"client", "127.0.0.1:5"}}),
            "2026-12-03T07:00:00.123Z WARN  [access] GET /x 404 status=404 client=127.0.0.1:5");
}

TEST(LogFormat, JsonIsOneObjectPerLineWithEscapes) {
  std::string line = render(Format::Json, "2026-12-03T07:00:00.123Z", Level::Error, "es9+",
                            "bad \"x\"\nnext\\ \x01", {{"function", "authenticateClient"}});
  EXPECT_EQ(line,
            "{\"ts\":\"2026-12-03T07:00:00.123Z\",\"level\":\"error\",\"component\":\"es9+\","
            "\"msg\":\"bad \\\"x\\\"\\nnext\\\\ \\u0001\",\"function\":\"authenticateClient\"}");
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto j = nlohmann::json::parse(line);  // an independent parser reads it back
  EXPECT_EQ(j["msg"], "bad \"x\"\nnext\\ \x01");
  EXPECT_EQ(j["level"], "error");
}

TEST(LogFormat, FormatNames) {
  EXPECT_EQ(format_from_name("json"), Format::Json);
  EXPECT_EQ(format_from_name("text"), Format::Text);
  EXPECT_THROW(format_from_name("JSON "), std::invalid_argument);
}
