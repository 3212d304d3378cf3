// Issue 15: record commands of the card core on a small hand-built file
// system (no profile package): READ/UPDATE RECORD in every mode with and
// without SFI, SEARCH RECORD (TS 102 221 11.1.7: simple forward/backward,
// enhanced by offset and by value, from P1 / next / previous), INCREASE on
// a cyclic EF. Every expected record list below is worked out by hand from
// the records written here and the rules of the clause, not by the code.
#include <gtest/gtest.h>

#include "rsp/uicc/card.hpp"

using namespace rsp;

namespace {

std::unique_ptr<uicc::File> ef(uicc::FileType type, std::uint16_t fid, std::uint8_t sfi, std::size_t record_len,
                               Bytes content) {
  auto f = std::make_unique<uicc::File>();
  f->type = type;
  f->fid = fid;
  f->sfi = sfi;
  f->record_len = record_len;
  f->descriptor_byte = type == uicc::FileType::Cyclic ? 0x46 : type == uicc::FileType::LinearFixed ? 0x42 : 0x41;
  f->content = std::make_shared<Bytes>(std::move(content));
  return f;
}

struct UiccRecords : ::testing::Test {
  uicc::CardImage img;
  uicc::SecurityStatus sec;
  std::unique_ptr<uicc::Card> card;
  uicc::Selection sel;

