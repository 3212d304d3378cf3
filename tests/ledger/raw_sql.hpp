// Test helper: raw SQL on a ledger file, as an attacker with write access to
// the file would run it (outside the ledger's own connection).
#pragma once
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

namespace rsp::ledger::test_support {

inline void raw_sql(const std::string& db, const std::string& s) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(h, s.c_str(), nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(h);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

}  // namespace rsp::ledger::test_support
