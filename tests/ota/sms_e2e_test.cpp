// End to end over SMS: the OTA server's sender (card store + SMPP ESME) ->
// SMPP 3.4 -> the simulated SMSC -> the simulated handset -> ENVELOPE
// SMS-PP download -> the card-side library (TS 102 225 checks, the RFM stub)
// with a fake file system as a test double -> PoR by SMS-SUBMIT as MO SMS ->
// deliver_sm -> the sender records the PoR with its R-APDUs in the store.
// AES-CBC + AES-CMAC, counter mode "process if higher", PoR with CC.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "fake_card.hpp"
#include "ota_test_util.hpp"
#include "rsp/ota/card_store.hpp"
#include "rsp/ota/sms_sender.hpp"
#include "rsp/sim/handset.hpp"
#include "rsp/sim/smsc.hpp"

using namespace rsp;
using namespace rsp::ota;
using namespace std::chrono_literals;

namespace {

const char* kIccid = "8949449999999990023";
const char* kMsisdn = "447700900123";
const char* kKic = "200102030405060708090a0b0c0d0e0f";
const char* kKid = "201102030405060708090a0b0c0d0e0f";
const Tar kRfm{0xB0, 0x00, 0x10};
const Tar kNotOnCard{0xB0, 0x00, 0x20};  // in the server's store, not on the card
const Tar kWeakInStore{0xB0, 0x00, 0x11};  // MSL 06 in the store, 16 on the card

KeySet keys() { return ota_test::key_set(1, Algorithm::Aes, kKic, Algorithm::Aes, kKid); }

Spi spi(const char* hex) {
  Bytes b = from_hex(hex);
  return Spi::decode(b[0], b[1]);
}

struct Rig {
  store::Db db{":memory:"};
  CardStore store{db, Bytes(32, 0x42)};
  sim::Smsc smsc{sim::SmscConfig{}};
  // the card
  ReceivingEntity entity;
  SmsPpHandler handler{entity};
  ota_test::FakeFiles files;
  std::mutex files_mu;
  ota_test::FakeOtaCard card{handler};
  std::atomic<bool> corrupt_next{false};
  std::unique_ptr<sim::Handset> handset;
  Bytes last_mo;  // the card's last MO SMS-SUBMIT, for replaying it
  std::unique_ptr<SmsCommandSender> sender;

  explicit Rig(std::chrono::milliseconds enquire_link = 30s) {
    store.add_card(kIccid, {{keys(), 0}}, {{kRfm, 0x16, 1}, {kNotOnCard, 0x16, 1}, {kWeakInStore, 0x06, 1}});
    entity.add_key_set(keys());
    files.efs[0x2FE2] = from_hex("98942000000000000001");
    files.efs[0x6F46] = Bytes(17, 0xFF);
    auto rfm = std::make_shared<RemoteManagementApplication>(
        [this](ByteView c) {
          std::lock_guard l(files_mu);
          return files(c);
        },
        CommandSet::Uicc);
    handler.add_application(kRfm, 0x16, rfm);
    handler.add_application(kWeakInStore, 0x16, rfm);
    std::uint16_t port = smsc.start();
    handset = std::make_unique<sim::Handset>(
        kMsisdn,
        [this](ByteView c) {
          Bytes apdu(c.begin(), c.end());
          // In-test fault: one bit of the ciphertext flipped on the air.
          if (apdu[1] == kInsEnvelope && corrupt_next.exchange(false)) apdu.back() ^= 0x01;
          return card(apdu);
        },
        [this](const std::string& from, ByteView tpdu) {
          last_mo.assign(tpdu.begin(), tpdu.end());
          smsc.submit_mo(from, tpdu);
        });
    smsc.register_handset(kMsisdn, handset.get());
    smpp::EsmeConfig ec;
    ec.port = port;
    ec.bind.system_id = "ota";
    ec.bind.password = "secret";
    ec.reconnect_delay = 20ms;
    ec.throttled_pause = 30ms;
    ec.response_timeout = 2s;
    ec.enquire_link_interval = enquire_link;
    sender = std::make_unique<SmsCommandSender>(store, ec);
  }
  ~Rig() {
    sender->stop();
    smsc.stop();
  }
  std::size_t executed() {
    std::lock_guard l(files_mu);
    return files.executed;
  }

