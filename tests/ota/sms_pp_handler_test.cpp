// The card side of SMS-PP download as a library piece: ENVELOPE in (TS
// 31.111 7.1.1, hand-assembled below), the TS 102 225 checks, the RFM stub
// running the TS 102 226 script through a fake file system, the PoR out by
// SMS-DELIVER-REPORT or SMS-SUBMIT; the refusals execute nothing.
#include <gtest/gtest.h>

#include "fake_card.hpp"
#include "ota_test_util.hpp"
#include "rsp/ota/envelope.hpp"
#include "rsp/ota/response_packet.hpp"
#include "rsp/ota/sms_pp_handler.hpp"
#include "rsp/ota/sms_submit.hpp"

using namespace rsp;
using namespace rsp::ota;

namespace {

const char* kKic = "200102030405060708090a0b0c0d0e0f";
const char* kKid = "201102030405060708090a0b0c0d0e0f";
const Tar kRfm{0xB0, 0x00, 0x10};

KeySet keys() { return ota_test::key_set(1, Algorithm::Aes, kKic, Algorithm::Aes, kKid); }

struct Card {
  ReceivingEntity entity;
  SmsPpHandler handler{entity};
  ota_test::FakeFiles files;
  Card() {
    entity.add_key_set(keys());
    files.efs[0x2FE2] = from_hex("98942000000000000001");  // EF ICCID
    files.efs[0x6F46] = Bytes(17, 0xFF);                  // EF SPN
    // MSL 16: CC, counter "process if higher", as the store's default TARs.
    handler.add_application(kRfm, 0x16, std::make_shared<RemoteManagementApplication>(
                                              [this](ByteView c) { return files(c); }, CommandSet::Uicc));
  }
};

// SPI 16 39: CC, ciphered, process if higher | PoR always, CC, ciphered, by SMS-SUBMIT.
Bytes packet(const char* spi, std::uint64_t cntr, ByteView data, const Tar& tar = kRfm) {
  CommandPacket p;
  p.header = ota_test::header(spi, 0x12, 0x12, to_hex(tar).c_str());
  p.cntr = cntr;
  p.secured_data.assign(data.begin(), data.end());
  return build_command_packet(p, keys());
}

Bytes envelope_of(ByteView tpdu) { return encode_sms_pp_download({std::nullopt, Bytes(tpdu.begin(), tpdu.end())}); }

std::vector<Bytes> envelopes(ByteView pkt) {
  SmsDeliver t;
  t.tp_oa.digits = "8800";
  std::vector<Bytes> out;
  for (auto& tpdu : command_packet_to_sms(pkt, t, 7)) out.push_back(envelope_of(tpdu));
  return out;
}

Bytes read_iccid_script() {
  return encode_command_script(CommandScript::expanded({from_hex("00A40004022FE2"), from_hex("00B000000A")}));
}

}  // namespace

TEST(Envelope, SmsPpDownloadHandAssembled) {
  // D1 len | 82 02 83 81 | 86 04 91 44 77 F9 | 8B 03 <3-byte TPDU>: 4 + 6 + 5 = 15 = 0F
  Bytes hand = from_hex("D1 0F 82 02 83 81 86 04 91 44 77 F9 8B 03 01 02 03");
  SmsPpDownload d{Address{"44779", 0x91}, from_hex("010203")};
  EXPECT_EQ(to_hex(encode_sms_pp_download(d)), to_hex(hand));
  SmsPpDownload back = decode_sms_pp_download(hand);
  EXPECT_EQ(back.service_centre->digits, "44779");
  EXPECT_EQ(back.tpdu, from_hex("010203"));
  EXPECT_EQ(to_hex(sms_pp_download_apdu(d)), to_hex(concat(from_hex("80C2000011"), hand)));
  // without the CR bit, as some terminals send it
  EXPECT_EQ(decode_sms_pp_download(from_hex("D1 09 02 02 83 81 0B 03 01 02 03")).tpdu, from_hex("010203"));
  EXPECT_THROW(decode_sms_pp_download(from_hex("D1 09 82 02 81 83 8B 03 01 02 03")), DecodeError);  // wrong direction
  EXPECT_THROW(decode_sms_pp_download(from_hex("D1 04 82 02 83 81")), DecodeError);                 // no TPDU
  EXPECT_THROW(decode_sms_pp_download(from_hex("D1 0A 82 02 83 81 8B 03 01 02 03")), DecodeError);  // length
  // SEND SHORT MESSAGE: D0 len | 81 03 01 13 00 | 82 02 81 83 | 8B 02 AA BB : 5+4+4 = 13 = 0D
  SendShortMessage s;
  s.tpdu = from_hex("AABB");
  EXPECT_EQ(to_hex(encode_send_short_message(s)), to_hex(from_hex("D0 0D 81 03 01 13 00 82 02 81 83 8B 02 AA BB")));
  EXPECT_EQ(to_hex(terminal_response(s)), to_hex(from_hex("81 03 01 13 00 82 02 82 81 83 01 00")));
}

