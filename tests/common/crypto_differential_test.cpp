// Differential test of rsp::crypto's two implementations (issue 12, must-show
// 3): OpenSSL 3 (the servers) and mbedTLS 2.28 (the card side) must agree on
// every operation the product uses, on P-256 and brainpoolP256r1: the same
// bytes where the output is deterministic, each other's signatures, keys and
// ciphertexts accepted, and the same refusals (CryptoError) of bad input.
// Inputs come from a seeded generator; the seed is printed and can be set
// with RSP_DIFF_SEED to replay a failure.
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdlib>
#include <functional>
#include <iostream>
#include <optional>
#include <random>
#include <string>

#include "rsp/crypto.hpp"
#include "rsp/crypto_backend.hpp"

using namespace rsp;
using namespace rsp::crypto;

namespace {

constexpr Backend kBoth[] = {Backend::OpenSsl, Backend::MbedTls};
constexpr Curve kCurves[] = {Curve::P256, Curve::BrainpoolP256r1};

std::uint64_t seed() {
  static const std::uint64_t s = [] {
    const char* e = std::getenv("RSP_DIFF_SEED");
    std::uint64_t v = e ? std::strtoull(e, nullptr, 0) : 20261203u;
    std::cout << "crypto differential test: seed " << v << " (set RSP_DIFF_SEED to replay)\n";
    return v;
  }();
  return s;
}

struct Rng {
  std::mt19937_64 g;
  explicit Rng(std::uint64_t salt) : g(seed() ^ (salt * 0x9E3779B97F4A7C15ull)) {}
  std::size_t upto(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n)(g); }
  Bytes bytes(std::size_t n) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<std::uint8_t>(g());
    return b;
  }
};

// Runs f with the process's backend set to b, restoring OpenSSL after.
struct BackendScope {
  explicit BackendScope(Backend b) { use_backend(b); }
  ~BackendScope() { use_backend(Backend::OpenSsl); }
};

// f's result under one backend: its bytes, or nullopt if it threw CryptoError.
// Any other exception fails the test (both must refuse in the same terms).
std::optional<Bytes> under(Backend b, const std::function<Bytes()>& f) {
  BackendScope s(b);
  try {
    return f();
  } catch (const CryptoError&) {
    return std::nullopt;
  }
}

// Both backends return the same bytes, or both throw CryptoError. Returns the
// OpenSSL result.
std::optional<Bytes> same(const std::function<Bytes()>& f, const std::string& what) {
  auto a = under(Backend::OpenSsl, f);
  auto b = under(Backend::MbedTls, f);
  EXPECT_EQ(a.has_value(), b.has_value()) << what << ": one backend threw, the other did not ("
                                          << (a ? "OpenSSL" : "mbedTLS") << " succeeded)";
  if (a && b) {
    EXPECT_EQ(to_hex(*a), to_hex(*b)) << what;
  }
  return a;
}

void both_refuse(const std::function<Bytes()>& f, const std::string& what) {
  for (Backend b : kBoth) EXPECT_FALSE(under(b, f).has_value()) << what << " accepted by " << backend_name(b);
}

Bytes sv(const SecretBytes& s) { return Bytes(s.begin(), s.end()); }

EcKey make_key(Backend b, Curve c) {
  BackendScope s(b);
  return EcKey::generate(c);
}
EcKey pub_key(Backend b, Curve c, ByteView point) {
  BackendScope s(b);
  return EcKey::from_public_point(c, point);
}
EcKey read_key(Backend b, ByteView data) {
  BackendScope s(b);
  return EcKey::from_pem_or_der(data);
}

// Curve orders n (SEC 2 2.4.2, RFC 5639 3.4) and primes p.
Bytes order_of(Curve c) {
  return from_hex(c == Curve::P256 ? "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"
                                   : "a9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a7");
}
Bytes prime_of(Curve c) {
  return from_hex(c == Curve::P256 ? "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff"
                                   : "a9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e5377");
}
std::string tag(Curve c) { return std::string(curve_name(c)); }