  CommandOutcome run(const Tar& tar, const char* spi_hex, ByteView script, const std::string& command_id = "") {
    CommandRequest r;
    r.iccid = kIccid;
    r.tar = tar;
    r.spi = spi(spi_hex);
    r.secured_data.assign(script.begin(), script.end());
    r.command_id = command_id;
    ReservedPacket p = sender->send(kMsisdn, r);
    EXPECT_TRUE(sender->wait(kIccid, p.key_version, p.cntr, 5s)) << "no PoR for CNTR " << p.cntr;
    return *sender->outcome(kIccid, p.key_version, p.cntr);
  }
};

Bytes read_iccid() {
  return encode_command_script(CommandScript::expanded({from_hex("00A40004022FE2"), from_hex("00B000000A")}));
}

}  // namespace

TEST(OtaOverSms, CommandScriptPorOkWithRApdus) {
  Rig rig;
  rig.sender->start();
  ASSERT_TRUE(rig.sender->esme().wait_bound(5s));
  CommandOutcome o = rig.run(kRfm, "1639", read_iccid());
  ASSERT_EQ(o.state, CommandOutcome::State::PorReceived);
  EXPECT_EQ(o.por_status, 0x00);
  ASSERT_TRUE(o.response);
  EXPECT_EQ(o.response->executed, 2);
  ASSERT_EQ(o.response->r_apdus().size(), 2u);
  EXPECT_EQ(to_hex(o.response->r_apdus()[1]), to_hex(from_hex("989420000000000000019000")));
  // recorded in the store, sealed at rest
  auto rec = rig.store.por(kIccid, 1, o.cntr);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->status, 0x00);
  EXPECT_EQ(rec->additional_data, o.additional_data);
  EXPECT_TRUE(rig.store.unsent(kIccid).empty());  // marked sent on submit_sm_resp
  EXPECT_EQ(rig.executed(), 2u);
  EXPECT_EQ(rig.entity.counter(1), o.cntr);
  // a long script: a concatenated SMS, reassembled by the card
  std::vector<Bytes> cmds{from_hex("00A40004026F46")};
  for (int i = 0; i < 8; ++i) cmds.push_back(concat(from_hex("00D6000011"), Bytes(17, static_cast<std::uint8_t>('A' + i))));
  CommandOutcome big = rig.run(kRfm, "1639", encode_command_script(CommandScript::expanded(cmds)));
  EXPECT_EQ(big.por_status, 0x00);
  EXPECT_EQ(big.response->executed, 9);
  EXPECT_EQ(rig.executed(), 11u);
  EXPECT_EQ(rig.smsc.stats().mt_delivered, 3u);  // one SMS, then two
  // PoR by SMS-DELIVER-REPORT: back in the delivery receipt, compact script
  CommandOutcome rep = rig.run(kRfm, "1619",
                               encode_command_script(CommandScript::compact({from_hex("00A40004022FE2"), from_hex("00B000000A")})));
  EXPECT_EQ(rep.por_status, 0x00);
  EXPECT_EQ(to_hex(rep.additional_data), to_hex(from_hex("02 98942000000000000001 9000")));
}