TEST(SmsSubmit, HandAssembled) {
  // 41 (SMS-SUBMIT, UDHI) MR 00, DA 4 digits 81 "8800" -> 88 00, PID 7F, DCS F6, UDL 03, UD 02 71 00
  Bytes hand = from_hex("41 00 04 81 88 00 7F F6 03 02 71 00");
  SmsSubmit s;
  s.tp_da = {"8800", 0x81};
  s.tp_udhi = true;
  s.tp_ud = from_hex("027100");
  EXPECT_EQ(to_hex(encode_sms_submit(s)), to_hex(hand));
  SmsSubmit b = decode_sms_submit(hand);
  EXPECT_EQ(b.tp_da.digits, "8800");
  EXPECT_EQ(b.tp_ud, s.tp_ud);
  EXPECT_THROW(decode_sms_submit(from_hex("41 00 04 81 88 00 7F F6 04 02 71 00")), SmsError);
}

TEST(SmsPpHandler, PorOkBySmsSubmitWithResponseScript) {
  Card card;
  Bytes pkt = packet("1639", 1, read_iccid_script());
  auto env = envelopes(pkt);
  ASSERT_EQ(env.size(), 1u);
  SmsPpOutcome o = card.handler.envelope(env[0]);
  ASSERT_TRUE(o.complete);
  EXPECT_EQ(o.sw, 0x9000);
  EXPECT_TRUE(o.response_data.empty());
  ASSERT_EQ(o.sms_submits.size(), 1u);
  SmsSubmit s = decode_sms_submit(o.sms_submits[0]);
  EXPECT_EQ(s.tp_da.digits, "8800");  // back to the TP-OA
  EXPECT_EQ(s.tp_pid, 0x7F);
  ResponsePacketReassembler r;
  auto por = r.add("x", s.tp_ud);
  ASSERT_TRUE(por);
  OpenedResponsePacket opened = open_response_packet(*por, read_command_packet(pkt).header, keys());
  EXPECT_EQ(opened.packet.status, 0x00);
  EXPECT_EQ(opened.packet.cntr, 1u);
  EXPECT_EQ(to_hex(opened.packet.additional_data),
            to_hex(from_hex("AB 15 80 01 02 23 02 9000 23 0C 98942000000000000001 9000")));
  EXPECT_EQ(card.files.executed, 2u);
  EXPECT_EQ(card.entity.counter(1), 1u);
}

TEST(SmsPpHandler, PorByDeliverReportIsTheEnvelopeResponse) {
  Card card;
  // SPI 16 19: PoR by SMS-DELIVER-REPORT
  Bytes pkt = packet("1619", 1, encode_command_script(CommandScript::compact({from_hex("00A40004022FE2"), from_hex("00B000000A")})));
  SmsPpOutcome o = card.handler.envelope(envelopes(pkt).at(0));
  EXPECT_TRUE(o.sms_submits.empty());
  ASSERT_GE(o.response_data.size(), 3u);
  EXPECT_EQ(to_hex(ByteView(o.response_data).first(3)), "027100");
  OpenedResponsePacket opened = open_response_packet(o.response_data, read_command_packet(pkt).header, keys());
  EXPECT_EQ(opened.packet.status, 0x00);
  EXPECT_EQ(to_hex(opened.packet.additional_data), to_hex(from_hex("02 98942000000000000001 9000")));
}

