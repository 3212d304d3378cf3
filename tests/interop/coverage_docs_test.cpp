// The coverage tables of docs/sgp22-coverage.md and docs/sgp22-status-codes.md
// name GoogleTest tests as `Suite.Name` (or `Instance/Suite.Name`, or
// `Suite.*`): each name must be a test defined under tests/, so the tables
// cannot point at tests that were renamed or never written. The ES10 rows of
// docs/sgp22-coverage.md must also list every command es10_commands() knows.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "es10_commands.hpp"

namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// "Suite.Name" of every TEST/TEST_F/TEST_P under tests/.
std::set<std::string> defined_tests() {
  std::set<std::string> out;
  const std::regex def(R"(\bTEST(?:_F|_P)?\(\s*(\w+)\s*,\s*(\w+)\s*\))");
  for (const auto& e : fs::recursive_directory_iterator(fs::path(RSP_SOURCE_DIR) / "tests")) {
    if (!e.is_regular_file() || e.path().extension() != ".cpp") continue;
    std::string text = read(e.path());
    for (std::sregex_iterator it(text.begin(), text.end(), def), end; it != end; ++it)
      out.insert((*it)[1].str() + "." + (*it)[2].str());
  }
  return out;
}

// Backticked test names in the table rows of a docs page.
std::vector<std::string> named_tests(const std::string& page) {
  std::vector<std::string> out;
  const std::regex name(R"(`(?:[\w]+/)?([A-Z]\w*)\.(\*|\w+)`)");
  std::istringstream in(read(fs::path(RSP_SOURCE_DIR) / "docs" / page));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("|", 0) != 0) continue;
    for (std::sregex_iterator it(line.begin(), line.end(), name), end; it != end; ++it)
      out.push_back((*it)[1].str() + "." + (*it)[2].str());
  }
  return out;
}

void expect_all_defined(const std::string& page) {
  auto defined = defined_tests();
  auto names = named_tests(page);
  EXPECT_GT(names.size(), 10u) << page;
  for (const auto& n : names) {
    if (n.size() > 2 && n.substr(n.size() - 2) == ".*") {
      std::string suite = n.substr(0, n.size() - 1);
      bool any = false;
      for (const auto& d : defined) any = any || d.rfind(suite, 0) == 0;
      EXPECT_TRUE(any) << page << " names suite " << n << ", which has no test under tests/";
    } else {
      EXPECT_TRUE(defined.count(n)) << page << " names " << n << ", which is not a test under tests/";
    }
  }
}

}  // namespace

TEST(CoverageDocs, CoverageTableNamesOnlyExistingTests) { expect_all_defined("sgp22-coverage.md"); }

TEST(CoverageDocs, StatusCodeTableNamesOnlyExistingTests) { expect_all_defined("sgp22-status-codes.md"); }

TEST(CoverageDocs, EveryEs10CommandHasARow) {
  std::string text = read(fs::path(RSP_SOURCE_DIR) / "docs" / "sgp22-coverage.md");
  for (const auto& c : rsp::interop::es10_commands()) {
    std::string row = std::string("| ") + c.iface + " | " + c.name + " |";
    EXPECT_NE(text.find(row), std::string::npos) << "docs/sgp22-coverage.md has no row starting " << row;
  }
}
