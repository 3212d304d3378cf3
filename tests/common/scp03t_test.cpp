// SCP03t (SGP.22 2.6.4 / 5.5) against vectors from a third-party SM-DP+
// trace, as published with pySim's BSP tests, plus tamper/replay/reorder.
#include <gtest/gtest.h>

#include "rsp/scp03t.hpp"

using namespace rsp;

namespace {
const Bytes kEid = from_hex("89049032123451234512345678901235");
const Bytes kHostId = Bytes(8, 0x80);
const Bytes kEnc = from_hex("472f5bfadd97f21d34f3ce9b51b92751");
const Bytes kMac = from_hex("9ec07f5b36a13e12a991d66e294e6242");
const Bytes kMcv = from_hex("406d507b448a699e7a36a38494debbde");
const char* kStoreMetadata =
    "bf252d5a0a98001032547698103214910947534d415f54455354921147534d415f544553545f50524f46494c45950100";
const char* kReplaceSessionKeys =
    "bf26368010000102030405060708090a0b0c0d0e0f8110010102030405060708090a0b0c0d0e0f8210020102030405060708090a0b0c0d0e"
    "0f";
}  // namespace

TEST(Scp03t, KeyDerivationMatchesThirdPartySmdp) {
  auto k = scp03t::derive_session_keys(from_hex("c9a993dd4879a8f7161f2085410edd4f9652f1df37be097ba96ba2ca6be528fe"),
                                       kHostId, kEid);
  EXPECT_EQ(to_hex(k.s_enc), to_hex(kEnc));
  EXPECT_EQ(to_hex(k.s_mac), to_hex(kMac));
  EXPECT_EQ(to_hex(k.initial_mcv), to_hex(kMcv));

  auto k2 = scp03t::derive_session_keys(from_hex("8902dca391bbb22570fe60c176076246f568b1941265dff1d729e63039658089"),
                                        kHostId, from_hex("89049032123451234512345678901335"));
  EXPECT_EQ(to_hex(k2.s_enc), "d782d575b22a38334556a3d9a1e2ae6b");
  EXPECT_EQ(to_hex(k2.s_mac), "a35addc192ae8f934e2932116c7e89e7");
  EXPECT_EQ(to_hex(k2.initial_mcv), "734bc93ddb10c71c5ad13d420dc08b5b");
}

TEST(Scp03t, WrapMatchesThirdPartySmdp) {
  scp03t::Channel ch(kEnc, kMac, kMcv);
  EXPECT_EQ(to_hex(ch.wrap(0x87, from_hex("bf2400"))), "8718f6fe031e4b9cfe87c8e1e62f3fde85c49412d7722a6a2d89");
  EXPECT_EQ(to_hex(ch.wrap(0x88, from_hex(kStoreMetadata), false)),
            std::string("8838") + kStoreMetadata + "8a62cc9adbb5ccbc");
  EXPECT_EQ(to_hex(ch.wrap(0x87, from_hex(kReplaceSessionKeys))),
            "8748a14c800a001992351cd46ad2945654674369701d82b7b46567652bc8fbed234939fc57fba748015525fd6c651e9d3d133065"
            "2d42a0cfad950e912122af4ec5362d3c0bc535729c40");
}

TEST(Scp03t, UnwrapVerifiesAndRejectsTamperReplayReorder) {
  scp03t::Channel sender(kEnc, kMac, kMcv);
  Bytes s1 = sender.wrap(0x87, from_hex("bf2400"));
  Bytes s2 = sender.wrap(0x88, from_hex(kStoreMetadata), false);
  Bytes s3 = sender.wrap(0x86, Bytes(1008, 0x5A));

  {  // in order: all accepted
    scp03t::Channel rx(kEnc, kMac, kMcv);
    EXPECT_EQ(to_hex(rx.unwrap(s1)), "bf2400");
    EXPECT_EQ(to_hex(rx.unwrap(s2, false)), kStoreMetadata);
    EXPECT_EQ(rx.unwrap(s3), Bytes(1008, 0x5A));
    EXPECT_THROW(rx.unwrap(s3), scp03t::MacError);  // replayed
  }
  {  // reordered
    scp03t::Channel rx(kEnc, kMac, kMcv);
    EXPECT_THROW(rx.unwrap(s2, false), scp03t::MacError);
    EXPECT_EQ(to_hex(rx.unwrap(s1)), "bf2400");  // a failure does not advance the chain
  }
  {  // tampered ciphertext and tampered MAC
    scp03t::Channel rx(kEnc, kMac, kMcv);
    Bytes bad = s1;
    bad[3] ^= 0x01;
    EXPECT_THROW(rx.unwrap(bad), scp03t::MacError);
    bad = s1;
    bad.back() ^= 0x80;
    EXPECT_THROW(rx.unwrap(bad), scp03t::MacError);
    EXPECT_THROW(rx.unwrap(from_hex("8703000102")), scp03t::MacError);  // shorter than a MAC
  }
}
