// Milenage against the conformance test data of 3GPP TS 35.208 4.3 (Test Sets
// 1-6), and the 3G AKA helpers (AUTN / AUTS round trips, MAC and SQN checks).
#include <gtest/gtest.h>

#include "rsp/milenage.hpp"

using namespace rsp;
using namespace rsp::milenage;

namespace {

struct TestSet {
  int n;
  const char *k, *rand, *sqn, *amf, *op, *opc, *f1, *f1_star, *f2, *f5, *f3, *f4, *f5_star;
};

// 3GPP TS 35.208 4.3, Test Sets 1-6 (values as published; order K, RAND, SQN,
// AMF, OP, OPc, f1, f1*, f2, f5, f3, f4, f5*).
const TestSet kSets[] = {
    // 3GPP TS 35.208 4.3 Test Set 1
    {1, "465b5ce8b199b49faa5f0a2ee238a6bc", "23553cbe9637a89d218ae64dae47bf35", "ff9bb4d0b607", "b9b9",
     "cdc202d5123e20f62b6d676ac72cb318", "cd63cb71954a9f4e48a5994e37a02baf", "4a9ffac354dfafb3", "01cfaf9ec4e871e9",
     "a54211d5e3ba50bf", "aa689c648370", "b40ba9a3c58b2a05bbf0d987b21bf8cb", "f769bcd751044604127672711c6d3441",
     "451e8beca43b"},
    // 3GPP TS 35.208 4.3 Test Set 2
    {2, "0396eb317b6d1c36f19c1c84cd6ffd16", "c00d603103dcee52c4478119494202e8", "fd8eef40df7d", "af17",
     "ff53bade17df5d4e793073ce9d7579fa", "53c15671c60a4b731c55b4a441c0bde2", "5df5b31807e258b0", "a8c016e51ef4a343",
     "d3a628ed988620f0", "c47783995f72", "58c433ff7a7082acd424220f2b67c556", "21a8c1f929702adb3e738488b9f5c5da",
     "30f1197061c1"},
    // 3GPP TS 35.208 4.3 Test Set 3
    {3, "fec86ba6eb707ed08905757b1bb44b8f", "9f7c8d021accf4db213ccff0c7f71a6a", "9d0277595ffc", "725c",
     "dbc59adcb6f9a0ef735477b7fadf8374", "1006020f0a478bf6b699f15c062e42b3", "9cabc3e99baf7281", "95814ba2b3044324",
     "8011c48c0c214ed2", "33484dc2136b", "5dbdbb2954e8f3cde665b046179a5098", "59a92d3b476a0443487055cf88b2307b",
     "deacdd848cc6"},
    // 3GPP TS 35.208 4.3 Test Set 4
    {4, "9e5944aea94b81165c82fbf9f32db751", "ce83dbc54ac0274a157c17f80d017bd6", "0b604a81eca8", "9e09",
     "223014c5806694c007ca1eeef57f004f", "a64a507ae1a2a98bb88eb4210135dc87", "74a58220cba84c49", "ac2cc74a96871837",
     "f365cd683cd92e96", "f0b9c08ad02e", "e203edb3971574f5a94b0d61b816345d", "0c4524adeac041c4dd830d20854fc46b",
     "6085a86c6f63"},
    // 3GPP TS 35.208 4.3 Test Set 5
    {5, "4ab1deb05ca6ceb051fc98e77d026a84", "74b0cd6031a1c8339b2b6ce2b8c4a186", "e880a1b580b6", "9f07",
     "2d16c5cd1fdf6b22383584e3bef2a8d8", "dcf07cbd51855290b92a07a9891e523e", "49e785dd12626ef2", "9e85790336bb3fa2",
     "5860fc1bce351e7e", "31e11a609118", "7657766b373d1c2138f307e3de9242f9", "1c42e960d89b8fa99f2744e0708ccb53",
     "fe2555e54aa9"},
    // 3GPP TS 35.208 4.3 Test Set 6
    {6, "6c38a116ac280c454f59332ee35c8c4f", "ee6466bc96202c5a557abbeff8babf63", "414b98222181", "4464",
     "1ba00a1a7c6700ac8c3ff3e96ad08725", "3803ef5363b947c6aaa225e58fae3934", "078adfb488241a57", "80246b8d0186bcf1",
     "16c8233f05a0ac28", "45b0f69ab06c", "3f8c7587fe8e4b233af676aede30ba3b", "a7466cc1e6b2a1337d49d3b66e95d7b4",
     "1f53cd2b1113"},
};

class Ts35208 : public ::testing::TestWithParam<TestSet> {};

TEST_P(Ts35208, AllFunctions) {
  const TestSet& t = GetParam();
  Bytes k = from_hex(t.k), rand = from_hex(t.rand), sqn = from_hex(t.sqn), amf = from_hex(t.amf);
  EXPECT_EQ(to_hex(opc_from_op(k, from_hex(t.op))), t.opc);

  Milenage m(k, from_hex(t.opc));
  EXPECT_EQ(to_hex(m.f1(rand, sqn, amf)), t.f1);
  EXPECT_EQ(to_hex(m.f1_star(rand, sqn, amf)), t.f1_star);
  F2345 f = m.f2345(rand);
  EXPECT_EQ(to_hex(f.res), t.f2);
  EXPECT_EQ(to_hex(f.ck), t.f3);
  EXPECT_EQ(to_hex(f.ik), t.f4);
  EXPECT_EQ(to_hex(f.ak), t.f5);
  EXPECT_EQ(to_hex(f.ak_star), t.f5_star);
  // Single-function accessors agree.
  EXPECT_EQ(to_hex(m.f2(rand)), t.f2);
  EXPECT_EQ(to_hex(m.f3(rand)), t.f3);
  EXPECT_EQ(to_hex(m.f4(rand)), t.f4);
  EXPECT_EQ(to_hex(m.f5(rand)), t.f5);
  EXPECT_EQ(to_hex(m.f5_star(rand)), t.f5_star);

  // The same through OP.
  Milenage via_op = Milenage::from_op(k, from_hex(t.op));
  EXPECT_EQ(to_hex(via_op.opc()), t.opc);
  EXPECT_EQ(to_hex(via_op.f1(rand, sqn, amf)), t.f1);

  // Default constants given explicitly in the profile package encoding
  // (PE-AKAParameter defaults) give the same results.
  Constants c = Constants::from_profile(
      from_hex("4000204060"),
      from_hex("00000000000000000000000000000000" "00000000000000000000000000000001" "00000000000000000000000000000002"
               "00000000000000000000000000000004" "00000000000000000000000000000008"));
  EXPECT_EQ(c, Constants{});

  // A USIM given this vector's AUTN accepts it and returns RES / CK / IK.
  Bytes autn = make_autn(m, rand, sqn, amf);
  ASSERT_EQ(autn.size(), kAutnLen);
  EXPECT_EQ(to_hex(ByteView(autn).subspan(8)), t.f1);
  auto r = usim_check(m, rand, autn, sqn_to_u64(sqn) - 1);
  ASSERT_EQ(r.status, UsimAuthStatus::Ok);
  EXPECT_EQ(to_hex(r.sqn), t.sqn);
  EXPECT_EQ(to_hex(r.amf), t.amf);
  EXPECT_EQ(to_hex(r.res), t.f2);
  EXPECT_EQ(to_hex(r.ck), t.f3);
  EXPECT_EQ(to_hex(r.ik), t.f4);
}

INSTANTIATE_TEST_SUITE_P(TestSets, Ts35208, ::testing::ValuesIn(kSets),
                         [](const ::testing::TestParamInfo<TestSet>& i) { return "Set" + std::to_string(i.param.n); });

TEST(Milenage, MacFailureAndSyncFailure) {
  const TestSet& t = kSets[0];
  Milenage m(from_hex(t.k), from_hex(t.opc));
  Bytes rand = from_hex(t.rand), sqn = from_hex("000000000020"), amf = from_hex("8000");
  Bytes autn = make_autn(m, rand, sqn, amf);

  // Any flipped bit in MAC-A, in AMF or in the concealed SQN: MAC failure.
  for (std::size_t i : {0u, 6u, 8u, 15u}) {
    Bytes bad = autn;
    bad[i] ^= 0x01;
    auto r = usim_check(m, rand, bad, 0);
    EXPECT_EQ(r.status, UsimAuthStatus::MacFailure) << i;
    EXPECT_TRUE(r.res.empty() && r.auts.empty());
  }

  // Fresh (SQN > SQNms): accepted.
  EXPECT_EQ(usim_check(m, rand, autn, 0x1F).status, UsimAuthStatus::Ok);
  // Replayed (SQN == SQNms) or old: sync failure with an AUTS that carries SQNms.
  for (std::uint64_t sqn_ms : {0x20ull, 0x123456789ull}) {
    auto r = usim_check(m, rand, autn, sqn_ms);
    ASSERT_EQ(r.status, UsimAuthStatus::SyncFailure);
    EXPECT_TRUE(r.res.empty());
    ASSERT_EQ(r.auts.size(), kAutsLen);
    auto recovered = verify_auts(m, rand, r.auts);
    ASSERT_TRUE(recovered);
    EXPECT_EQ(sqn_to_u64(*recovered), sqn_ms);
    Bytes tampered = r.auts;
    tampered[13] ^= 0x80;
    EXPECT_FALSE(verify_auts(m, rand, tampered));
  }
  // Without resync generation: no AUTS.
  EXPECT_TRUE(usim_check(m, rand, autn, 0x20, false).auts.empty());
}

TEST(Milenage, AutsMatchesSpecDefinition) {
  // AUTS = (SQNms xor AK*) || f1*(SQNms, RAND, AMF* = 0000), TS 33.102 6.3.3.
  const TestSet& t = kSets[2];
  Milenage m(from_hex(t.k), from_hex(t.opc));
  Bytes rand = from_hex(t.rand), sqn_ms = from_hex(t.sqn);
  Bytes auts = make_auts(m, rand, sqn_ms);
  Bytes ak_star = from_hex(t.f5_star);
  for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(auts[i], sqn_ms[i] ^ ak_star[i]);
  EXPECT_EQ(Bytes(auts.begin() + 6, auts.end()), m.f1_star(rand, sqn_ms, from_hex("0000")));
}

TEST(Milenage, GsmConversions) {
  // c2 / c3 (TS 33.102 6.8.1.2) on Test Set 1's RES / CK / IK.
  const TestSet& t = kSets[0];
  Bytes res = from_hex(t.f2), ck = from_hex(t.f3), ik = from_hex(t.f4);
  Bytes sres = c2_sres(res);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(sres[i], res[i] ^ res[i + 4]);
  SecretBytes kc = c3_kc(ck, ik);
  for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(kc[i], ck[i] ^ ck[i + 8] ^ ik[i] ^ ik[i + 8]);
}

TEST(Milenage, NonDefaultRotationIsABitRotation) {
  // r1 = 64 is a byte rotation; r1 = 4 must still work (a bit rotation) and
  // change the result; a different c2 changes f2.
  const TestSet& t = kSets[0];
  Bytes k = from_hex(t.k), opc = from_hex(t.opc), rand = from_hex(t.rand), sqn = from_hex(t.sqn), amf = from_hex(t.amf);
  Constants c;
  c.r[0] = 4;
  EXPECT_NE(Milenage(k, opc, c).f1(rand, sqn, amf), Milenage(k, opc).f1(rand, sqn, amf));
  // r2 = 0 is the default: setting it explicitly changes nothing.
  Constants c0;
  c0.r[1] = 0;
  EXPECT_EQ(Milenage(k, opc, c0).f2(rand), Milenage(k, opc).f2(rand));
  Constants c2;
  c2.c[1][15] = 0x03;
  EXPECT_NE(Milenage(k, opc, c2).f2(rand), Milenage(k, opc).f2(rand));
}

TEST(Milenage, RejectsBadSizes) {
  Bytes k(16, 1), opc(16, 2), rand(16, 3);
  EXPECT_THROW(Milenage(Bytes(15), opc), std::invalid_argument);
  EXPECT_THROW(Milenage(k, Bytes(17)), std::invalid_argument);
  Milenage m(k, opc);
  EXPECT_THROW(m.f1(Bytes(15), Bytes(6), Bytes(2)), std::invalid_argument);
  EXPECT_THROW(m.f1(rand, Bytes(5), Bytes(2)), std::invalid_argument);
  EXPECT_THROW(m.f2345(Bytes(0)), std::invalid_argument);
  EXPECT_THROW(usim_check(m, rand, Bytes(15), 0), std::invalid_argument);
  EXPECT_THROW(Constants::from_profile(Bytes(4), {}), std::invalid_argument);
  EXPECT_THROW(Constants::from_profile(from_hex("8000000000"), {}), std::invalid_argument);
  EXPECT_THROW(sqn_from_u64(1ull << 48), std::invalid_argument);
  EXPECT_FALSE(verify_auts(m, rand, Bytes(13)));
}

}  // namespace
