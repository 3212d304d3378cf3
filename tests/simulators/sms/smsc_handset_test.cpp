// The simulated SMSC (SMPP 3.4 server) and handset on their own: binds and
// refusals, submit_sm to an SMS-DELIVER at the handset, delivery receipts,
// MO SMS as deliver_sm (kept while no ESME is bound), and the handset's
// APDU exchanges with a scripted card (ENVELOPE, GET RESPONSE, FETCH,
// TERMINAL RESPONSE).
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "rsp/ota/envelope.hpp"
#include "rsp/ota/smpp_esme.hpp"
#include "rsp/ota/sms_deliver.hpp"
#include "rsp/ota/sms_submit.hpp"
#include "rsp/sim/handset.hpp"
#include "rsp/sim/smsc.hpp"

using namespace rsp;
using namespace std::chrono_literals;
namespace smpp = rsp::ota::smpp;

namespace {

struct Recorder : sim::MobileStation {
  std::mutex mu;
  std::vector<Bytes> got;
  sim::DeliveryOutcome answer;
  sim::DeliveryOutcome deliver_mt(ByteView t) override {
    std::lock_guard l(mu);
    got.emplace_back(t.begin(), t.end());
    return answer;
  }
};

struct Inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<smpp::ShortMessage> delivered;
  std::vector<smpp::SubmitResult> results;
  template <typename P>
  bool wait(P pred, std::chrono::milliseconds t = 5s) {
    std::unique_lock l(mu);
    return cv.wait_for(l, t, pred);
  }
};

smpp::EsmeConfig esme_config(std::uint16_t port, const char* password = "secret") {
  smpp::EsmeConfig c;
  c.port = port;
  c.bind.system_id = "ota";
  c.bind.password = password;
  c.reconnect_delay = 20ms;
  return c;
}

smpp::EsmeHandlers handlers(Inbox& in) {
  smpp::EsmeHandlers h;
  h.on_deliver = [&in](const smpp::ShortMessage& m) {
    std::lock_guard l(in.mu);
    in.delivered.push_back(m);
    in.cv.notify_all();
  };
  h.on_submit_result = [&in](const smpp::SubmitResult& r) {
    std::lock_guard l(in.mu);
    in.results.push_back(r);
    in.cv.notify_all();
  };
  return h;
}

}  // namespace

TEST(Smsc, WrongPasswordIsRefused) {
  sim::Smsc smsc{sim::SmscConfig{}};
  std::uint16_t port = smsc.start();
  Inbox in;
  smpp::Esme esme(esme_config(port, "wrong"), handlers(in));
  esme.start();
  EXPECT_FALSE(esme.wait_bound(300ms));
  EXPECT_GE(esme.stats().bind_refusals, 1u);
  EXPECT_GE(smsc.stats().bind_refusals, 1u);
  EXPECT_EQ(smsc.stats().binds, 0u);
  esme.stop();
  smsc.stop();
}

TEST(Smsc, SubmitBecomesSmsDeliverWithReceiptAndMoComesBack) {
  sim::Smsc smsc{sim::SmscConfig{}};
  std::uint16_t port = smsc.start();
  Recorder phone;
  phone.answer.report_user_data = from_hex("027100AABB");
  smsc.register_handset("447700900123", &phone);
  // MO before any ESME is bound: kept, then delivered on bind
  ota::SmsSubmit mo;
  mo.tp_da.digits = "8800";
  mo.tp_udhi = true;
  mo.tp_ud = from_hex("027100010203");
  smsc.submit_mo("447700900123", ota::encode_sms_submit(mo));

  Inbox in;
  smpp::Esme esme(esme_config(port), handlers(in));
  esme.start();
  ASSERT_TRUE(esme.wait_bound(5s));
  ASSERT_TRUE(in.wait([&] { return in.delivered.size() >= 1; }));
  {
    std::lock_guard l(in.mu);
    const auto& m = in.delivered[0];
    EXPECT_EQ(m.source_addr, "447700900123");
    EXPECT_EQ(m.destination_addr, "8800");
    EXPECT_EQ(m.esm_class, smpp::kEsmClassUdhi);
    EXPECT_EQ(m.protocol_id, 0x7F);
    EXPECT_EQ(m.short_message, mo.tp_ud);
  }
  smpp::ShortMessage s;
  s.source_addr = "8800";
  s.destination_addr = "447700900123";
  s.esm_class = smpp::kEsmClassUdhi;
  s.protocol_id = 0x7F;
  s.data_coding = 0xF6;
  s.registered_delivery = 1;
  s.short_message = from_hex("027000 0102");
  esme.submit(s);
  s.destination_addr = "999";
  esme.submit(s);
  ASSERT_TRUE(in.wait([&] { return in.results.size() >= 2 && in.delivered.size() >= 2; }));
  std::lock_guard l(in.mu);
  EXPECT_EQ(in.results[0].command_status, smpp::status::kOk);
  EXPECT_EQ(in.results[1].command_status, smpp::status::kInvDstAdr);
  {
    std::lock_guard lp(phone.mu);
    ASSERT_EQ(phone.got.size(), 1u);
    ota::SmsDeliver d = ota::decode_sms_deliver(phone.got[0]);
    EXPECT_EQ(d.tp_oa.digits, "8800");
    EXPECT_EQ(d.tp_pid, 0x7F);
    EXPECT_EQ(d.tp_dcs, 0xF6);
    EXPECT_TRUE(d.tp_udhi);
    EXPECT_EQ(d.tp_ud, s.short_message);
  }
  const auto& r = in.delivered[1];
  EXPECT_EQ(r.esm_class & smpp::kEsmClassTypeMask, smpp::kEsmClassDeliveryReceipt);
  ASSERT_NE(r.find(smpp::kTagReceiptedMessageId), nullptr);
  Bytes id = to_bytes(in.results[0].message_id);
  id.push_back(0);
  EXPECT_EQ(r.find(smpp::kTagReceiptedMessageId)->value, id);
  EXPECT_EQ(r.find(smpp::kTagMessageState)->value, Bytes{smpp::kStateDelivered});
  EXPECT_EQ(r.find(smpp::kTagMessagePayload)->value, from_hex("027100AABB"));
  EXPECT_NE(to_string(r.short_message).find("stat:DELIVRD"), std::string::npos);
  esme.stop();
  smsc.stop();
}