TEST(OtaOverSms, RefusalsComeBackWithTheirCodesAndExecuteNothing) {
  Rig rig;
  rig.sender->start();
  ASSERT_TRUE(rig.sender->esme().wait_bound(5s));
  CommandOutcome ok = rig.run(kRfm, "1639", read_iccid(), "job-1");
  ASSERT_EQ(ok.por_status, 0x00);
  std::size_t before = rig.executed();
  std::uint64_t card_counter = rig.entity.counter(1);

  rig.corrupt_next = true;
  EXPECT_EQ(rig.run(kRfm, "1639", read_iccid()).por_status, 0x01);  // wrong checksum
  EXPECT_EQ(rig.run(kRfm, "1639", read_iccid(), "job-1").por_status, 0x02);  // the same packet again: replayed counter
  EXPECT_EQ(rig.run(kNotOnCard, "1639", read_iccid()).por_status, 0x09);    // unknown TAR
  EXPECT_EQ(rig.run(kWeakInStore, "0639", read_iccid()).por_status, 0x0A);  // below the card's MSL
  EXPECT_EQ(rig.executed(), before);
  EXPECT_EQ(rig.entity.counter(1), card_counter);
  EXPECT_EQ(rig.run(kRfm, "1639", read_iccid()).por_status, 0x00);
  EXPECT_EQ(rig.executed(), before + 2);
}

TEST(OtaOverSms, SmscDropsTheLinkMidSendNothingLostNothingTwice) {
  Rig rig;
  rig.sender->start();
  ASSERT_TRUE(rig.sender->esme().wait_bound(5s));
  rig.smsc.drop_connection_at_submit(3);
  std::vector<ReservedPacket> sent;
  for (int i = 0; i < 6; ++i) {
    CommandRequest r;
    r.iccid = kIccid;
    r.tar = kRfm;
    r.spi = spi("1639");
    r.secured_data = read_iccid();
    sent.push_back(rig.sender->send(kMsisdn, r));
  }
  for (const auto& p : sent) {
    ASSERT_TRUE(rig.sender->wait(kIccid, p.key_version, p.cntr, 10s)) << p.cntr;
    EXPECT_EQ(rig.sender->outcome(kIccid, p.key_version, p.cntr)->por_status, 0x00) << p.cntr;
  }
  for (std::size_t i = 1; i < sent.size(); ++i) EXPECT_EQ(sent[i].cntr, sent[i - 1].cntr + 1);  // no counter twice
  auto es = rig.sender->esme().stats();
  EXPECT_GE(es.link_losses, 1u);
  EXPECT_GE(es.resubmits, 1u);
  EXPECT_GE(es.binds, 2u);
  EXPECT_EQ(rig.smsc.stats().dropped_connections, 1u);
  EXPECT_EQ(rig.smsc.stats().mt_delivered, 6u);  // each SMS reached the handset once
  EXPECT_EQ(rig.card.envelopes(), 6u);
  EXPECT_EQ(rig.executed(), 12u);
  EXPECT_TRUE(rig.store.unsent(kIccid).empty());
  EXPECT_EQ(rig.sender->unmatched_pors(), 0u);
}

TEST(OtaOverSms, ThrottledAndRefusedBindsLoseNothing) {
  Rig rig;
  rig.smsc.refuse_binds(true);
  rig.sender->start();
  EXPECT_FALSE(rig.sender->esme().wait_bound(300ms));
  EXPECT_GE(rig.sender->esme().stats().bind_refusals, 1u);
  rig.smsc.refuse_binds(false);
  ASSERT_TRUE(rig.sender->esme().wait_bound(10s));
  rig.smsc.set_max_submits_per_second(40);
  std::vector<ReservedPacket> sent;
  for (int i = 0; i < 5; ++i) {
    CommandRequest r;
    r.iccid = kIccid;
    r.tar = kRfm;
    r.spi = spi("1639");
    r.secured_data = read_iccid();
    sent.push_back(rig.sender->send(kMsisdn, r));
  }
  for (const auto& p : sent) {
    ASSERT_TRUE(rig.sender->wait(kIccid, p.key_version, p.cntr, 10s));
    EXPECT_EQ(rig.sender->outcome(kIccid, p.key_version, p.cntr)->por_status, 0x00);
  }
  EXPECT_GE(rig.smsc.stats().throttled, 1u);
  EXPECT_GE(rig.sender->esme().stats().throttled, 1u);
  EXPECT_EQ(rig.smsc.stats().mt_delivered, 5u);
  EXPECT_EQ(rig.executed(), 10u);
}

