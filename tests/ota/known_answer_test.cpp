// Known answers for every cipher and checksum of ETSI TS 102 225 as 3GPP TS
// 31.115 puts them in SMS, computed independently of our code:
//  - pySim's published OTA vectors (osmocom/pysim tests/test_ota.py: the
//    3DES class with the keys of card 8988211000000467285, and the SJA5
//    sample cards, 3DES and AES-128), packets real cards answered;
//  - packets assembled byte by byte in tests/ota/openssl_vectors.sh with
//    every cipher and MAC from the openssl command line (DES, 3DES with three
//    keys, AES-192, AES-256 with a 4-byte CMAC, CRC32).
// We build each command packet and compare bytes, and open each packet (ours
// and the PoRs) back to its data.
#include <gtest/gtest.h>

#include "ota_test_util.hpp"
#include "rsp/ota/algorithms.hpp"
#include "rsp/ota/command_packet.hpp"
#include "rsp/ota/response_packet.hpp"

using namespace rsp;
using namespace rsp::ota;
using ota_test::header;
using ota_test::key_set;

namespace {

struct CommandVector {
  const char* name;
  KeySet keys;
  CommandHeader header;
  std::uint64_t cntr;
  const char* data;
  std::size_t checksum_length;
  const char* packet;
};

// pySim Test_SMS_3DES: KIc/KID '35' (version 3, 3DES 2 keys), TAR B00000.
// pySim's older encoder printed the unciphered packets without their CPL
// (test_cmd_3des_signed/none); the CC it computed covers the CPL, so the
// packet is '001D' / '0015' followed by pySim's bytes.
const KeySet kPysim3des = key_set(3, Algorithm::TripleDes2, "C21DD66ACAC13CB3BC8B331B24AFB57B", Algorithm::TripleDes2,
                                  "12110C78E678C25408233076AA033615");
// pySim OTA_KEYSET_SJA5_SAMPLES / OTA_KEYSET_SJA5_AES128.
const KeySet kSja53des = key_set(3, Algorithm::TripleDes2, "300102030405060708090a0b0c0d0e0f", Algorithm::TripleDes2,
                                 "301102030405060708090a0b0c0d0e0f");
const KeySet kSja5Aes = key_set(2, Algorithm::Aes, "200102030405060708090a0b0c0d0e0f", Algorithm::Aes,
                                "201102030405060708090a0b0c0d0e0f");
// tests/ota/openssl_vectors.sh
const KeySet kDes = key_set(1, Algorithm::Des, "0123456789abcdef", Algorithm::Des, "fedcba9876543210");
const KeySet k3des3 = key_set(1, Algorithm::TripleDes3, "0123456789abcdeffedcba987654321089abcdef01234567",
                              Algorithm::TripleDes3, "111111111111111122222222222222223333333333333333");
const KeySet kAes192 = key_set(2, Algorithm::Aes, "000102030405060708090a0b0c0d0e0f1011121314151617", Algorithm::Aes,
                               "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7");
const KeySet kAes256 = key_set(3, Algorithm::Aes, "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
                               Algorithm::Aes, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
const KeySet kCrc32 = key_set(1, Algorithm::Implicit, "", Algorithm::Crc32, "");
const char* kScriptData = "00a40004023f00a0b0c0d0e0f0102030";

const std::vector<CommandVector>& command_vectors() {
  static const std::vector<CommandVector> v = {
      {"pysim_3des_ciphered", kPysim3des, header("0419", 0x35, 0x35, "b00000"), 0, "00a40000023f00", 0,
       "00180d04193535b00000e3ec80a849b554421276af3883927c20"},
      {"pysim_3des_signed", kPysim3des, header("0219", 0x35, 0x35, "b00000"), 0, "00a40000023f00", 0,
       "001d1502193535b00000000000000000072ea17bdb72060e00a40000023f00"},
      {"pysim_3des_none", kPysim3des, header("0019", 0x35, 0x35, "b00000"), 0, "00a40000023f00", 0,
       "00150d00193535b0000000000000000000a40000023f00"},
      {"pysim_sja5_3des_ciphered_cc", kSja53des, header("0619", 0x35, 0x35, "b00011"), 0, "00a40004023f00", 0,
       "00201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f"},
      {"pysim_sja5_3des_cc_por_unciphered", kSja53des, header("0609", 0x35, 0x35, "b00011"), 0, "00a40004023f00", 0,
       "00201506093535b00011c49ac91ab8159ba5b83a54fb6385e0a5e31694f8b215fafc"},
      {"pysim_sja5_3des_cc_por_plain", kSja53des, header("0601", 0x35, 0x35, "b00011"), 0, "00a40004023f00", 0,
       "00201506013535b000113190be334900f52b025f3f7eddfe868e96ebf310023b7769"},
      {"pysim_sja5_aes128_ciphered_cc", kSja5Aes, header("0619", 0x22, 0x22, "b00011"), 0, "00a40004023f00", 0,
       "00281506192222b00011e87cceebb2d93083011ce294f93fc4d8de80da1abae8c37ca3e72ec4432e5058"},
      // openssl_vectors.sh A: DES-CBC + DES CBC-MAC, counter "higher" (SPI 16)
      {"openssl_des_cbc", kDes, header("1639", 0x11, 0x11, "b00010"), 1, kScriptData, 0,
       "00281516391111b0001057287e0429073fe91085bc7afb79d51f18e520924a160b7a26d2b4254726c3bc"},
      // B: 3DES three keys, counter "exactly one higher" (SPI 1E)
      {"openssl_3des_3key", k3des3, header("1e09", 0x19, 0x19, "b00001"), 2, kScriptData, 0,
       "0028151e091919b00001a109abab6d8540d43676041cb840a5436872ba2b459e64de078f8d2c8d07d6b8"},
      // C: AES-192 + AES-CMAC 8 bytes, counter "available, no check" (SPI 0E)
      {"openssl_aes192", kAes192, header("0e1a", 0x22, 0x22, "b00011"), 3, kScriptData, 0,
       "0028150e1a2222b00011b84d728a176e19f2179f6fb2d64f7d77fe39fd7d50874414ff39295f6e0a8d5c"},
      // D: AES-256 + AES-CMAC truncated to 4 bytes (CHL 11), no counter (SPI 06)
      {"openssl_aes256_cmac4", kAes256, header("0619", 0x32, 0x32, "b00000"), 0, kScriptData, 4,
       "00281106193232b00000bd4222146ae1f5dae91fd9cd5ede51205839d493e0bc8564eb8b0873fca2bbd6"},
      // E: RC with CRC32 (zlib), KID '15'
      {"zlib_crc32_rc", kCrc32, header("0101", 0x00, 0x15, "b00000"), 0, kScriptData, 0,
       "00221101010015b000000000000000003929011100a40004023f00a0b0c0d0e0f0102030"},
      // F: the same with a PoR that carries an RC (SPI 01 05)
      {"zlib_crc32_rc_por_rc", kCrc32, header("0105", 0x00, 0x15, "b00000"), 0, kScriptData, 0,
       "00221101050015b000000000000000003ffef56500a40004023f00a0b0c0d0e0f0102030"},
  };
  return v;
}

TEST(OtaKnownAnswer, CommandPacketsAreBuiltByteForByte) {
  for (const auto& v : command_vectors()) {
    SCOPED_TRACE(v.name);
    CommandPacket p;
    p.header = v.header;
    p.cntr = v.cntr;
    p.secured_data = from_hex(v.data);
    p.checksum_length = v.checksum_length;
    EXPECT_EQ(to_hex(build_command_packet(p, v.keys)), v.packet);
  }
}

TEST(OtaKnownAnswer, CommandPacketsOpenToTheirData) {
  for (const auto& v : command_vectors()) {
    SCOPED_TRACE(v.name);
    OpenedCommandPacket o = open_command_packet(from_hex(v.packet), v.keys);
    EXPECT_EQ(o.view.header, v.header);
    EXPECT_EQ(o.cntr, v.cntr);
    EXPECT_EQ(to_hex(o.secured_data), v.data);
  }
}

struct ResponseVector {
  const char* name;
  KeySet keys;
  CommandHeader command;  // the PoR's protection comes from its SPI, KIc and KID
  const char* packet;
  std::uint8_t status;
  std::uint64_t cntr;
  const char* additional_data;
  bool build;  // our builder must give the same bytes (false: the card's padding is not ours)
};

const std::vector<ResponseVector>& response_vectors() {
  static const std::vector<ResponseVector> v = {
      // pySim Test_SMS_3DES test_resp_3des_*: the PoRs of card 8988211000000467285
      {"pysim_3des_ciphered_cc", kPysim3des, header("0019", 0x35, 0x35, "b00011"),
       "027100001c12b000119660ebdb81be189b5e4389e9e7ab2bc0954f963ad869ed7c", 0, 0, "01612f", true},
      {"pysim_3des_cc", kPysim3des, header("0009", 0x35, 0x35, "b00011"),
       "027100001612b000110000000000000055f47118381175fb01612f", 0, 0, "01612f", true},
      {"pysim_3des_none", kPysim3des, header("0001", 0x35, 0x35, "b00011"), "027100000e0ab000110000000000000001612f", 0,
       0, "01612f", true},
      // pySim SmsOtaTestCase: the SJA5 sample cards
      {"pysim_sja5_3des_ciphered_cc", kSja53des, header("0619", 0x35, 0x35, "b00011"),
       "027100001c12b000118bb989492c632529326a2f4681feb37c825bc9021c9f6d0b", 0, 0, "016132", true},
      {"pysim_sja5_3des_cc", kSja53des, header("0609", 0x35, 0x35, "b00011"),
       "027100001612b0001100000000000000b5bcd6353a421fae016132", 0, 0, "016132", true},
      {"pysim_sja5_3des_plain", kSja53des, header("0601", 0x35, 0x35, "b00011"),
       "027100000e0ab0001100000000000000016132", 0, 0, "016132", true},
      {"pysim_sja5_aes128_ciphered_cc", kSja5Aes, header("0619", 0x22, 0x22, "b00011"),
       "027100002412b00011ebc6b497e2cad7aedf36ace0e3a29b38853f0fe9ccde81913be5702b73abce1f", 0, 0, "016132", true},
      // openssl_vectors.sh (RPL onwards; the CC covers '02 71 00' as well)
      {"openssl_des_cbc", kDes, header("1639", 0x11, 0x11, "b00010"), "001c12b000105d944a6aa79d6876a9becdb217d228d94687c679f0c419b9",
       0, 1, "019000", true},
      {"openssl_3des_3key_cc", k3des3, header("1e09", 0x19, 0x19, "b00001"), "001612b000010000000002000008281480ce7898cf019000",
       0, 2, "019000", true},
      {"openssl_aes192_error", kAes192, header("0e1a", 0x22, 0x22, "b00011"), "001412b00011de7e3a0455b338803a48ae1f1422ca4d",
       1, 3, "", true},
      {"openssl_aes256_cmac4", kAes256, header("0619", 0x32, 0x32, "b00000"), "00140eb0000043a9af1eb3cb3a037542e7216c6e56a9",
       0, 0, "0161129000", true},
      // F: a PoR with a CRC32 RC over '02 71 00' .. data
      {"zlib_crc32_por_rc", kCrc32, header("0105", 0x00, 0x15, "b00000"), "00120eb00000000000000000007869be7c019000", 0, 0,
       "019000", true},
  };
  return v;
}

TEST(OtaKnownAnswer, ResponsePacketsOpenAndVerify) {
  for (const auto& v : response_vectors()) {
    SCOPED_TRACE(v.name);
    OpenedResponsePacket o = open_response_packet(from_hex(v.packet), v.command, v.keys);
    EXPECT_EQ(o.packet.status, v.status);
    EXPECT_EQ(o.packet.cntr, v.cntr);
    EXPECT_EQ(to_hex(o.packet.additional_data), v.additional_data);
    EXPECT_TRUE(o.secured);
  }
}

TEST(OtaKnownAnswer, ResponsePacketsAreBuiltByteForByte) {
  for (const auto& v : response_vectors()) {
    if (!v.build) continue;
    SCOPED_TRACE(v.name);
    Bytes expect = from_hex(v.packet);
    if (expect[0] == 0x02 && expect[1] == 0x71) expect.erase(expect.begin(), expect.begin() + 3);
    ResponsePacket r;
    Tar tar{expect[3], expect[4], expect[5]};
    r.tar = tar;
    r.cntr = v.cntr;
    r.status = v.status;
    r.additional_data = from_hex(v.additional_data);
    std::size_t cc_len = expect[2] - 10u;
    EXPECT_EQ(to_hex(build_response_packet(r, v.command, v.keys, cc_len == 4 ? 4 : 0)), to_hex(expect));
  }
}

// pySim test_resp_3des_signed_err: one byte of the data changed under the CC.
TEST(OtaKnownAnswer, ResponseWithAChangedByteFailsItsCc) {
  try {
    open_response_packet(from_hex("027100001612b000110000000000000055f47118381175fb02612f"),
                         header("0009", 0x35, 0x35, "b00011"), kPysim3des);
    FAIL() << "a PoR whose CC does not verify was accepted";
  } catch (const PacketError& e) {
    EXPECT_EQ(e.status, ResponseStatus::RcCcDsFailed);
  }
}

// The checksums on their own, against published check values and openssl.
TEST(OtaKnownAnswer, RedundancyChecksMatchTheirCatalogueCheckValues) {
  // "123456789": CRC-16/X-25 (ISO/IEC 13239 FCS-16) 906E, CRC-32 (ISO-HDLC)
  // CBF43926, from the CRC RevEng catalogue.
  Bytes check = to_bytes("123456789");
  EXPECT_EQ(crc16_iso13239(check), 0x906E);
  EXPECT_EQ(crc32_iso13239(check), 0xCBF43926u);
  EXPECT_EQ(to_hex(redundancy_check(Algorithm::Crc16, check)), "906e");
}

TEST(OtaKnownAnswer, AesCmacIsTruncatedToItsLeftmostBytes) {
  // openssl mac -cipher AES-128-CBC -macopt hexkey:000102030405060708090a0b0c0d0e0f CMAC
  //   over "0123456789abcdef" (ASCII) = 26B2421790208A8D539A6CD277A01EC3
  Bytes k = from_hex("000102030405060708090a0b0c0d0e0f");
  EXPECT_EQ(to_hex(cryptographic_checksum(Algorithm::Aes, k, to_bytes("0123456789abcdef"))), "26b2421790208a8d");
  EXPECT_EQ(to_hex(cryptographic_checksum(Algorithm::Aes, k, to_bytes("0123456789abcdef"), 4)), "26b24217");
}

// KIc '1D' (DES-ECB): every block on its own.
//   printf 000102030405060708090a0b0c0d0e0f1011121314151617 | xxd -r -p |
//     openssl enc -provider legacy -provider default -des-ecb -nopad -K 0123456789abcdef
TEST(OtaKnownAnswer, DesEcbMatchesOpenssl) {
  EXPECT_EQ(to_hex(encipher(Algorithm::DesEcb, from_hex("0123456789abcdef"),
                            from_hex("000102030405060708090a0b0c0d0e0f1011121314151617"))),
            "3260266c2cf202e28325790654a444d9d41f760b73919265");
}

// KIc/KID b2b1 00: the algorithm is the key set's. The packet differs from
// pySim's AES-128 one only in the two header bytes that name the algorithm,
// and so in the CC that covers them.
TEST(OtaKnownAnswer, ImplicitAlgorithmsAreTheKeySets) {
  CommandPacket p;
  p.header = header("0619", 0x20, 0x20, "b00011");
  p.secured_data = from_hex("00a40004023f00");
  Bytes implicit = build_command_packet(p, kSja5Aes);
  EXPECT_EQ(to_hex(ByteView(implicit).first(10)), "00281506192020b00011");
  EXPECT_EQ(to_hex(open_command_packet(implicit, kSja5Aes).secured_data), "00a40004023f00");
  KeySet no_algorithm = kSja5Aes;
  no_algorithm.cipher = no_algorithm.checksum = Algorithm::Implicit;
  EXPECT_THROW(build_command_packet(p, no_algorithm), PacketError);
}

}  // namespace
