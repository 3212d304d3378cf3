// Crypto wrapper against published vectors (RFC 4493, NIST SP 800-38A, NIST
// CAVS X9.63) and against OpenSSL as an independent implementation.
#include <gtest/gtest.h>
#include <mbedtls/base64.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <tuple>
#include <unistd.h>

#include "rsp/crypto.hpp"
#include "rsp/crypto_backend.hpp"
#include "rsp/tlv.hpp"

using namespace rsp;
using namespace rsp::crypto;

namespace {
const Bytes kKey = from_hex("2b7e151628aed2a6abf7158809cf4f3c");
const std::string kMsg64 =
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";

std::string sgp26(const std::string& rel) { return std::string(RSP_SHARED_TESTDATA) + "/sgp26/" + rel; }
Bytes read_file(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}
std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

// The known-answer tests run on both implementations behind rsp::crypto
// (tests/common/crypto_differential_test.cpp compares them with each other).
class CryptoKat : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { use_backend(GetParam()); }
  void TearDown() override { use_backend(Backend::OpenSsl); }
};
std::string backend_param_name(const ::testing::TestParamInfo<Backend>& i) {
  return i.param == Backend::OpenSsl ? "OpenSsl" : "MbedTls";
}
}  // namespace

INSTANTIATE_TEST_SUITE_P(Backends, CryptoKat, ::testing::Values(Backend::OpenSsl, Backend::MbedTls), backend_param_name);

TEST_P(CryptoKat, CmacRfc4493Examples) {
  EXPECT_EQ(to_hex(aes_cmac(kKey, {})), "bb1d6929e95937287fa37d129b756746");
  EXPECT_EQ(to_hex(aes_cmac(kKey, from_hex(kMsg64.substr(0, 32)))), "070a16b46b4d4144f79bdd9dd04a287c");
  EXPECT_EQ(to_hex(aes_cmac(kKey, from_hex(kMsg64.substr(0, 80)))), "dfa66747de9ae63030ca32611497c827");
  EXPECT_EQ(to_hex(aes_cmac(kKey, from_hex(kMsg64))), "51f0bebf7e3b9d92fc49741779363cfe");
}

TEST_P(CryptoKat, AesCbcSp800_38A_F21) {
  Bytes iv = from_hex("000102030405060708090a0b0c0d0e0f");
  Bytes ct = aes_cbc_encrypt(kKey, iv, from_hex(kMsg64));
  EXPECT_EQ(to_hex(ct),
            "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
            "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7");
  EXPECT_EQ(to_hex(aes_cbc_decrypt(kKey, iv, ct)), kMsg64);
  EXPECT_THROW(aes_cbc_encrypt(kKey, iv, from_hex("00")), CryptoError);
}

TEST_P(CryptoKat, KdfX963Sha256CavsVector) {
  // NIST CAVS ansx963_2001.rsp, [SHA-256] shared secret 192 bits, no SharedInfo, COUNT=0.
  EXPECT_EQ(to_hex(x963_kdf_sha256(from_hex("96c05619d56c328ab95fe84b18264b08725b85e33fd34f08"), {}, 16)),
            "443024c3dae66b95e6f5670601558f71");
}

TEST_P(CryptoKat, GcmRoundTripAndTamper) {
  Bytes key = random_bytes(16), iv = random_bytes(12);
  Bytes ct = aes_gcm_encrypt(key, iv, to_bytes("aad"), to_bytes("secret Ki"));
  EXPECT_EQ(to_string(aes_gcm_decrypt(key, iv, to_bytes("aad"), ct)), "secret Ki");
  ct[0] ^= 1;
  EXPECT_THROW(aes_gcm_decrypt(key, iv, to_bytes("aad"), ct), CryptoError);
}

// RFC 4648 section 10 test vectors both ways, the strictness of section 4
// (alphabet, padding only at the end, no white space), and mbedTLS's coder
// as an independent implementation on every length up to 3 quanta and on a
// BoundProfilePackage-sized buffer.
TEST(Bytes, Base64Rfc4648) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& v : vectors) {
    EXPECT_EQ(to_base64(to_bytes(v.first)), v.second);
    EXPECT_EQ(to_string(from_base64(v.second)), v.first) << v.second;
  }
  for (const char* bad : {"Zg=", "Zg", "Zg==Zg==", "Z===", "====", "Zm9v ", " Zm9vYg=", "Zm9vYg=\n", "Zm=v", "Zm9vYm-y",
                          "Zm9vYm_y"})
    EXPECT_THROW(from_base64(bad), DecodeError) << bad;
  EXPECT_THROW(from_base64(std::string_view("Zm9v\0\0\0\0", 8)), DecodeError);
  for (std::size_t n : {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 255, 256, 257, 13'001}) {
    Bytes data = crypto::random_bytes(n == 0 ? 1 : n);
    data.resize(n);
    std::size_t olen = 0;
    mbedtls_base64_encode(nullptr, 0, &olen, data.data(), data.size());
    std::string ref(olen, '\0');
    ASSERT_EQ(mbedtls_base64_encode(reinterpret_cast<unsigned char*>(ref.data()), ref.size(), &olen, data.data(),
                                    data.size()), 0);
    ref.resize(olen);
    EXPECT_EQ(to_base64(data), ref) << n;
    EXPECT_EQ(from_base64(ref), data) << n;
  }
}

