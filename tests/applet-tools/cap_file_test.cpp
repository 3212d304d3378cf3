// CAP files from ../shared/testdata/cap: the load file data block (components
// in JCVM 6.2 order, no Descriptor/Debug) against the size and SHA-256 that
// Python's zipfile gives for the same concatenation (also in the folder's
// README), and the structure checks the card applies.
#include <gtest/gtest.h>

#include <filesystem>

#include "rsp/crypto.hpp"
#include "rsp/gp/cap_file.hpp"

using namespace rsp;
using namespace rsp::gp;

namespace {
std::string cap_path(const std::string& name) { return std::string(RSP_SHARED_TESTDATA) + "/cap/" + name; }
}  // namespace

TEST(CapFile, LoadFileDataBlocksMatchIndependentDigests) {
  struct Case {
    const char* file;
    std::size_t size;
    const char* sha256;
    const char* package;
    const char* applet;
  };
  const Case cases[] = {
      {"Empty_0102030405_8d5ac9e2_2.2.1.cap", 211, "8d5ac9e226e3f0a89457fb078470a9378daed8b96ba6cbe839513cdf08d27a38", "0102030405", "0102030405060708"},
      {"helloworld.cap", 247, "9c8e7f3da89b91426b0f4293a23ddb639cabff9f68bf8c3e8eb8c9bb4f71f6a4", "d0d1d2d3d4d501", "d0d1d2d3d4d50101"},
      {"openjavacard-lib-ber.cap", 2111, "08c9d0b4ebffc407dbac45ae7e56634bebb226af13ce73fcebb89ebf53cf01cb", "a00000ffffa0", ""},
      {"openjavacard-lib-debug.cap", 1636, "f49429d569c306262ad247d754a30938c16a3ad22ef0e06da7bd869d9b25562d", "a00000ffffa3", ""},
      {"openjavacard-svc-debug.cap", 1288, "78e04ff92bccb595708a617b8b7a2e2e95cecbfa9450503147ad290d4e68f435", "a00000ffffa4", "a00000ffffa401"},
      {"AlgTest_v1.3_jc3.0.4.cap", 16903, "6170f334771fe3cdbb780447d14faa56c3dcc3f20a5469e3d59a42300750a04f", "6d797061636b616731", "6d7970616330303031"},
  };
  if (!std::filesystem::exists(cap_path(""))) GTEST_SKIP() << "no ../shared/testdata/cap";
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    auto cap = CapFile::read(cap_path(c.file));
    Bytes lfdb = cap.load_file_data_block();
    EXPECT_EQ(lfdb.size(), c.size);
    EXPECT_EQ(to_hex(crypto::sha256(lfdb)), c.sha256);
    EXPECT_EQ(to_hex(cap.info().package.aid), c.package);
    if (*c.applet) {
      ASSERT_EQ(cap.info().applets.size(), 1u);
      EXPECT_EQ(to_hex(cap.info().applets[0]), c.applet);
    } else {
      EXPECT_TRUE(cap.info().applets.empty());
    }
  }
  auto svc = CapFile::read(cap_path("openjavacard-svc-debug.cap"));
  bool imports_lib_debug = false;
  for (const auto& i : svc.info().imports) imports_lib_debug |= to_hex(i.aid) == "a00000ffffa3";
  EXPECT_TRUE(imports_lib_debug);
}

TEST(CapFile, MissingOrMisorderedComponentsAreRefused) {
  if (!std::filesystem::exists(cap_path(""))) GTEST_SKIP() << "no ../shared/testdata/cap";
  auto cap = CapFile::read(cap_path("helloworld.cap"));
  const auto& comps = cap.components();
  auto build = [&](std::vector<std::uint8_t> tags) {
    Bytes out;
    for (auto t : tags) append(out, comps.at(t));
    return out;
  };
  EXPECT_NO_THROW(parse_load_file(build({1, 2, 4, 3, 6, 7, 8, 5, 9})));
  EXPECT_THROW(parse_load_file(build({1, 2, 4, 3, 6, 8, 5, 9})), CapError);     // Method missing
  EXPECT_THROW(parse_load_file(build({1, 2, 4, 3, 7, 6, 8, 5, 9})), CapError);  // Class after Method
  EXPECT_THROW(parse_load_file(build({2, 1, 4, 3, 6, 7, 8, 5, 9})), CapError);  // Header not first
  Bytes cut = cap.load_file_data_block();
  cut.pop_back();
  EXPECT_THROW(parse_load_file(cut), CapError);  // a size that overruns
  EXPECT_THROW(CapFile::from_zip(from_hex("504b0304")), CapError);
}

// Issue 9: a zip's recorded sizes are bounded before anything is allocated.
// The archive is Python zipfile's (one deflated entry, 01 00 00); with its
// central directory claiming 4 GB uncompressed it is refused, not allocated
// (the fuzzer's out-of-memory input had exactly this shape).
TEST(CapFile, RecordedEntrySizeIsBoundedBeforeInflating) {
  Bytes zip = from_hex(
      "504b0304140000000800479f825d25b383fe050000000300000015000000612f6a617661636172642f4865616465722e636170636460"
      "0000504b01021403140000000800479f825d25b383fe0500000003000000150000000000000000000000800100000000612f6a617661"
      "636172642f4865616465722e636170504b0506000000000100010043000000380000000000");
  auto entries = read_zip(zip);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries.at("a/javacard/Header.cap"), from_hex("010000"));
  std::size_t cd = 0x38;  // the central directory's offset, from the end record
  ASSERT_EQ(to_hex(ByteView(zip).subspan(cd, 4)), "504b0102");
  for (std::size_t i = 0; i < 4; ++i) zip[cd + 24 + i] = i == 0 ? 0xEE : 0xFF;  // uncompressed size FFFFFFEE
  try {
    read_zip(zip);
    FAIL() << "a 4 GB entry was accepted";
  } catch (const CapError& e) {
    EXPECT_NE(std::string(e.what()).find("over the 1 MiB"), std::string::npos) << e.what();
  }
}
