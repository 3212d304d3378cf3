// Batch import: all or nothing, bad rows named by line, secrets at rest.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "rsp/smdp/batch_import.hpp"
#include "rsp/smdp/profile_package.hpp"
#include "rsp/smdp/qr_code.hpp"
#include "../common/pg_cluster.hpp"

using namespace rsp;
using namespace rsp::smdp;
namespace fs = std::filesystem;

namespace {
const fs::path kTemplate = fs::path(RSP_SHARED_TESTDATA) / "ts48/TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der";
Bytes read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}
const char* kKi = "000102030405060708090a0b0c0d0e0f";
const char* kOpc = "cd63cb71954a9f4e48a5994e37a02baf";

std::string csv(int rows, int bad_row = -1, const std::string& bad = {}) {
  std::string out = "# batch from the SIM vendor\niccid,imsi,ki,opc,pin1,spn\n";
  for (int i = 0; i < rows; ++i) {
    char num[32];
    std::snprintf(num, sizeof num, "89441000000%07d", i);
    std::string line = luhn_complete(num) + ",00101" + std::to_string(1000000000 + i) + "," + kKi + "," + kOpc +
                       ",1234,Visited";
    out += (i == bad_row ? bad : line) + "\n";
  }
  return out;
}

class Batch : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kTemplate)) GTEST_SKIP() << "TS.48 template absent";
    tmpl = read_file(kTemplate);
  }
  std::size_t count() {
    std::size_t n = 0;
    db.query("SELECT COUNT(*) FROM profiles", {}, [&](const store::Row& r) { n = static_cast<std::size_t>(r.i64(0)); });
    return n;
  }
  Bytes tmpl;
  store::Db db{rsp::test::test_store()};
  Bytes key = Bytes(32, 7);
  ProfileStore profiles{db, key};
  ImportOptions opt{"OP-A", "roaming", "Visited", "Roaming", false, {}};
};
}  // namespace

TEST_F(Batch, ImportsEveryRowAsAvailableWithEncryptedPackages) {
  auto rows = parse_batch_csv(csv(25));
  ASSERT_EQ(rows.size(), 25u);
  EXPECT_EQ(rows[0].line, 3u);
  std::size_t calls = 0;
  opt.progress = [&](std::size_t, std::size_t) { ++calls; };
  EXPECT_EQ(import_batch(profiles, tmpl, rows, opt), 25u);
  EXPECT_EQ(calls, 50u);
  EXPECT_EQ(count(), 25u);
  auto p = profiles.by_iccid(rows[7].values.iccid);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->state, ProfileState::Available);
  EXPECT_EQ(p->owner, "OP-A");
  EXPECT_EQ(inspect_upp(profiles.upp(p->iccid)).iccid, p->iccid);
  // At rest the package is ciphertext: the Ki bytes do not appear in the store.
  Bytes stored;
  db.query("SELECT upp_enc FROM profiles WHERE iccid = ?", {p->iccid}, [&](const store::Row& r) { stored = r.blob(0); });
  Bytes ki = from_hex(kKi);
  EXPECT_EQ(std::search(stored.begin(), stored.end(), ki.begin(), ki.end()), stored.end());
}

