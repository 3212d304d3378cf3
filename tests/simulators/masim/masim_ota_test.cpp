// The multi-account UICC end to end in process (issue 10): the OTA server's
// card store builds an AES SCP80 command packet (TS 102 225 / TS 31.115)
// for the multi-account applet's TAR carrying STORE ACCOUNT and SWITCH; it
// reaches the card as SMS-DELIVER in ENVELOPE (SMS-PP download) -> PoR 00
// -> FETCH gives the REFRESH -> EF.IMSI reads the new IMSI -> AUTHENTICATE
// answers with the RES, CK, IK that 3GPP TS 35.208 publishes for test set 1.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "rsp/masim/masim.hpp"
#include "rsp/milenage.hpp"
#include "rsp/ota/card_store.hpp"
#include "rsp/ota/command_script.hpp"
#include "rsp/ota/envelope.hpp"
#include "rsp/ota/sms_deliver.hpp"
#include "rsp/tlv.hpp"

namespace rsp::masim {
namespace {

const char* kIccid = "8988211000000000016";
const char* kKic = "200102030405060708090a0b0c0d0e0f";
const char* kKid = "201102030405060708090a0b0c0d0e0f";

// 3GPP TS 35.208 4.3, test set 1.
const char* kKi = "465b5ce8b199b49faa5f0a2ee238a6bc";
const char* kOpc = "cd63cb71954a9f4e48a5994e37a02baf";
const char* kRand = "23553cbe9637a89d218ae64dae47bf35";
const char* kSqn = "ff9bb4d0b607";
const char* kAmf = "b9b9";
const char* kRes = "a54211d5e3ba50bf";
const char* kCk = "b40ba9a3c58b2a05bbf0d987b21bf8cb";
const char* kIk = "f769bcd751044604127672711c6d3441";

std::uint16_t sw_of(ByteView r) { return static_cast<std::uint16_t>(r[r.size() - 2] << 8 | r.back()); }
Bytes body_of(ByteView r) { return Bytes(r.begin(), r.end() - 2); }

ota::KeySet keys() {
  ota::KeySet k;
  k.version = 1;
  k.cipher = ota::Algorithm::Aes;
  k.kic = from_hex(kKic);
  k.checksum = ota::Algorithm::Aes;
  k.kid = from_hex(kKid);
  return k;
}

Account test_account() {
  Account a;
  a.id = 1;
  a.imsi = imsi_to_ef("310150123456789");
  a.ki = from_hex(kKi);
  a.opc = from_hex(kOpc);
  a.home_plmn = plmn_bytes("310", "150");
  a.plmn_wact = concat(plmn_bytes("262", "01"), from_hex("C080"));
  a.spn = concat(Bytes{0x01}, to_bytes("Visited"));
  a.label = "visited operator";
  return a;
}

struct Rig : ::testing::Test {
  std::filesystem::path dir;
  store::Db db{":memory:"};
  ota::CardStore server{db, Bytes(32, 0x42)};
  std::unique_ptr<MultiAccountSim> card;