TEST(Handset, EnvelopeGetResponseAndProactiveSendShortMessage) {
  std::vector<Bytes> apdus;
  std::vector<Bytes> mo;
  Bytes mo_tpdu = from_hex("41 00 04 81 88 00 7F F6 03 02 71 00");
  ota::SendShortMessage ssm;
  ssm.tpdu = mo_tpdu;
  Bytes d0 = ota::encode_send_short_message(ssm);
  std::uint16_t envelope_sw = 0x9000;
  sim::Handset phone(
      "447700900123",
      [&](ByteView c) -> Bytes {
        apdus.emplace_back(c.begin(), c.end());
        switch (c[1]) {
          case 0xC2: return {static_cast<std::uint8_t>(envelope_sw >> 8), static_cast<std::uint8_t>(envelope_sw)};
          case 0xC0: return from_hex("0271000102 9000");
          case 0x12: return concat(d0, from_hex("9000"));
          case 0x14: return from_hex("9000");
        }
        return from_hex("6D00");
      },
      [&](const std::string& from, ByteView t) {
        EXPECT_EQ(from, "447700900123");
        mo.emplace_back(t.begin(), t.end());
      });
  ota::SmsDeliver d;
  d.tp_udhi = true;
  d.tp_ud = from_hex("027000 01");
  Bytes tpdu = ota::encode_sms_deliver(d);

  sim::DeliveryOutcome o = phone.deliver_mt(tpdu);  // 90 00
  EXPECT_TRUE(o.delivered);
  EXPECT_TRUE(o.report_user_data.empty());
  ASSERT_EQ(apdus.size(), 1u);
  EXPECT_EQ(to_hex(apdus[0]), to_hex(ota::sms_pp_download_apdu({std::nullopt, tpdu})));

  envelope_sw = 0x6105;  // response data: GET RESPONSE, RP-ACK with it
  apdus.clear();
  o = phone.deliver_mt(tpdu);
  EXPECT_EQ(to_hex(o.report_user_data), "0271000102");
  ASSERT_EQ(apdus.size(), 2u);
  EXPECT_EQ(to_hex(apdus[1]), "00c0000005");

  envelope_sw = static_cast<std::uint16_t>(0x9100 | d0.size());  // proactive: FETCH, SEND SHORT MESSAGE, TR
  apdus.clear();
  o = phone.deliver_mt(tpdu);
  EXPECT_TRUE(o.delivered);
  ASSERT_EQ(mo.size(), 1u);
  EXPECT_EQ(mo[0], mo_tpdu);
  ASSERT_EQ(apdus.size(), 3u);
  EXPECT_EQ(apdus[1][1], 0x12);
  EXPECT_EQ(to_hex(apdus[2]), to_hex(concat(from_hex("801400000C"), ota::terminal_response(ssm))));

  envelope_sw = 0x6F00;  // an error: RP-ERROR
  EXPECT_FALSE(phone.deliver_mt(tpdu).delivered);
  // not SIM data download: not given to the card
  apdus.clear();
  d.tp_pid = 0x00;
  d.tp_dcs = 0x04;
  EXPECT_TRUE(phone.deliver_mt(ota::encode_sms_deliver(d)).delivered);
  EXPECT_TRUE(apdus.empty());
  EXPECT_EQ(phone.stats().other_sms, 1u);
}