// The implementation a private key lives in, as its errors name it (EcKey
// does not say; this keeps the test from comparing one backend with itself
// should the dispatch break): ECDH with (1, 1), on neither curve.
Backend lib_of(const EcKey& k) {
  Bytes bad(65, 0);
  bad[0] = 0x04;
  bad[32] = 1;
  bad[64] = 1;
  try {
    (void)k.ecdh(bad);
  } catch (const CryptoError& e) {
    std::string m = e.what();
    if (m.find("(mbedTLS") != std::string::npos) return Backend::MbedTls;
    if (m.find("(OpenSSL") != std::string::npos) return Backend::OpenSsl;
    ADD_FAILURE() << "ECDH error names no library: " << m;
  }
  ADD_FAILURE() << "ECDH with (1, 1) accepted";
  return Backend::OpenSsl;
}

}  // namespace

TEST(CryptoDifferential, HashesAndHmac) {
  Rng r(1);
  for (int i = 0; i < 400; ++i) {
    Bytes m = r.bytes(r.upto(i < 200 ? 70 : 1100));
    Bytes k = r.bytes(r.upto(100));
    same([&] { return sha256(m); }, "sha256");
    same([&] { return sha1(m); }, "sha1");
    same([&] { return hmac_sha256(k, m); }, "hmac_sha256");
  }
}

TEST(CryptoDifferential, AesCbcEcbCmac) {
  Rng r(2);
  for (int i = 0; i < 400; ++i) {
    std::size_t kl = std::size_t{16} + 8 * r.upto(2);
    Bytes k = r.bytes(kl), iv = r.bytes(16), d = r.bytes(16 * r.upto(20)), m = r.bytes(r.upto(300));
    auto ct = same([&] { return aes_cbc_encrypt(k, iv, d); }, "aes_cbc_encrypt");
    ASSERT_TRUE(ct);
    EXPECT_EQ(same([&] { return aes_cbc_decrypt(k, iv, *ct); }, "aes_cbc_decrypt"), d);
    same([&] { return aes_ecb_encrypt_block(k, ByteView(iv)); }, "aes_ecb_encrypt_block");
    same([&] { return aes_cmac(k, m); }, "aes_cmac");
  }
  Bytes k = r.bytes(16), iv = r.bytes(16);
  both_refuse([&] { return aes_cbc_encrypt(k, iv, Bytes(15)); }, "CBC, 15 bytes");
  both_refuse([&] { return aes_cbc_decrypt(k, iv, Bytes(17)); }, "CBC decrypt, 17 bytes");
  both_refuse([&] { return aes_cbc_encrypt(k, Bytes(8), Bytes(16)); }, "CBC, 8-byte IV");
  both_refuse([&] { return aes_cbc_encrypt(Bytes(15), iv, Bytes(16)); }, "CBC, 15-byte key");
  both_refuse([&] { return aes_ecb_encrypt_block(k, Bytes(15)); }, "ECB, 15 bytes");
  both_refuse([&] { return aes_ecb_encrypt_block(Bytes(20), Bytes(16)); }, "ECB, 20-byte key");
  both_refuse([&] { return aes_cmac(Bytes(17), Bytes(3)); }, "CMAC, 17-byte key");
}

TEST(CryptoDifferential, AesGcmIncludingTagFailure) {
  Rng r(3);
  for (int i = 0; i < 300; ++i) {
    std::size_t kl = std::size_t{16} + 8 * r.upto(2);
    std::size_t ivl = i % 10 == 0 ? 1 + r.upto(31) : 12;  // the product uses 12; others must agree too
    Bytes k = r.bytes(kl), iv = r.bytes(ivl), aad = r.bytes(r.upto(40)), p = r.bytes(r.upto(200));
    auto ct = same([&] { return aes_gcm_encrypt(k, iv, aad, p); }, "aes_gcm_encrypt");
    ASSERT_TRUE(ct);
    EXPECT_EQ(same([&] { return aes_gcm_decrypt(k, iv, aad, *ct); }, "aes_gcm_decrypt"), p);
    // Any flipped bit (cipher text or tag), other AAD or IV: refused by both.
    Bytes bad = *ct;
    bad[r.upto(bad.size() - 1)] ^= static_cast<std::uint8_t>(1u << r.upto(7));
    both_refuse([&] { return aes_gcm_decrypt(k, iv, aad, bad); }, "GCM, flipped bit");
    Bytes aad2 = aad;
    aad2.push_back(0);
    both_refuse([&] { return aes_gcm_decrypt(k, iv, aad2, *ct); }, "GCM, other AAD");
    Bytes iv2 = iv;
    iv2[0] ^= 0x80;
    both_refuse([&] { return aes_gcm_decrypt(k, iv2, aad, *ct); }, "GCM, other IV");
  }
  Bytes k = r.bytes(16), iv = r.bytes(12);
  both_refuse([&] { return aes_gcm_decrypt(k, iv, {}, Bytes(15)); }, "GCM, shorter than the tag");
  both_refuse([&] { return aes_gcm_encrypt(k, {}, {}, Bytes(4)); }, "GCM, empty IV");
  both_refuse([&] { return aes_gcm_encrypt(Bytes(10), iv, {}, Bytes(4)); }, "GCM, 10-byte key");
}

