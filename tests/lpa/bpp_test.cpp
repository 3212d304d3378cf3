// BPP segmentation (SGP.22 2.5.5) and ES10b.LoadBoundProfilePackage.
#include <gtest/gtest.h>

#include "fake_transport.hpp"
#include "rsp/lpa/bpp.hpp"
#include "rsp/lpa/es10.hpp"
#include "rsp/tlv.hpp"

using namespace rsp;
using namespace rsp::lpa;
using rsp::lpa::test::FakeTransport;

namespace {

const Bytes kTid = from_hex("0102030405060708090A0B0C0D0E0F10");
const Bytes kAid = from_hex("A0000005591010FFFFFFFF8900001100");

Bytes synthetic_bpp(bool with_a2, Bytes big86 = Bytes(300, 0x5A)) {
  Bytes isc = tlv::make(0xBF23, from_hex("820101" "8010" "0102030405060708090A0B0C0D0E0F10"));
  Bytes a0 = tlv::make(0xA0, tlv::make(0x87, from_hex("010203")));
  Bytes a1 = tlv::make(0xA1, concat(tlv::make(0x88, from_hex("AABB")), tlv::make(0x88, from_hex("CC"))));
  Bytes a2 = tlv::make(0xA2, tlv::make(0x87, from_hex("DDEE")));
  Bytes a3 = tlv::make(0xA3, concat(tlv::make(0x86, from_hex("11223344")), tlv::make(0x86, big86)));
  Bytes body = concat(isc, a0, a1);
  if (with_a2) append(body, a2);
  append(body, a3);
  return tlv::make(0xBF36, body);
}

Bytes pir(bool success) {
  Bytes md = tlv::make(0xBF2F, concat(tlv::make(0x80, from_hex("05")), tlv::make(0x81, from_hex("0780")),
                                      tlv::make(0x0C, to_bytes("smdp.example.com")),
                                      tlv::make(0x5A, from_hex("984474560000000010F4"))));
  Bytes final_result =
      success ? tlv::make(0xA0, concat(tlv::make(0x4F, kAid), tlv::make(0x04, Bytes{})))
              : tlv::make(0xA1, concat(tlv::make(0x80, from_hex("01")), tlv::make(0x81, from_hex("08"))));
  // smdpOid (2.999.10) is mandatory in SGP.22 v2.2.2's ProfileInstallationResultData.
  Bytes data = tlv::make(0xBF27, concat(tlv::make(0x80, kTid), md, tlv::make(0x06, from_hex("88370A")),
                                        tlv::make(0xA2, final_result)));
  return tlv::make(0xBF37, concat(data, tlv::make(0x5F37, Bytes(64, 0x77))));
}

}  // namespace

TEST(BppSegmentation, SegmentsAsSgp22Says) {
  Bytes bpp = synthetic_bpp(true);
  auto seg = segment_bpp(bpp);
  ASSERT_EQ(seg.size(), 9u);
  auto top = tlv::parse_one(bpp);
  // 1. BF36 tag+length + the whole BF23 TLV
  EXPECT_EQ(to_hex(seg[0], true),
            to_hex(top.raw.first(top.header_size()), true) + "BF2315820101801001" "02030405060708090A0B0C0D0E0F10");
  // 2. A0 tag+length + first 87
  EXPECT_EQ(to_hex(seg[1], true), "A00587030102" "03");
  // 3. A1 tag+length only; 4./5. each 88
  EXPECT_EQ(to_hex(seg[2], true), "A107");
  EXPECT_EQ(to_hex(seg[3], true), "8802AABB");
  EXPECT_EQ(to_hex(seg[4], true), "8801CC");
  // 6. A2 tag+length + first 87
  EXPECT_EQ(to_hex(seg[5], true), "A2048702DDEE");
  // 7. A3 tag+length; 8./9. each 86
  EXPECT_EQ(to_hex(seg[6], true), "A3820136");
  EXPECT_EQ(to_hex(seg[7], true), "860411223344");
  EXPECT_EQ(seg[8].size(), 4u + 300);
  EXPECT_EQ(to_hex(ByteView(seg[8]).first(4), true), "8682012C");
  // Together they are the BPP, byte for byte.
  Bytes joined;
  for (const auto& s : seg) append(joined, s);
  EXPECT_EQ(joined, bpp);
}

TEST(BppSegmentation, WithoutReplaceSessionKeys) {
  auto seg = segment_bpp(synthetic_bpp(false, Bytes(10, 1)));
  ASSERT_EQ(seg.size(), 8u);
  EXPECT_EQ(to_hex(seg[5], true), "A312");
}

TEST(BppSegmentation, FurtherEightySevensAreOwnSegments) {
  Bytes isc = tlv::make(0xBF23, from_hex("820101"));
  Bytes a0 = tlv::make(0xA0, concat(tlv::make(0x87, from_hex("01")), tlv::make(0x87, from_hex("02"))));
  Bytes bpp = tlv::make(0xBF36, concat(isc, a0, tlv::make(0xA1, Bytes{}), tlv::make(0xA3, Bytes{})));
  auto seg = segment_bpp(bpp);
  ASSERT_EQ(seg.size(), 5u);
  EXPECT_EQ(to_hex(seg[1], true), "A006870101");
  EXPECT_EQ(to_hex(seg[2], true), "870102");
  EXPECT_EQ(to_hex(seg[3], true), "A100");
  EXPECT_EQ(to_hex(seg[4], true), "A300");
}

