// The eUICC's APDU layer: channels, SELECT, STORE DATA chaining, GET RESPONSE,
// and status words for bad input.
#include "sim_test_util.hpp"
#include "rsp/log.hpp"
#include "rsp/tlv.hpp"

using namespace rsp;
using namespace rsp::sim;
using namespace rsp::sim::test;

namespace {

struct ApduLayer : ::testing::Test {
  void SetUp() override { log::set_level(log::Level::Error); }
  std::unique_ptr<Euicc> card = std::make_unique<Euicc>(config_for(pki()));
};

TEST_F(ApduLayer, ResetGivesAtrWithValidTck) {
  Bytes atr = card->reset();
  ASSERT_GE(atr.size(), 4u);
  EXPECT_EQ(atr[0], 0x3B);
  std::uint8_t x = 0;
  for (std::size_t i = 1; i < atr.size(); ++i) x ^= atr[i];
  EXPECT_EQ(x, 0) << "TCK";
}

TEST_F(ApduLayer, SelectIsdrReturnsFci) {
  // Without Le (case 3) the FCI waits for GET RESPONSE ('61 xx'), the
  // platform's rule for every simulated card (rsp/uicc/uicc.hpp).
  auto r = tx(*card, "00A4040010A0000005591010FFFFFFFF8900000100");
  ASSERT_EQ(r.sw1(), 0x61);
  EXPECT_TRUE(r.data.empty());
  auto gr = tx(*card, "00C00000" + to_hex(Bytes{r.sw2()}));
  EXPECT_EQ(gr.sw, 0x9000);
  r = tx(*card, "00A4040010A0000005591010FFFFFFFF890000010000");
  EXPECT_EQ(r.sw, 0x9000);
  EXPECT_EQ(r.data, gr.data);
  ASSERT_FALSE(r.data.empty());
  auto fci = tlv::parse_one(r.data);
  EXPECT_EQ(fci.tag, 0x6Fu);
  auto aid = tlv::find(fci.value, 0x84);
  ASSERT_TRUE(aid);
  EXPECT_EQ(Bytes(aid->value.begin(), aid->value.end()), kIsdrAid);
  // P2 0C: no data
  r = tx(*card, "00A4040C10A0000005591010FFFFFFFF8900000100");
  EXPECT_EQ(r.sw, 0x9000);
  EXPECT_TRUE(r.data.empty());
}

TEST_F(ApduLayer, UnknownAidIsFileNotFound) {
  EXPECT_EQ(tx(*card, "00A4040007A0000000871002").sw, 0x6A82);  // no profile enabled, no USIM
}

TEST_F(ApduLayer, StoreDataNeedsIsdr) {
  EXPECT_EQ(tx(*card, "80E2910006BF3E035C015A").sw, 0x6985);
  select_isdr(*card);
  auto r = tx(*card, "80E2910006BF3E035C015A00");
  EXPECT_EQ(r.sw, 0x9000);
  EXPECT_EQ(r.data, concat(from_hex("BF3E125A10"), card->eid()));
}

TEST_F(ApduLayer, BadClassAndInstruction) {
  select_isdr(*card);
  EXPECT_EQ(tx(*card, "FFE2910000").sw, 0x6E00);
  EXPECT_EQ(tx(*card, "80CA005A00").sw, 0x6D00);
  EXPECT_EQ(tx(*card, "00E2910006BF3E035C015A").sw, 0x6E00);  // STORE DATA is a proprietary-class command
}

TEST_F(ApduLayer, MalformedApdusAreAnsweredNotThrown) {
  EXPECT_EQ(tx(*card, "00A4").sw, 0x6700);
  EXPECT_EQ(tx(*card, "00A4040010A000").sw, 0x6700);  // Lc larger than the data
  EXPECT_EQ(tx(*card, "").sw, 0x6700);
  select_isdr(*card);
  EXPECT_EQ(tx(*card, "80E2910003BF3E05").sw, 0x6A80);          // truncated TLV
  EXPECT_EQ(tx(*card, "80E2910004BF7F0100").sw, 0x6A80);        // unknown ES10 tag
  EXPECT_EQ(tx(*card, "80E2910002BF2E").sw, 0x6A80);            // no length
  EXPECT_EQ(tx(*card, "80E2910000").sw, 0x6700);                // no data: wrong length
  EXPECT_EQ(tx(*card, "80E2210006BF3E035C015A").sw, 0x6A86);  // bad P1
  // Still works afterwards.
  EXPECT_EQ(tx(*card, "80E2910006BF3E035C015A00").sw, 0x9000);
}

TEST_F(ApduLayer, StoreDataChaining) {
  select_isdr(*card);
  EXPECT_EQ(tx(*card, "80E2110003BF3E03").sw, 0x9000);
  auto r = tx(*card, "80E2910103 5C015A 00");
  EXPECT_EQ(r.sw, 0x9000);
  EXPECT_EQ(r.data, concat(from_hex("BF3E125A10"), card->eid()));
}

TEST_F(ApduLayer, StoreDataOutOfOrderBlockRejected) {
  select_isdr(*card);
  EXPECT_EQ(tx(*card, "80E2110003BF3E03").sw, 0x9000);
  EXPECT_EQ(tx(*card, "80E29102035C015A").sw, 0x6A86);  // block 2 after block 0
  // The sequence is gone: block 1 now is out of order too.
  EXPECT_EQ(tx(*card, "80E29101035C015A").sw, 0x6A86);
  // A new sequence from block 0 works.
  EXPECT_EQ(tx(*card, "80E2910006BF3E035C015A00").sw, 0x9000);
}

// A STORE DATA block without data is a wrong length (6700) on a real card,
// intermediate (P1 11) or last (91), with or without an Le byte; the
// unfinished sequence is dropped with it.
TEST_F(ApduLayer, EmptyStoreDataBlockIsWrongLength) {
  select_isdr(*card);
  EXPECT_EQ(tx(*card, "80E2110003BF3E03").sw, 0x9000);
  EXPECT_EQ(tx(*card, "80E21101").sw, 0x6700);    // empty intermediate block, no Lc
  EXPECT_EQ(tx(*card, "80E2110100").sw, 0x6700);  // ... with Le only
  EXPECT_EQ(tx(*card, "80E29101035C015A").sw, 0x6A86);  // the sequence is gone
  EXPECT_EQ(tx(*card, "80E29100").sw, 0x6700);    // empty last block
  EXPECT_EQ(tx(*card, "80E2910006BF3E035C015A00").sw, 0x9000);
}

// Lengths that do not add up are 6700 before anything reaches ES10, and an
// ES10 TLV whose length disagrees with its bytes is 6A80.
TEST_F(ApduLayer, WrongLengthsAreRefused) {
  select_isdr(*card);
  EXPECT_EQ(tx(*card, "80E2910005BF3E035C").sw, 0x6700);          // Lc 5, 3 bytes
  EXPECT_EQ(tx(*card, "80E2910002BF3E035C015A").sw, 0x6700);      // Lc 2, 6 bytes
  EXPECT_EQ(tx(*card, "80E291000000").sw, 0x6700);                // extended Le only: no data
  EXPECT_EQ(tx(*card, "80E2910004BF3E045C").sw, 0x6A80);          // TLV longer than the data
  EXPECT_EQ(tx(*card, "80E2910007BF3E035C015A00").sw, 0x6A80);    // a byte after the TLV
}

TEST_F(ApduLayer, LongResponseWithGetResponse) {
  select_isdr(*card);
  // EUICCInfo2 with Le = 0x20: 61xx, then GET RESPONSE.
  auto r = tx(*card, "80E2910003BF220020");
  ASSERT_EQ(r.sw1(), 0x61);
  EXPECT_EQ(r.data.size(), 0x20u);
  Bytes all = r.data;
  while (r.sw1() == 0x61) {
    r = tx(*card, "00C00000" + to_hex(Bytes{r.sw2()}));
    append(all, r.data);
  }
  EXPECT_EQ(r.sw, 0x9000);
  auto t = tlv::parse_one(all);
  EXPECT_EQ(t.tag, 0xBF22u);
  EXPECT_EQ(t.raw.size(), all.size());
  // Nothing pending any more.
  EXPECT_EQ(tx(*card, "00C0000000").sw, 0x6985);
}

TEST_F(ApduLayer, ResponsesOver256BytesUseGetResponse) {
  select_isdr(*card);
  std::uint16_t sw = 0;
  // GetEuiccInfo2 through the helper (Le 256): short enough to come at once.
  Bytes info2 = es10(*card, from_hex("BF2200"), &sw);
  EXPECT_EQ(sw, 0x9000);
  EXPECT_EQ(tlv::parse_one(info2).tag, 0xBF22u);
}

TEST_F(ApduLayer, LogicalChannels) {
  // Channel 1 not open yet.
  EXPECT_EQ(tx(*card, "81E2910006BF3E035C015A").sw, 0x6881);
  auto r = tx(*card, "0070000001");
  ASSERT_EQ(r.sw, 0x9000);
  ASSERT_EQ(r.data.size(), 1u);
  std::uint8_t ch = r.data[0];
  EXPECT_EQ(ch, 1);
  // ISD-R selected on channel 1 only.
  select_isdr(*card, ch);
  EXPECT_EQ(tx(*card, "81E2910006BF3E035C015A00").sw, 0x9000);
  EXPECT_EQ(tx(*card, "80E2910006BF3E035C015A").sw, 0x6985);  // basic channel: nothing selected
  // Chaining state is per channel.
  EXPECT_EQ(tx(*card, "81E2110003BF3E03").sw, 0x9000);
  select_isdr(*card, 0);
  EXPECT_EQ(tx(*card, "80E2110003BF3E03").sw, 0x9000);
  EXPECT_EQ(tx(*card, "81E29101035C015A00").sw, 0x9000);
  EXPECT_EQ(tx(*card, "80E29101035C015A00").sw, 0x9000);
  // Open more channels until none is left.
  EXPECT_EQ(tx(*card, "0070000001").data, Bytes{2});
  EXPECT_EQ(tx(*card, "0070000001").data, Bytes{3});
  EXPECT_EQ(tx(*card, "0070000001").sw, 0x6A81);
  // Close channel 1 (from the basic channel with P2), then it is gone.
  EXPECT_EQ(tx(*card, "0070800100").sw, 0x9000);
  EXPECT_EQ(tx(*card, "81E2910006BF3E035C015A").sw, 0x6881);
  // Cannot close the basic channel.
  EXPECT_EQ(tx(*card, "0070800000").sw, 0x6A86);
  // Channel 2 closes itself with P2 = 00.
  EXPECT_EQ(tx(*card, "0270800000").sw, 0x9000);
  // Reset closes everything.
  card->reset();
  EXPECT_EQ(tx(*card, "83E2910006BF3E035C015A").sw, 0x6881);
}

TEST_F(ApduLayer, FurtherInterindustryChannels) {
  EuiccConfig cfg = config_for(pki());
  cfg.extra_channels = 19;
  Euicc big(std::move(cfg));
  for (int i = 1; i <= 5; ++i) EXPECT_EQ(tx(big, "0070000001").data, Bytes{static_cast<std::uint8_t>(i)});
  // Channel 5: CLA 41 (interindustry) / C1 (proprietary).
  apdu::Command sel{0x41, 0xA4, 0x04, 0x00, kIsdrAid, 256};
  EXPECT_EQ(apdu::Response::parse(big.transmit(sel.encode())).sw, 0x9000);
  EXPECT_EQ(tx(big, "C1E2910006BF3E035C015A00").sw, 0x9000);
}

TEST_F(ApduLayer, GarbageNeverCrashes) {
  select_isdr(*card);
  std::uint32_t seed = 12345;
  auto rnd = [&] {
    seed = seed * 1103515245u + 12345u;
    return static_cast<std::uint8_t>(seed >> 16);
  };
  for (int i = 0; i < 3000; ++i) {
    Bytes a(static_cast<std::size_t>(rnd() % 40));
    for (auto& b : a) b = rnd();
    if (i % 3 == 0 && a.size() > 5) {  // well-formed STORE DATA with random content
      a[0] = 0x80;
      a[1] = 0xE2;
      a[2] = (i % 2) ? 0x91 : 0x11;
      a[3] = 0;
      a[4] = static_cast<std::uint8_t>(a.size() - 5);
    }
    Bytes r = card->transmit(a);
    ASSERT_GE(r.size(), 2u);
  }
}

}  // namespace