TEST(CryptoDifferential, DesAnd3des) {
  Rng r(4);
  for (int i = 0; i < 300; ++i) {
    std::size_t kl = std::size_t{8} * (1 + r.upto(2));
    Bytes k = r.bytes(kl), iv = r.bytes(8), d = r.bytes(8 * r.upto(30));
    auto ct = same([&] { return des_cbc_encrypt(k, iv, d); }, "des_cbc_encrypt, key " + std::to_string(kl));
    ASSERT_TRUE(ct);
    EXPECT_EQ(same([&] { return des_cbc_decrypt(k, iv, *ct); }, "des_cbc_decrypt"), d);
  }
  both_refuse([&] { return des_cbc_encrypt(Bytes(9), Bytes(8), Bytes(8)); }, "DES, 9-byte key");
  both_refuse([&] { return des_cbc_encrypt(Bytes(16), Bytes(16), Bytes(8)); }, "DES, 16-byte IV");
  both_refuse([&] { return des_cbc_decrypt(Bytes(24), Bytes(8), Bytes(12)); }, "DES, 12 bytes");
}

TEST(CryptoDifferential, X963Kdf) {
  Rng r(5);
  for (int i = 0; i < 400; ++i) {
    Bytes z = r.bytes(i < 10 ? 0 : r.upto(66)), info = r.bytes(r.upto(80));
    std::size_t n = r.upto(100);
    same([&] { return x963_kdf_sha256(z, info, n); }, "x963_kdf_sha256");
  }
}

TEST(CryptoDifferential, PublicPointFromScalar) {
  Rng r(6);
  for (Curve c : kCurves) {
    Bytes n = order_of(c);
    Bytes n_1 = n;
    n_1[31] -= 1;
    Bytes one(32, 0);
    one[31] = 1;
    std::vector<Bytes> scalars{one, n_1};
    for (int i = 0; i < 40; ++i) {
      Bytes d = r.bytes(32);
      d[0] &= 0x7F;  // below n on both curves
      scalars.push_back(d);
    }
    for (const auto& d : scalars) {
      auto q = same([&] { return EcKey::from_private_scalar(c, d).public_point(); }, tag(c) + " d*G");
      ASSERT_TRUE(q);
      EXPECT_EQ(q->size(), 65u);
      same([&] { return sv(EcKey::from_private_scalar(c, d).private_scalar()); }, tag(c) + " scalar round trip");
    }
    // d = 0, d = n, d > n: not a private key, for either.
    Bytes n_plus = n;
    n_plus[31] += 1;
    for (const auto& d : {Bytes(32, 0), n, n_plus, Bytes(32, 0xFF)})
      both_refuse([&] { return EcKey::from_private_scalar(c, d).public_point(); }, tag(c) + " scalar " + to_hex(d));
  }
}

