// The multi-account UICC as a PC/SC card (issue 10): masim behind pcscd +
// vpcd (started by masim_pcsc.sh), the OTA server's sender -> SMPP 3.4 ->
// the simulated SMSC -> the simulated handset, whose card link is PC/SC
// SCardTransmit -> ENVELOPE SMS-PP download -> the card's applet stores the
// account and switches -> PoR back as MO SMS (SEND SHORT MESSAGE) -> the
// sender records PoR 00; the handset FETCHes the REFRESH; then, over PC/SC,
// EF.IMSI reads the new IMSI and AUTHENTICATE answers TS 35.208 test set 1.
//
// Skipped unless MASIM_PCSC_READER names the reader (the script sets it).
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <mutex>

#include "rsp/gp/commands.hpp"
#include "rsp/lpa/pcsc.hpp"
#include "rsp/masim/masim.hpp"
#include "rsp/milenage.hpp"
#include "rsp/ota/card_store.hpp"
#include "rsp/ota/command_script.hpp"
#include "rsp/ota/sms_sender.hpp"
#include "rsp/sim/handset.hpp"
#include "rsp/sim/smsc.hpp"

using namespace std::chrono_literals;

namespace rsp::masim {
namespace {

// The same values masim_pcsc.sh writes into the card's --keys file.
const char* kIccid = "8988211000000000016";
const char* kMsisdn = "447700900123";
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

ota::KeySet card_keys() {
  ota::KeySet keys;
  keys.version = 1;
  keys.cipher = keys.checksum = ota::Algorithm::Aes;
  keys.kic = from_hex(kKic);
  keys.kid = from_hex(kKid);
  return keys;
}

// The OTA server's store, one for the binary's tests: the card's counter
// moves with every packet, so the next test must go on above it.
ota::CardStore& server_store() {
  static store::Db db(":memory:");
  static std::unique_ptr<ota::CardStore> server;
  if (!server) {
    server = std::make_unique<ota::CardStore>(db, Bytes(32, 0x42));
    server->add_card(kIccid, {{card_keys(), 0}}, {{kAppletTar, 0x16, 1}, {kIsdTar, 0x16, 1}});
  }
  return *server;
}

// Issue 11, with masim started --no-applet-instance (masim_pcsc.sh --ram),
// before the story below: STORE ACCOUNT at TAR 4D4153 gets PoR 09 (no
// application there yet); INSTALL [for install and make selectable] of
// module F05253504D4101 in a RAM script at the ISD's TAR 000000 answers
// 90 00, all through PC/SC; the next test then finds the instance.
TEST(MasimPcsc, InstallTheAppletOverRamThroughPcsc) {
  const char* reader_name = std::getenv("MASIM_PCSC_READER");
  const char* ram = std::getenv("MASIM_PCSC_RAM");
  if (!reader_name || !ram || std::string(ram) != "1") GTEST_SKIP() << "run masim_pcsc.sh BUILD --ram";
  pcsc::Reader reader = pcsc::Reader::connect(reader_name, pcsc::Protocol::T1);
  std::mutex card_mu;
  auto card = [&](ByteView c) {
    std::lock_guard l(card_mu);
    return reader.transmit(c);
  };
  ota::CardStore& server = server_store();
  sim::Smsc smsc{sim::SmscConfig{}};
  std::uint16_t port = smsc.start();
  sim::Handset handset(kMsisdn, card, [&](const std::string& from, ByteView tpdu) { smsc.submit_mo(from, tpdu); });
  smsc.register_handset(kMsisdn, &handset);
  ota::smpp::EsmeConfig ec;
  ec.port = port;
  ec.bind.system_id = "ota";
  ec.bind.password = "secret";
  ec.response_timeout = 5s;
  ota::SmsCommandSender sender(server, ec);
  sender.start();
  ASSERT_TRUE(sender.esme().wait_bound(5s));
  auto send = [&](const ota::Tar& tar, std::vector<Bytes> capdus) {
    ota::CommandRequest r;
    r.iccid = kIccid;
    r.tar = tar;
    r.spi = ota::Spi::decode(0x16, 0x39);
    r.secured_data = ota::encode_command_script(ota::CommandScript::expanded(std::move(capdus)));
    ota::ReservedPacket p = sender.send(kMsisdn, r);
    EXPECT_TRUE(sender.wait(kIccid, p.key_version, p.cntr, 10s)) << "no PoR";
    return sender.outcome(kIccid, p.key_version, p.cntr);
  };
  auto before = send(kAppletTar, {Bytes{0x80, ins::kListAccounts, 0x00, 0x00}});
  ASSERT_TRUE(before);
  EXPECT_EQ(before->por_status, std::optional<std::uint8_t>(0x09));
  auto installed = send(kIsdTar, {gp::install_for_install(kAppletLoadFileAid, kAppletAid, kAppletAid, Bytes{0x00}).encode()});
  ASSERT_TRUE(installed);
  EXPECT_EQ(installed->por_status, std::optional<std::uint8_t>(0x00));
  ASSERT_TRUE(installed->response);
  auto r = installed->response->r_apdus();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(sw_of(r[0]), 0x9000) << to_hex(r[0]);
  sender.stop();
  smsc.stop();
}

TEST(MasimPcsc, StoreAndSwitchOverSmsThroughPcscThenAttachKeys) {
  const char* reader_name = std::getenv("MASIM_PCSC_READER");
  if (!reader_name) GTEST_SKIP() << "MASIM_PCSC_READER not set (run masim_pcsc.sh)";
  pcsc::Reader reader = pcsc::Reader::connect(reader_name, pcsc::Protocol::T1);
  std::mutex card_mu;  // the handset's thread and this one share the reader
  auto card = [&](ByteView c) {
    std::lock_guard l(card_mu);
    return reader.transmit(c);
  };

  ota::CardStore& server = server_store();

  sim::Smsc smsc{sim::SmscConfig{}};
  std::uint16_t port = smsc.start();
  sim::Handset handset(kMsisdn, card, [&](const std::string& from, ByteView tpdu) { smsc.submit_mo(from, tpdu); });
  smsc.register_handset(kMsisdn, &handset);
  ota::smpp::EsmeConfig ec;
  ec.port = port;
  ec.bind.system_id = "ota";
  ec.bind.password = "secret";
  ec.response_timeout = 5s;
  ota::SmsCommandSender sender(server, ec);
  sender.start();
  ASSERT_TRUE(sender.esme().wait_bound(5s));

  Account a;
  a.id = 1;
  a.imsi = imsi_to_ef("310150123456789");
  a.ki = from_hex(kKi);
  a.opc = from_hex(kOpc);
  a.home_plmn = plmn_bytes("310", "150");
  Bytes store = encode_account(a);
  ota::CommandRequest r;
  r.iccid = kIccid;
  r.tar = kAppletTar;
  r.spi = ota::Spi::decode(0x16, 0x39);  // PoR always, CC, ciphered, by SMS-SUBMIT
  r.secured_data = ota::encode_command_script(ota::CommandScript::expanded(
      {concat(Bytes{0x80, ins::kStoreAccount, 0x00, 0x00, static_cast<std::uint8_t>(store.size())}, store),
       Bytes{0x80, ins::kSwitchAccount, 0x01, 0x00}}));
  ota::ReservedPacket p = sender.send(kMsisdn, r);
  ASSERT_TRUE(sender.wait(kIccid, p.key_version, p.cntr, 10s)) << "no PoR";
  auto outcome = sender.outcome(kIccid, p.key_version, p.cntr);
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->por_status, std::optional<std::uint8_t>(0x00));
  ASSERT_TRUE(outcome->response);
  EXPECT_EQ(outcome->response->executed, 2);
  auto hs = handset.stats();
  EXPECT_EQ(hs.mo_sent, 1u);     // the PoR, by SEND SHORT MESSAGE
  EXPECT_GE(hs.fetches, 2u);     // SEND SHORT MESSAGE, then the REFRESH
  sender.stop();
  smsc.stop();

