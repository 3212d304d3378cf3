// SCP02 known answers (GP 2.3.1 E.4.1 session keys, E.4.2 cryptograms, E.4.4
// C-MAC with ICV encryption). Expected values from the openssl command line
// (openssl_vectors.sh in this folder), not from rsp::gp.
#include <gtest/gtest.h>

#include "rsp/gp/scp02.hpp"

using namespace rsp;
using namespace rsp::gp;

namespace {
const Bytes kSeq = from_hex("0001");
const Bytes kHost = from_hex("0102030405060708");
const Bytes kCard = from_hex("111213141516");
}  // namespace

TEST(Scp02, SessionKeysFromSequenceCounter) {
  auto s = scp02::derive_session_keys(default_test_keys(), kSeq);
  EXPECT_EQ(to_hex(s.s_enc), "25c9794a1205ff244f5fa0378d2f8d59");
  EXPECT_EQ(to_hex(s.c_mac), "9bed98891580c3b245fe9ec58bfa8d2a");
  EXPECT_EQ(to_hex(s.r_mac), "8eb6cf25ba4decd820bf4e9fa616c50a");
  EXPECT_EQ(to_hex(s.dek), "0e51fdf196141f227a57bd154012fd39");
}

TEST(Scp02, Cryptograms) {
  Bytes s_enc = from_hex("25c9794a1205ff244f5fa0378d2f8d59");
  EXPECT_EQ(to_hex(scp02::card_cryptogram(s_enc, kHost, kSeq, kCard)), "df0a998db1b9f731");
  EXPECT_EQ(to_hex(scp02::host_cryptogram(s_enc, kHost, kSeq, kCard)), "7486de8caf43db4e");
}

TEST(Scp02, CMacChainWithIcvEncryption) {
  auto host = scp02::Channel(scp02::derive_session_keys(default_test_keys(), kSeq), level::kCMac, 0x15);
  apdu::Command ea{0x84, 0x82, 0x01, 0x00, from_hex("7486de8caf43db4e"), std::nullopt};
  EXPECT_EQ(to_hex(host.wrap_external_authenticate(ea).encode()), "84820100107486de8caf43db4e2c9164733a27cad8");
  apdu::Command gs{0x80, 0xF2, 0x80, 0x02, from_hex("4F00"), std::nullopt};
  EXPECT_EQ(to_hex(host.wrap(gs).encode()), "84f280020a4f009e4172f3e5cd6b58");
}

TEST(Scp02, CardSideRoundTripWithEncryptionAndRMac) {
  auto keys = scp02::derive_session_keys(default_test_keys(), kSeq);
  scp02::Channel host(keys, 0x13, 0x15), card(keys, 0x13, 0x15);
  apdu::Command ea{0x84, 0x82, 0x13, 0x00, from_hex("7486de8caf43db4e"), std::nullopt};
  card.unwrap_external_authenticate(host.wrap_external_authenticate(ea));
  for (int i = 0; i < 3; ++i) {
    apdu::Command c{0x80, 0xE2, 0x80, 0x00, from_hex("0102030405060708090A"), std::nullopt};
    apdu::Command w = host.wrap(c);
    EXPECT_NE(to_hex(w.data).find("0102030405060708090a"), 0u);
    EXPECT_EQ(card.unwrap_command(w).encode(), c.encode());
    apdu::Response plain{from_hex("AA"), 0x9000};
    EXPECT_EQ(host.unwrap(card.wrap_response(plain)).data, plain.data);
  }
  apdu::Command w = host.wrap(apdu::Command{0x80, 0xE4, 0x00, 0x00, from_hex("4F03A00001"), std::nullopt});
  w.data[0] ^= 0x01;
  EXPECT_THROW(card.unwrap_command(w), SecurityError);
}

TEST(Scp02, EncryptedCommandAndRMacKnownAnswers) {
  scp02::Channel host(scp02::derive_session_keys(default_test_keys(), kSeq), 0x13, 0x15);
  apdu::Command ea{0x84, 0x82, 0x13, 0x00, from_hex("7486de8caf43db4e"), std::nullopt};
  EXPECT_EQ(to_hex(host.wrap_external_authenticate(ea).encode()), "84821300107486de8caf43db4ecf957544a94d9dca");
  apdu::Command store{0x80, 0xE2, 0x80, 0x00, from_hex("AABBCC"), std::nullopt};
  EXPECT_EQ(to_hex(host.wrap(store).encode()), "84e2800010b5ee66f97fcd9515b332586a10fb884e");
  EXPECT_EQ(to_hex(host.unwrap(apdu::Response{from_hex("0102f1b6db9ac9261652"), 0x9000}).data), "0102");
}

TEST(Scp02, PseudoRandomCardChallenge) {
  auto s = scp02::derive_session_keys(default_test_keys(), kSeq);
  EXPECT_EQ(to_hex(scp02::pseudo_random_card_challenge(s.c_mac, from_hex("A000000151000000"))), "ee69b58adc72");
}
