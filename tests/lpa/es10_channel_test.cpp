// ES10 over APDU: logical channel, SELECT ISD-R, STORE DATA blocks, GET RESPONSE.
#include <gtest/gtest.h>

#include "fake_transport.hpp"
#include "rsp/lpa/es10.hpp"
#include "rsp/lpa/es10_channel.hpp"

using namespace rsp;
using namespace rsp::lpa;
using rsp::lpa::test::FakeTransport;

namespace {

const char* kSelectCh0 = "00A4040010A0000005591010FFFFFFFF890000010000";
const char* kChallenge = "00112233445566778899AABBCCDDEEFF";

ChannelOptions basic_channel() {
  ChannelOptions o;
  o.logical_channel = false;
  return o;
}

}  // namespace

TEST(Es10Channel, GetEuiccChallengeOnBasicChannelExactApdus) {
  FakeTransport card;
  card.replies = {from_hex("6F108410A0000005591010FFFFFFFF89000001009000"),
                  from_hex(std::string("BF2E128010") + kChallenge + "9000")};
  Es10Client euicc(card, basic_channel());
  EXPECT_EQ(to_hex(euicc.get_euicc_challenge(), true), kChallenge);
  ASSERT_EQ(card.sent.size(), 2u);
  EXPECT_EQ(card.sent_hex()[0], kSelectCh0);
  // The GetEuiccChallenge request as lpac and real LPAs send it.
  EXPECT_EQ(card.sent_hex()[1], "80E2910003BF2E00");
}

TEST(Es10Channel, LogicalChannelOpenSelectStoreDataClose) {
  FakeTransport card;
  card.replies = {from_hex("019000"),  // MANAGE CHANNEL: channel 1
                  from_hex("9000"),    // SELECT
                  from_hex(std::string("BF2E128010") + kChallenge + "9000"),
                  from_hex("9000")};   // MANAGE CHANNEL close
  {
    Es10Client euicc(card);
    euicc.get_euicc_challenge();
    EXPECT_EQ(euicc.channel().channel(), 1);
  }
  auto s = card.sent_hex();
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0], "0070000001");
  EXPECT_EQ(s[1], "01A4040010A0000005591010FFFFFFFF890000010000");
  EXPECT_EQ(s[2], "81E2910003BF2E00");
  EXPECT_EQ(s[3], "00708001");
}

TEST(Es10Channel, FallsBackToBasicChannelWithoutLogicalChannels) {
  FakeTransport card;
  card.replies = {from_hex("6881"), from_hex("9000"), from_hex("BF2D03A001009000")};
  Es10Client euicc(card);
  // BF2D 03 A0 01 00 is not a valid list; only the APDU path matters here.
  EXPECT_THROW(euicc.get_profiles_info(), Es10Error);
  auto s = card.sent_hex();
  EXPECT_EQ(s[1], kSelectCh0);
  EXPECT_EQ(s[2], "80E2910003BF2D00");
}

TEST(Es10Channel, SplitsIntoBlocksWithP1AndBlockNumber) {
  FakeTransport card;
  card.handler = [](const Bytes&) { return from_hex("9000"); };
  ChannelOptions o = basic_channel();
  Es10Channel ch(card, o);
  Bytes req(300);
  for (std::size_t i = 0; i < req.size(); ++i) req[i] = static_cast<std::uint8_t>(i);
  EXPECT_TRUE(ch.store_data(req).empty());
  ASSERT_EQ(card.sent.size(), 4u);  // SELECT + 3 blocks
  const auto& b0 = card.sent[1];
  const auto& b1 = card.sent[2];
  const auto& b2 = card.sent[3];
  EXPECT_EQ(to_hex(ByteView(b0).first(5), true), "80E2110078");
  EXPECT_EQ(to_hex(ByteView(b1).first(5), true), "80E2110178");
  EXPECT_EQ(to_hex(ByteView(b2).first(5), true), "80E291023C");
  EXPECT_EQ(b0.size(), 5u + 120);
  EXPECT_EQ(b2.size(), 5u + 60);
  Bytes joined;
  for (const auto* b : {&b0, &b1, &b2}) append(joined, ByteView(*b).subspan(5));
  EXPECT_EQ(joined, req);
}

TEST(Es10Channel, ConfigurableBlockSize) {
  FakeTransport card;
  card.handler = [](const Bytes&) { return from_hex("9000"); };
  ChannelOptions o = basic_channel();
  o.block_size = 255;
  Es10Channel ch(card, o);
  ch.store_data(Bytes(510, 0xAB));
  ASSERT_EQ(card.sent.size(), 3u);
  EXPECT_EQ(to_hex(ByteView(card.sent[1]).first(5), true), "80E21100FF");
  EXPECT_EQ(to_hex(ByteView(card.sent[2]).first(5), true), "80E29101FF");
  EXPECT_THROW(Es10Channel(card, ChannelOptions{0, true, {}}), std::invalid_argument);
  ChannelOptions too_big;
  too_big.block_size = 256;
  EXPECT_THROW(Es10Channel(card, too_big), std::invalid_argument);
}

TEST(Es10Channel, GetResponseOn61xxJoinsData) {
  FakeTransport card;
  card.replies = {from_hex("019000"), from_hex("9000"),
                  from_hex("AABB6104"),   // 2 bytes now, 4 more available
                  from_hex("CCDDEEFF6102"),  // GET RESPONSE: 4 bytes, 2 more
                  from_hex("11229000")};
  Es10Channel ch(card);
  EXPECT_EQ(to_hex(ch.store_data(from_hex("BF2200")), true), "AABBCCDDEEFF1122");
  auto s = card.sent_hex();
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[2], "81E2910003BF2200");
  EXPECT_EQ(s[3], "01C0000004");
  EXPECT_EQ(s[4], "01C0000002");
}

