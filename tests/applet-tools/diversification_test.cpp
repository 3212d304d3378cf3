// Key diversification (EMV CPS 1.1, VISA2) known answers from the openssl
// command line (openssl_vectors.sh), and a session opened with master keys
// against a card that holds the diversified ones.
#include <gtest/gtest.h>

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
