// Issue 15, points 3 and more: the card core's commands on a TS.48 profile
// (TS48v5 SAIP 2.3 BER-TLV SUCI): PIN counters, PUK, access conditions from
// EF.ARR, records (modes, SFI, search), INCREASE, BER-TLV files, linked
// files, partial AID, STATUS, GET CHALLENGE.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "rsp/tlv.hpp"
#include "rsp/uicc/card.hpp"
#include "rsp/uicc/profile_package.hpp"

using namespace rsp;

namespace {

std::optional<Bytes> read_testdata(const std::string& rel) {
  std::ifstream in(std::string(RSP_SHARED_TESTDATA) + "/" + rel, std::ios::binary);
  if (!in) return std::nullopt;
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// TS.48 v5 PINs and PUK (the profile's PE-PINCodes / PE-PUKCodes).
const Bytes kPin1 = from_hex("30303030FFFFFFFF");  // "0000", key 01, disabled in the package
const Bytes kPin2 = from_hex("39393939FFFFFFFF");  // "9999", key 81
const Bytes kAdm1 = from_hex("3535353535353535");  // key 0A
const Bytes kPuk1 = from_hex("3131313131313131");  // key 01

struct UiccCard : ::testing::Test {
  std::unique_ptr<uicc::CardImage> img;
  uicc::SecurityStatus sec;
  std::unique_ptr<uicc::Card> card;
  uicc::Selection sel;

  void SetUp() override {
    auto package = read_testdata("ts48/TS48v5_SAIP2.3_BERTLV_SUCI.der");
    if (!package) GTEST_SKIP() << "no TS.48 test profiles in " << RSP_SHARED_TESTDATA;
    img = uicc::build_card_image(*package);
    card = std::make_unique<uicc::Card>(*img, sec);
  }
  apdu::Response run(const std::string& hex) {
    return card->process(apdu::Command::parse(from_hex(hex)), sel);
  }
  apdu::Response run(std::uint8_t cla, std::uint8_t ins, std::uint8_t p1, std::uint8_t p2, const Bytes& data,
                     std::optional<std::size_t> le = std::nullopt) {
    return card->process(apdu::Command{cla, ins, p1, p2, data, le}, sel);
  }
  // A new card session: PIN verification forgotten (UICC reset).
  void reset() {
    sec = uicc::SecurityStatus{};
    sel = uicc::Selection{};
  }
  void select_usim_est() {
    ASSERT_EQ(run(0x00, 0xA4, 0x04, 0x0C, img->first_usim_aid).sw, 0x9000);
    ASSERT_EQ(run("00A4000C026F56").sw, 0x9000);  // EF.EST: read PIN1, update PIN2 (EF.ARR record 1)
  }
};

TEST_F(UiccCard, PinCountersPukAndAccessConditions) {
  select_usim_est();
  // PIN1 is disabled in the package: its condition holds; PIN2's does not.
  EXPECT_EQ(run("00B0000001").sw, 0x9000);
  EXPECT_EQ(run("00D6000001FF").sw, 0x6982);
  EXPECT_EQ(run(0x00, 0x20, 0x00, 0x81, {}).sw, 0x63C3);  // status: 3 tries
  EXPECT_EQ(run(0x00, 0x20, 0x00, 0x81, kPin2).sw, 0x9000);
  EXPECT_EQ(run("00D6000001FF").sw, 0x9000);
  EXPECT_EQ(run(0x00, 0x20, 0x00, 0x81, {}).sw, 0x9000);  // verified

  // Enable PIN1 (with its value); the ADF's PS_DO shows it enabled.
  EXPECT_EQ(run(0x00, 0x28, 0x00, 0x01, kPin1).sw, 0x9000);
  EXPECT_EQ(run(0x00, 0x28, 0x00, 0x01, kPin1).sw, 0x6985);  // already enabled
  reset();
  auto fcp = run(0x00, 0xA4, 0x04, 0x04, img->first_usim_aid, 256);
  ASSERT_EQ(fcp.sw, 0x9000);
  auto c6 = tlv::find(tlv::parse_one(fcp.data).value, 0xC6);
  ASSERT_TRUE(c6);
  auto ps = tlv::find(c6->value, 0x90);
  ASSERT_TRUE(ps);
  // Key references in the package's order 01, 81, 0A, 0B (or as listed): bit set for 01.
  auto refs = tlv::parse_all(c6->value);
  for (std::size_t i = 1, k = 0; i < refs.size(); ++i, ++k)
    if (refs[i].value[0] == 0x01) {
      EXPECT_TRUE(ps->value[k / 8] & (0x80 >> (k % 8))) << "PIN1 not shown enabled";
    }
  ASSERT_EQ(run("00A4000C026F56").sw, 0x9000);
  EXPECT_EQ(run("00B0000001").sw, 0x6982);  // now needs PIN1

  // Wrong PIN1 counts down; the third makes it blocked.
  Bytes wrong = from_hex("31323334FFFFFFFF");
  EXPECT_EQ(run(0x00, 0x20, 0x00, 0x01, wrong).sw, 0x63C2);
  EXPECT_EQ(run(0x00, 0x20, 0x00, 0x01, wrong).sw, 0x63C1);
  EXPECT_EQ(run(0x00, 0x20, 0x00, 0x01, wrong).sw, 0x63C0);
  EXPECT_EQ(run(0x00, 0x20, 0x00, 0x01, kPin1).sw, 0x6983);  // blocked: even the right one
  EXPECT_EQ(run(0x00, 0x20, 0x00, 0x01, {}).sw, 0x63C0);
  EXPECT_EQ(run("00B0000001").sw, 0x6982);
  EXPECT_EQ(run(0x00, 0x20, 0x00, 0x01, from_hex("30303030")).sw, 0x6700);  // not 8 bytes
  EXPECT_EQ(run(0x00, 0x20, 0x00, 0x05, kPin1).sw, 0x6A88);                 // no such key

  // UNBLOCK: the PUK counts down too; the right PUK sets a new PIN.
  Bytes new_pin = from_hex("31323334FFFFFFFF");
  EXPECT_EQ(run(0x00, 0x2C, 0x00, 0x01, {}).sw, 0x63CA);
  EXPECT_EQ(run(0x00, 0x2C, 0x00, 0x01, concat(from_hex("3939393939393939"), new_pin)).sw, 0x63C9);
  EXPECT_EQ(run(0x00, 0x2C, 0x00, 0x01, concat(kPuk1, new_pin)).sw, 0x9000);
  EXPECT_EQ(run("00B0000001").sw, 0x9000);  // unblocking verifies
  reset();
  select_usim_est();
  EXPECT_EQ(run(0x00, 0x20, 0x00, 0x01, {}).sw, 0x63C3);  // counter back to its maximum
  EXPECT_EQ(run(0x00, 0x20, 0x00, 0x01, kPin1).sw, 0x63C2);  // the old value is gone
  EXPECT_EQ(run(0x00, 0x20, 0x00, 0x01, new_pin).sw, 0x9000);

  // CHANGE PIN: old || new.
  Bytes newer = from_hex("39383736FFFFFFFF");
  EXPECT_EQ(run(0x00, 0x24, 0x00, 0x01, concat(from_hex("35353535FFFFFFFF"), newer)).sw, 0x63C2);
  EXPECT_EQ(run(0x00, 0x24, 0x00, 0x01, concat(new_pin, newer)).sw, 0x9000);
  reset();
  select_usim_est();
  EXPECT_EQ(run("00B0000001").sw, 0x6982);
  EXPECT_EQ(run(0x00, 0x20, 0x00, 0x01, newer).sw, 0x9000);
  EXPECT_EQ(run("00B0000001").sw, 0x9000);

  // DISABLE: then no verification is needed.
  EXPECT_EQ(run(0x00, 0x26, 0x00, 0x01, newer).sw, 0x9000);
  reset();
  select_usim_est();
  EXPECT_EQ(run("00B0000001").sw, 0x9000);
  // ADM files: EF.IMSI is updated with ADM1 only.
  ASSERT_EQ(run("00A4000C026F07").sw, 0x9000);
  EXPECT_EQ(run("00D600000108").sw, 0x6982);
  EXPECT_EQ(run(0x00, 0x26, 0x00, 0x0A, kAdm1).sw, 0x6985);  // ADM cannot be disabled
  EXPECT_EQ(run(0x00, 0x20, 0x00, 0x0A, kAdm1).sw, 0x9000);
  EXPECT_EQ(run("00D600000108").sw, 0x9000);
}

TEST_F(UiccCard, FileSystemCommands) {
  // EF.ICCID by SFI 02 at the MF (TS 102 221 13.2), without selecting it.
  ASSERT_EQ(run("00A4000C023F00").sw, 0x9000);
  auto iccid = run("00B082000A");
  ASSERT_EQ(iccid.sw, 0x9000);
  EXPECT_EQ(iccid.data.size(), 10u);
  EXPECT_EQ(run("00B0820005").data, Bytes(iccid.data.begin(), iccid.data.begin() + 5));
  EXPECT_EQ(run("00B082000C").sw, 0x6C0A);  // wrong Le: told the right one

  // EF.DIR records name USIM, ISIM and CSIM; each AID selects its ADF, a
  // right-truncated AID too.
  int apps = 0;
  for (std::uint8_t rec = 1; rec <= 8; ++rec) {
    ASSERT_EQ(run("00A4000C023F00").sw, 0x9000);
    auto r = run(0x00, 0xB2, rec, 0xF4, {}, 256);  // SFI 1E, absolute
    if (r.sw != 0x9000 || r.data.empty() || r.data[0] != 0x61) continue;
    auto aid = tlv::find(tlv::parse_one(r.data).value, 0x4F);
    ASSERT_TRUE(aid);
    Bytes a(aid->value.begin(), aid->value.end());
    auto s = run(0x00, 0xA4, 0x04, 0x04, a, 256);
    ASSERT_EQ(s.sw, 0x9000) << to_hex(a);
    auto df_name = tlv::find(tlv::parse_one(s.data).value, 0x84);
    ASSERT_TRUE(df_name);
    EXPECT_EQ(Bytes(df_name->value.begin(), df_name->value.end()), a);
    EXPECT_EQ(run(0x00, 0xA4, 0x04, 0x0C, Bytes(a.begin(), a.begin() + 7)).sw, 0x9000);
    EXPECT_EQ(run("80F2000100").data, tlv::make(0x84, a));  // STATUS: the current application
    ++apps;
  }
  EXPECT_EQ(apps, 3);
  // CSIM (A0000003431002): its own ADF with its own files (EF.IMSI_M 6F22).
  ASSERT_EQ(run("00A4040C07A0000003431002").sw, 0x9000);
  EXPECT_EQ(run("00A4000C026F22").sw, 0x9000);
  EXPECT_EQ(run("00A4000C026F07").sw, 0x6A82);  // the USIM's EF.IMSI is not here

  // DF.MMSS is a DF in DF.TELECOM; DF.PHONEBOOK's EF.PBR and EF.ADN records.
  auto mmss = run("00A40804047F105F3C00");
  ASSERT_EQ(mmss.sw, 0x9000);
  EXPECT_EQ(tlv::find(tlv::parse_one(mmss.data).value, 0x82)->value[0] & 0xBF, 0x38);
  ASSERT_EQ(run("00A4080C047F105F3A").sw, 0x9000);
  ASSERT_EQ(run("00A4000C024F30").sw, 0x9000);
  auto pbr = run("00B2010400");
  ASSERT_EQ(pbr.sw, 0x9000);
  EXPECT_EQ(pbr.data[0], 0xA8);
  // The ADN's SFI from EF.PBR (C0 03 4F3A 0A), read by SFI in DF.PHONEBOOK.
  auto adn1 = run("00B2015400");
  ASSERT_EQ(adn1.sw, 0x9000);
  EXPECT_EQ(Bytes(adn1.data.begin(), adn1.data.begin() + 8), to_bytes("Testnr.1"));
  // NEXT / PREVIOUS / current modes.
  auto name = [](const apdu::Response& r) { return r.data.size() >= 8 ? Bytes(r.data.begin(), r.data.begin() + 8) : r.data; };
  EXPECT_EQ(name(run("00B2000200")), to_bytes("Testnr.2"));
  EXPECT_EQ(name(run("00B2000400")), to_bytes("Testnr.2"));  // current
  EXPECT_EQ(name(run("00B2000300")), to_bytes("Testnr.1"));
  EXPECT_EQ(run("00B2000300").sw, 0x6A83);  // before record 1 of a linear fixed file
  // SEARCH RECORD (simple, forward from record 1): "Testnr." is in records 1 and 2.
  auto found = run(0x00, 0xA2, 0x01, 0x04, to_bytes("Testnr."), 256);
  ASSERT_EQ(found.sw, 0x9000);
  EXPECT_EQ(found.data, from_hex("0102"));
  EXPECT_EQ(run(0x00, 0xA2, 0x01, 0x04, to_bytes("nobody"), 256).data, Bytes{});
  // Enhanced search at offset 7: '2'.
  EXPECT_EQ(run(0x00, 0xA2, 0x01, 0x06, concat(Bytes{0x04, 0x07}, to_bytes("2")), 256).data, from_hex("02"));

  // DF.TELECOM EF.ADN (6F3A) is linked to DF.PHONEBOOK EF.ADN: the same records,
  // and an update through one shows in the other (after ADM / PIN as the ARR wants).
  for (auto kr : {0x01, 0x81, 0x0A}) run(0x00, 0x20, 0x00, static_cast<std::uint8_t>(kr),
                                            kr == 0x01 ? kPin1 : kr == 0x81 ? kPin2 : kAdm1);
  ASSERT_EQ(run("00A4080C047F106F3A").sw, 0x9000);
  auto linked = run("00B2010400");
  ASSERT_EQ(linked.sw, 0x9000);
  EXPECT_EQ(linked.data, adn1.data);
  Bytes rec = adn1.data;
  rec[7] = '9';
  EXPECT_EQ(run(0x00, 0xDC, 0x01, 0x04, rec).sw, 0x9000);
  ASSERT_EQ(run("00A4080C067F105F3A4F3A").sw, 0x9000);
  EXPECT_EQ(run("00B2010400").data, rec);
  EXPECT_EQ(run(0x00, 0xDC, 0x01, 0x04, Bytes(3, 0)).sw, 0x6700);  // not a record's length

  // A BER-TLV EF (DF.V2X EF.V2X_CONFIG, 4F02): SET DATA, RETRIEVE DATA, tag list, delete.
  auto bt = run("00A40804067F105F3E4F0200");
  ASSERT_EQ(bt.sw, 0x9000);
  EXPECT_EQ(tlv::find(tlv::parse_one(bt.data).value, 0x82)->value[0] & 0xBF, 0x39);
  EXPECT_EQ(run("80CB008001C100").sw, 0x6A88);
  EXPECT_EQ(run("80DB0080058103112233").sw, 0x9000);
  EXPECT_EQ(run("80DB008004C2020102").sw, 0x9000);
  EXPECT_EQ(run("80CB0080018100").data, from_hex("8103112233"));
  EXPECT_EQ(run("80CB0080015C00").data, from_hex("5C0281C2"));
  EXPECT_EQ(run("80DB0080028100").sw, 0x9000);  // empty value: deleted
  EXPECT_EQ(run("80CB0080018100").sw, 0x6A88);
  EXPECT_EQ(run("00B0000001").sw, 0x6981);  // not a transparent EF

  // INCREASE on a cyclic EF (EF.ACM 6F39 in the USIM, 3-byte records).
  ASSERT_EQ(run(0x00, 0xA4, 0x04, 0x0C, img->first_usim_aid).sw, 0x9000);
  if (run("00A4000C026F39").sw == 0x9000) {
    auto before = run("00B2010403");
    ASSERT_EQ(before.sw, 0x9000);
    auto inc = run("8032000003000005");
    ASSERT_EQ(inc.sw, 0x9000) << std::hex << inc.sw;
    std::uint32_t v = static_cast<std::uint32_t>(before.data[0] << 16 | before.data[1] << 8 | before.data[2]) + 5;
    EXPECT_EQ(Bytes(inc.data.begin(), inc.data.begin() + 3),
              (Bytes{static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)}));
    EXPECT_EQ(run("00B2010403").data, Bytes(inc.data.begin(), inc.data.begin() + 3));
    EXPECT_EQ(run("8032000003FFFFFF").sw, 0x9850);
  }

  // GET CHALLENGE: fresh random bytes.
  auto c1 = run("0084000010"), c2 = run("0084000010");
  ASSERT_EQ(c1.sw, 0x9000);
  EXPECT_EQ(c1.data.size(), 16u);
  EXPECT_NE(c1.data, c2.data);
  // Parent DF / errors.
  ASSERT_EQ(run("00A4080C047F105F3A").sw, 0x9000);
  EXPECT_EQ(run("00A4030C").sw, 0x9000);
  EXPECT_EQ(tlv::find(tlv::parse_one(run("80F2000000").data).value, 0x83)->value[0], 0x7F);
  EXPECT_EQ(run("00A4000C026FFF").sw, 0x6A82);
  EXPECT_EQ(run("00A4040C05A000000999").sw, 0x6A82);
}

TEST_F(UiccCard, DumpShowsTheTree) {
  std::string d = uicc::dump(img->fs);
  EXPECT_NE(d.find("3F00/7F10/5F3C DF"), std::string::npos) << d.substr(0, 2000);
  EXPECT_NE(d.find("3F00/2FE2 transparent size=10 sfi=02"), std::string::npos);
  EXPECT_NE(d.find("ADF aid=A0000003431002"), std::string::npos);
  EXPECT_NE(d.find("link=7F10/5F3A/4F3A"), std::string::npos);
}

}  // namespace