TEST(SmsPpHandler, ConcatenatedCommandPacket) {
  Card card;
  // UPDATE BINARY of EF SPN with 17 bytes, five times: a script over one SMS.
  std::vector<Bytes> cmds{from_hex("00A40004026F46")};
  for (int i = 0; i < 8; ++i) cmds.push_back(concat(from_hex("00D6000011"), Bytes(17, static_cast<std::uint8_t>(0x41 + i))));
  Bytes pkt = packet("1639", 1, encode_command_script(CommandScript::expanded(cmds)));
  auto env = envelopes(pkt);
  ASSERT_GE(env.size(), 2u);
  for (std::size_t i = 0; i + 1 < env.size(); ++i) {
    SmsPpOutcome part = card.handler.envelope(env[env.size() - 1 - i]);  // last first
    EXPECT_FALSE(part.complete);
    EXPECT_EQ(part.sw, 0x9000);
  }
  EXPECT_EQ(card.files.executed, 0u);
  SmsPpOutcome o = card.handler.envelope(env[0]);
  ASSERT_TRUE(o.complete);
  EXPECT_EQ(o.verdict->status, ResponseStatus::PorOk);
  EXPECT_EQ(card.files.executed, 9u);
  EXPECT_EQ(card.files.efs[0x6F46], Bytes(17, 0x48));
}

TEST(SmsPpHandler, RefusalsExecuteNothing) {
  Card card;
  card.entity.set_counter(1, 5);
  Bytes script = read_iccid_script();
  auto status_of = [&](ByteView pkt) {
    SmsPpOutcome o = card.handler.envelope(envelopes(pkt).at(0));
    EXPECT_TRUE(o.complete);
    SmsSubmit s = decode_sms_submit(o.sms_submits.at(0));
    ResponsePacketReassembler r;
    OpenedResponsePacket opened = open_response_packet(*r.add("x", s.tp_ud), read_command_packet(pkt).header, keys());
    if (opened.packet.status != 0x00) {
      EXPECT_TRUE(opened.packet.additional_data.empty());  // no application ran
    }
    return opened.packet.status;
  };
  Bytes bad_cc = packet("1639", 6, script);
  bad_cc.back() ^= 0x01;  // in the ciphertext: the CC no longer verifies
  EXPECT_EQ(status_of(bad_cc), 0x01);
  EXPECT_EQ(status_of(packet("1639", 5, script)), 0x02);                            // replayed counter
  EXPECT_EQ(status_of(packet("1639", 6, script, Tar{0xB0, 0x00, 0x99})), 0x09);     // unknown TAR
  EXPECT_EQ(status_of(packet("0639", 6, script)), 0x0A);                            // no counter: below MSL 16
  EXPECT_EQ(card.files.executed, 0u);
  EXPECT_EQ(card.entity.counter(1), 5u);
  EXPECT_EQ(status_of(packet("1639", 6, script)), 0x00);
  EXPECT_EQ(card.files.executed, 2u);
}

TEST(SmsPpHandler, MalformedEnvelopesAnswer6A80) {
  Card card;
  EXPECT_EQ(card.handler.envelope(from_hex("D1 04 82 02 83 81")).sw, 0x6A80);
  // an SMS-DELIVER with another TP-PID
  SmsDeliver d;
  d.tp_pid = 0x00;
  d.tp_ud = from_hex("0102");
  SmsPpOutcome o = card.handler.envelope(envelope_of(encode_sms_deliver(d)));
  EXPECT_EQ(o.sw, 0x6A80);
  EXPECT_FALSE(o.error.empty());
  EXPECT_EQ(card.files.executed, 0u);
}