TEST(CryptoDifferential, SignaturesCrossVerify) {
  Rng r(7);
  for (Curve c : kCurves) {
    for (int i = 0; i < 24; ++i) {
      for (Backend signer : kBoth) {
        EcKey k = make_key(signer, c);
        ASSERT_EQ(lib_of(k), signer);
        Bytes m = r.bytes(r.upto(300));
        Bytes sig = k.sign(m);
        Bytes sig_d = k.sign_digest(sha256(m));  // as the SM-DP+ signs precomputed digests
        ASSERT_EQ(sig.size(), 64u);
        for (Backend verifier : kBoth) {
          SCOPED_TRACE(tag(c) + " signed by " + std::string(backend_name(signer)) + ", verified by " +
                       std::string(backend_name(verifier)));
          EcKey pub = pub_key(verifier, c, k.public_point());
          EXPECT_TRUE(pub.verify(m, sig));
          EXPECT_TRUE(pub.verify(m, sig_d));
          Bytes m2 = m;
          m2.push_back(0);
          EXPECT_FALSE(pub.verify(m2, sig));
          Bytes bad = sig;
          bad[r.upto(63)] ^= static_cast<std::uint8_t>(1u << r.upto(7));
          EXPECT_FALSE(pub.verify(m, bad));
          // Malformed signatures: wrong lengths, r or s zero or >= n.
          Bytes n = order_of(c);
          EXPECT_FALSE(pub.verify(m, Bytes(sig.begin(), sig.end() - 1)));
          EXPECT_FALSE(pub.verify(m, concat(sig, Bytes{0})));
          EXPECT_FALSE(pub.verify(m, {}));
          EXPECT_FALSE(pub.verify(m, Bytes(64, 0)));
          EXPECT_FALSE(pub.verify(m, concat(Bytes(32, 0), Bytes(sig.begin() + 32, sig.end()))));
          EXPECT_FALSE(pub.verify(m, concat(Bytes(sig.begin(), sig.begin() + 32), Bytes(32, 0))));
          EXPECT_FALSE(pub.verify(m, concat(n, Bytes(sig.begin() + 32, sig.end()))));
          EXPECT_FALSE(pub.verify(m, concat(Bytes(sig.begin(), sig.begin() + 32), n)));
          EXPECT_FALSE(pub.verify(m, Bytes(64, 0xFF)));
          // A key signs for itself only.
          EXPECT_FALSE(pub_key(verifier, c, make_key(verifier, c).public_point()).verify(m, sig));
        }
      }
    }
  }
}

TEST(CryptoDifferential, EcdhBothWaysAcrossBackends) {
  for (Curve c : kCurves) {
    for (int i = 0; i < 16; ++i) {
      EcKey a_o = make_key(Backend::OpenSsl, c), b_m = make_key(Backend::MbedTls, c);
      // The same key in the other implementation (through its scalar).
      EcKey a_m = [&] {
        BackendScope s(Backend::MbedTls);
        return EcKey::from_private_scalar(c, a_o.private_scalar());
      }();
      EcKey b_o = [&] {
        BackendScope s(Backend::OpenSsl);
        return EcKey::from_private_scalar(c, b_m.private_scalar());
      }();
      ASSERT_EQ(a_m.public_point(), a_o.public_point());
      ASSERT_EQ(b_o.public_point(), b_m.public_point());
      SecretBytes z = a_o.ecdh(b_m.public_point());
      EXPECT_EQ(z.size(), 32u);
      EXPECT_EQ(sv(a_m.ecdh(b_m.public_point())), sv(z)) << tag(c);
      EXPECT_EQ(sv(b_m.ecdh(a_o.public_point())), sv(z)) << tag(c);
      EXPECT_EQ(sv(b_o.ecdh(a_m.public_point())), sv(z)) << tag(c);
    }
  }
}

TEST(CryptoDifferential, KeyEncodingsReadByTheOther) {
  for (Curve c : kCurves) {
    for (int i = 0; i < 12; ++i) {
      for (Backend maker : kBoth) {
        EcKey k = make_key(maker, c);
        std::string pem = k.private_pem();
        Bytes spki = k.public_der();
        Backend other = maker == Backend::OpenSsl ? Backend::MbedTls : Backend::OpenSsl;
        SCOPED_TRACE(tag(c) + " made by " + std::string(backend_name(maker)));
        EcKey k2 = read_key(other, to_bytes(pem));
        EXPECT_EQ(lib_of(k2), other);
        EXPECT_EQ(k2.curve(), c);
        EXPECT_TRUE(k2.has_private());
        EXPECT_EQ(k2.public_point(), k.public_point());
        EXPECT_EQ(sv(k2.private_scalar()), sv(k.private_scalar()));
        // Both write the same SEC1 PEM and SPKI DER (RFC 5915 / RFC 5480, named curve).
        EXPECT_EQ(k2.private_pem(), pem);
        EXPECT_EQ(to_hex(k2.public_der()), to_hex(spki));
        EcKey p2 = read_key(other, spki);
        EXPECT_FALSE(p2.has_private());
        EXPECT_EQ(p2.public_point(), k.public_point());
        EXPECT_TRUE(p2.verify(to_bytes("m"), k.sign(to_bytes("m"))));
        both_refuse([&] { return p2.private_scalar(); }, "private scalar of a public key");
        both_refuse([&] { return p2.sign(to_bytes("m")); }, "signing with a public key");
      }
    }
  }
}

