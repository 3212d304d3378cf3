// rsp::parse_json: limits are enforced before a tree is built, with short
// messages of our own.
#include <gtest/gtest.h>

#include "rsp/json.hpp"

using namespace rsp;

namespace {
std::string error_of(std::string_view text, const JsonLimits& l = {}) {
  try {
    parse_json(text, l);
    return "";
  } catch (const JsonError& e) {
    return e.what();
  }
}
}  // namespace

TEST(BoundedJson, ParsesWithinLimits) {
  auto j = parse_json(R"({"a":[1,2,{"b":"c"}],"d":null})");
  EXPECT_EQ(j["a"][2]["b"], "c");
  EXPECT_TRUE(j["d"].is_null());
}

TEST(BoundedJson, DepthIsLimitedWithoutRecursion) {
  JsonLimits l;
  l.max_depth = 3;
  EXPECT_EQ(error_of("[[[1]]]", l), "");
  EXPECT_EQ(error_of("[[[[1]]]]", l), "JSON nested deeper than 3 levels");
  EXPECT_EQ(error_of(R"({"a":{"b":{"c":{}}}})", l), "JSON nested deeper than 3 levels");
  // 1,000,000 levels (2 MB): refused at level 33, no stack use per level.
  JsonLimits big;
  big.max_bytes = 4 << 20;
  EXPECT_EQ(error_of(std::string(1'000'000, '[') + std::string(1'000'000, ']'), big),
            "JSON nested deeper than 32 levels");
}

TEST(BoundedJson, SizeValuesAndStringsAreLimited) {
  JsonLimits l;
  l.max_bytes = 20;
  EXPECT_EQ(error_of(std::string(21, ' ') , l), "JSON document larger than 20 bytes");
  l = {};
  l.max_values = 4;  // the array and three numbers
  EXPECT_EQ(error_of("[1,2,3]", l), "");
  EXPECT_EQ(error_of("[1,2,3,4]", l), "JSON has more than 4 values");
  EXPECT_EQ(error_of(R"({"a":1,"b":2})", l), "JSON has more than 4 values");  // keys count
  l = {};
  l.max_string_bytes = 3;
  EXPECT_EQ(error_of(R"(["abc"])", l), "");
  EXPECT_EQ(error_of(R"(["abcd"])", l), "JSON string longer than 3 bytes");
  EXPECT_EQ(error_of(R"({"abcd":1})", l), "JSON string longer than 3 bytes");
}

TEST(BoundedJson, MalformedInputGetsAPositionNotTheLibrarysWords) {
  EXPECT_EQ(error_of("{not json"), "invalid JSON at byte 3");
  EXPECT_EQ(error_of(""), "invalid JSON at byte 1");
  EXPECT_EQ(error_of("[1] x"), "invalid JSON at byte 5");
  EXPECT_NE(error_of("\"\\ud800\""), "");  // lone surrogate
}
