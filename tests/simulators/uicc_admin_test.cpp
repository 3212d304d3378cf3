// Issue 15: the life-cycle and administrative commands of the card core on
// a hand-built file system: CREATE FILE / DELETE FILE (ETSI TS 102 222 6.3,
// 6.4), DEACTIVATE / ACTIVATE FILE (TS 102 221 11.1.14, 11.1.15), TERMINATE
// EF / DF (TS 102 222 6.7, 6.8), each under the access condition EF.ARR gives
// (ISO 7816-4 access mode byte: DF 01 delete child, 02 create EF, 04 create
// DF; 08 deactivate, 10 activate, 20 terminate, 40 delete self). APDUs are
// coded as pySim's commands.py sends them (create_file, delete_file,
// activate_file, deactivate_file, terminate_ef/df).
#include <gtest/gtest.h>

#include "rsp/tlv.hpp"
#include "rsp/uicc/card.hpp"

using namespace rsp;

namespace {

const Bytes kAdm = from_hex("3132333435363738");

struct UiccAdmin : ::testing::Test {
  uicc::CardImage img;
  uicc::SecurityStatus sec;
  std::unique_ptr<uicc::Card> card;
  uicc::Selection sel, other;  // two logical channels

  void SetUp() override {
    auto mf = std::make_unique<uicc::File>();
    mf->type = uicc::FileType::Mf;
    mf->fid = 0x3F00;
    mf->descriptor_byte = 0x78;
    mf->security_attributes = from_hex("2F0601");  // EF.ARR record 1
    // EF.ARR: record 1 (DFs): create EF/DF and delete child under ADM (0A);
    // record 2 (EFs): read always; update, deactivate, activate, terminate,
    // delete under ADM. TS 102 221 9.2.4 expanded format, FF padded.
    auto arr = std::make_unique<uicc::File>();
    arr->type = uicc::FileType::LinearFixed;
    arr->fid = 0x2F06;
    arr->record_len = 24;
    arr->descriptor_byte = 0x42;
    Bytes r1 = from_hex("800107A40683010A950108"), r2 = from_hex("8001019000" "80017AA40683010A950108");
    r1.resize(24, 0xFF);
    r2.resize(24, 0xFF);
    arr->content = std::make_shared<Bytes>(concat(r1, r2));
    arr->parent = mf.get();
    mf->children.push_back(std::move(arr));
    img.fs.mf = std::move(mf);
    uicc::Pin adm;
    adm.key_reference = 0x0A;
    adm.value = kAdm;
    img.pins[0x0A] = adm;
    card = std::make_unique<uicc::Card>(img, sec);
  }
  apdu::Response run(const std::string& hex, uicc::Selection* on = nullptr) {
    return card->process(apdu::Command::parse(from_hex(hex)), on ? *on : sel);
  }
  apdu::Response create(const Bytes& fcp_body) {
    Bytes fcp = tlv::make(0x62, fcp_body);
    return card->process(apdu::Command{0x00, 0xE0, 0x00, 0x00, fcp, std::nullopt}, sel);
  }
  void verify_adm() { ASSERT_EQ(card->process(apdu::Command{0x00, 0x20, 0x00, 0x0A, kAdm, std::nullopt}, sel).sw, 0x9000); }
  std::optional<Bytes> fcp_tag(const apdu::Response& r, std::uint32_t tag) {
    auto t = tlv::find(tlv::parse_one(r.data).value, tag);
    if (!t) return std::nullopt;
    return Bytes(t->value.begin(), t->value.end());
  }
};

// A transparent EF 6F01 of 10 bytes filled with 00, EF.ARR record 2.
const Bytes kTransparentFcp = from_hex("82024121" "83026F01" "8A0105" "8B032F0602" "8002000A" "A503C10100");
// A linear fixed EF 6F02: 3 records of 4 bytes, no SFI (tag 88 empty).
const Bytes kRecordFcp = from_hex("82054221000403" "83026F02" "8A0105" "8B032F0602" "8800");

TEST_F(UiccAdmin, CreateFileUnderTheParentsAccessCondition) {
  EXPECT_EQ(create(kTransparentFcp).sw, 0x6982);  // create EF needs ADM at the MF
  verify_adm();
  ASSERT_EQ(create(kTransparentFcp).sw, 0x9000);
  // The new file is the current file: read it without selecting it.
  EXPECT_EQ(run("00B000000A").data, Bytes(10, 0x00));
  auto fcp = run("00A4000402" "6F01" "00");
  ASSERT_EQ(fcp.sw, 0x9000);
  EXPECT_EQ(fcp_tag(fcp, 0x80), from_hex("000A"));
  EXPECT_EQ(fcp_tag(fcp, 0x8B), from_hex("2F0602"));
  // No tag 88: SFI = the five low bits of the file id (01), coded b8-b4.
  EXPECT_EQ(fcp_tag(fcp, 0x88), from_hex("08"));
  ASSERT_EQ(run("00A4000C023F00").sw, 0x9000);
  EXPECT_EQ(run("00B0810003").data, Bytes(3, 0x00));  // READ BINARY by SFI 01
  ASSERT_EQ(run("00A4000C023F00").sw, 0x9000);
  EXPECT_EQ(create(kTransparentFcp).sw, 0x6A89);  // id in use
  EXPECT_EQ(create(from_hex("82024121" "83023F00" "80020001")).sw, 0x6A80);  // reserved id
  EXPECT_EQ(create(from_hex("83026F09" "80020001")).sw, 0x6A80);             // no descriptor
  EXPECT_EQ(card->process(apdu::Command{0x00, 0xE0, 0x00, 0x00, from_hex("6F03830102"), std::nullopt}, sel).sw,
            0x6A80);  // not an FCP template
  EXPECT_EQ(card->process(apdu::Command{0x00, 0xE0, 0x01, 0x00, tlv::make(0x62, kRecordFcp), std::nullopt}, sel).sw,
            0x6A86);

  // A linear fixed EF: three FF records, no SFI.
  ASSERT_EQ(create(kRecordFcp).sw, 0x9000);
  EXPECT_EQ(run("00B2030404").data, from_hex("FFFFFFFF"));
  EXPECT_EQ(run("00B2040404").sw, 0x6A83);
  auto rfcp = run("00A4000402" "6F02" "00");
  EXPECT_EQ(fcp_tag(rfcp, 0x82), from_hex("42210004" "03"));
  EXPECT_EQ(fcp_tag(rfcp, 0x88), Bytes{});

  // A DF, which becomes the current DF; an EF created in it lands there.
  ASSERT_EQ(run("00A4000C023F00").sw, 0x9000);
  ASSERT_EQ(create(from_hex("82027821" "83027F20" "8A0105" "8B032F0601")).sw, 0x9000);
  EXPECT_EQ(fcp_tag(run("80F2000000"), 0x83), from_hex("7F20"));
  // A DF with a PIN status template (TS 102 221 9.5.2): its key reference, shown enabled.
  ASSERT_EQ(run("00A4000C023F00").sw, 0x9000);
  ASSERT_EQ(create(from_hex("82027821" "83027F22" "8A0105" "8B032F0601" "C606900180" "83010A")).sw, 0x9000);
  EXPECT_EQ(fcp_tag(run("80F2000000"), 0xC6), from_hex("900180" "83010A"));
  ASSERT_EQ(run("00A4000C027F20").sw, 0x9000);
  ASSERT_EQ(create(from_hex("82024121" "83026F03" "8B032F0602" "80020002")).sw, 0x9000);
  EXPECT_EQ(run("00A4080C047F206F03").sw, 0x9000);
  EXPECT_EQ(run("00A4080C026F03").sw, 0x6A82);  // not at the MF

  // An ADF, by its AID, only at the MF; the AID must be new.
  ASSERT_EQ(run("00A4000C023F00").sw, 0x9000);
  Bytes adf = from_hex("82027821" "83027FF1" "8407A0000000871099" "8A0105");
  ASSERT_EQ(create(adf).sw, 0x9000);
  EXPECT_EQ(run("00A4040C07A0000000871099").sw, 0x9000);
  ASSERT_EQ(run("00A4000C023F00").sw, 0x9000);
  EXPECT_EQ(create(adf).sw, 0x6A8A);
}

TEST_F(UiccAdmin, DeactivateActivateTerminate) {
  verify_adm();
  ASSERT_EQ(create(kTransparentFcp).sw, 0x9000);
  // DEACTIVATE FILE (04 00 00, no data): the current file. Then only
  // SELECT (with warning 6283), STATUS and ACTIVATE FILE serve it.
  ASSERT_EQ(run("00040000").sw, 0x9000);
  EXPECT_EQ(run("00B0000001").sw, 0x6283);
  EXPECT_EQ(run("00D6000001AA").sw, 0x6283);
  auto s = run("00A4000402" "6F01" "00");
  EXPECT_EQ(s.sw, 0x6283);
  EXPECT_EQ(fcp_tag(s, 0x8A), from_hex("04"));  // LCSI: operational, deactivated
  ASSERT_EQ(run("00A4000C023F00").sw, 0x9000);
  ASSERT_EQ(run("00440000026F01").sw, 0x9000);  // ACTIVATE FILE by file id
  EXPECT_EQ(run("00B0000001").data, from_hex("00"));  // and it is the current file
  EXPECT_EQ(fcp_tag(run("00A4000402" "6F01" "00"), 0x8A), from_hex("05"));

  // Without ADM: refused.
  sec = uicc::SecurityStatus{};
  EXPECT_EQ(run("00040000").sw, 0x6982);
  EXPECT_EQ(run("00D6000001AA").sw, 0x6982);
  verify_adm();

  // TERMINATE EF: for good.
  ASSERT_EQ(run("00A4000C023F00").sw, 0x9000);
  ASSERT_EQ(create(kRecordFcp).sw, 0x9000);
  ASSERT_EQ(run("00A4000C023F00").sw, 0x9000);
  ASSERT_EQ(run("00E80000026F02").sw, 0x9000);
  EXPECT_EQ(run("00B2010404").sw, 0x6284);
  EXPECT_EQ(run("00440000026F02").sw, 0x6284);  // cannot be activated again
  auto t = run("00A4000402" "6F02" "00");
  EXPECT_EQ(t.sw, 0x6284);
  EXPECT_EQ(fcp_tag(t, 0x8A), from_hex("0C"));
}

TEST_F(UiccAdmin, TerminateDf) {
  verify_adm();
  ASSERT_EQ(create(from_hex("82027821" "83027F20" "8A0105" "8B032F0601")).sw, 0x9000);
  ASSERT_EQ(run("00A4000C023F00").sw, 0x9000);
  EXPECT_EQ(run("00E60000026F01").sw, 0x6A82);
  EXPECT_EQ(run("00E80000027F20").sw, 0x6981);  // TERMINATE EF on a DF
  // 7F20's rule (EF.ARR record 1) has no terminate bit: refused.
  EXPECT_EQ(run("00E60000027F20").sw, 0x6982);
  EXPECT_EQ(run("00040000").sw, 0x6985);  // the MF is not deactivated
  // 7F21 under record 2 (terminate with ADM), with an EF inside.
  ASSERT_EQ(create(from_hex("82027821" "83027F21" "8A0105" "8B032F0602")).sw, 0x9000);
  ASSERT_EQ(create(from_hex("82024121" "83026F04" "8B032F0602" "80020002")).sw, 0x9000);
  EXPECT_EQ(run("00B0000002").data, from_hex("FFFF"));
  ASSERT_EQ(run("00A4000C023F00").sw, 0x9000);
  ASSERT_EQ(run("00E60000027F21").sw, 0x9000);
  // The terminated DF is the current DF; its EF is no longer usable.
  EXPECT_EQ(run("00A4000C026F04").sw, 0x6284);
  EXPECT_EQ(run("00B0000002").sw, 0x6284);
  EXPECT_EQ(run("00E60000027F21").sw, 0x6284);  // the current DF itself: already terminated
  ASSERT_EQ(run("00A4000C023F00").sw, 0x9000);
  EXPECT_EQ(run("00E60000027F21").sw, 0x6284);  // already terminated
  EXPECT_EQ(fcp_tag(run("00A4000402" "7F21" "00"), 0x8A), from_hex("0C"));
}

TEST_F(UiccAdmin, DeleteFileAndOtherChannels) {
  verify_adm();
  ASSERT_EQ(create(kTransparentFcp).sw, 0x9000);
  ASSERT_EQ(run("00A4000C023F00").sw, 0x9000);
  ASSERT_EQ(create(from_hex("82027821" "83027F20" "8A0105" "8B032F0601")).sw, 0x9000);
  ASSERT_EQ(create(from_hex("82024121" "83026F03" "8B032F0602" "80020002")).sw, 0x9000);
  // Channel 2 has 7F20/6F03 selected.
  ASSERT_EQ(run("00A4080C047F206F03", &other).sw, 0x9000);
  EXPECT_EQ(run("00B0000002", &other).data, from_hex("FFFF"));

  ASSERT_EQ(run("00A4000C023F00").sw, 0x9000);
  sec = uicc::SecurityStatus{};
  EXPECT_EQ(run("00E4000002" "6F01").sw, 0x6982);  // delete child needs ADM
  verify_adm();
  uicc::Selection third;  // a third channel on 6F01 itself
  ASSERT_EQ(run("00A4000C026F01", &third).sw, 0x9000);
  EXPECT_EQ(run("00E4000002" "6F01").sw, 0x9000);
  EXPECT_EQ(run("00B0000001", &third).sw, 0x6986);  // its EF is gone, its DF (the MF) is not
  EXPECT_EQ(run("00A4000C026F01").sw, 0x6A82);
  EXPECT_EQ(run("00E4000002" "6F01").sw, 0x6A82);
  EXPECT_EQ(run("00E40000016F").sw, 0x6700);
  // Deleting the DF takes its EF with it; channel 2 finds its selection
  // gone (back at the MF, no EF) instead of a freed file.
  EXPECT_EQ(run("00E4000002" "7F20").sw, 0x9000);
  EXPECT_EQ(run("00B0000002", &other).sw, 0x6986);
  EXPECT_EQ(fcp_tag(run("80F2000000", &other), 0x83), from_hex("3F00"));
  EXPECT_EQ(run("00A4080C047F206F03").sw, 0x6A82);
  // The id is free again.
  EXPECT_EQ(create(kTransparentFcp).sw, 0x9000);
}

}  // namespace