// PKCS#8 (PEM and DER), SEC1 DER and SubjectPublicKeyInfo PEM, written by
// OpenSSL's own encoders: each read by both implementations to the same key.
TEST(CryptoDifferential, Pkcs8Sec1DerAndSpkiPemFromOpenSslEncoders) {
  for (Curve c : kCurves) {
    EcKey k = make_key(Backend::OpenSsl, c);
    std::string pem = k.private_pem();
    BIO* in = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    EVP_PKEY* pk = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
    BIO_free(in);
    ASSERT_NE(pk, nullptr);
    auto bio_bytes = [](const std::function<int(BIO*)>& w) {
      BIO* b = BIO_new(BIO_s_mem());
      EXPECT_EQ(w(b), 1);
      char* p = nullptr;
      long n = BIO_get_mem_data(b, &p);
      Bytes out(p, p + n);
      BIO_free(b);
      return out;
    };
    Bytes p8pem = bio_bytes([&](BIO* b) { return PEM_write_bio_PKCS8PrivateKey(b, pk, nullptr, nullptr, 0, nullptr, nullptr); });
    Bytes p8der = bio_bytes([&](BIO* b) { return i2d_PKCS8PrivateKey_bio(b, pk, nullptr, nullptr, 0, nullptr, nullptr); });
    Bytes sec1der = bio_bytes([&](BIO* b) { return i2d_PrivateKey_bio(b, pk); });
    Bytes spkipem = bio_bytes([&](BIO* b) { return PEM_write_bio_PUBKEY(b, pk); });
    // `openssl ecparam -genkey` output (as SGP.26's DPauth keys): EC PARAMETERS, then the key.
    Bytes with_params = bio_bytes([&](BIO* b) { return PEM_write_bio_Parameters(b, pk); });
    ASSERT_NE(to_string(with_params).find("BEGIN EC PARAMETERS"), std::string::npos);
    append(with_params, to_bytes(pem));
    EVP_PKEY_free(pk);
    ASSERT_NE(to_string(p8pem).find("BEGIN PRIVATE KEY"), std::string::npos);
    for (const Bytes* enc : {&p8pem, &p8der, &sec1der, &with_params}) {
      auto d = same([&] { return sv(EcKey::from_pem_or_der(*enc).private_scalar()); }, tag(c) + " private encoding");
      EXPECT_EQ(d, sv(k.private_scalar()));
    }
    auto q = same([&] { return EcKey::from_pem_or_der(spkipem).public_point(); }, tag(c) + " SPKI PEM");
    EXPECT_EQ(q, k.public_point());
  }
}

