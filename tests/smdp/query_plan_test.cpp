// Issue 12: every statement of the SM-DP+'s request path (ES9+, ES2+, the
// session purge, the ES2+ outbox) is served by an index. SQLite's own
// planner says so (EXPLAIN QUERY PLAN): a "SCAN <table>" over the inventory
// or the sessions would make each download cost more as the store grows.
// The statements are the ones the store runs (ProfileStore and
// ProgressNotifier list them), so a query changed without its index fails
// here too, and so does each index of the schema dropped.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rsp/smdp/profile_store.hpp"
#include "rsp/smdp/progress_notifier.hpp"

namespace {

using namespace rsp;

std::vector<std::string> request_path_queries() {
  auto q = smdp::ProfileStore::request_path_queries();
  for (auto& s : smdp::ProgressNotifier::request_path_queries()) q.push_back(s);
  return q;
}

// The plan lines of `sql` that read a whole table or sort without an index.
std::vector<std::string> full_scans(store::Db& db, const std::string& sql) {
  std::vector<std::string> bad;
  db.query("EXPLAIN QUERY PLAN " + sql, {}, [&](const store::Row& r) {
    std::string detail = r.text(3);
    // A scan of a partial index reads only the rows it holds (the outbox's
    // undelivered entries), not the table.
    bool partial = detail.find("INDEX es2_outbox_pending") != std::string::npos;
    if ((detail.rfind("SCAN ", 0) == 0 && !partial) || detail.find("USE TEMP B-TREE") != std::string::npos)
      bad.push_back(detail);
  });
  return bad;
}

struct Store {
  store::Db db{":memory:"};
  smdp::ProfileStore profiles{db, Bytes(32, 7)};
  smdp::ProgressNotifier outbox{db, {}, http::ClientConfig{}, "smdp.example"};
};

TEST(QueryPlan, EveryRequestPathStatementUsesAnIndex) {
  Store s;
  auto queries = request_path_queries();
  ASSERT_GE(queries.size(), 15u);
  for (const auto& q : queries) {
    auto bad = full_scans(s.db, q);
    EXPECT_TRUE(bad.empty()) << q << "\n  plan: " << (bad.empty() ? "" : bad.front());
  }
}

// The indexes the schema creates for the request path, each one needed:
// without it some statement above scans.
TEST(QueryPlan, EachIndexIsNeeded) {
  for (const char* index : {"profiles_eid_state", "profiles_owner_type_state", "profiles_order_expiry",
                            "sessions_created_at", "es2_outbox_pending"}) {
    Store s;
    s.db.exec(std::string("DROP INDEX ") + index);
    int scanning = 0;
    for (const auto& q : request_path_queries()) scanning += !full_scans(s.db, q).empty();
    EXPECT_GT(scanning, 0) << "no request-path statement needs index " << index;
  }
}

// A store from before the indexes gets them when opened (CREATE INDEX IF NOT
// EXISTS), and opening it again changes nothing.
TEST(QueryPlan, IndexesAddedToAnExistingStore) {
  store::Db db(":memory:");
  { smdp::ProfileStore first(db, Bytes(32, 7)); }
  db.exec("DROP INDEX profiles_eid_state; DROP INDEX sessions_created_at");
  smdp::ProfileStore again(db, Bytes(32, 7));
  smdp::ProfileStore once_more(db, Bytes(32, 7));
  int found = 0;
  db.query("SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ('profiles_eid_state', 'sessions_created_at')",
           {}, [&](const store::Row&) { ++found; });
  EXPECT_EQ(found, 2);
}

}  // namespace