TEST_F(Batch, BadRowIsNamedByLineAndNothingIsImported) {
  auto expect_line = [&](const std::string& text, std::size_t line, const std::string& what) {
    try {
      auto rows = parse_batch_csv(text);
      import_batch(profiles, tmpl, rows, opt);
      FAIL() << "accepted: " << what;
    } catch (const BatchError& e) {
      EXPECT_EQ(e.line, line) << e.what();
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
    EXPECT_EQ(count(), 0u);
  };
  expect_line(csv(10, 6, std::string("89441000000000000009,001011000000006,") + kKi + "," + kOpc + ",1234,V"), 9, "Luhn");
  expect_line(csv(10, 4, luhn_complete("894410000000000004") + ",00101," + kKi + "," + kOpc + ",1234,V"), 7, "imsi");
  expect_line(csv(10, 2, luhn_complete("894410000000000002") + ",001011000000002,00112233," + kOpc + ",1234,V"), 5, "Ki");
  expect_line(csv(10, 3, "only,three,fields"), 6, "fields");
  // Not digits (fuzz/regressions/batch): a BatchError naming the line, not an exception from the Luhn check.
  expect_line(csv(10, 5, std::string("89441000\xff\x46 @`018,001011000000005,") + kKi + "," + kOpc + ",1234,V"), 8,
              "iccid must be");
  expect_line(csv(10, 5, std::string("8944,001011000000005,") + kKi + "," + kOpc + ",1234,V"), 8, "iccid must be");
  expect_line("iccid,imsi,ki\n", 1, "opc");
  expect_line("iccid,imsi,ki,opc,colour\n", 1, "unknown column");
  // The same ICCID twice in one batch.
  std::string twice = csv(3);
  std::size_t first = twice.find("8944");
  twice += twice.substr(first, twice.find('\n', first) - first + 1);  // row of line 3 again, as line 6
  expect_line(twice, 6, "twice");
  // A batch whose ICCID is already stored fails as a whole at that row.
  import_batch(profiles, tmpl, parse_batch_csv(csv(2)), opt);
  std::size_t before = count();
  try {
    import_batch(profiles, tmpl, parse_batch_csv(csv(5)), opt);
    FAIL();
  } catch (const BatchError& e) {
    EXPECT_EQ(e.line, 3u);
  }
  EXPECT_EQ(count(), before);
}

TEST(QrCode, PngAndSvgCarryTheCode) {
  std::string ac = "LPA:1$smdp.example.com$K2M4A-7QW3E-PLX9Z-R5T8Y";
  Bytes png = qr_png(ac);
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(to_hex(ByteView(png).first(8)), "89504e470d0a1a0a");  // PNG signature
  std::string svg = qr_svg(ac);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("h1v1h-1z"), std::string::npos);
  if (std::system("command -v zbarimg >/dev/null 2>&1") == 0) {  // an independent decoder, when present
    auto path = fs::temp_directory_path() / "rsp-qr-test.png";
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
    FILE* p = popen(("zbarimg --raw -q " + path.string()).c_str(), "r");
    char buf[256] = {};
    std::string decoded = fgets(buf, sizeof buf, p) ? buf : "";
    pclose(p);
    fs::remove(path);
    while (!decoded.empty() && decoded.back() == '\n') decoded.pop_back();
    EXPECT_EQ(decoded, ac);
  }
}

TEST_F(Batch, TemplatesAreStoredEncryptedAndImportFromThem) {
  profiles.put_template("roaming-v1", "OP-A", tmpl);
  auto back = profiles.template_package("roaming-v1");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, tmpl);
  EXPECT_FALSE(profiles.template_package("nope"));
  ASSERT_EQ(profiles.templates().size(), 1u);
  EXPECT_EQ(profiles.templates()[0].second, "OP-A");
  Bytes stored;
  db.query("SELECT upp_enc FROM templates", {}, [&](const store::Row& r) { stored = r.blob(0); });
  EXPECT_EQ(std::search(stored.begin(), stored.end(), tmpl.begin(), tmpl.begin() + 32), stored.end());
  EXPECT_EQ(import_batch(profiles, *back, parse_batch_csv(csv(3)), opt), 3u);
}

TEST_F(Batch, JsonBatchesNameTheirBadEntry) {
  std::string good = "[{\"iccid\":\"" + luhn_complete("894410000000000001") + "\",\"imsi\":\"001011000000001\",\"ki\":\"" +
                     kKi + "\",\"opc\":\"" + kOpc + "\",\"spn\":\"Visited\"}]";
  EXPECT_EQ(import_batch(profiles, tmpl, parse_batch_json(good), opt), 1u);
  std::string bad = "[{\"iccid\":\"" + luhn_complete("894410000000000002") + "\",\"imsi\":\"001011000000002\",\"ki\":\"" +
                    kKi + "\",\"opc\":\"" + kOpc + "\"},{\"iccid\":\"" + luhn_complete("894410000000000003") +
                    "\",\"imsi\":\"001011000000003\",\"ki\":\"0011\",\"opc\":\"" + kOpc + "\"}]";
  try {
    parse_batch_json(bad);
    FAIL();
  } catch (const BatchError& e) {
    EXPECT_EQ(e.line, 2u);
    EXPECT_EQ(std::string(e.what()).rfind("entry 2: Ki", 0), 0u) << e.what();
  }
  EXPECT_THROW(parse_batch_json("{\"not\":\"an array\"}"), BatchError);
  EXPECT_THROW(parse_batch_json("[{\"iccid\":\"1\",\"imsi\":2}]"), BatchError);
  EXPECT_EQ(count(), 1u);
}