TEST(Es10Channel, GetResponse6100MeansUpTo256) {
  FakeTransport card;
  card.replies = {from_hex("9000"), from_hex("6100"), from_hex("AA9000")};
  Es10Channel ch(card, basic_channel());
  EXPECT_EQ(to_hex(ch.store_data(from_hex("BF2200")), true), "AA");
  EXPECT_EQ(card.sent_hex()[2], "00C0000000");
}

TEST(Es10Channel, ErrorStatusThrowsApduError) {
  FakeTransport card;
  card.replies = {from_hex("9000"), from_hex("6A80")};
  Es10Channel ch(card, basic_channel());
  try {
    ch.store_data(from_hex("BF2E00"));
    FAIL() << "no exception";
  } catch (const ApduError& e) {
    EXPECT_EQ(e.sw, 0x6A80);
    EXPECT_EQ(e.command, "STORE DATA");
  }
}

TEST(Es10Channel, SelectFailureThrows) {
  FakeTransport card;
  card.replies = {from_hex("019000"), from_hex("6A82"), from_hex("9000")};
  Es10Channel ch(card);
  EXPECT_THROW(ch.open(), ApduError);
  EXPECT_FALSE(ch.is_open());
  EXPECT_EQ(card.sent_hex().back(), "00708001");  // the channel it opened is closed again
}

TEST(Es10Channel, ProactiveCommandPendingIsSuccess) {
  FakeTransport card;
  card.replies = {from_hex("9000"), from_hex(std::string("BF2E128010") + kChallenge + "9110")};
  Es10Client euicc(card, basic_channel());
  EXPECT_EQ(to_hex(euicc.get_euicc_challenge(), true), kChallenge);
}

TEST(Es10Channel, ClaForChannels) {
  EXPECT_EQ(Es10Channel::cla_for(0x80, 0), 0x80);
  EXPECT_EQ(Es10Channel::cla_for(0x80, 3), 0x83);
  EXPECT_EQ(Es10Channel::cla_for(0x00, 2), 0x02);
  EXPECT_EQ(Es10Channel::cla_for(0x80, 4), 0xC0);
  EXPECT_EQ(Es10Channel::cla_for(0x00, 19), 0x4F);
  EXPECT_THROW(Es10Channel::cla_for(0x00, 20), std::invalid_argument);
}

TEST(Es10Requests, EncodedRequests) {
  FakeTransport card;
  card.handler = [](const Bytes& c) -> Bytes {
    if (c[1] == 0xA4) return from_hex("9000");
    std::string h = to_hex(ByteView(c).subspan(5), true);
    if (h == "BF3E035C015A") return from_hex("BF3E125A1089049032123451234512345678901235" "9000");
    if (h.starts_with("BF31")) return from_hex("BF3103800100" "9000");
    if (h.starts_with("BF32")) return from_hex("BF3203800102" "9000");
    if (h.starts_with("BF33")) return from_hex("BF3303800101" "9000");
    if (h.starts_with("BF29")) return from_hex("BF2903800100" "9000");
    if (h.starts_with("BF30")) return from_hex("BF3003800100" "9000");
    return from_hex("6A80");
  };
  Es10Client euicc(card, basic_channel());
  EXPECT_EQ(euicc.get_eid(), "89049032123451234512345678901235");

  auto r = euicc.enable_profile(ProfileId::parse("8944476500000000014"), true);
  EXPECT_TRUE(r.ok());
  // EnableProfileRequest: BF31 { A0 { 5A <ICCID BCD> } 81 01 FF }
  EXPECT_EQ(to_hex(ByteView(card.sent.back()).subspan(5), true), "BF3111A00C5A0A984474560000000010F48101FF");

  auto d = euicc.disable_profile(ProfileId::parse("A0000005591010FFFFFFFF8900001100"), false);
  EXPECT_EQ(d.code, 2);
  EXPECT_EQ(d.name, "profileNotInEnabledState");
  EXPECT_EQ(to_hex(ByteView(card.sent.back()).subspan(5), true),
            "BF3217A0124F10A0000005591010FFFFFFFF8900001100810100");

  auto del = euicc.delete_profile(ProfileId::parse("89444765000000000140"));
  EXPECT_EQ(del.name, "iccidOrAidNotFound");
  EXPECT_EQ(to_hex(ByteView(card.sent.back()).subspan(5), true), "BF330C5A0A98447456000000001004");

  EXPECT_TRUE(euicc.set_nickname("8944476500000000014", "work").ok());
  EXPECT_EQ(to_hex(ByteView(card.sent.back()).subspan(5), true), "BF29125A0A984474560000000010F49004776F726B");

  EXPECT_TRUE(euicc.notification_sent(7).ok());
  EXPECT_EQ(to_hex(ByteView(card.sent.back()).subspan(5), true), "BF3003800107");
}

TEST(ProfileIdParse, IccidAndAid) {
  EXPECT_EQ(ProfileId::parse("8944476500000000014").kind, ProfileId::Kind::Iccid);
  EXPECT_EQ(ProfileId::parse("8944476500000000014F").iccid, "8944476500000000014");
  EXPECT_EQ(ProfileId::parse("A0000005591010FFFFFFFF8900001100").kind, ProfileId::Kind::Aid);
  EXPECT_THROW(ProfileId::parse("1234"), std::invalid_argument);
  EXPECT_THROW(ProfileId::parse("89444765000000000140123"), std::invalid_argument);
}
