// SCP03 known answers (Amendment D 4.1.5 KDF, 6.2.1-6.2.7). Every expected
// value was computed with the openssl command line (openssl_vectors.sh in
// this folder), not with rsp::gp.
#include <gtest/gtest.h>

#include "rsp/gp/scp03.hpp"

using namespace rsp;
using namespace rsp::gp;

namespace {
const Bytes kHost = from_hex("0102030405060708");
const Bytes kCard = from_hex("1112131415161718");

scp03::Channel open_channel(std::uint8_t lvl) {
  auto keys = scp03::derive_session_keys(default_test_keys(), kHost, kCard);
  return scp03::Channel(keys, default_test_keys().dek, lvl, false);
}
}  // namespace

TEST(Scp03, SessionKeysFromKdf) {
  auto s = scp03::derive_session_keys(default_test_keys(), kHost, kCard);
  EXPECT_EQ(to_hex(s.s_enc), "d99675d4a95c58de629225730cddb758");
  EXPECT_EQ(to_hex(s.s_mac), "7d7006054d2dc0675e2b3025983030a3");
  EXPECT_EQ(to_hex(s.s_rmac), "f38608fb223a8c030383824aff8be48b");
}

TEST(Scp03, Cryptograms) {
  Bytes s_mac = from_hex("7d7006054d2dc0675e2b3025983030a3");
  EXPECT_EQ(to_hex(scp03::card_cryptogram(s_mac, kHost, kCard)), "d7c86a7d0a2d0ddc");
  EXPECT_EQ(to_hex(scp03::host_cryptogram(s_mac, kHost, kCard)), "00b11d00f75c456b");
}

TEST(Scp03, PseudoRandomCardChallenge) {
  EXPECT_EQ(to_hex(scp03::pseudo_random_card_challenge(default_test_keys().enc, from_hex("000001"),
                                                         from_hex("A000000151000000"), 8)),
            "86c8bd65fa1044ee");
}

TEST(Scp03, ExternalAuthenticateThenEncryptedCommandAndResponse) {
  auto host = open_channel(0x33);
  apdu::Command ea{0x84, 0x82, 0x33, 0x00, from_hex("00b11d00f75c456b"), std::nullopt};
  EXPECT_EQ(to_hex(host.wrap_external_authenticate(ea).encode()), "848233001000b11d00f75c456b51db83815e37a95d");

  apdu::Command store{0x80, 0xE2, 0x90, 0x00, from_hex("AABBCC"), std::nullopt};
  EXPECT_EQ(to_hex(host.wrap(store).encode()), "84e2900018d367ff9e6d9b56e30f9709a0952eb1957fed6b9998a84bb7");

  apdu::Response r{from_hex("b37be61b402d391545544a8c02983c3507859c4ae805c039"), 0x9000};
  EXPECT_EQ(to_hex(host.unwrap(r).data), "0102");
}

TEST(Scp03, CardSideAcceptsHostAndAnswersInKind) {
  auto host = open_channel(0x33);
  auto card = open_channel(0x33);
  apdu::Command ea{0x84, 0x82, 0x33, 0x00, from_hex("00b11d00f75c456b"), std::nullopt};
  card.unwrap_external_authenticate(host.wrap_external_authenticate(ea));
  for (int i = 0; i < 3; ++i) {
    apdu::Command c{0x80, 0xF2, 0x40, 0x02, from_hex("4F00"), 256};
    apdu::Command got = card.unwrap_command(host.wrap(c));
    EXPECT_EQ(got.encode(), c.encode());
    apdu::Response plain{from_hex("E3054F03A00001"), 0x9000};
    EXPECT_EQ(host.unwrap(card.wrap_response(plain)).data, plain.data);
  }
}

TEST(Scp03, TamperedMacIsRefused) {
  auto host = open_channel(0x01);
  auto card = open_channel(0x01);
  apdu::Command ea{0x84, 0x82, 0x01, 0x00, from_hex("00b11d00f75c456b"), std::nullopt};
  card.unwrap_external_authenticate(host.wrap_external_authenticate(ea));
  apdu::Command w = host.wrap(apdu::Command{0x80, 0xE4, 0x00, 0x00, from_hex("4F03A00001"), std::nullopt});
  w.data.back() ^= 0x01;
  EXPECT_THROW(card.unwrap_command(w), SecurityError);
}

TEST(Scp03, InitUpdateResponseLayout) {
  auto r = scp03::InitUpdateResponse::parse(
      from_hex("00010203040506070809" "300370" "1112131415161718" "d7c86a7d0a2d0ddc" "000001"));
  EXPECT_EQ(r.key_version, 0x30);
  EXPECT_EQ(r.i, 0x70);
  EXPECT_EQ(to_hex(r.card_challenge), "1112131415161718");
  EXPECT_EQ(to_hex(r.sequence_counter), "000001");
  EXPECT_THROW(scp03::InitUpdateResponse::parse(from_hex("00010203040506070809300370")), SecurityError);
}
