// docs/sgp22-status-codes.md lists exactly the status codes of
// rsp::smdp::kStatusTable (smdp/include/rsp/smdp/status.hpp), in its order:
// the docs cannot drift from what the SM-DP+ sends.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "rsp/smdp/status.hpp"

namespace {

const char* kBegin = "<!-- status-table:begin -->";
const char* kEnd = "<!-- status-table:end -->";

std::vector<std::string> expected_rows() {
  std::vector<std::string> out = {"| Function | Subject code | Reason code | SGP.22 v2.2.2 | When |",
                                  "|---|---|---|---|---|"};
  for (const auto& r : rsp::smdp::kStatusTable)
    out.push_back("| " + std::string(r.function) + " | " + std::string(r.code.subject) + " | " +
                  std::string(r.code.reason) + " | " + std::string(r.section) + " | " + std::string(r.meaning) + " |");
  return out;
}

}  // namespace

TEST(StatusTable, DocsListExactlyTheCodesInCode) {
  std::ifstream f(std::string(RSP_SOURCE_DIR) + "/docs/sgp22-status-codes.md");
  ASSERT_TRUE(f) << "docs/sgp22-status-codes.md missing";
  std::vector<std::string> rows;
  bool inside = false;
  for (std::string line; std::getline(f, line);) {
    if (line == kBegin) inside = true;
    else if (line == kEnd) inside = false;
    else if (inside && !line.empty()) rows.push_back(line);
  }
  auto want = expected_rows();
  std::ostringstream block;
  for (auto& l : want) block << l << "\n";
  EXPECT_EQ(rows, want) << "docs/sgp22-status-codes.md is out of date; the table between the markers should be:\n"
                        << block.str();
}

TEST(StatusTable, NoFunctionListsOneCodeTwice) {
  std::set<std::string> seen;
  for (const auto& r : rsp::smdp::kStatusTable) {
    std::string key = std::string(r.function) + " " + std::string(r.code.subject) + "/" + std::string(r.code.reason);
    EXPECT_TRUE(seen.insert(key).second) << key;
  }
}