TEST(CryptoDifferential, MalformedPointsAndKeysRefusedByBoth) {
  Rng r(8);
  for (Curve c : kCurves) {
    EcKey k = make_key(Backend::OpenSsl, c);
    Bytes q = k.public_point();
    Bytes x(q.begin() + 1, q.begin() + 33);
    Bytes off = q;
    off[64] ^= 1;  // y + 1 (or - 1): not on the curve
    Bytes big_x = concat(Bytes{0x04}, prime_of(c), Bytes(q.begin() + 33, q.end()));  // x = p
    Bytes compressed = concat(Bytes{static_cast<std::uint8_t>(0x02 | (q[64] & 1))}, x);
    std::vector<std::pair<std::string, Bytes>> bad{
        {"off the curve", off},
        {"x = p", big_x},
        {"infinity (00)", Bytes{0x00}},
        {"all zero", concat(Bytes{0x04}, Bytes(64, 0))},
        {"compressed", compressed},
        {"hybrid 06", concat(Bytes{0x06}, Bytes(q.begin() + 1, q.end()))},
        {"64 bytes", Bytes(q.begin(), q.end() - 1)},
        {"66 bytes", concat(q, Bytes{0})},
        {"empty", {}},
        {"random", r.bytes(65)},
    };
    bad.back().second[0] = 0x04;
    for (const auto& [what, p] : bad) {
      const Bytes pt = p;
      both_refuse([&] { return EcKey::from_public_point(c, pt).public_point(); }, tag(c) + " public point " + what);
      for (Backend b : kBoth) {
        EcKey mine = make_key(b, c);
        EXPECT_THROW(mine.ecdh(pt), CryptoError) << tag(c) << " ECDH with " << what << " by " << backend_name(b);
      }
    }
    // A point of the other curve is (almost surely) not on this one.
    Curve other = c == Curve::P256 ? Curve::BrainpoolP256r1 : Curve::P256;
    both_refuse([&] { return EcKey::from_public_point(c, make_key(Backend::OpenSsl, other).public_point()).public_point(); },
                tag(c) + " point of the other curve");
    // Private scalars of the wrong size or zero.
    both_refuse([&] { return EcKey::from_private_scalar(c, {}).public_point(); }, tag(c) + " empty scalar");
  }
  // Not a key at all, truncated, or a key on a curve SGP.22 does not use.
  std::string pem = make_key(Backend::OpenSsl, Curve::P256).private_pem();
  Bytes der = make_key(Backend::OpenSsl, Curve::P256).public_der();
  both_refuse([&] { return EcKey::from_pem_or_der(to_bytes("hello")).public_point(); }, "garbage");
  both_refuse([&] { return EcKey::from_pem_or_der({}).public_point(); }, "empty");
  both_refuse([&] { return EcKey::from_pem_or_der(to_bytes(pem.substr(0, pem.size() / 2))).public_point(); }, "half a PEM");
  both_refuse([&] { return EcKey::from_pem_or_der(Bytes(der.begin(), der.end() - 3)).public_point(); }, "truncated SPKI");
  both_refuse([&] { return EcKey::from_pem_or_der(to_bytes(EcKey::generate(Curve::Secp256k1).private_pem())).public_point(); },
              "secp256k1 PEM");
  EVP_PKEY* rsa = EVP_RSA_gen(1024);
  ASSERT_NE(rsa, nullptr);
  unsigned char* p = nullptr;
  int n = i2d_PUBKEY(rsa, &p);
  Bytes rsa_der(p, p + n);
  OPENSSL_free(p);
  EVP_PKEY_free(rsa);
  both_refuse([&] { return EcKey::from_pem_or_der(rsa_der).public_point(); }, "RSA SPKI");
}

// Keys keep their implementation across a switch of the process's backend,
// and keys of both mix (what the in-process tests do when a simulator and a
// server share a process).
TEST(CryptoDifferential, KeysKeepTheirBackendAcrossASwitch) {
  EcKey o = make_key(Backend::OpenSsl, Curve::P256);
  EcKey m = make_key(Backend::MbedTls, Curve::BrainpoolP256r1);
  for (Backend now : kBoth) {
    BackendScope s(now);
    EXPECT_EQ(backend(), now);
    EXPECT_EQ(lib_of(o), Backend::OpenSsl);
    EXPECT_EQ(lib_of(m), Backend::MbedTls);
    EXPECT_TRUE(o.verify(to_bytes("x"), o.sign(to_bytes("x"))));
    EXPECT_TRUE(m.verify(to_bytes("x"), m.sign(to_bytes("x"))));
    EXPECT_NE(o.native_pk(), nullptr);  // the X.509 writer's view of an OpenSSL key
    EXPECT_NE(m.native_pk(), nullptr);
  }
  EXPECT_EQ(lib_of(EcKey::generate(Curve::Secp256k1)), Backend::MbedTls);  // libsecp256k1's side
  EXPECT_THROW(EcKey().public_point(), CryptoError);
}
