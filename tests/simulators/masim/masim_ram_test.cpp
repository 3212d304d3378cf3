// The card manager (ISD) inside the multi-account UICC (issues 10, 11):
// - RAM over SCP80 (TS 102 226 8): the OTA server's card store builds an AES
//   command packet for the ISD TAR 00 00 00 whose script holds GlobalPlatform
//   commands from rsp_gp's builder (GET STATUS, INSTALL, PUT KEY, STORE DATA,
//   DELETE); they run without SCP02/03 and the PoR's response script carries
//   the GET STATUS answer, parsed with rsp_gp;
// - the same commands over the contact interface need the SCP03 session
//   (6982 without it), which rsp_gp's Session opens through the UICC platform;
// - a RAM packet below the ISD TAR's minimum security level gets PoR 0A.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "rsp/gp/card_content.hpp"
#include "rsp/gp/commands.hpp"
#include "rsp/gp/scp03.hpp"
#include "rsp/gp/session.hpp"
#include "rsp/masim/masim.hpp"
#include "rsp/ota/card_store.hpp"
#include "rsp/ota/command_script.hpp"
#include "rsp/ota/envelope.hpp"
#include "rsp/ota/sms_deliver.hpp"

namespace rsp::masim {
namespace {

namespace gp = rsp::gp;
const char* kIccid = "8988211000000000016";
const Bytes kNewApp = from_hex("F05253504D4102");

std::uint16_t sw_of(ByteView r) { return static_cast<std::uint16_t>(r[r.size() - 2] << 8 | r.back()); }
Bytes body_of(ByteView r) { return Bytes(r.begin(), r.end() - 2); }
Bytes apdu_bytes(const apdu::Command& c) { return c.encode(); }

ota::KeySet ota_keys() {
  ota::KeySet k;
  k.version = 1;
  k.cipher = k.checksum = ota::Algorithm::Aes;
  k.kic = from_hex("200102030405060708090a0b0c0d0e0f");
  k.kid = from_hex("201102030405060708090a0b0c0d0e0f");
  return k;
}

bool listed(const std::vector<gp::RegistryEntry>& l, ByteView aid) {
  for (const auto& e : l)
    if (e.aid == Bytes(aid.begin(), aid.end())) return true;
  return false;
}

struct RamRig : ::testing::Test {
  std::filesystem::path dir;
  store::Db db{":memory:"};
  ota::CardStore server{db, Bytes(32, 0x42)};
  std::unique_ptr<MultiAccountSim> card;

  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          ("masim-ram-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    server.add_card(kIccid, {{ota_keys(), 0}}, {{kIsdTar, 0x16, 1}});
    MasimConfig c;
    c.iccid = kIccid;
    c.state_path = (dir / "masim.json").string();
    c.key_sets = {ota_keys()};
    card = std::make_unique<MultiAccountSim>(c);
    card->reset();
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  // SPI 16 19: CC, AES ciphered, counter higher; PoR with CC, ciphered, by SMS-DELIVER-REPORT.
  ota::ReservedPacket packet(const std::vector<Bytes>& capdus) {
    ota::CommandRequest r;
    r.iccid = kIccid;
    r.tar = kIsdTar;
    r.spi = ota::Spi::decode(0x16, 0x19);
    r.secured_data = ota::encode_command_script(ota::CommandScript::expanded(capdus));
    return server.reserve_command_packet(r);
  }

  // ENVELOPE (SMS-PP download) per SMS; the PoR from GET RESPONSE after 61xx.
  Bytes download(ByteView command_packet) {
    ota::SmsDeliver templ;
    templ.tp_oa = ota::Address{"447700900123", 0x91};
    Bytes por;
    for (const Bytes& tpdu : ota::command_packet_to_sms(command_packet, templ, 7)) {
      ota::SmsPpDownload d;
      d.tpdu = tpdu;
      Bytes r = card->transmit(ota::sms_pp_download_apdu(d));
      std::uint16_t sw = sw_of(r);
      if ((sw >> 8) == 0x61) por = body_of(card->transmit(Bytes{0x00, 0xC0, 0x00, 0x00, static_cast<std::uint8_t>(sw & 0xFF)}));
    }
    return por;
  }

  ota::ResponsePacket run(const ota::ReservedPacket& p) {
    Bytes por = download(p.packet);
    EXPECT_GE(por.size(), 3u);
    ota::CommandHeader h = ota::read_command_packet(p.packet).header;
    return server.open_response_packet(kIccid, p.key_version, h, ByteView(por).subspan(3)).packet;
  }
};

TEST_F(RamRig, GlobalPlatformScriptOverScp80RunsOnTheIsdAndThePorCarriesGetStatus) {
  gp::KeyComponent enc{0x88, Bytes(16, 0x11)}, mac{0x88, Bytes(16, 0x22)}, dek{0x88, Bytes(16, 0x33)};
  // PUT KEY over RAM: enciphered with the static DEK of the ISD's default key set (KVN 30, GP test keys).
  Bytes put_key = apdu_bytes(gp::put_key(0x00, 0x31, 0x01, {enc, mac, dek}, gp::default_test_keys().dek));
  Bytes install = apdu_bytes(gp::install_for_install(kAppletLoadFileAid, kAppletAid, kNewApp, Bytes{0x00}));
  std::vector<Bytes> script{apdu_bytes(gp::get_status(gp::StatusScope::Isd)), install, put_key,
                            apdu_bytes(gp::store_data(from_hex("DF2001AA")).front()),
                            apdu_bytes(gp::get_status(gp::StatusScope::Applications))};
  ota::ResponsePacket por = run(packet(script));
  ASSERT_EQ(por.status, 0x00);
  ota::ResponseScript rs = ota::decode_response_script(ota::ScriptFormat::Expanded, por.additional_data);
  std::vector<Bytes> r = rs.r_apdus();
  ASSERT_EQ(r.size(), 5u);
  for (const Bytes& x : r) EXPECT_EQ(sw_of(x), 0x9000) << to_hex(x);

  auto isd = gp::parse_get_status(gp::StatusScope::Isd, body_of(r[0]));
  ASSERT_EQ(isd.size(), 1u);
  EXPECT_EQ(isd[0].aid, kIsdAid);
  EXPECT_EQ(gp::life_cycle_name(gp::StatusScope::Isd, isd[0].life_cycle), "SECURED");
  auto apps = gp::parse_get_status(gp::StatusScope::Applications, body_of(r[4]));
  EXPECT_TRUE(listed(apps, kAppletAid));  // the platform's own applet
  EXPECT_TRUE(listed(apps, kNewApp));     // the instance the script made
  // PUT KEY answers KVN || the three KCVs; the key set is there.
  EXPECT_EQ(body_of(r[2]), concat(Bytes{0x31}, gp::key_check_value(0x88, enc.value), gp::key_check_value(0x88, mac.value),
                                  gp::key_check_value(0x88, dek.value)));
  bool have31 = false;
  for (const auto& k : card->card_manager().key_sets()) have31 |= k.version == 0x31;
  EXPECT_TRUE(have31);

  // A second packet: DELETE the instance, GET STATUS no longer lists it.
  ota::ResponsePacket por2 = run(packet({apdu_bytes(gp::delete_object(kNewApp)), apdu_bytes(gp::get_status(gp::StatusScope::Applications))}));
  ASSERT_EQ(por2.status, 0x00);
  auto r2 = ota::decode_response_script(ota::ScriptFormat::Expanded, por2.additional_data).r_apdus();
  ASSERT_EQ(r2.size(), 2u);
  EXPECT_EQ(sw_of(r2[0]), 0x9000);
  auto after = gp::parse_get_status(gp::StatusScope::Applications, body_of(r2[1]));
  EXPECT_FALSE(listed(after, kNewApp));
  EXPECT_TRUE(listed(after, kAppletAid));
}

TEST_F(RamRig, ContactInterfaceNeedsTheSecureChannel) {
  // SELECT the ISD through the UICC platform: its FCI.
  Bytes sel = card->transmit(apdu_bytes(gp::select(kIsdAid)));
  ASSERT_EQ(sw_of(sel), 0x9000);
  // The RAM script's GET STATUS without a secure channel: refused.
  EXPECT_EQ(sw_of(card->transmit(apdu_bytes(gp::get_status(gp::StatusScope::Applications)))), 0x6982);
  EXPECT_EQ(sw_of(card->transmit(apdu_bytes(gp::install_for_install(kAppletLoadFileAid, kAppletAid, kNewApp, Bytes{0x00})))),
            0x6982);
  EXPECT_EQ(card->card_manager().find(kNewApp), nullptr);

  // With SCP03 (what gpt does over PC/SC or TCP): the card's content.
  gp::Session s(*card);
  ASSERT_EQ(s.select(kIsdAid).sw, 0x9000);
  auto k = gp::default_test_keys();
  k.version = 0x30;
  s.open(k);
  auto reg = gp::list_registry(s);
  EXPECT_TRUE(listed(reg, kIsdAid));
  EXPECT_TRUE(listed(reg, kAppletAid));
  EXPECT_TRUE(listed(reg, kAppletLoadFileAid));
}

TEST_F(RamRig, BelowTheIsdTarsMinimumSecurityLevelGetsPor0A) {
  // SPI 06 19: no counter, below MSL 16; built directly (the store would not).
  ota::CommandPacket cp;
  cp.header.spi = ota::Spi::decode(0x06, 0x19);
  cp.header.kic = cp.header.kid = 0x12;  // key version 1, AES
  cp.header.tar = kIsdTar;
  cp.cntr = 1;
  cp.secured_data = ota::encode_command_script(ota::CommandScript::expanded(
      {apdu_bytes(gp::install_for_install(kAppletLoadFileAid, kAppletAid, kNewApp, Bytes{0x00}))}));
  ota::ReservedPacket p;
  p.key_version = 1;
  p.cntr = 1;
  p.packet = ota::build_command_packet(cp, ota_keys());
  EXPECT_EQ(run(p).status, 0x0A);
  EXPECT_EQ(card->card_manager().find(kNewApp), nullptr);
}

}  // namespace
}  // namespace rsp::masim
