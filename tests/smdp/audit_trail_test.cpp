// The audit trail's pieces that need no server: the CLI's redaction, the
// times `smdpd audit --since` takes, and the ICCID filter (docs/smdp.md).
#include <gtest/gtest.h>

#include "rsp/smdp/audit_trail.hpp"
#include "rsp/smdp/cli_audit.hpp"
#include "../common/pg_cluster.hpp"

namespace {

std::string redact(std::vector<std::string> args) {
  std::vector<char*> argv;
  static char prog[] = "smdpd";
  argv.push_back(prog);
  for (auto& a : args) argv.push_back(a.data());
  return rsp::smdp::redacted_arguments(static_cast<int>(argv.size()), argv.data());
}

TEST(AuditTrail, SecretOptionValuesAndKeysAreRedacted) {
  EXPECT_EQ(redact({"order", "--owner", "OP-A", "--cc", "4711"}), "order --owner OP-A --cc [redacted]");
  EXPECT_EQ(redact({"order", "--cc=4711"}), "order --cc=[redacted]");
  EXPECT_EQ(redact({"x", "--pin1", "1234"}), "x --pin1 [redacted]");
  EXPECT_EQ(redact({"x", "--pinned", "yes"}), "x --pinned yes");
  EXPECT_EQ(redact({"x", "--pin-file", "p"}), "x --pin-file [redacted]");
  EXPECT_EQ(redact({"x", "--ki", "000102030405060708090a0b0c0d0e0f"}), "x --ki [redacted]");
  // A key given where no option says so is long hex; an EID or ICCID (all
  // digits) is kept.
  EXPECT_EQ(redact({"x", "000102030405060708090a0b0c0d0e0f"}), "x [redacted]");
  EXPECT_EQ(redact({"x", "--eid", "89049032123451234512345678901235"}), "x --eid 89049032123451234512345678901235");
  EXPECT_EQ(redact({"stage", "--iccid", "8944500000000000014"}), "stage --iccid 8944500000000000014");
}

TEST(AuditTrail, IccidFilterFindsBothSpellingsOfA19DigitIccid) {
  rsp::store::Db db(rsp::test::test_store());
  rsp::smdp::AuditTrail trail(db);
  rsp::smdp::AuditEntry e;
  e.interface = "ES2+";
  e.action = "downloadOrder";
  e.status = "Executed-Success";
  e.iccid = "8944500000000000011F";  // as pySim sends it
  trail.record(e);
  e.iccid = "8944500000000000011";
  trail.record(e);
  e.iccid = "8944500000000000029";
  trail.record(e);
  EXPECT_EQ(trail.list({0, "8944500000000000011"}).size(), 2u);
  EXPECT_EQ(trail.list({0, "8944500000000000011F"}).size(), 2u);
  EXPECT_EQ(trail.list({0, ""}).size(), 3u);
  EXPECT_EQ(trail.list({4102444800, ""}).size(), 0u);  // 2100-01-01
}

}  // namespace
