// The multi-account UICC's SCP81 admin agent against the OTA library's
// AdminServer (loopback, ephemeral port): the push SMS (an AES command
// packet at the ISD's TAR whose secured data is the '81' trigger) comes in
// through the simulated handset's ENVELOPE, which answers at once (PoR 00);
// the session runs on the card's thread: RFM without a targeted
// application (EF.ICCID read on the agent's logical channel), the applet's
// STORE ACCOUNT, the ISD's GET STATUS as RAM, an unknown application
// refused; a second trigger while a session runs is refused in the log.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "rsp/masim/masim.hpp"
#include "rsp/ota/card_store.hpp"
#include "rsp/ota/scp81_admin_server.hpp"
#include "rsp/ota/scp81_trigger.hpp"
#include "rsp/ota/sms_deliver.hpp"
#include "rsp/sim/handset.hpp"

namespace rsp::masim {
namespace {

using namespace std::chrono_literals;
namespace scp81 = ota::scp81;

const char* kIccid = "8988211000000000016";
const char* kIdentity = "masim-card-16";
const Bytes kPsk = from_hex("00112233445566778899aabbccddeeff");

struct Rig {
  store::Db db{":memory:"};
  ota::CardStore server{db, Bytes(32, 0x42)};
  std::unique_ptr<MultiAccountSim> card;
  std::unique_ptr<sim::Handset> handset;
  std::shared_ptr<scp81::StaticPskKeySource> keys = std::make_shared<scp81::StaticPskKeySource>();
  std::unique_ptr<scp81::AdminServer> admin;
  std::vector<scp81::AdminScript> scripts;
  std::mutex mu;
  std::condition_variable cv;
  bool hold = false;  // the first script waits until released
  std::vector<scp81::SessionReport> reports;

  Rig() {
    ota::KeySet k;
    k.version = 1;
    k.cipher = k.checksum = ota::Algorithm::Aes;
    k.kic = from_hex("200102030405060708090a0b0c0d0e0f");
    k.kid = from_hex("201102030405060708090a0b0c0d0e0f");
    server.add_card(kIccid, {{k, 0}}, {{kIsdTar, 0x16, 1}});
    MasimConfig cfg;
    cfg.iccid = kIccid;
    cfg.key_sets = {k};
    MasimScp81 s;
    s.psk_identity = kIdentity;
    s.psk = SecretBytes(kPsk);
    s.timeout = 5000ms;
    cfg.scp81 = s;
    card = std::make_unique<MultiAccountSim>(cfg);
    card->reset();
    handset = std::make_unique<sim::Handset>(
        "447700900123", [this](ByteView c) { return card->transmit(c); }, [](const std::string&, ByteView) {});
    keys->add(kIdentity, scp81::CardPsk{kIccid, SecretBytes(kPsk)});
    scp81::AdminServerConfig ac;
    ac.log = [](std::string_view) {};
    admin = std::make_unique<scp81::AdminServer>(
        ac, keys,
        [this](const scp81::SessionView& v) -> std::optional<scp81::AdminScript> {
          std::unique_lock l(mu);
          cv.wait_for(l, 5s, [this] { return !hold; });
          if (v.round < scripts.size()) return scripts[v.round];
          return std::nullopt;
        },
        [this](const scp81::SessionReport& r) {
          std::lock_guard l(mu);
          reports.push_back(r);
        });
    admin->start();
  }
  ~Rig() {
    release();
    card->wait_admin_idle(10s);
    admin->stop();
  }
  void release() {
    {
      std::lock_guard l(mu);
      hold = false;
    }
    cv.notify_all();
  }

  // The push SMS through the handset: the PoR (by SMS-DELIVER-REPORT) status.
  std::uint8_t trigger(std::uint8_t key_version = 0x40) {
    scp81::TriggeringParameters t;
    scp81::ConnectionParameters c;
    c.port = admin->port();
    c.address = {127, 0, 0, 1};
    t.connection = c;
    t.security = scp81::SecurityParameters{to_bytes(kIdentity), key_version, 0x01};
    ota::CommandRequest r;
    r.iccid = kIccid;
    r.tar = kIsdTar;
    r.spi = ota::Spi::decode(0x16, 0x19);  // PoR by SMS-DELIVER-REPORT, CC, ciphered
    r.secured_data = scp81::encode_triggering_parameters(t);
    ota::ReservedPacket p = server.reserve_command_packet(r);
    ota::SmsDeliver templ;
    templ.tp_oa = ota::Address{"447700900999", 0x91};
    auto sms = ota::command_packet_to_sms(p.packet, templ, 1);
    auto out = handset->deliver_mt(sms.front());
    EXPECT_TRUE(out.delivered);
    if (out.report_user_data.size() < 3) return 0xFF;
    // The PoR after its user data header '02 71 00', opened by the server.
    ota::CommandHeader h = ota::read_command_packet(p.packet).header;
    auto por = server.open_response_packet(kIccid, p.key_version, h, ByteView(out.report_user_data).subspan(3));
    return por.packet.status;
  }
  std::vector<scp81::SessionReport> wait_reports(std::size_t n) {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard l(mu);
        if (reports.size() >= n) return reports;
      }
      std::this_thread::sleep_for(10ms);
    }
    std::lock_guard l(mu);
    return reports;
  }
};

