// store::Transaction nesting (savepoints): what the audit trail relies on to
// commit an ES2+ change and its audit row together (docs/smdp.md).
#include <gtest/gtest.h>

#include "rsp/store.hpp"

namespace {

std::int64_t count(rsp::store::Db& db) {
  std::int64_t n = -1;
  db.query("SELECT COUNT(*) FROM t", {}, [&](const rsp::store::Row& r) { n = r.i64(0); });
  return n;
}

struct StoreNesting : ::testing::Test {
  rsp::store::Db db{":memory:"};
  void SetUp() override { db.exec("CREATE TABLE t (v INTEGER)"); }
};

TEST_F(StoreNesting, InnerCommitIsUndoneWhenTheOuterRollsBack) {
  {
    rsp::store::Transaction outer(db);
    {
      rsp::store::Transaction inner(db);
      db.run("INSERT INTO t VALUES (1)");
      inner.commit();
    }
    db.run("INSERT INTO t VALUES (2)");
    // no outer.commit(): an exception or an early return
  }
  EXPECT_EQ(count(db), 0);
}

TEST_F(StoreNesting, InnerRollbackKeepsTheOuterChanges) {
  {
    rsp::store::Transaction outer(db);
    db.run("INSERT INTO t VALUES (1)");
    {
      rsp::store::Transaction inner(db);
      db.run("INSERT INTO t VALUES (2)");
    }  // rolled back to its savepoint
    db.run("INSERT INTO t VALUES (3)");
    outer.commit();
  }
  std::int64_t sum = 0;
  db.query("SELECT SUM(v) FROM t", {}, [&](const rsp::store::Row& r) { sum = r.i64(0); });
  EXPECT_EQ(sum, 4);
}

TEST_F(StoreNesting, TwoLevelsAndThenAFreshTopLevelTransaction) {
  {
    rsp::store::Transaction a(db);
    {
      rsp::store::Transaction b(db);
      {
        rsp::store::Transaction c(db);
        db.run("INSERT INTO t VALUES (1)");
        c.commit();
      }
      b.commit();
    }
    a.commit();
  }
  EXPECT_EQ(count(db), 1);
  // The depth went back to 0: a new Transaction is a BEGIN again (a
  // SAVEPOINT outside any transaction would also work, but RELEASE would
  // then commit: the rollback below shows it is a real transaction).
  {
    rsp::store::Transaction again(db);
    db.run("INSERT INTO t VALUES (2)");
  }
  EXPECT_EQ(count(db), 1);
}

}  // namespace
