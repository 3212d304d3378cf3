// The command packet in SMS-DELIVER TPDUs (3GPP TS 31.115 over TS 23.040):
// pySim's published TPDU, concatenation with 8- and 16-bit references, and
// the card side's reassembly with its clear errors.
#include <gtest/gtest.h>

#include "rsp/ota/sms_deliver.hpp"

using namespace rsp;
using namespace rsp::ota;

namespace {

SmsDeliver pysim_template() {
  SmsDeliver d;
  d.tp_oa = {"12345678", 0x81};
  Bytes scts = from_hex("22705200000000");
  std::copy(scts.begin(), scts.end(), d.tp_scts.begin());
  return d;
}

// pySim SmsOtaTestCase '3DES-SJA5-CIPHERED-CC': the command packet and its
// SMS-DELIVER. pySim's test passes tp_udl=3 explicitly, so its published TPDU
// says TP-UDL '03' where the user data is 37 octets (UDH 3 + packet 34);
// TS 23.040 9.2.3.16 wants '25'. Every other octet is pySim's.
const char* kPacket = "00201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f";
const char* kTpdu =
    "400881214365877ff622705200000000" "25" "027000" "00201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f";

TEST(OtaSms, OnePacketInOneSmsDeliverAsPysimEncodesIt) {
  auto tpdus = command_packet_to_sms(from_hex(kPacket), pysim_template(), 0);
  ASSERT_EQ(tpdus.size(), 1u);
  EXPECT_EQ(to_hex(tpdus[0]), kTpdu);
  SmsDeliver d = decode_sms_deliver(tpdus[0]);
  EXPECT_EQ(d.tp_oa.digits, "12345678");
  EXPECT_EQ(d.tp_pid, 0x7F);
  EXPECT_EQ(d.tp_dcs, 0xF6);
  EXPECT_TRUE(d.tp_udhi);
  CommandPacketReassembler r;
  auto packet = r.add(tpdus[0]);
  ASSERT_TRUE(packet);
  EXPECT_EQ(to_hex(*packet), kPacket);
}

Bytes long_packet(std::size_t n) {
  Bytes p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return p;
}

TEST(OtaSms, LongPacketsAreConcatenatedAndReassembledInAnyOrder) {
  Bytes p = long_packet(300);
  for (bool ref16 : {false, true}) {
    SCOPED_TRACE(ref16 ? "IEI 08" : "IEI 00");
    auto tpdus = command_packet_to_sms(p, pysim_template(), 0x1234, ref16);
    ASSERT_EQ(tpdus.size(), 3u);
    for (const auto& t : tpdus) EXPECT_LE(decode_sms_deliver(t).tp_ud.size(), 140u);
    // TS 23.040 9.2.3.24.1/.8 then the CPI, in the first segment only.
    Bytes ud0 = decode_sms_deliver(tpdus[0]).tp_ud, ud1 = decode_sms_deliver(tpdus[1]).tp_ud;
    EXPECT_EQ(to_hex(ByteView(ud0).first(ref16 ? 9 : 8)), ref16 ? "080804123403017000" : "0700033403017000");
    EXPECT_EQ(to_hex(ByteView(ud1).first(ref16 ? 7 : 6)), ref16 ? "06080412340302" : "050003340302");
    CommandPacketReassembler r;
    EXPECT_FALSE(r.add(tpdus[2]));
    EXPECT_FALSE(r.add(tpdus[0]));
    auto got = r.add(tpdus[1]);
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, p);
    EXPECT_FALSE(r.pending());
  }
}

void expect_sms_error(CommandPacketReassembler& r, const Bytes& tpdu, const std::string& says) {
  try {
    r.add(tpdu);
    FAIL() << "accepted; expected: " << says;
  } catch (const SmsError& e) {
    EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
  }
}

TEST(OtaSms, WrongReferencesCountsAndSequencesAreClearErrors) {
  Bytes p = long_packet(300);
  auto a = command_packet_to_sms(p, pysim_template(), 7);
  auto b = command_packet_to_sms(p, pysim_template(), 8);
  CommandPacketReassembler r;
  EXPECT_FALSE(r.add(a[0]));
  expect_sms_error(r, b[1], "concatenation reference 8, expected 7");
  expect_sms_error(r, a[0], "segment 1 twice");
  Bytes changed_total = a[1];
  changed_total[changed_total.size() - decode_sms_deliver(a[1]).tp_ud.size() + 4] = 4;  // total 3 -> 4
  expect_sms_error(r, changed_total, "4 segments, earlier ones said 3");
  // The packet in progress survived the refusals.
  EXPECT_FALSE(r.add(a[1]));
  auto got = r.add(a[2]);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, p);

  Bytes seq0 = a[1];
  seq0[seq0.size() - decode_sms_deliver(a[1]).tp_ud.size() + 5] = 0;
  expect_sms_error(r, seq0, "sequence number 0 of 3");
  // A first segment without the CPI.
  SmsDeliver d = decode_sms_deliver(a[0]);
  d.tp_ud = concat(from_hex("050003070301"), ByteView(d.tp_ud).subspan(8));
  expect_sms_error(r, encode_sms_deliver(d), "first segment has no CPI");
}

TEST(OtaSms, MalformedTpdusAreClearErrors) {
  Bytes t = from_hex(kTpdu);
  CommandPacketReassembler r;
  expect_sms_error(r, Bytes(t.begin(), t.end() - 1), "truncated: TP-UDL says 37 octets, 36 present");
  expect_sms_error(r, concat(t, Bytes{0}), "oversized");
  expect_sms_error(r, Bytes(t.begin(), t.begin() + 5), "truncated in TP-OA");
  Bytes pid = t;
  pid[7] = 0x00;
  expect_sms_error(r, pid, "TP-PID 00 is not SIM data download");
  Bytes submit = t;
  submit[0] |= 0x01;
  expect_sms_error(r, submit, "not SMS-DELIVER");
  Bytes udhl = t;
  udhl[17] = 0x40;  // UDHL past the user data
  expect_sms_error(r, udhl, "UDHL 64 runs past");
  Bytes no_cpi = t;
  no_cpi[18] = 0x71;  // IEI 71 (the response's) instead of 70
  expect_sms_error(r, no_cpi, "no Command Packet Identifier");
}

}  // namespace

namespace {
TEST(OtaSms, APacketBeyond255SmsIsRefused) {
  // 132 + 254 * 134 = 34,168 bytes fit in 255 segments with an 8-bit reference.
  EXPECT_EQ(command_packet_to_sms(Bytes(34168, 0), SmsDeliver{}, 1).size(), 255u);
  try {
    command_packet_to_sms(Bytes(34169, 0), SmsDeliver{}, 1);
    FAIL() << "a packet needing 256 SMS was split";
  } catch (const SmsError& e) {
    EXPECT_NE(std::string(e.what()).find("more than 255 SMS"), std::string::npos) << e.what();
  }
}
}  // namespace