  // The handset re-reads the USIM over PC/SC: the new IMSI.
  Bytes aid = kUsimAid;
  Bytes sel = concat(Bytes{0x00, 0xA4, 0x04, 0x0C, static_cast<std::uint8_t>(aid.size())}, aid);
  EXPECT_EQ(sw_of(card(sel)), 0x9000);
  EXPECT_EQ(sw_of(card(from_hex("00A4000C026F07"))), 0x9000);
  Bytes imsi = card(from_hex("00B0000009"));
  ASSERT_EQ(sw_of(imsi), 0x9000);
  EXPECT_EQ(imsi_from_ef(ByteView(imsi).first(9)), "310150123456789");
  // First attach in the visited network: RES, CK, IK as TS 35.208 publishes.
  milenage::Milenage m(from_hex(kKi), from_hex(kOpc));
  Bytes autn = milenage::make_autn(m, from_hex(kRand), from_hex(kSqn), from_hex(kAmf));
  Bytes auth = concat(from_hex("0088008122"), Bytes{0x10}, from_hex(kRand), Bytes{0x10}, autn, Bytes{0x00});
  Bytes res = card(auth);
  ASSERT_EQ(sw_of(res), 0x9000) << to_hex(res);
  Bytes expected = concat(Bytes{0xDB, 0x08}, from_hex(kRes), Bytes{0x10}, from_hex(kCk), Bytes{0x10}, from_hex(kIk));
  EXPECT_EQ(to_hex(ByteView(res).first(expected.size())), to_hex(expected));
}

}  // namespace
}  // namespace rsp::masim
