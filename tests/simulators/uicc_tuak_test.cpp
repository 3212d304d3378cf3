// Issue 15: TUAK (3GPP TS 35.231) against the published conformance test
// sets 1-6 of TS 35.233 clause 6 (values as the specification prints them;
// set 1's TOPc also appears in TS 35.232's intermediate values), and USIM
// AUTHENTICATE on the card core when a profile's AKA parameters select TUAK.
#include <gtest/gtest.h>

#include "rsp/milenage.hpp"
#include "rsp/uicc/card.hpp"
#include "rsp/uicc/tuak.hpp"

using namespace rsp;

namespace {

struct TestSet {
  const char *k, *rand, *sqn, *amf, *top;
  unsigned iterations;
  const char *topc, *f1, *f1_star, *f2, *f3, *f4, *f5, *f5_star;
};

// TS 35.233 6.3-6.8, test sets 1-6.
const TestSet kSets[] = {
    {"abababababababababababababababab", "42424242424242424242424242424242", "111111111111", "ffff",
     "5555555555555555555555555555555555555555555555555555555555555555", 1,
     "bd04d9530e87513c5d837ac2ad954623a8e2330c115305a73eb45d1f40cccbff", "f9a54e6aeaa8618d", "e94b4dc6c7297df3",
     "657acd64", "d71a1e5c6caffe986a26f783e5c78be1", "be849fa2564f869aecee6f62d4337e72", "719f1e9b9054",
     "e7af6b3d0e38"},
    {"fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebeae9e8e7e6e5e4e3e2e1e0", "0123456789abcdef0123456789abcdef",
     "0123456789ab", "abcd", "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", 1,
     "305425427e18c503c8a4b294ea72c95d0c36c6c6b29d0c65de5974d5977f8524", "c0b8c2d4148ec7aa5f1d78a97e4d1d58",
     "ef81af7290f7842c6ceafa537fa0745b", "e9d749dc4eea0035", "a4cb6f6529ab17f8337f27baa8234d47",
     "2274155ccf4199d5e2abcbf621907f90", "480a9345cc1e", "f84eb338848c"},
    {"fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebeae9e8e7e6e5e4e3e2e1e0", "0123456789abcdef0123456789abcdef",
     "0123456789ab", "abcd", "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", 1,
     "305425427e18c503c8a4b294ea72c95d0c36c6c6b29d0c65de5974d5977f8524",
     "d97b75a1776065271b1e212bc3b1bf173f438b21e6c64a55a96c372e085e5cc5",
     "427bbf07c6e3a86c54f8c5216499f3909a6fd4a164c9fe235b1550258111b821", "07021c73e7635c7d",
     "4d59ac796834eb85d11fa148a5058c3c", "126d47500136fdc5ddfd14f19ebf16749ce4b6435323fbb5715a3a796a6082bd",
     "1d6622c4e59a", "f84eb338848c"},
    {"b8da837a50652d6ac7c97da14f6acc61", "6887e55425a966bd86c9661a5fa72be8", "0dea2ee2c5af", "df1e",
     "0952be13556c32ebc58195d9dd930493e12a9003669988ffde5fa1f0fe35cc01", 1,
     "2bc16eb657a68e1f446f08f57c0efb1d493527a2e652ce281eb6ca0e4487760a", "749214087958dd8f58bfcdf869d8ae3f",
     "619e865afe80e382aee13063f9dfb56d", "4041ce438e3e38e8aa96562eed83ac43", "3e3bc01bea0cd914c4c2c83ce2d92757",
     "666a8e6f577b1aa77b7fd53cebb8a3d6", "1f880d005119", "45e617d77fe5"},
    {"1574ca56881d05c189c82880f789c9cd4244955f4426aa2b69c29f15770e5aa5", "c570aac68cde651fb1e3088322498bef",
     "c89bb71f3a41", "297d", "e59f6eb10ea406813f4991b0b9e02f181edf4c7e17b480f66d34da35ee88c95e", 1,
     "3c6052e41532a28a47aa3cbb89f223e8f3aaa976aecd48bc3e7d6165a55eff62", "d7340dad02b4cb01", "c6021e2e66accb15",
     "84d89b41db1867ffd4c7ba1d82163f4d526a20fbae5418fbb526940b1eeb905c",
     "d419676afe5ab58c1d8bee0d43523a4d2f52ef0b31a4676a0c334427a988fe65", "205533e505661b61d05cc0eac87818f4",
     "d7b3d2d4980a", "ca9655264986"},
    {"1574ca56881d05c189c82880f789c9cd4244955f4426aa2b69c29f15770e5aa5", "c570aac68cde651fb1e3088322498bef",
     "c89bb71f3a41", "297d", "e59f6eb10ea406813f4991b0b9e02f181edf4c7e17b480f66d34da35ee88c95e", 2,
     "b04a66f26c62fcd6c82de22a179ab65506ecf47f56245cd149966cfa9cec7a51",
     "90d2289ed1ca1c3dbc2247bb480d431ac71d2e4a7677f6e997cfddb0cbad88b7",
     "427355dbac30e825063aba61b556e87583abac638e3ab01c4c884ad9d458dc2f",
     "d67e6e64590d22eecba7324afa4af4460c93f01b24506d6e12047d789a94c867",
     "ede57edfc57cdffe1aae75066a1b7479bbc3837438e88d37a801cccc9f972b89",
     "48ed9299126e5057402fe01f9201cf25249f9c5c0ed2afcf084755daff1d3999", "6aae8d18c448", "8c5f33b61f4e"},
};

Bytes h(const char* s) { return from_hex(s); }

TEST(Tuak, KeccakF1600IsFips202) {
  // SHA3-256 of the empty message: one block, padding 06 ... 80 (FIPS 202 B.2).
  std::uint8_t st[200] = {};
  st[0] = 0x06;
  st[135] = 0x80;
  uicc::tuak::keccak_f1600(st);
  EXPECT_EQ(to_hex(Bytes(st, st + 32)), "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
}

TEST(Tuak, Ts35233TestSets) {
  int n = 0;
  for (const auto& t : kSets) {
    SCOPED_TRACE("test set " + std::to_string(++n));
    Bytes k = h(t.k), rand = h(t.rand), sqn = h(t.sqn), amf = h(t.amf);
    Bytes topc = uicc::tuak::topc(k, h(t.top), t.iterations);
    EXPECT_EQ(to_hex(topc), t.topc);
    std::size_t mac_len = h(t.f1).size();
    EXPECT_EQ(to_hex(uicc::tuak::f1(topc, k, rand, sqn, amf, mac_len, t.iterations)), t.f1);
    EXPECT_EQ(to_hex(uicc::tuak::f1_star(topc, k, rand, sqn, amf, mac_len, t.iterations)), t.f1_star);
    auto v = uicc::tuak::f2345(topc, k, rand, h(t.f2).size(), h(t.f3).size(), h(t.f4).size(), t.iterations);
    EXPECT_EQ(to_hex(v.res), t.f2);
    EXPECT_EQ(to_hex(v.ck), t.f3);
    EXPECT_EQ(to_hex(v.ik), t.f4);
    EXPECT_EQ(to_hex(v.ak), t.f5);
    EXPECT_EQ(to_hex(uicc::tuak::f5_star(topc, k, rand, t.iterations)), t.f5_star);
  }
}

// AUTHENTICATE (TS 31.102 7.1.2) in an ADF whose AKA parameters select TUAK,
// with test set 1 (K 128 bits, MAC 64, RES 32, CK/IK 128: the sizes a USIM
// answer carries): AUTN = SQN xor AK || AMF || MAC-A from the set.
TEST(Tuak, UsimAuthenticateWithTestSet1) {
  const auto& t = kSets[0];
  uicc::CardImage img;
  img.fs.mf = std::make_unique<uicc::File>();
  img.fs.mf->type = uicc::FileType::Mf;
  img.fs.mf->fid = 0x3F00;
  auto adf = std::make_unique<uicc::File>();
  adf->type = uicc::FileType::Adf;
  adf->fid = 0x7FF0;
  adf->aid = h("A0000000871002FF33FF018900000100");
  adf->parent = img.fs.mf.get();
  img.fs.adfs.push_back(std::move(adf));
  uicc::AkaParameters p;
  p.algorithm = uicc::AkaParameters::Algorithm::Tuak;
  p.key = h(t.k);
  p.opc = h(t.topc);
  p.tuak_res_len = 4;
  img.aka.emplace_back(h("A0000000871002FF33FF018900000100"), p);
  uicc::SecurityStatus sec;
  uicc::Card card(img, sec);
  uicc::Selection sel;
  ASSERT_EQ(card.process(apdu::Command{0x00, 0xA4, 0x04, 0x0C, h("A0000000871002FF33FF018900000100"), std::nullopt}, sel).sw,
            0x9000);
  Bytes sqn_ak = h(t.sqn);
  Bytes ak = h(t.f5);
  for (std::size_t i = 0; i < 6; ++i) sqn_ak[i] ^= ak[i];
  Bytes autn = concat(concat(sqn_ak, h(t.amf)), h(t.f1));
  Bytes data = concat(concat(Bytes{16}, h(t.rand)), concat(Bytes{16}, autn));
  auto r = card.process(apdu::Command{0x00, 0x88, 0x00, 0x81, data, 256}, sel);
  ASSERT_EQ(r.sw, 0x9000);
  Bytes want = concat(concat(Bytes{0xDB, 4}, h(t.f2)), concat(Bytes{16}, h(t.f3)));
  append(want, concat(Bytes{16}, h(t.f4)));
  append(want, concat(Bytes{8}, milenage::c3_kc(h(t.f3), h(t.f4))));
  EXPECT_EQ(to_hex(r.data), to_hex(want));
  // The same AUTN again: its SQN is no longer fresh (TS 33.102 6.3.3):
  // DC AUTS, AUTS = SQNms xor AK* || MAC-S over SQNms with AMF 0000; AK* is
  // set 1's f5*.
  auto again = card.process(apdu::Command{0x00, 0x88, 0x00, 0x81, data, 256}, sel);
  ASSERT_EQ(again.sw, 0x9000);
  Bytes auts = h(t.sqn), ak_star = h(t.f5_star);
  for (std::size_t i = 0; i < 6; ++i) auts[i] ^= ak_star[i];
  append(auts, uicc::tuak::f1_star(h(t.topc), h(t.k), h(t.rand), h(t.sqn), Bytes(2, 0), 8));
  EXPECT_EQ(to_hex(again.data), to_hex(concat(Bytes{0xDC, 14}, auts)));
  // A MAC off by one bit: 9862.
  Bytes bad = data;
  bad.back() ^= 0x01;
  EXPECT_EQ(card.process(apdu::Command{0x00, 0x88, 0x00, 0x81, bad, 256}, sel).sw, 0x9862);
  // GSM context: SRES = c2(RES) (RES of 32 bits is SRES itself), Kc = c3(CK, IK).
  auto g = card.process(apdu::Command{0x00, 0x88, 0x00, 0x80, concat(Bytes{16}, h(t.rand)), 256}, sel);
  ASSERT_EQ(g.sw, 0x9000);
  EXPECT_EQ(to_hex(g.data), to_hex(concat(concat(Bytes{4}, h(t.f2)), concat(Bytes{8}, milenage::c3_kc(h(t.f3), h(t.f4))))));
}

}  // namespace