TEST(Bytes, HexBase64) {
  EXPECT_EQ(to_base64(to_bytes("foobar")), "Zm9vYmFy");
  EXPECT_EQ(to_string(from_base64("Zm9vYg==")), "foob");
  EXPECT_THROW(from_base64("Zm9vYg="), DecodeError);
  EXPECT_THROW(from_base64("Zm9v!!=="), DecodeError);
  EXPECT_THROW(from_hex("abc"), DecodeError);
  EXPECT_EQ(to_hex(iccid_to_bcd("894412345678901234")), "984421436587092143");
  EXPECT_EQ(to_hex(iccid_to_bcd("8944123456789012345")), "984421436587092143f5");
  EXPECT_EQ(iccid_from_bcd(from_hex("984421436587092143f5")), "8944123456789012345");
}

TEST(Tlv, TagsAndLengths) {
  Bytes v(300, 0xAB);
  Bytes enc = tlv::make(0xBF36, v);
  EXPECT_EQ(to_hex(Bytes(enc.begin(), enc.begin() + 5)), "bf3682012c");
  auto t = tlv::parse_one(enc);
  EXPECT_EQ(t.tag, 0xBF36u);
  EXPECT_TRUE(t.constructed());
  EXPECT_EQ(t.value.size(), 300u);
  EXPECT_EQ(tlv::make(0x5F37, Bytes(64, 0))[2], 0x40);
  EXPECT_THROW(tlv::parse_one(from_hex("bf3682012c00")), DecodeError);  // truncated
  EXPECT_THROW(tlv::parse_one(from_hex("3080")), DecodeError);          // indefinite
  EXPECT_THROW(tlv::parse_all(from_hex("800100 81")), DecodeError);
}

class EcdsaOpenSsl : public ::testing::TestWithParam<std::tuple<const char*, Backend>> {
 protected:
  void SetUp() override { use_backend(std::get<1>(GetParam())); }
  void TearDown() override { use_backend(Backend::OpenSsl); }
};

