// The UICC platform layer: ATR, logical channels, GET RESPONSE, applets,
// ENVELOPE dispatch, the proactive session (TS 102 221 11.1.17, 11.2, 14.7).
#include <gtest/gtest.h>

#include "rsp/tlv.hpp"
#include "rsp/uicc/uicc.hpp"

namespace rsp::uicc {
namespace {

// A small image: the MF with EF.ICCID (2FE2, SFI 02) and a 300-byte EF 2F10.
std::unique_ptr<CardImage> small_image() {
  auto img = std::make_unique<CardImage>();
  img->fs.mf = std::make_unique<File>();
  File& mf = *img->fs.mf;
  mf.type = FileType::Mf;
  mf.fid = 0x3F00;
  mf.descriptor_byte = 0x78;
  auto add_ef = [&](std::uint16_t fid, Bytes content, std::optional<std::uint8_t> sfi) {
    auto f = std::make_unique<File>();
    f->type = FileType::Transparent;
    f->fid = fid;
    f->descriptor_byte = 0x41;
    f->sfi = sfi;
    f->content = std::make_shared<Bytes>(std::move(content));
    f->parent = &mf;
    mf.children.push_back(std::move(f));
  };
  add_ef(0x2FE2, from_hex("98109909002143658739"), 0x02);
  Bytes big(300);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i);
  add_ef(0x2F10, big, std::nullopt);
  return img;
}

Bytes tx(Uicc& u, std::string_view hex) { return u.transmit(from_hex(hex)); }
std::uint16_t sw_of(ByteView r) { return static_cast<std::uint16_t>(r[r.size() - 2] << 8 | r.back()); }

class EchoApplet : public Applet {
 public:
  explicit EchoApplet(Bytes aid) : aid_(std::move(aid)) {}
  const Bytes& aid() const override { return aid_; }
  apdu::Response select(std::uint8_t channel) override {
    selected_on.push_back(channel);
    return {tlv::make(0x6F, tlv::make(0x84, aid_)), apdu::sw::kOk};
  }
  apdu::Response process(const apdu::Command& c, std::uint8_t channel) override {
    return {concat(Bytes{channel, c.ins}, c.data), apdu::sw::kOk};
  }
  void deselect(std::uint8_t channel) override { deselected_on.push_back(channel); }
  std::vector<std::uint8_t> selected_on, deselected_on;

 private:
  Bytes aid_;
};

TEST(UiccPlatform, AtrAnnouncesT1WithValidTck) {
  Bytes atr = uicc_atr();
  ASSERT_GE(atr.size(), 4u);
  EXPECT_EQ(atr[0], 0x3B);
  EXPECT_EQ(atr[3] & 0x0F, 0x01);  // TD1: T=1
  std::uint8_t x = 0;
  for (std::size_t i = 1; i < atr.size(); ++i) x ^= atr[i];
  EXPECT_EQ(x, 0);  // TCK makes the XOR of T0..TCK zero (ISO 7816-3 8.2.5)
}

TEST(UiccPlatform, LongAnswerGoesBy61xxAndGetResponse) {
  auto img = small_image();
  Uicc u(*img);
  u.add_applet(std::make_shared<EchoApplet>(from_hex("F05253500101")));
  u.reset();
  EXPECT_EQ(sw_of(tx(u, "00A4040006F0525350010100")), 0x9000);
  // 2 + 5 bytes of answer, Le 3: 3 now, '61 04', then GET RESPONSE.
  Bytes r = tx(u, "80CA000005AABBCCDDEE03");
  EXPECT_EQ(r, from_hex("00CAAA6104"));
  EXPECT_EQ(tx(u, "00C0000004"), from_hex("BBCCDDEE9000"));
  EXPECT_EQ(sw_of(tx(u, "00C0000004")), 0x6985);  // nothing pending any more
  // Le 2 of 4 pending: '61 02' again.
  EXPECT_EQ(tx(u, "80CA000005AABBCCDDEE03"), from_hex("00CAAA6104"));
  EXPECT_EQ(tx(u, "00C0000002"), from_hex("BBCC6102"));
  EXPECT_EQ(tx(u, "00C0000002"), from_hex("DDEE9000"));
  // Another command drops what was pending.
  EXPECT_EQ(tx(u, "80CA000005AABBCCDDEE03"), from_hex("00CAAA6104"));
  EXPECT_EQ(sw_of(tx(u, "80CA000000")), 0x9000);
  EXPECT_EQ(sw_of(tx(u, "00C0000004")), 0x6985);
}

TEST(UiccPlatform, ManageChannelOpensSelectsAndCloses) {
  auto img = small_image();
  Uicc u(*img);
  u.reset();
  Bytes r = tx(u, "0070000001");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0], 0x01);
  // Channel 1 has its own selection: EF.ICCID there, 2F10 on the basic channel.
  EXPECT_EQ(sw_of(tx(u, "01A4000C022FE2")), 0x9000);
  EXPECT_EQ(sw_of(tx(u, "00A4000C022F10")), 0x9000);
  EXPECT_EQ(tx(u, "01B000000A"), from_hex("981099090021436587399000"));
  EXPECT_EQ(sw_of(tx(u, "02B000000A")), 0x6881);  // never opened
  EXPECT_EQ(sw_of(tx(u, "0070800100")), 0x9000);
  EXPECT_EQ(sw_of(tx(u, "01B000000A")), 0x6881);  // closed
  EXPECT_EQ(sw_of(tx(u, "0070800000")), 0x6A86);  // the basic channel cannot be closed
  // All channels in use: '6A 81'.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(sw_of(tx(u, "0070000001")), 0x9000);
  EXPECT_EQ(sw_of(tx(u, "0070000001")), 0x6A81);
  u.reset();
  EXPECT_EQ(sw_of(tx(u, "01B000000A")), 0x6881);  // reset closes them
}

