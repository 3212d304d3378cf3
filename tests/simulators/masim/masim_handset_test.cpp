// The simulated handset in front of the multi-account UICC, in process: an
// SMS-DELIVER with STORE ACCOUNT + SWITCH whose PoR goes by
// SMS-DELIVER-REPORT: the ENVELOPE answers '61 xx', GET RESPONSE gives the
// PoR with '91 xx' (the REFRESH waits); the handset reports the PoR and
// runs the proactive session (REFRESH answered, counted). With PoR by
// SMS-SUBMIT: SEND SHORT MESSAGE first (the MO SMS), then the REFRESH.
#include <gtest/gtest.h>

#include "rsp/masim/masim.hpp"
#include "rsp/ota/card_store.hpp"
#include "rsp/ota/command_script.hpp"
#include "rsp/ota/sms_deliver.hpp"
#include "rsp/ota/sms_submit.hpp"
#include "rsp/sim/handset.hpp"

namespace rsp::masim {
namespace {

const char* kIccid = "8988211000000000016";

struct HandsetRig {
  store::Db db{":memory:"};
  ota::CardStore server{db, Bytes(32, 0x42)};
  std::unique_ptr<MultiAccountSim> card;
  std::vector<Bytes> mo;
  std::unique_ptr<sim::Handset> handset;

  HandsetRig() {
    ota::KeySet k;
    k.version = 1;
    k.cipher = k.checksum = ota::Algorithm::Aes;
    k.kic = from_hex("200102030405060708090a0b0c0d0e0f");
    k.kid = from_hex("201102030405060708090a0b0c0d0e0f");
    server.add_card(kIccid, {{k, 0}}, {{kAppletTar, 0x16, 1}});
    MasimConfig cfg;
    cfg.iccid = kIccid;
    cfg.key_sets = {k};
    card = std::make_unique<MultiAccountSim>(cfg);
    card->reset();
    handset = std::make_unique<sim::Handset>(
        "447700900123", [this](ByteView c) { return card->transmit(c); },
        [this](const std::string&, ByteView tpdu) { mo.emplace_back(tpdu.begin(), tpdu.end()); });
  }

  sim::DeliveryOutcome send(std::uint8_t spi2, std::uint8_t id) {
    Account a;
    a.id = id;
    a.imsi = imsi_to_ef("31015012345678" + std::to_string(id % 10));
    a.ki = Bytes(16, 0x11);
    a.opc = Bytes(16, 0x22);
    Bytes store = encode_account(a);
    ota::CommandRequest r;
    r.iccid = kIccid;
    r.tar = kAppletTar;
    r.spi = ota::Spi::decode(0x16, spi2);
    r.secured_data = ota::encode_command_script(ota::CommandScript::expanded(
        {concat(Bytes{0x80, ins::kStoreAccount, 0x00, 0x00, static_cast<std::uint8_t>(store.size())}, store),
         Bytes{0x80, ins::kSwitchAccount, id, 0x00}}));
    ota::ReservedPacket p = server.reserve_command_packet(r);
    ota::SmsDeliver templ;
    templ.tp_oa = ota::Address{"447700900999", 0x91};
    auto sms = ota::command_packet_to_sms(p.packet, templ, 1);
    EXPECT_EQ(sms.size(), 1u);
    return handset->deliver_mt(sms.front());
  }
};

TEST(MasimHandset, PorByDeliverReportThenRefresh) {
  HandsetRig rig;
  sim::DeliveryOutcome out = rig.send(0x19, 1);
  EXPECT_TRUE(out.delivered);
  ASSERT_GE(out.report_user_data.size(), 3u);
  EXPECT_EQ(Bytes(out.report_user_data.begin(), out.report_user_data.begin() + 3), from_hex("027100"));
  auto stats = rig.handset->stats();
  EXPECT_EQ(stats.get_responses, 1u);
  EXPECT_EQ(stats.refreshes, 1u);
  EXPECT_EQ(stats.rp_errors, 0u);
  EXPECT_TRUE(rig.mo.empty());
  EXPECT_EQ(rig.card->accounts().active, std::optional<std::uint8_t>(1));
  // Nothing left to fetch.
  Bytes r = rig.card->transmit(from_hex("00A40000023F0000"));
  EXPECT_EQ(r[r.size() - 2], 0x90);
}

TEST(MasimHandset, PorBySmsSubmitThenRefresh) {
  HandsetRig rig;
  sim::DeliveryOutcome out = rig.send(0x39, 2);
  EXPECT_TRUE(out.delivered);
  EXPECT_TRUE(out.report_user_data.empty());
  ASSERT_EQ(rig.mo.size(), 1u);
  ota::SmsSubmit submit = ota::decode_sms_submit(rig.mo[0]);
  EXPECT_EQ(submit.tp_da.digits, "447700900999");  // back to the originating address
  auto stats = rig.handset->stats();
  EXPECT_EQ(stats.mo_sent, 1u);
  EXPECT_EQ(stats.refreshes, 1u);
  EXPECT_EQ(stats.fetches, 2u);
  EXPECT_EQ(rig.card->accounts().active, std::optional<std::uint8_t>(2));
}

}  // namespace
}  // namespace rsp::masim
