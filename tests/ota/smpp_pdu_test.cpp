// SMPP 3.4 PDUs against byte strings assembled by hand from SMPP v3.4 Issue
// 1.2 section 4 (field order, C-Octet strings with their NUL, big-endian
// integers) and 5.3 (TLVs), written out here field by field.
#include <gtest/gtest.h>

#include "rsp/ota/smpp_pdu.hpp"

using namespace rsp;
using namespace rsp::ota::smpp;

TEST(SmppPdu, BindTransceiver) {
  Bytes hand = from_hex(
      "00000020 00000009 00000000 00000001"  // length 32, bind_transceiver, ROK, seq 1
      "6F746100"                             // system_id "ota"
      "73656372657400"                       // password "secret"
      "00"                                   // system_type ""
      "34 00 00"                             // interface_version 3.4, addr_ton, addr_npi
      "00");                                 // address_range ""
  Pdu p;
  p.command_id = CommandId::BindTransceiver;
  p.sequence_number = 1;
  p.body = Bind{"ota", "secret", "", 0x34, 0, 0, ""};
  EXPECT_EQ(to_hex(encode(p)), to_hex(hand));
  EXPECT_EQ(decode(hand), p);
}

TEST(SmppPdu, BindRespWithScInterfaceVersionAndRefusal) {
  Bytes hand = from_hex("00000019 80000009 00000000 00000001 72736D00 0210 0001 34");
  Pdu p = decode(hand);
  EXPECT_EQ(p.command_id, CommandId::BindTransceiverResp);
  auto& b = std::get<BindResp>(p.body);
  EXPECT_EQ(b.system_id, "rsm");
  ASSERT_EQ(b.tlvs.size(), 1u);
  EXPECT_EQ(b.tlvs[0].tag, kTagScInterfaceVersion);
  EXPECT_EQ(to_hex(encode(p)), to_hex(hand));
  // 4.1.6: an error response may carry no body
  Pdu refused = decode(from_hex("00000010 80000009 0000000E 00000001"));
  EXPECT_EQ(refused.command_status, status::kInvPaswd);
  EXPECT_EQ(status_name(refused.command_status), "ESME_RINVPASWD");
}

TEST(SmppPdu, SubmitSmForSimDataDownload) {
  Bytes hand = from_hex(
      "00000034 00000004 00000000 00000002"  // length 52, submit_sm, seq 2
      "00"                                   // service_type ""
      "00 01 3838303000"                     // source ton 0, npi 1, "8800"
      "01 01 34343737303039303031323300"     // dest ton 1, npi 1, "447700900123"
      "40 7F 00"                             // esm_class UDHI, protocol_id 7F, priority 0
      "00 00"                                // schedule_delivery_time, validity_period ""
      "01 00 F6 00"                          // registered_delivery, replace, data_coding F6, default msg
      "03 027000");                          // sm_length 3, short_message (UDH with the CPI)
  ShortMessage m;
  m.source_addr_npi = 1;
  m.source_addr = "8800";
  m.dest_addr_ton = 1;
  m.dest_addr_npi = 1;
  m.destination_addr = "447700900123";
  m.esm_class = kEsmClassUdhi;
  m.protocol_id = 0x7F;
  m.registered_delivery = 1;
  m.data_coding = 0xF6;
  m.short_message = from_hex("027000");
  Pdu p;
  p.command_id = CommandId::SubmitSm;
  p.sequence_number = 2;
  p.body = m;
  EXPECT_EQ(to_hex(encode(p)), to_hex(hand));
  EXPECT_EQ(decode(hand), p);
}

TEST(SmppPdu, DeliverSmReceiptWithTlvsAndResponses) {
  Bytes hand = from_hex(
      "00000032 00000005 00000000 00000007"
      "00 01 01 3132333400 00 01 383800"      // service_type, source 1/1 "1234", dest 0/1 "88"
      "04 00 00 00 00 00 00 00 00"            // esm_class 04 (receipt), pid, prio, sched, valid, rd, rep, dcs, def
      "00"                                    // sm_length 0
      "001E 0002 3500"                        // receipted_message_id "5"
      "0427 0001 02");                        // message_state DELIVERED
  Pdu p = decode(hand);
  auto& m = std::get<ShortMessage>(p.body);
  EXPECT_EQ(m.esm_class & kEsmClassTypeMask, kEsmClassDeliveryReceipt);
  ASSERT_NE(m.find(kTagMessageState), nullptr);
  EXPECT_EQ(m.find(kTagMessageState)->value, Bytes{kStateDelivered});
  EXPECT_EQ(to_hex(encode(p)), to_hex(hand));
  Bytes resp = from_hex("00000012 80000004 00000000 00000005 3100");  // submit_sm_resp, message_id "1"
  EXPECT_EQ(std::get<MessageIdResp>(decode(resp).body).message_id, "1");
  Pdu el;
  el.command_id = CommandId::EnquireLink;
  el.sequence_number = 7;
  EXPECT_EQ(to_hex(encode(el)), to_hex(from_hex("00000010 00000015 00000000 00000007")));
}

TEST(SmppPdu, Refusals) {
  auto st = [](const char* hex) {
    try {
      decode(from_hex(hex));
    } catch (const SmppError& e) {
      return e.command_status;
    }
    return 0xFFFFFFFFu;
  };
  EXPECT_EQ(st("00000011 00000015 00000000 00000007"), status::kInvCmdLen);      // length says 17, 16 there
  EXPECT_EQ(st("00000010 00000099 00000000 00000007"), status::kInvCmdId);       // unknown command
  EXPECT_EQ(st("00000014 00000009 00000000 00000001 6F746100"), status::kInvMsgLen);  // bind cut after system_id
  EXPECT_EQ(st("00000021 00000009 00000000 00000001 41414141414141414141414141414141 00"), status::kInvMsgLen);  // system_id of 16
  EXPECT_EQ(st("00000011 00000015 00000000 00000007 00"), status::kInvCmdLen);  // bytes after an empty body
  EXPECT_THROW(pending_length(from_hex("0000000F")), SmppError);
  EXPECT_FALSE(pending_length(from_hex("000000")));
  EXPECT_EQ(*pending_length(from_hex("00000010")), 16u);
  ShortMessage big;
  big.short_message = Bytes(255, 0);
  Pdu p;
  p.command_id = CommandId::SubmitSm;
  p.body = big;
  EXPECT_THROW(encode(p), std::invalid_argument);
}