TEST(UiccPlatform, AppletGetsItsChannelsCommands) {
  auto img = small_image();
  Uicc u(*img);
  auto applet = std::make_shared<EchoApplet>(from_hex("F05253500101"));
  u.add_applet(applet);
  u.reset();
  EXPECT_EQ(sw_of(tx(u, "0070000001")), 0x9000);
  Bytes r = tx(u, "01A4040004F052535000");  // right-truncated AID
  EXPECT_EQ(r, concat(tlv::make(0x6F, tlv::make(0x84, from_hex("F05253500101"))), from_hex("9000")));
  EXPECT_EQ(tx(u, "81CA000002AABB00"), from_hex("01CAAABB9000"));
  // Without Le (case 3): '61 xx', then GET RESPONSE.
  EXPECT_EQ(tx(u, "81CA000002AABB"), from_hex("6104"));
  EXPECT_EQ(tx(u, "01C0000004"), from_hex("01CAAABB9000"));
  // The basic channel still reaches the file system.
  EXPECT_EQ(tx(u, "00B082000A"), from_hex("981099090021436587399000"));
  // Selecting a file leaves the applet.
  EXPECT_EQ(sw_of(tx(u, "01A4000C022FE2")), 0x9000);
  EXPECT_EQ(applet->deselected_on, std::vector<std::uint8_t>{1});
  EXPECT_EQ(tx(u, "01B000000A"), from_hex("981099090021436587399000"));
  EXPECT_EQ(sw_of(tx(u, "00A4040004F0525351")), 0x6A82);  // no such AID
}

TEST(UiccPlatform, EnvelopeDispatchedByTag) {
  auto img = small_image();
  Uicc u(*img);
  Bytes seen;
  u.set_envelope_handler(0xD1, [&](ByteView d) {
    seen.assign(d.begin(), d.end());
    return apdu::Response{from_hex("027100"), apdu::sw::kOk};
  });
  u.reset();
  EXPECT_EQ(tx(u, "80C2000004D1028203"), from_hex("6103"));  // case 3: the PoR waits for GET RESPONSE
  EXPECT_EQ(tx(u, "00C0000003"), from_hex("0271009000"));
  EXPECT_EQ(seen, from_hex("D1028203"));
  EXPECT_EQ(sw_of(tx(u, "80C2000004D6028203")), 0x6A80);  // no handler for D6
  EXPECT_EQ(sw_of(tx(u, "00C2000004D1028203")), 0x6D00);  // CAT commands are CLA 80
  EXPECT_EQ(sw_of(tx(u, "80100000031F0000")), 0x9000);
  EXPECT_EQ(u.terminal_profile(), from_hex("1F0000"));
}

TEST(UiccPlatform, ProactiveRefreshFetchAndTerminalResponse) {
  auto img = small_image();
  Uicc u(*img);
  u.reset();
  Refresh refresh;
  refresh.mode = RefreshMode::NaaInitialisationAndFileChange;
  refresh.files = {{0x3F00, 0x7FFF, 0x6F07}};
  Bytes cmd = encode_refresh(refresh);
  // TS 102 223 6.6.13: command details 01/01/02, UICC -> terminal, file list.
  EXPECT_EQ(cmd, from_hex("D012810301010282028182920701" "3F007FFF6F07"));
  std::optional<TerminalResponse> got;
  u.proactive().queue(cmd, [&](const TerminalResponse& t) { got = t; });
  // A normal ending now says '91 xx'.
  Bytes r = tx(u, "00A4000C022FE2");
  EXPECT_EQ(sw_of(r), 0x9100 | cmd.size());
  EXPECT_EQ(sw_of(tx(u, "8012000005")), 0x6C00 | cmd.size());  // wrong Le
  EXPECT_EQ(tx(u, "80120000" + to_hex(Bytes{static_cast<std::uint8_t>(cmd.size())})), concat(cmd, from_hex("9000")));
  EXPECT_EQ(sw_of(tx(u, "00A4000C022FE2")), 0x9000);  // fetched: nothing more announced
  EXPECT_FALSE(got);
  EXPECT_EQ(tx(u, "801400000C" "810301010282028281830100"), from_hex("9000"));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->type, kTypeRefresh);
  EXPECT_EQ(got->qualifier, 0x02);
  EXPECT_EQ(got->general_result, 0x00);
  EXPECT_EQ(sw_of(tx(u, "801400000C" "810301010282028281830100")), 0x6985);  // none in progress
  EXPECT_EQ(sw_of(tx(u, "8012000000")), 0x6F00);                           // nothing to fetch
}

TEST(UiccPlatform, ResetDropsProactiveCommands) {
  auto img = small_image();
  Uicc u(*img);
  u.reset();
  u.proactive().queue(encode_refresh(Refresh{}));
  EXPECT_EQ(tx(u, "00A4000C022FE2")[0], 0x91);
  int resets = 0;
  u.on_reset([&] { ++resets; });
  u.reset();
  EXPECT_EQ(resets, 1);
  EXPECT_EQ(sw_of(tx(u, "00A4000C022FE2")), 0x9000);
}

}  // namespace
}  // namespace rsp::uicc
