// The command builder against the byte layouts of GP 2.3.1 chapter 11
// (written out by hand from the tables), and key check values from openssl.
#include <gtest/gtest.h>

#include "rsp/gp/commands.hpp"
#include "rsp/gp/secure_channel.hpp"

using namespace rsp;
using namespace rsp::gp;

TEST(GpCommands, GetStatusAndParse) {
  EXPECT_EQ(to_hex(get_status(StatusScope::Applications).encode(), true), "80F24002024F0000");
  EXPECT_EQ(to_hex(get_status(StatusScope::LoadFilesAndModules, true).encode(), true), "80F21003024F0000");
  // Table 11-36: E3 { 4F AID, 9F70 life cycle, C5 privileges, C4 ELF, CC SD }.
  Bytes resp = from_hex("E3 24 4F 08 0102030405060708 9F70 01 07 C5 03 000000 C4 05 0102030405 CC 08 A000000151000000");
  auto e = parse_get_status(StatusScope::Applications, resp);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(to_hex(e[0].aid, true), "0102030405060708");
  EXPECT_EQ(e[0].life_cycle, 0x07);
  EXPECT_EQ(life_cycle_name(StatusScope::Applications, 0x07), "SELECTABLE");
  EXPECT_EQ(life_cycle_name(StatusScope::Applications, 0x87), "LOCKED");
  EXPECT_EQ(life_cycle_name(StatusScope::Isd, 0x0F), "SECURED");
  EXPECT_EQ(to_hex(e[0].load_file_aid, true), "0102030405");
  auto mods = parse_get_status(StatusScope::LoadFilesAndModules,
                               from_hex("E3 19 4F 05 0102030405 9F70 01 01 CE 02 0100 84 08 0102030405060708"));
  ASSERT_EQ(mods[0].modules.size(), 1u);
  EXPECT_EQ(to_hex(mods[0].version), "0100");
}

TEST(GpCommands, Privileges) {
  Bytes p = privileges_from_names({"SecurityDomain", "CardLock", "TrustedPath"});
  EXPECT_EQ(to_hex(p, true), "908000");
  auto names = privilege_names(from_hex("A04000"));
  EXPECT_EQ(names, (std::vector<std::string>{"SecurityDomain", "DelegatedManagement", "AuthorizedManagement"}));
  EXPECT_THROW(privileges_from_names({"Root"}), DecodeError);
}

TEST(GpCommands, InstallLayouts) {
  Bytes elf = from_hex("0102030405"), mod = from_hex("0102030405060708"), sd = from_hex("A000000151000000");
  // 11.5.2.3.1: INSTALL [for load]: ELF AID, SD AID, hash, parameters, token.
  EXPECT_EQ(to_hex(install_for_load(elf, sd).encode(), true), "80E6020012050102030405" "08A000000151000000" "000000" "00");
  // 11.5.2.3.2: INSTALL [for install and make selectable], C9 00 parameters.
  EXPECT_EQ(to_hex(install_for_install(elf, mod, mod, from_hex("00"), {}, true).encode(), true),
            "80E60C001E" "050102030405" "080102030405060708" "080102030405060708" "0100" "02C900" "00" "00");
  auto parsed = InstallData::parse(0x0C, install_for_install(elf, mod, mod, from_hex("00"), from_hex("AB"), true).data);
  EXPECT_EQ(parsed.application_aid, mod);
  EXPECT_EQ(to_hex(parsed.params), "ab");
}

TEST(GpCommands, LoadBlocksWrapC4) {
  Bytes lfdb(300, 0x5A);
  auto blocks = load_blocks(lfdb, 200);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(to_hex(Bytes(blocks[0].data.begin(), blocks[0].data.begin() + 5), true), "C482012C5A");  // 300 = 01 2C
  EXPECT_EQ(blocks[0].p1, 0x00);
  EXPECT_EQ(blocks[1].p1, 0x80);
  EXPECT_EQ(blocks[1].p2, 0x01);
  EXPECT_EQ(blocks[0].data.size() + blocks[1].data.size(), 304u);
}

TEST(GpCommands, DeleteSetStatusStoreData) {
  EXPECT_EQ(to_hex(delete_object(from_hex("0102030405"), true).encode(), true), "80E40080074F05010203040500");
  EXPECT_EQ(to_hex(lock_application(from_hex("0102030405")).encode(), true), "80F04080050102030405");
  EXPECT_EQ(to_hex(unlock_card().encode(), true), "80F0800F");
  auto sd = store_data(Bytes(5, 1), 0x00, 3);
  ASSERT_EQ(sd.size(), 2u);
  EXPECT_EQ(sd[1].p1, 0x80);
  EXPECT_EQ(sd[1].p2, 0x01);
}

TEST(GpCommands, KeyCheckValuesAndPutKey) {
  auto k = default_test_keys().enc;
  EXPECT_EQ(to_hex(key_check_value(0x88, k)), "504a77");
  EXPECT_EQ(to_hex(key_check_value(0x80, k)), "8baf47");
  Bytes dek = from_hex("00112233445566778899aabbccddeeff");
  auto c = put_key(0x00, 0x31, 0x01, {{0x88, k}, {0x88, k}, {0x88, k}}, dek);
  EXPECT_EQ(c.p2, 0x81);
  EXPECT_EQ(to_hex(ByteView(c.data).subspan(0, 24)), "31881110" "32aac77881c62b9a9bc1141ca24e6e0d" "03504a77");
  auto parsed = PutKeyData::parse(c.data, dek);
  EXPECT_EQ(parsed.new_version, 0x31);
  ASSERT_EQ(parsed.keys.size(), 3u);
  EXPECT_EQ(Bytes(parsed.keys[2].value), Bytes(k));
  Bytes bad = c.data;
  bad[23] ^= 1;  // a KCV byte
  EXPECT_THROW(PutKeyData::parse(bad, dek), DecodeError);
}

TEST(GpCommands, CardRecognitionData) {
  // GP 2.3.1 H.2, written out by hand: GP RID OID, version 2.3.1, SCP03 i=70, SCP02 i=15.
  Bytes cd = from_hex("6633 7331 0607 2A864886FC6B01 600C 060A 2A864886FC6B02020301"
                      "640B 0609 2A864886FC6B040370 640B 0609 2A864886FC6B040215");
  auto cr = parse_card_data(cd);
  EXPECT_EQ(cr.gp_version, "2.3.1");
  ASSERT_EQ(cr.scps.size(), 2u);
  EXPECT_EQ(cr.scps[0], (std::pair<int, std::uint8_t>{3, 0x70}));
  EXPECT_EQ(cr.scps[1], (std::pair<int, std::uint8_t>{2, 0x15}));
}