  void SetUp() override {
    img.fs.mf = std::make_unique<uicc::File>();
    img.fs.mf->type = uicc::FileType::Mf;
    img.fs.mf->fid = 0x3F00;
    img.fs.mf->descriptor_byte = 0x78;
    // EF 6F3A, linear fixed, SFI 03, five records of 8 bytes:
    //   1: "ABC" at 0          2: 00 then "ABC" at 1     3: "XYZ"
    //   4: "ABC" at 0 and 4     5: 7E then "ABC" at 1
    Bytes recs = from_hex(
        "414243FFFFFFFFFF"
        "00414243FFFFFFFF"
        "58595AFFFFFFFFFF"
        "41424300414243FF"
        "7E414243FFFFFFFF");
    add(ef(uicc::FileType::LinearFixed, 0x6F3A, 0x03, 8, recs));
    // EF 6F39, cyclic, SFI 05, three records of 3 bytes; record 1 (the newest) 000005.
    add(ef(uicc::FileType::Cyclic, 0x6F39, 0x05, 3, from_hex("000005" "000004" "000003")));
    add(ef(uicc::FileType::Transparent, 0x6F07, 0x07, 0, from_hex("0102030405")));
    card = std::make_unique<uicc::Card>(img, sec);
  }
  void add(std::unique_ptr<uicc::File> f) {
    f->parent = img.fs.mf.get();
    img.fs.mf->children.push_back(std::move(f));
  }
  apdu::Response run(const std::string& hex) { return card->process(apdu::Command::parse(from_hex(hex)), sel); }
  apdu::Response run(std::uint8_t ins, std::uint8_t p1, std::uint8_t p2, const Bytes& data,
                     std::optional<std::size_t> le = std::nullopt) {
    return card->process(apdu::Command{0x00, ins, p1, p2, data, le}, sel);
  }
  apdu::Response search(std::uint8_t p1, std::uint8_t p2, const Bytes& data) { return run(0xA2, p1, p2, data, 256); }
  Bytes record(std::uint8_t p1, std::uint8_t p2) {
    auto r = run(0xB2, p1, p2, {}, 256);
    return r.sw == 0x9000 ? r.data : Bytes{static_cast<std::uint8_t>(r.sw >> 8), static_cast<std::uint8_t>(r.sw)};
  }
  void select(const std::string& fid) { ASSERT_EQ(run("00A4000C02" + fid).sw, 0x9000); }
};

const Bytes kAbc = from_hex("414243");
Bytes rec_of(const std::string& hex) { return from_hex(hex); }

TEST_F(UiccRecords, SimpleSearchForwardBackwardFromP1) {
  select("6F3A");
  // P1 = 00 names the current record; none yet after SELECT.
  EXPECT_EQ(search(0x00, 0x04, kAbc).sw, 0x6A83);
  auto r = search(0x01, 0x04, kAbc);
  ASSERT_EQ(r.sw, 0x9000);
  EXPECT_EQ(r.data, from_hex("01020405"));
  // The first match becomes the current record.
  EXPECT_EQ(record(0x00, 0x04), rec_of("414243FFFFFFFFFF"));
  EXPECT_EQ(search(0x03, 0x04, kAbc).data, from_hex("0405"));
  EXPECT_EQ(search(0x04, 0x05, kAbc).data, from_hex("040201"));  // backward, in search order
  EXPECT_EQ(search(0x02, 0x05, from_hex("58")).sw, 0x6282);       // "XYZ" is in record 3 only
  // From the current record: read record 3, then search from it.
  EXPECT_EQ(record(0x03, 0x04), rec_of("58595AFFFFFFFFFF"));
  EXPECT_EQ(search(0x00, 0x04, kAbc).data, from_hex("0405"));
  // No match: 6282, no data, record pointer unchanged (still 4, the last match).
  auto none = search(0x01, 0x04, from_hex("99"));
  EXPECT_EQ(none.sw, 0x6282);
  EXPECT_TRUE(none.data.empty());
  EXPECT_EQ(record(0x00, 0x04), rec_of("41424300414243FF"));
  // Errors: a record beyond the file, a string longer than a record, no
  // string, proprietary search, an undefined mode.
  EXPECT_EQ(search(0x06, 0x04, kAbc).sw, 0x6A83);
  EXPECT_EQ(search(0x01, 0x04, Bytes(9, 0x41)).sw, 0x6700);
  EXPECT_EQ(search(0x01, 0x04, {}).sw, 0x6700);
  EXPECT_EQ(search(0x01, 0x07, kAbc).sw, 0x6A81);
  EXPECT_EQ(search(0x01, 0x00, kAbc).sw, 0x6A86);
  // By SFI in P2 (03 << 3 | 4), from the MF with no EF selected.
  select("3F00");
  EXPECT_EQ(search(0x01, 0x1C, kAbc).data, from_hex("01020405"));
  // Not a record file.
  EXPECT_EQ(search(0x01, 0x3C, kAbc).sw, 0x6981);  // SFI 07: the transparent EF
}

TEST_F(UiccRecords, EnhancedSearchByOffsetAndByValue) {
  select("6F3A");
  auto enhanced = [&](std::uint8_t p1, std::uint8_t indication, std::uint8_t offset_or_value, const Bytes& s) {
    return search(p1, 0x06, concat(Bytes{indication, offset_or_value}, s));
  };
  // Offset 1, forward from record 1: "ABC" from byte 1 on: records 2 (at 1), 4 (at 4), 5 (at 1).
  EXPECT_EQ(enhanced(0x01, 0x04, 0x01, kAbc).data, from_hex("020405"));
  // Offset 4: only record 4 still has "ABC" from byte 4 on.
  EXPECT_EQ(enhanced(0x01, 0x04, 0x04, kAbc).data, from_hex("04"));
  // Offset 0, backward from record 5.
  EXPECT_EQ(enhanced(0x05, 0x05, 0x00, kAbc).data, from_hex("05040201"));
  // By value (b4): after the first 7E: record 5; after the first 00: records 2 and 4.
  EXPECT_EQ(enhanced(0x01, 0x0C, 0x7E, kAbc).data, from_hex("05"));
  EXPECT_EQ(enhanced(0x01, 0x0C, 0x00, kAbc).data, from_hex("0204"));
  EXPECT_EQ(enhanced(0x01, 0x0C, 0x00, from_hex("58")).sw, 0x6282);  // record 3 has no 00
  // The search starts after the value, not at it: "00 41" is found nowhere.
  EXPECT_EQ(enhanced(0x01, 0x0C, 0x00, from_hex("0041")).sw, 0x6282);
  // Forward from the next record: none current yet (just selected) -> from record 1.
  select("6F3A");
  EXPECT_EQ(enhanced(0x00, 0x06, 0x00, kAbc).data, from_hex("01020405"));
  // ... after reading record 2 -> from record 3.
  EXPECT_EQ(record(0x02, 0x04), rec_of("00414243FFFFFFFF"));
  EXPECT_EQ(enhanced(0x00, 0x06, 0x00, kAbc).data, from_hex("0405"));
  // Backward from the previous record: current is now 4 -> from record 3.
  EXPECT_EQ(enhanced(0x00, 0x07, 0x00, kAbc).data, from_hex("0201"));
  // Forward from the record after P1 = 5: nothing left.
  EXPECT_EQ(enhanced(0x05, 0x06, 0x00, kAbc).sw, 0x6282);
  // A bad search indication, a missing string.
  EXPECT_EQ(enhanced(0x01, 0x14, 0x00, kAbc).sw, 0x6A80);
  EXPECT_EQ(enhanced(0x01, 0x00, 0x00, kAbc).sw, 0x6A80);
  EXPECT_EQ(search(0x01, 0x06, from_hex("0400")).sw, 0x6700);
}

TEST_F(UiccRecords, ReadAndUpdateRecordModes) {
  select("6F3A");
  // NEXT with no current record: record 1; on a linear fixed file it stops at the end.
  for (int i = 1; i <= 5; ++i) EXPECT_EQ(record(0x00, 0x02).size(), 8u) << i;
  EXPECT_EQ(record(0x00, 0x02), from_hex("6A83"));
  EXPECT_EQ(record(0x00, 0x04), rec_of("7E414243FFFFFFFF"));  // still record 5
  select("6F3A");
  EXPECT_EQ(record(0x00, 0x03), rec_of("7E414243FFFFFFFF"));  // PREVIOUS with none: the last
  EXPECT_EQ(record(0x01, 0x04), rec_of("414243FFFFFFFFFF"));
  EXPECT_EQ(record(0x00, 0x03), from_hex("6A83"));            // before record 1
  EXPECT_EQ(record(0x01, 0x02), from_hex("6A86"));            // NEXT takes no record number
  EXPECT_EQ(record(0x00, 0x01), from_hex("6A86"));
  select("6F3A");
  EXPECT_EQ(record(0x00, 0x04), from_hex("6A83"));  // current, but none
  // By SFI (P2 = 03 << 3 | mode) from the MF.
  select("3F00");
  EXPECT_EQ(record(0x03, 0x1C), rec_of("58595AFFFFFFFFFF"));
  EXPECT_EQ(record(0x00, 0x1A), rec_of("41424300414243FF"));  // NEXT by SFI: the same file, record 4
  // UPDATE RECORD: absolute, NEXT, PREVIOUS; the pointer follows.
  Bytes a = from_hex("1111111111111111"), b = from_hex("2222222222222222");
  EXPECT_EQ(run(0xDC, 0x02, 0x04, a).sw, 0x9000);
  EXPECT_EQ(run(0xDC, 0x00, 0x02, b).sw, 0x9000);  // record 3
  EXPECT_EQ(record(0x03, 0x04), b);
  EXPECT_EQ(run(0xDC, 0x00, 0x03, a).sw, 0x9000);  // record 2 again
  EXPECT_EQ(record(0x02, 0x04), a);
  EXPECT_EQ(run(0xDC, 0x01, 0x02, a).sw, 0x6A86);
  EXPECT_EQ(run(0xDC, 0x06, 0x04, a).sw, 0x6A83);
  EXPECT_EQ(run(0xDC, 0x01, 0x04, from_hex("11")).sw, 0x6700);

  // Cyclic: NEXT wraps after the last, PREVIOUS before the first.
  select("6F39");
  EXPECT_EQ(record(0x00, 0x02), from_hex("000005"));
  EXPECT_EQ(record(0x00, 0x03), from_hex("000003"));  // wrapped to record 3
  EXPECT_EQ(record(0x00, 0x02), from_hex("000005"));  // and forward again to 1
  // UPDATE RECORD on a cyclic EF: PREVIOUS only; the oldest record is
  // overwritten and becomes record 1, the others move down one.
  EXPECT_EQ(run(0xDC, 0x01, 0x04, from_hex("000009")).sw, 0x6A86);
  EXPECT_EQ(run(0xDC, 0x00, 0x03, from_hex("000009")).sw, 0x9000);
  EXPECT_EQ(record(0x01, 0x04), from_hex("000009"));
  EXPECT_EQ(record(0x02, 0x04), from_hex("000005"));
  EXPECT_EQ(record(0x03, 0x04), from_hex("000004"));
}

TEST_F(UiccRecords, IncreaseOnTheCyclicFile) {
  select("6F39");
  // TS 102 221 11.1.8: record 1 + value -> written to the oldest record,
  // which becomes record 1; answer: new value || value added.
  auto r = run("8032000003000003");
  ASSERT_EQ(r.sw, 0x9000);
  EXPECT_EQ(r.data, from_hex("000008" "000003"));
  EXPECT_EQ(record(0x01, 0x04), from_hex("000008"));
  EXPECT_EQ(record(0x02, 0x04), from_hex("000005"));
  EXPECT_EQ(record(0x03, 0x04), from_hex("000004"));
  // A shorter value is added to the low-order bytes; a carry runs up.
  EXPECT_EQ(run("80320000" "01F8").data, from_hex("000100" "F8"));
  EXPECT_EQ(run("8032000003FFFFFF").sw, 0x9850);  // over the maximum
  EXPECT_EQ(record(0x01, 0x04), from_hex("000100"));  // unchanged by the refusal
  EXPECT_EQ(run("8032000101").sw, 0x6A86);            // P2 must be 00
  EXPECT_EQ(run("803200000400000001").sw, 0x6700);    // longer than a record
  // By SFI in P1 (b8 set, SFI 05) from the MF; on a linear fixed file: 6981.
  select("3F00");
  EXPECT_EQ(run("8032850001" "01").data, from_hex("000101" "01"));
  EXPECT_EQ(run("8032830001" "01").sw, 0x6981);
}

}  // namespace