scp81::AdminScript script(std::vector<Bytes> capdus, std::optional<std::string> target = std::nullopt) {
  return scp81::AdminScript{ota::CommandScript::expanded(std::move(capdus)), std::move(target)};
}

std::string sw(const Bytes& r) { return to_hex(ByteView(r).last(2)); }

TEST(MasimScp81, RfmOnTheAgentsChannelReadsTheIccid) {
  Rig rig;
  rig.scripts = {script({from_hex("00A40004022FE2"), from_hex("00B000000A")})};
  EXPECT_EQ(rig.trigger(), 0x00);
  auto reports = rig.wait_reports(1);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].outcome, scp81::SessionOutcome::Completed) << reports[0].detail;
  ASSERT_EQ(reports[0].responses.size(), 1u);
  auto r = reports[0].responses[0].r_apdus();
  ASSERT_EQ(r.size(), 2u);
  // EF.ICCID of 8988211000000000016, BCD with the nibbles swapped and F
  // padding (TS 102 221 13.2), coded by hand.
  EXPECT_EQ(to_hex(r[1]), "988812010000000010f6" "9000");
  ASSERT_TRUE(rig.card->wait_admin_idle(5s));
  EXPECT_EQ(rig.card->admin_sessions().completed, 1u);
  // The agent's channel is closed again: MANAGE CHANNEL opens channel 1.
  Bytes open = rig.card->transmit(from_hex("0070000001"));
  EXPECT_EQ(to_hex(open), "019000");
}

TEST(MasimScp81, AppletAndIsdByTargetedApplicationUnknownOneRefused) {
  Rig rig;
  Account a;
  a.id = 4;
  a.imsi = imsi_to_ef("001010000000044");
  a.ki = Bytes(16, 0x11);
  a.opc = Bytes(16, 0x22);
  Bytes store = encode_account(a);
  rig.scripts = {
      script({concat(from_hex("00A4040007"), kAppletAid),
              concat(Bytes{0x80, ins::kStoreAccount, 0x00, 0x00, static_cast<std::uint8_t>(store.size())}, store)},
             "//aid/F05253504D/4101"),
      // GET STATUS of the ISD (GP 2.3.1 11.4): P1 80, P2 02 (TLV), tag 4F empty.
      script({from_hex("80F28002024F00")}, "//aid/A000000151/000000"),
      script({from_hex("00A4040007A0000000871002")}, "//aid/A000000087/1002")};
  EXPECT_EQ(rig.trigger(), 0x00);
  auto reports = rig.wait_reports(1);
  ASSERT_EQ(reports.size(), 1u);
  // The third script's target is unknown: the session ends on its status.
  EXPECT_EQ(reports[0].outcome, scp81::SessionOutcome::ScriptStatusError);
  EXPECT_EQ(reports[0].script_status, "unknown-application");
  ASSERT_EQ(reports[0].responses.size(), 2u);
  auto store_r = reports[0].responses[0].r_apdus();
  ASSERT_EQ(store_r.size(), 2u);
  EXPECT_EQ(sw(store_r[0]), "9000");
  EXPECT_EQ(to_hex(store_r[1]), "9000");
  ASSERT_NE(rig.card->accounts().find(4), nullptr);
  auto isd_r = reports[0].responses[1].r_apdus();
  ASSERT_EQ(isd_r.size(), 1u);
  EXPECT_EQ(sw(isd_r[0]), "9000");
  EXPECT_NE(to_hex(isd_r[0]).find("a000000151000000"), std::string::npos) << to_hex(isd_r[0]);
}

TEST(MasimScp81, ASecondTriggerWhileASessionRunsIsRefused) {
  Rig rig;
  rig.hold = true;
  rig.scripts = {script({from_hex("00A40004022FE2")})};
  testing::internal::CaptureStderr();
  EXPECT_EQ(rig.trigger(), 0x00);
  std::this_thread::sleep_for(200ms);  // the first session is waiting for its script
  EXPECT_EQ(rig.trigger(), 0x00);      // taken (PoR 00), but starts nothing
  rig.release();
  ASSERT_TRUE(rig.card->wait_admin_idle(5s));
  std::string log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("SCP81 trigger refused: an admin session is running"), std::string::npos) << log;
  auto s = rig.card->admin_sessions();
  EXPECT_EQ(s.started, 1u);
  EXPECT_EQ(s.refused, 1u);
  EXPECT_EQ(s.completed, 1u);
  EXPECT_EQ(rig.wait_reports(1).size(), 1u);
}

TEST(MasimScp81, TriggerNamingAnotherKeyStartsNothing) {
  Rig rig;
  EXPECT_EQ(rig.trigger(0x41), 0x00);
  auto s = rig.card->admin_sessions();
  EXPECT_EQ(s.started, 0u);
  EXPECT_EQ(s.refused, 1u);
}

}  // namespace
}  // namespace rsp::masim