TEST(BppSegmentation, RejectsMalformed) {
  Bytes isc = tlv::make(0xBF23, from_hex("820101"));
  Bytes a0 = tlv::make(0xA0, tlv::make(0x87, from_hex("01")));
  Bytes a1 = tlv::make(0xA1, tlv::make(0x88, from_hex("01")));
  Bytes a3 = tlv::make(0xA3, tlv::make(0x86, from_hex("01")));
  EXPECT_THROW(segment_bpp(tlv::make(0xBF37, concat(isc, a0, a1, a3))), DecodeError);          // not BF36
  EXPECT_THROW(segment_bpp(tlv::make(0xBF36, concat(a0, a1, a3))), DecodeError);               // no BF23
  EXPECT_THROW(segment_bpp(tlv::make(0xBF36, concat(isc, a1, a3))), DecodeError);              // no A0
  EXPECT_THROW(segment_bpp(tlv::make(0xBF36, concat(isc, a0, a1))), DecodeError);              // no A3
  EXPECT_THROW(segment_bpp(tlv::make(0xBF36, concat(isc, tlv::make(0xA0, Bytes{}), a1, a3))), DecodeError);  // empty A0
  EXPECT_THROW(segment_bpp(tlv::make(0xBF36, concat(isc, a0, tlv::make(0xA1, tlv::make(0x87, from_hex("01"))), a3))),
               DecodeError);  // wrong child tag
  EXPECT_THROW(segment_bpp(concat(tlv::make(0xBF36, concat(isc, a0, a1, a3)), from_hex("00"))), DecodeError);  // trailing
  EXPECT_THROW(segment_bpp(from_hex("BF3605BF23")), DecodeError);  // truncated
}

namespace {

// A card that acknowledges every segment and answers the `answer_at`-th one
// (0-based) with `answer`.
struct SegmentCard {
  FakeTransport card;
  std::vector<Bytes> segments;  // reassembled ES10 commands
  Bytes current;
  SegmentCard(std::size_t answer_at, Bytes answer) {
    card.handler = [this, answer_at, answer](const Bytes& c) -> Bytes {
      if (c[1] == 0xA4) return from_hex("9000");
      append(current, ByteView(c).subspan(5));
      if (c[2] == 0x11) return from_hex("9000");
      segments.push_back(current);
      current.clear();
      if (segments.size() - 1 == answer_at) return concat(answer, from_hex("9000"));
      return from_hex("9000");
    };
  }
};

}  // namespace

TEST(LoadBoundProfilePackage, SendsEachSegmentAndReturnsResult) {
  Bytes bpp = synthetic_bpp(true);
  SegmentCard sc(8, pir(true));
  ChannelOptions o;
  o.logical_channel = false;
  Es10Client euicc(sc.card, o);
  std::size_t calls = 0;
  auto r = euicc.load_bound_profile_package(bpp, [&](std::size_t done, std::size_t total) {
    ++calls;
    EXPECT_EQ(total, 9u);
    EXPECT_EQ(done, calls);
  });
  EXPECT_EQ(calls, 9u);
  EXPECT_EQ(sc.segments, segment_bpp(bpp));
  EXPECT_TRUE(r.success);
  EXPECT_EQ(r.isdp_aid, kAid);
  EXPECT_EQ(r.transaction_id, kTid);
  EXPECT_EQ(r.notification.seq_number, 5);
  EXPECT_EQ(r.notification.operation, NotificationEvent::Install);
  EXPECT_EQ(r.notification.address, "smdp.example.com");
  EXPECT_EQ(r.notification.iccid.value_or(""), "8944476500000000014");
  EXPECT_EQ(r.raw, pir(true));
  // The 300-byte '86' segment went out in three STORE DATA blocks (120 + 120 + 64).
  std::size_t blocks = 0;
  for (const auto& c : sc.card.sent)
    if (c[1] == 0xE2) ++blocks;
  EXPECT_EQ(blocks, 8u + 3u);
}

TEST(LoadBoundProfilePackage, StopsWhenTheEuiccAnswersEarly) {
  SegmentCard sc(1, pir(false));
  ChannelOptions o;
  o.logical_channel = false;
  Es10Client euicc(sc.card, o);
  auto r = euicc.load_bound_profile_package(synthetic_bpp(true));
  EXPECT_EQ(sc.segments.size(), 2u);
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.bpp_command_id, 1);
  EXPECT_EQ(r.bpp_command_name, "configureISDP");
  EXPECT_EQ(r.error_reason, 8);
  EXPECT_EQ(r.error_reason_name, "scp03tSecurityError");
}

TEST(LoadBoundProfilePackage, NoResultIsAnError) {
  SegmentCard sc(100, {});
  ChannelOptions o;
  o.logical_channel = false;
  Es10Client euicc(sc.card, o);
  EXPECT_THROW(euicc.load_bound_profile_package(synthetic_bpp(false)), Es10Error);
}