TEST(OtaOverSms, AfterARestartUnsentReservationsGoFirstByteForByte) {
  Rig rig;
  // A server that reserved two packets and died before sending them.
  CommandRequest r;
  r.iccid = kIccid;
  r.tar = kRfm;
  r.spi = spi("1639");
  r.secured_data = read_iccid();
  ReservedPacket a = rig.store.reserve_command_packet(r);
  ReservedPacket b = rig.store.reserve_command_packet(r);
  ASSERT_EQ(rig.store.unsent(kIccid).size(), 2u);
  rig.sender->start();
  ASSERT_TRUE(rig.sender->esme().wait_bound(5s));
  EXPECT_EQ(rig.sender->resend_unsent(kIccid, kMsisdn, kRfm), 2u);
  ReservedPacket c = rig.sender->send(kMsisdn, r);  // something new, after them
  for (const auto& p : {a, b, c}) {
    ASSERT_TRUE(rig.sender->wait(kIccid, p.key_version, p.cntr, 5s));
    EXPECT_EQ(rig.sender->outcome(kIccid, p.key_version, p.cntr)->por_status, 0x00) << p.cntr;
  }
  EXPECT_EQ(c.cntr, b.cntr + 1);
  EXPECT_TRUE(rig.store.unsent(kIccid).empty());
  EXPECT_EQ(rig.executed(), 6u);
}

TEST(OtaOverSms, EnquireLinkKeepsAnIdleLinkAndADuplicatePorChangesNothing) {
  Rig rig(20ms);
  rig.sender->start();
  ASSERT_TRUE(rig.sender->esme().wait_bound(5s));
  CommandOutcome o = rig.run(kRfm, "1639", read_iccid());
  ASSERT_EQ(o.por_status, 0x00);
  std::this_thread::sleep_for(200ms);
  EXPECT_GE(rig.smsc.stats().enquire_links, 2u);
  EXPECT_EQ(rig.sender->esme().stats().link_losses, 0u);
  EXPECT_TRUE(rig.sender->esme().bound());
  // The same PoR again (an SMSC that delivered the card's MO twice): logged
  // as matching nothing; the record keeps the first.
  auto rec = rig.store.por(kIccid, 1, o.cntr);
  ASSERT_TRUE(rec);
  std::size_t before = rig.sender->unmatched_pors();
  rig.smsc.submit_mo(kMsisdn, rig.last_mo);
  for (int i = 0; i < 100 && rig.sender->unmatched_pors() == before; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(rig.sender->unmatched_pors(), before + 1);
  EXPECT_EQ(rig.sender->outcome(kIccid, 1, o.cntr)->por_status, 0x00);
  EXPECT_EQ(rig.store.por(kIccid, 1, o.cntr)->additional_data, rec->additional_data);
}

TEST(OtaOverSms, APacketTooLongForSmsFailsAndTheNextCommandGoes) {
  Rig rig;
  rig.sender->start();
  ASSERT_TRUE(rig.sender->esme().wait_bound(5s));
  CommandRequest r;
  r.iccid = kIccid;
  r.tar = kRfm;
  r.spi = spi("1639");
  r.secured_data = Bytes(255 * 134, 0x00);  // more than 255 concatenated SMS can carry
  ReservedPacket big = rig.sender->send(kMsisdn, r);
  ASSERT_TRUE(rig.sender->wait(kIccid, big.key_version, big.cntr, 5s));
  EXPECT_EQ(rig.sender->outcome(kIccid, big.key_version, big.cntr)->state, CommandOutcome::State::SubmitFailed);
  EXPECT_EQ(rig.run(kRfm, "1639", read_iccid()).por_status, 0x00);  // a gap in the counters: "process if higher" takes it
}
