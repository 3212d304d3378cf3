// Key diversification (EMV CPS 1.1, VISA2) known answers from the openssl
// command line (openssl_vectors.sh), and a session opened with master keys
// against a card that holds the diversified ones.
#include <gtest/gtest.h>

#include "rsp/gp/commands.hpp"
#include "rsp/gp/diversification.hpp"
#include "rsp/gp/session.hpp"
#include "rsp/sim/card_manager.hpp"

using namespace rsp;
using namespace rsp::gp;

TEST(Diversification, EmvAndVisa2) {
  Bytes kdd = from_hex("00010203040506070809");
  auto emv = diversify(default_test_keys(), Diversification::EmvCps11, kdd);
  EXPECT_EQ(to_hex(emv.enc), "0ef59fcbf8019b62e62af6ea20b8bf25");
  EXPECT_EQ(to_hex(emv.mac), "3e383eb6f2762b88155f76bdfed05a02");
  EXPECT_EQ(to_hex(emv.dek), "64021e43c0c7d264a1c7c6d01e1c8761");
  auto visa = diversify(default_test_keys(), Diversification::Visa2, kdd);
  EXPECT_EQ(to_hex(visa.enc), "8510fc973208218ca86888bcec203635");
  EXPECT_EQ(to_hex(visa.mac), "1068b5fb6f06c78c7a4dfc343b21c78f");
  EXPECT_EQ(to_hex(visa.dek), "2daee809c71405ff259c3be695a1f66e");
  EXPECT_THROW(diversify(default_test_keys(), Diversification::Visa2, from_hex("0001")), SecurityError);
  EXPECT_THROW(diversification_from_name("kdf9"), DecodeError);
}

TEST(Diversification, SessionWithMasterKeysOnADiversifiedCard) {
  // The simulator's KDD is 01 02 .. 0A.
  auto card_keys = diversify(default_test_keys(), Diversification::EmvCps11, from_hex("0102030405060708090A"));
  rsp::sim::gp::CardManagerConfig cfg;
  cfg.key_sets = {{0x20, 2, card_keys}};
  cfg.default_key_version = 0x20;
  rsp::sim::gp::CardManager card(cfg);
  card.reset();
  Session s(card);
  s.select(from_hex("A000000151000000"));
  SessionOptions opt;
  EXPECT_THROW(s.open(default_test_keys(), opt), SecurityError);  // undiversified master keys
  s.select(from_hex("A000000151000000"));
  opt.diversification = Diversification::EmvCps11;
  EXPECT_NO_THROW(s.open(default_test_keys(), opt));
  opt.diversification = Diversification::Visa2;
  s.select(from_hex("A000000151000000"));
  EXPECT_THROW(s.open(default_test_keys(), opt), SecurityError);
}

// KDF3: values from openssl_vectors.sh (openssl mac ... CMAC), and the key
// check values GlobalPlatformPro's own tests expect for the same master key
// and KDD (TestPlaintextKeys: E79C05, D1BD77, 3FDE8C), and its AES-256 vector.
TEST(Diversification, Kdf3KnownAnswers) {
  Bytes kdd = from_hex("00010203040506070809");
  StaticKeys master = default_test_keys();
  master.version = 0x30;
  auto k = diversify(master, Diversification::Kdf3, kdd);
  EXPECT_EQ(k.version, 0x30);
  EXPECT_EQ(to_hex(k.enc), "808bc985a1069ad2a9ac94e0fe7b8843");
  EXPECT_EQ(to_hex(k.mac), "65942e0bf4f3f32aefacba5671456275");
  EXPECT_EQ(to_hex(k.dek), "6a74f6f6040cca10d8a3fdc7914fd7cc");
  EXPECT_EQ(to_hex(key_check_value(0x88, k.enc)), "e79c05");
  EXPECT_EQ(to_hex(key_check_value(0x88, k.mac)), "d1bd77");
  EXPECT_EQ(to_hex(key_check_value(0x88, k.dek)), "3fde8c");

  StaticKeys m256;
  m256.enc = m256.mac = m256.dek = from_hex("8C72C72CF908411653018807950D82FBAD947562F0828A0B10B8B9606ABF3BCD");
  auto k256 = diversify(m256, Diversification::Kdf3, from_hex("D9B1DE5D0362DEDCE4FB"));
  EXPECT_EQ(to_hex(k256.enc), "9aac5d0b3601f89438a0d9d0b6b256cfb47e6462dfa5228d3420c4ac7c224781");

  StaticKeys des;
  des.enc = des.mac = des.dek = from_hex("4041424344454647");  // 8 bytes: no AES key
  EXPECT_THROW(diversify(des, Diversification::Kdf3, kdd), SecurityError);
  EXPECT_EQ(diversification_from_name("kdf3"), Diversification::Kdf3);
}

TEST(Diversification, Kdf3SessionOnAnScp03Card) {
  auto card_keys = diversify(default_test_keys(), Diversification::Kdf3, from_hex("0102030405060708090A"));
  rsp::sim::gp::CardManagerConfig cfg;
  cfg.key_sets = {{0x30, 3, card_keys}, {0x20, 2, default_test_keys()}};
  cfg.default_key_version = 0x30;
  rsp::sim::gp::CardManager card(cfg);
  card.reset();
  Session s(card);
  s.select(from_hex("A000000151000000"));
  SessionOptions opt;
  EXPECT_THROW(s.open(default_test_keys(), opt), SecurityError);  // undiversified master keys
  s.select(from_hex("A000000151000000"));
  opt.diversification = Diversification::Kdf3;
  EXPECT_NO_THROW(s.open(default_test_keys(), opt));
  EXPECT_TRUE(s.is_open());
  // An SCP02 key set is 3DES: KDF3 refuses it rather than making AES keys for it.
  s.select(from_hex("A000000151000000"));
  StaticKeys des_master = default_test_keys();
  des_master.version = 0x20;
  EXPECT_THROW(s.open(des_master, opt), SecurityError);
}