  MasimConfig config() {
    MasimConfig c;
    c.iccid = kIccid;
    c.state_path = (dir / "masim.json").string();
    c.state_key = Bytes(32, 0x5A);
    c.key_sets = {keys()};
    return c;
  }
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          ("masim-test-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    server.add_card(kIccid, {{keys(), 0}}, {{kAppletTar, 0x16, 1}, {kRfmTar, 0x16, 1}});
    card = std::make_unique<MultiAccountSim>(config());
    card->reset();
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  Bytes tx(std::string_view hex) { return card->transmit(from_hex(hex)); }
  Bytes tx(ByteView b) { return card->transmit(b); }

  // Server side: the command packet for `script` at `tar`, SPI 16 19 (CC,
  // AES ciphered, counter "higher"; PoR always, with CC, ciphered, by
  // SMS-DELIVER-REPORT).
  ota::ReservedPacket packet(const ota::Tar& tar, ByteView script) {
    ota::CommandRequest r;
    r.iccid = kIccid;
    r.tar = tar;
    r.spi = ota::Spi::decode(0x16, 0x19);
    r.secured_data.assign(script.begin(), script.end());
    return server.reserve_command_packet(r);
  }

  // The handset's part: SMS-DELIVERs in ENVELOPEs; the PoR from the last
  // one's response data (GET RESPONSE after '61 xx'). Returns the final SW.
  std::uint16_t download(ByteView command_packet, Bytes& por) {
    ota::SmsDeliver templ;
    templ.tp_oa = ota::Address{"447700900123", 0x91};
    std::uint16_t sw = 0;
    for (const Bytes& tpdu : ota::command_packet_to_sms(command_packet, templ, 7)) {
      ota::SmsPpDownload d;
      d.tpdu = tpdu;
      Bytes r = tx(ota::sms_pp_download_apdu(d));
      sw = sw_of(r);
      if ((sw >> 8) == 0x61) {
        Bytes gr = tx(Bytes{0x00, 0xC0, 0x00, 0x00, static_cast<std::uint8_t>(sw & 0xFF)});
        sw = sw_of(gr);
        por = body_of(gr);
      }
    }
    return sw;
  }

  ota::OpenedResponsePacket open_por(const ota::ReservedPacket& p, ByteView por) {
    EXPECT_GE(por.size(), 3u);
    EXPECT_EQ(Bytes(por.begin(), por.begin() + 3), from_hex("027100"));  // the PoR's user data header
    ota::CommandHeader h = ota::read_command_packet(p.packet).header;
    return server.open_response_packet(kIccid, p.key_version, h, por.subspan(3));
  }

  static Bytes store_and_switch_script() {
    Bytes store = encode_account(test_account());
    Bytes store_apdu = concat(Bytes{0x80, ins::kStoreAccount, 0x00, 0x00, static_cast<std::uint8_t>(store.size())}, store);
    return ota::encode_command_script(
        ota::CommandScript::expanded({store_apdu, Bytes{0x80, ins::kSwitchAccount, 0x01, 0x00}}));
  }

  Bytes read_imsi() {
    EXPECT_EQ(sw_of(tx("00A40404" + to_hex(Bytes{static_cast<std::uint8_t>(kUsimAid.size())}) + to_hex(kUsimAid) + "00")),
              0x9000);
    EXPECT_EQ(sw_of(tx("00A4000C026F07")), 0x9000);
    Bytes r = tx("00B0000009");
    EXPECT_EQ(sw_of(r), 0x9000);
    return body_of(r);
  }
};

TEST_F(Rig, StoreAndSwitchOverScp80ThenRefreshNewImsiAndMilenage) {
  EXPECT_EQ(imsi_from_ef(read_imsi()), "001010000000001");  // the factory IMSI
  // No account yet: AUTHENTICATE has no keys.
  Bytes rand = from_hex(kRand);
  milenage::Milenage m(from_hex(kKi), from_hex(kOpc));
  Bytes autn = milenage::make_autn(m, rand, from_hex(kSqn), from_hex(kAmf));
  Bytes auth = concat(from_hex("0088008122"), Bytes{0x10}, rand, Bytes{0x10}, autn, Bytes{0x00});
  EXPECT_EQ(sw_of(tx(auth)), 0x6985);

  ota::ReservedPacket p = packet(kAppletTar, store_and_switch_script());
  Bytes por;
  std::uint16_t sw = download(p.packet, por);
  ota::OpenedResponsePacket opened = open_por(p, por);
  EXPECT_EQ(opened.packet.status, 0x00);
  ota::ResponseScript rs = ota::decode_response_script(ota::ScriptFormat::Expanded, opened.packet.additional_data);
  EXPECT_EQ(rs.executed, 2);
  ASSERT_EQ(rs.r_apdus().size(), 2u);
  EXPECT_EQ(rs.r_apdus()[0], from_hex("9000"));
  EXPECT_EQ(rs.r_apdus()[1], from_hex("9000"));
  ASSERT_EQ(card->accounts().accounts.size(), 1u);
  EXPECT_EQ(card->accounts().active, std::optional<std::uint8_t>(1));

  // The REFRESH waits: '91 xx' after the PoR.
  ASSERT_EQ(sw >> 8, 0x91);
  Bytes fetched = tx(Bytes{0x80, 0x12, 0x00, 0x00, static_cast<std::uint8_t>(sw & 0xFF)});
  ASSERT_EQ(sw_of(fetched), 0x9000);
  Bytes refresh = body_of(fetched);
  auto details = tlv::find(tlv::parse_one(refresh).value, 0x81);
  ASSERT_TRUE(details);
  EXPECT_EQ(details->value[1], 0x01);  // REFRESH
  EXPECT_EQ(details->value[2], 0x02);  // NAA initialisation and file change notification
  auto files = tlv::find(tlv::parse_one(refresh).value, 0x92);
  ASSERT_TRUE(files);
  EXPECT_NE(to_hex(files->value).find("3f007fff6f07"), std::string::npos);  // EF.IMSI listed
  Bytes tr = concat(Bytes{0x81, 0x03, details->value[0], 0x01, 0x02}, from_hex("82028281830100"));
  EXPECT_EQ(tx(concat(Bytes{0x80, 0x14, 0x00, 0x00, static_cast<std::uint8_t>(tr.size())}, tr)), from_hex("9000"));

  // The terminal re-reads the USIM: the new IMSI, the new SPN.
  EXPECT_EQ(imsi_from_ef(read_imsi()), "310150123456789");
  EXPECT_EQ(sw_of(tx("00A4000C026F46")), 0x9000);
  Bytes spn = tx("00B0000011");
  EXPECT_EQ(Bytes(spn.begin(), spn.begin() + 8), concat(Bytes{0x01}, to_bytes("Visited")));

  // AUTHENTICATE with the published RAND / SQN / AMF: RES, CK, IK of TS 35.208 test set 1.
  Bytes r = tx(auth);
  ASSERT_EQ(sw_of(r), 0x9000) << to_hex(r);
  Bytes expected = concat(Bytes{0xDB, 0x08}, from_hex(kRes), Bytes{0x10}, from_hex(kCk), Bytes{0x10}, from_hex(kIk));
  EXPECT_EQ(to_hex(Bytes(r.begin(), r.begin() + static_cast<std::ptrdiff_t>(expected.size()))), to_hex(expected));
  // The network side's XRES from rsp/milenage for the stored Ki/OPc: the same.
  EXPECT_EQ(to_hex(ByteView(r).subspan(2, 8)), to_hex(m.f2345(rand).res));
  // The same AUTN again: SQN not fresh, resynchronisation (DC AUTS).
  Bytes again = tx(auth);
  EXPECT_EQ(again[0], 0xDC);
}

TEST_F(Rig, WrongChecksumGetsPor01AndStoresNothing) {
  ota::ReservedPacket p = packet(kAppletTar, store_and_switch_script());
  Bytes bad = p.packet;
  bad.back() ^= 0x01;  // one bit of the ciphertext flipped on the air
  Bytes por;
  std::uint16_t sw = download(bad, por);
  EXPECT_EQ(sw, 0x9000);  // the PoR is delivered; no REFRESH pending
  EXPECT_EQ(open_por(p, por).packet.status, 0x01);
  EXPECT_TRUE(card->accounts().accounts.empty());
  EXPECT_FALSE(card->accounts().active);
  EXPECT_EQ(card->ota_counter(1), 0u);
  EXPECT_EQ(imsi_from_ef(read_imsi()), "001010000000001");
}

TEST_F(Rig, BelowTheTarsMinimumSecurityLevelGetsPor0A) {
  // SPI 06 19: CC and ciphering but no counter, below the applet TAR's MSL
  // 16. Built directly: the server's store would not build it.
  ota::CommandPacket cp;
  cp.header.spi = ota::Spi::decode(0x06, 0x19);
  cp.header.kic = cp.header.kid = 0x12;  // key version 1, AES
  cp.header.tar = kAppletTar;
  cp.cntr = 1;
  cp.secured_data = store_and_switch_script();
  ota::ReservedPacket p;
  p.key_version = 1;
  p.cntr = 1;
  p.packet = ota::build_command_packet(cp, keys());
  Bytes por;
  download(p.packet, por);
  EXPECT_EQ(open_por(p, por).packet.status, 0x0A);
  EXPECT_TRUE(card->accounts().accounts.empty());
  EXPECT_EQ(card->ota_counter(1), 0u);
}

TEST_F(Rig, StateSurvivesARestartSealedAndCountersKept) {
  ota::ReservedPacket p = packet(kAppletTar, store_and_switch_script());
  Bytes por;
  download(p.packet, por);
  ASSERT_EQ(open_por(p, por).packet.status, 0x00);
  // Ki and OPc are not in the file in clear.
  std::ifstream in(dir / "masim.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find(kKi), std::string::npos);
  EXPECT_EQ(text.find(kOpc), std::string::npos);
  EXPECT_NE(text.find("sealed"), std::string::npos);

  card = std::make_unique<MultiAccountSim>(config());
  card->reset();
  EXPECT_EQ(card->accounts().active, std::optional<std::uint8_t>(1));
  EXPECT_EQ(imsi_from_ef(read_imsi()), "310150123456789");
  EXPECT_EQ(card->ota_counter(1), p.cntr);
  // The same packet replayed after the restart: CNTR low (02), nothing runs.
  Bytes por2;
  download(p.packet, por2);
  EXPECT_EQ(open_por(p, por2).packet.status, 0x02);
  // A wrong state key does not open it.
  MasimConfig wrong = config();
  wrong.state_key = Bytes(32, 0x00);
  EXPECT_THROW(MultiAccountSim{wrong}, std::runtime_error);
}

TEST_F(Rig, LongScriptInConcatenatedSmsAndPreferredNetworksWritten) {
  // Three accounts with full PLMN lists in one script: more than one SMS
  // (TS 31.115 concatenation), reassembled by the card.
  std::vector<Bytes> cmds;
  for (std::uint8_t id = 1; id <= 3; ++id) {
    Account a = test_account();
    a.id = id;
    a.plmn_wact.clear();
    for (int i = 0; i < 8; ++i) append(a.plmn_wact, concat(plmn_bytes("262", "0" + std::to_string(i)), from_hex("C080")));
    a.oplmn_wact = concat(plmn_bytes("208", "01"), from_hex("8000"));
    Bytes t = encode_account(a);
    cmds.push_back(concat(Bytes{0x80, ins::kStoreAccount, 0x00, 0x00, static_cast<std::uint8_t>(t.size())}, t));
  }
  cmds.push_back(Bytes{0x80, ins::kSwitchAccount, 0x03, 0x00});
  Bytes script = ota::encode_command_script(ota::CommandScript::expanded(cmds));
  ota::ReservedPacket p = packet(kAppletTar, script);
  ota::SmsDeliver templ;
  ASSERT_GT(ota::command_packet_to_sms(p.packet, templ, 7).size(), 1u);
  Bytes por;
  std::uint16_t sw = download(p.packet, por);
  ASSERT_EQ(sw >> 8, 0x91);
  EXPECT_EQ(open_por(p, por).packet.status, 0x00);
  // The terminal fetches the REFRESH and answers it.
  Bytes refresh = tx(Bytes{0x80, 0x12, 0x00, 0x00, static_cast<std::uint8_t>(sw & 0xFF)});
  ASSERT_EQ(sw_of(refresh), 0x9000);
  Bytes tr = concat(Bytes{0x81, 0x03, refresh[4], 0x01, 0x02}, from_hex("82028281830100"));
  EXPECT_EQ(sw_of(tx(concat(Bytes{0x80, 0x14, 0x00, 0x00, static_cast<std::uint8_t>(tr.size())}, tr))), 0x9000);
  ASSERT_EQ(card->accounts().accounts.size(), 3u);
  EXPECT_EQ(card->accounts().active, std::optional<std::uint8_t>(3));
  // EF.PLMNwAcT holds the 8 entries, then the template's empty entries.
  read_imsi();
  EXPECT_EQ(sw_of(tx("00A4000C026F60")), 0x9000);
  Bytes plmn = tx("00B0000028");
  ASSERT_EQ(sw_of(plmn), 0x9000);
  EXPECT_EQ(Bytes(plmn.begin(), plmn.begin() + 5), concat(plmn_bytes("262", "00"), from_hex("C080")));
  EXPECT_EQ(Bytes(plmn.begin() + 35, plmn.begin() + 40), concat(plmn_bytes("262", "07"), from_hex("C080")));
  EXPECT_EQ(sw_of(tx("00A4000C026F61")), 0x9000);
  Bytes oplmn = tx("00B0000005");
  EXPECT_EQ(oplmn, concat(plmn_bytes("208", "01"), from_hex("80009000")));
  // EF.AD: a 3-digit MNC (310 150).
  EXPECT_EQ(sw_of(tx("00A4000C026FAD")), 0x9000);
  EXPECT_EQ(tx("00B0000004"), from_hex("000000039000"));
}

TEST(MasimKeySets, TripleDesKeySetOfAnotherVersion) {
  // A second key set, version 2, 3DES with two keys: the card picks the key
  // set by the version in KIc/KID (TS 102 225 Annex A), each with its counter.
  ota::KeySet des;
  des.version = 2;
  des.cipher = des.checksum = ota::Algorithm::TripleDes2;
  des.kic = from_hex("300102030405060708090a0b0c0d0e0f");
  des.kid = from_hex("301102030405060708090a0b0c0d0e0f");
  store::Db db(":memory:");
  ota::CardStore server(db, Bytes(32, 0x42));
  server.add_card(kIccid, {{keys(), 0}, {des, 0}}, {{kRfmTar, 0x16, 2}});
  MasimConfig c;
  c.iccid = kIccid;
  c.key_sets = {keys(), des};
  MultiAccountSim card(c);
  card.reset();
  ota::CommandRequest r;
  r.iccid = kIccid;
  r.tar = kRfmTar;
  r.spi = ota::Spi::decode(0x16, 0x19);
  r.secured_data = ota::encode_command_script(ota::CommandScript::expanded({from_hex("00A40004022FE2"), from_hex("00B000000A")}));
  ota::ReservedPacket p = server.reserve_command_packet(r);
  EXPECT_EQ(p.key_version, 2);
  ota::SmsDeliver templ;
  ota::SmsPpDownload d;
  d.tpdu = ota::command_packet_to_sms(p.packet, templ, 1).front();
  Bytes resp = card.transmit(ota::sms_pp_download_apdu(d));
  ASSERT_EQ(resp[resp.size() - 2], 0x61);
  Bytes por = card.transmit(Bytes{0x00, 0xC0, 0x00, 0x00, resp.back()});
  ASSERT_EQ(sw_of(por), 0x9000);
  ota::CommandHeader h = ota::read_command_packet(p.packet).header;
  auto opened = server.open_response_packet(kIccid, 2, h, ByteView(por).subspan(3, por.size() - 5));
  EXPECT_EQ(opened.packet.status, 0x00);
  EXPECT_EQ(card.ota_counter(2), p.cntr);
  EXPECT_EQ(card.ota_counter(1), 0u);
  auto rs = ota::decode_response_script(ota::ScriptFormat::Expanded, opened.packet.additional_data);
  ASSERT_EQ(rs.r_apdus().size(), 2u);
  EXPECT_EQ(rs.r_apdus()[1], concat(iccid_to_bcd(kIccid), from_hex("9000")));
}

TEST(MasimTs48, AccountSwitchOnATs48ProfileImage) {
  std::filesystem::path file = std::filesystem::path(RSP_SHARED_TESTDATA) / "ts48" / "TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "no TS.48 test profiles in " << RSP_SHARED_TESTDATA;
  std::ifstream in(file, std::ios::binary);
  MasimConfig c;
  c.iccid = kIccid;
  c.key_sets = {keys()};
  c.profile_package.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  MultiAccountSim card(c);
  card.reset();
  auto tx = [&](std::string_view hex) { return card.transmit(from_hex(hex)); };
  // The package's USIM (by EF.DIR's first USIM, partial AID), its own IMSI.
  EXPECT_EQ(sw_of(tx("00A4040C07A0000000871002")), 0x9000);
  EXPECT_EQ(sw_of(tx("00A4000C026F07")), 0x9000);
  Bytes before = tx("00B0000009");
  ASSERT_EQ(sw_of(before), 0x9000);
  // Switch through the applet selected by the terminal.
  Bytes t = encode_account(test_account());
  EXPECT_EQ(sw_of(tx("0070000001")), 0x9000);
  EXPECT_EQ(sw_of(card.transmit(concat(from_hex("01A4040007"), kAppletAid, Bytes{0x00}))), 0x9000);
  EXPECT_EQ(sw_of(card.transmit(concat(Bytes{0x81, ins::kStoreAccount, 0x00, 0x00, static_cast<std::uint8_t>(t.size())}, t))), 0x9000);
  Bytes sw = tx("813A010000");
  EXPECT_EQ(sw[0], 0x91);
  Bytes after = tx("00B0000009");
  EXPECT_EQ(imsi_from_ef(ByteView(after).first(9)), "310150123456789");
  EXPECT_NE(before, after);
}

TEST_F(Rig, RfmReadsTheUsimFilesAtItsTar) {
  Bytes script = ota::encode_command_script(ota::CommandScript::expanded(
      {from_hex("00A40004022FE2"), from_hex("00B000000A"), from_hex("00A40804047FFF6F07"), from_hex("00B0000009")}));
  ota::ReservedPacket p = packet(kRfmTar, script);
  Bytes por;
  download(p.packet, por);
  auto opened = open_por(p, por);
  ASSERT_EQ(opened.packet.status, 0x00);
  auto rs = ota::decode_response_script(ota::ScriptFormat::Expanded, opened.packet.additional_data);
  ASSERT_EQ(rs.r_apdus().size(), 4u);
  EXPECT_EQ(rs.r_apdus()[1], concat(iccid_to_bcd(kIccid), from_hex("9000")));
  EXPECT_EQ(rs.r_apdus()[3], concat(imsi_to_ef("001010000000001"), from_hex("9000")));
}

}  // namespace
}  // namespace rsp::masim