TEST_P(EcdsaOpenSsl, VerifiesOpenSslSignatureAndOpenSslVerifiesOurs) {
  std::string suffix = std::get<0>(GetParam());
  std::string sk = sgp26("eUICC/SK_EUICC_ECDSA_" + suffix + ".pem");
  std::string pk = sgp26("eUICC/PK_EUICC_ECDSA_" + suffix + ".pem");
  if (!std::filesystem::exists(sk)) GTEST_SKIP() << "SGP.26 test material absent";
  if (run("command -v openssl").empty()) GTEST_SKIP() << "openssl CLI absent";
  auto dir = std::filesystem::temp_directory_path() /
             ("rsp-ecdsa-" + suffix + "-" + std::string(backend_name(backend())) + "-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string msg = (dir / "msg").string(), sig = (dir / "sig").string();
  std::ofstream(msg, std::ios::binary) << "euiccSigned1 bytes";
  run("openssl dgst -sha256 -sign " + sk + " -out " + sig + " " + msg);
  // DER ECDSA-Sig-Value -> raw r||s
  Bytes der = read_file(sig);
  auto seq = tlv::parse_one(der);
  Bytes raw;
  for (auto& i : tlv::parse_all(seq.value)) {
    ByteView v = i.value;
    while (v.size() > 32 && v[0] == 0) v = v.subspan(1);
    append(raw, Bytes(32 - v.size(), 0));
    append(raw, v);
  }
  EcKey pub = EcKey::from_pem_or_der(read_file(pk));
  EXPECT_TRUE(pub.verify(to_bytes("euiccSigned1 bytes"), raw));
  EXPECT_FALSE(pub.verify(to_bytes("euiccSigned1 bytez"), raw));

  // Ours -> DER -> openssl verify
  EcKey priv = EcKey::from_pem_or_der(read_file(sk));
  Bytes ours = priv.sign(to_bytes("euiccSigned1 bytes"));
  auto int_der = [](ByteView v) {
    while (v.size() > 1 && v[0] == 0 && !(v[1] & 0x80)) v = v.subspan(1);
    Bytes b(v.begin(), v.end());
    if (b[0] & 0x80) b.insert(b.begin(), 0);
    return tlv::make(0x02, b);
  };
  Bytes sigder = tlv::make(0x30, concat(int_der(ByteView(ours).first(32)), int_der(ByteView(ours).last(32))));
  std::ofstream(sig, std::ios::binary).write(reinterpret_cast<const char*>(sigder.data()), static_cast<std::streamsize>(sigder.size()));
  EXPECT_NE(run("openssl dgst -sha256 -verify " + pk + " -signature " + sig + " " + msg).find("Verified OK"), std::string::npos);

  // ECDH against openssl pkeyutl -derive (peer: DPpb key on the same curve)
  std::string peer_pk = sgp26("DPpb/PK_S_SM_DPpb_ECDSA_" + suffix + ".pem");
  std::string z = run("openssl pkeyutl -derive -inkey " + sk + " -peerkey " + peer_pk + " | od -An -tx1 -v | tr -d ' \\n'");
  EcKey peer = EcKey::from_pem_or_der(read_file(peer_pk));
  EXPECT_EQ(to_hex(priv.ecdh(peer.public_point())), z);
  std::filesystem::remove_all(dir);
}
INSTANTIATE_TEST_SUITE_P(Sgp26, EcdsaOpenSsl,
                         ::testing::Combine(::testing::Values("NIST", "BRP"),
                                            ::testing::Values(Backend::OpenSsl, Backend::MbedTls)));

TEST_P(CryptoKat, EcKeyGenerateSignVerifyEcdh) {
  for (auto c : {Curve::P256, Curve::BrainpoolP256r1}) {
    auto a = EcKey::generate(c), b = EcKey::generate(c);
    EXPECT_EQ(a.public_point().size(), 65u);
    auto sig = a.sign(to_bytes("x"));
    EXPECT_EQ(sig.size(), 64u);
    auto pub = EcKey::from_public_point(c, a.public_point());
    EXPECT_TRUE(pub.verify(to_bytes("x"), sig));
    EXPECT_EQ(a.ecdh(b.public_point()), b.ecdh(a.public_point()));
    auto again = EcKey::from_pem_or_der(to_bytes(a.private_pem()));
    EXPECT_EQ(again.public_point(), a.public_point());
  }
}

// secp256k1 through libsecp256k1: the public key of d = 1 is the generator
// (SEC 2 2.4.1), and the RFC 6979 signature of "Satoshi Nakamoto" with d = 1
// is the widely published deterministic vector (low-s form).
TEST_P(CryptoKat, Secp256k1Sec2GeneratorAndRfc6979Vector) {
  Bytes one(32, 0);
  one[31] = 1;
  auto k = EcKey::from_private_scalar(Curve::Secp256k1, one);
  EXPECT_EQ(k.curve(), Curve::Secp256k1);
  EXPECT_EQ(to_hex(k.public_point()),
            "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
            "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8");
  Bytes sig = k.sign(to_bytes("Satoshi Nakamoto"));
  EXPECT_EQ(to_hex(sig), "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8"
                         "2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5");
  auto pub = EcKey::from_public_point(Curve::Secp256k1, k.public_point());
  EXPECT_TRUE(pub.verify(to_bytes("Satoshi Nakamoto"), sig));
  EXPECT_FALSE(pub.verify(to_bytes("Satoshi Nakamoto."), sig));
  // The high-s twin (n - s) is the same ECDSA signature: accepted.
  Bytes n = from_hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
  Bytes hi = sig;
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    int v = n[static_cast<std::size_t>(i)] - sig[32 + static_cast<std::size_t>(i)] - borrow;
    borrow = v < 0;
    hi[32 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v + (borrow ? 256 : 0));
  }
  EXPECT_TRUE(pub.verify(to_bytes("Satoshi Nakamoto"), hi));
  Bytes bad = sig;
  bad[10] ^= 1;
  EXPECT_FALSE(pub.verify(to_bytes("Satoshi Nakamoto"), bad));
  EXPECT_EQ(crypto::curve_from_name("secp256k1"), Curve::Secp256k1);
}

// DES and 3DES (ETSI TS 102 225 ciphers) against the openssl command line:
//   printf 000102030405060708090a0b0c0d0e0f1011121314151617 | xxd -r -p |
//     openssl enc [-provider legacy -provider default] -des-cbc|-des-ede-cbc|-des-ede3-cbc -nopad -K KEY -iv 0000000000000000
TEST_P(CryptoKat, DesCbcMatchesOpenssl) {
  using namespace rsp;
  Bytes iv(8, 0), data = from_hex("000102030405060708090a0b0c0d0e0f1011121314151617");
  struct {
    const char* key;
    const char* cipher;
  } v[] = {
      {"0123456789abcdef", "3260266c2cf202e279cf70cd1dac09a5b218e9ca8b9251f2"},
      {"0123456789abcdeffedcba9876543210", "52c5c0705d9089e1fd2f0cf61dd3bc0ac0a3e54b8860076a"},
      {"0123456789abcdeffedcba987654321089abcdef01234567", "98f447d72bee8df72fc757753238f778ad817caff7455ead"},
  };
  for (const auto& t : v) {
    SCOPED_TRACE(t.key);
    EXPECT_EQ(to_hex(crypto::des_cbc_encrypt(from_hex(t.key), iv, data)), t.cipher);
    EXPECT_EQ(crypto::des_cbc_decrypt(from_hex(t.key), iv, from_hex(t.cipher)), data);
  }
  EXPECT_THROW(crypto::des_cbc_encrypt(from_hex("0011223344556677aa"), iv, data), crypto::CryptoError);
  EXPECT_THROW(crypto::des_cbc_encrypt(from_hex("0123456789abcdef"), iv, from_hex("0001")), crypto::CryptoError);
}
