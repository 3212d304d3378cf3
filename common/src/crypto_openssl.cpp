// rsp::crypto on OpenSSL 3: the servers' implementation (docs/architecture.md,
// "Crypto backends"). Only OpenSSL 3 APIs (EVP_PKEY, EVP_MAC, EVP_CIPHER,
// EVP_KDF, OSSL_PARAM; none deprecated). The algorithms are fetched once per
// process and an EcKey keeps its EVP_PKEY (and its public point), so a call
// costs the operation itself: no decoding of keys, no provider look-ups of the
// digest or cipher per call.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <climits>
#include <cstring>
#include <mutex>
#include <string>

#include "crypto_impl.hpp"

namespace rsp::crypto {

namespace {

// Throws with OpenSSL's reason, and leaves the thread's error queue empty:
// the TLS code on the same thread reads that queue (SSL_get_error).
[[noreturn]] void fail(const char* what) {
  unsigned long e = ERR_peek_last_error();
  std::string msg = std::string(what) + " failed (OpenSSL";
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    msg += std::string(": ") + buf;
  }
  msg += ")";
  ERR_clear_error();
  throw CryptoError(msg);
}
void check(int ok, const char* what) {
  if (ok <= 0) fail(what);
}

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using PctxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, Deleter<EVP_MAC_CTX, EVP_MAC_CTX_free>>;
using KdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, Deleter<EVP_KDF_CTX, EVP_KDF_CTX_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_clear_free>>;
using PointPtr = std::unique_ptr<EC_POINT, Deleter<EC_POINT, EC_POINT_free>>;
using SigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

// The algorithms, fetched from the default provider once (OpenSSL 3's
// "explicit fetching": implicit fetches by name cost a locked look-up per call).
struct Algorithms {
  EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD* sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  EVP_CIPHER* aes_cbc[3] = {EVP_CIPHER_fetch(nullptr, "AES-128-CBC", nullptr),
                            EVP_CIPHER_fetch(nullptr, "AES-192-CBC", nullptr),
                            EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr)};
  EVP_CIPHER* aes_ecb[3] = {EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr),
                            EVP_CIPHER_fetch(nullptr, "AES-192-ECB", nullptr),
                            EVP_CIPHER_fetch(nullptr, "AES-256-ECB", nullptr)};
  EVP_CIPHER* aes_gcm[3] = {EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr),
                            EVP_CIPHER_fetch(nullptr, "AES-192-GCM", nullptr),
                            EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr)};
  // Single DES lives in OpenSSL 3's legacy provider; DES-EDE3 with K1 = K2 =
  // K3 is single DES (E_K D_K E_K = E_K), so the default provider suffices.
  EVP_CIPHER* des_ede_cbc = EVP_CIPHER_fetch(nullptr, "DES-EDE-CBC", nullptr);
  EVP_CIPHER* des_ede3_cbc = EVP_CIPHER_fetch(nullptr, "DES-EDE3-CBC", nullptr);
  EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC* cmac = EVP_MAC_fetch(nullptr, "CMAC", nullptr);
  EVP_KDF* x963 = EVP_KDF_fetch(nullptr, "X963KDF", nullptr);
  EC_GROUP* p256 = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  EC_GROUP* bp256 = EC_GROUP_new_by_curve_name(NID_brainpoolP256r1);
  Algorithms() {
    bool ok = sha256 && sha1 && des_ede_cbc && des_ede3_cbc && hmac && cmac && x963 && p256 && bp256;
    for (int i = 0; i < 3; ++i) ok = ok && aes_cbc[i] && aes_ecb[i] && aes_gcm[i];
    if (!ok) fail("fetching OpenSSL algorithms");
  }
  // Never freed: used until exit, from every thread.
};

const Algorithms& algs() {
  static const Algorithms a;
  return a;
}

std::size_t aes_index(ByteView key) {
  require_aes_key(key);
  return key.size() == 16 ? 0 : key.size() == 24 ? 1 : 2;
}

const char* group_name(Curve c) {
  switch (c) {
    case Curve::P256: return SN_X9_62_prime256v1;  // "prime256v1"
    case Curve::BrainpoolP256r1: return SN_brainpoolP256r1;
    case Curve::Secp256k1: break;
  }
  throw CryptoError("curve not in the OpenSSL backend");
}

const EC_GROUP* group_of(Curve c) {
  switch (c) {
    case Curve::P256: return algs().p256;
    case Curve::BrainpoolP256r1: return algs().bp256;
    case Curve::Secp256k1: break;
  }
  throw CryptoError("curve not in the OpenSSL backend");
}

// Both implementations accept only the uncompressed form 04||X||Y (mbedTLS
// 2.28 reads no other), so the OpenSSL side refuses the rest up front.
void require_uncompressed(ByteView point) {
  if (point.size() != 65 || point[0] != 0x04) throw CryptoError("EC point is not an uncompressed 65-byte point (04||X||Y)");
}

// An EC EVP_PKEY from its parts (the public point is checked to lie on the
// curve by the import, EC_POINT_oct2point).
PkeyPtr pkey_from(Curve c, ByteView pub, const BIGNUM* priv) {
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  if (!bld) fail("OSSL_PARAM_BLD_new");
  int ok = OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group_name(c), 0) &&
           OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub.data(), pub.size()) &&
           (!priv || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv));
  OSSL_PARAM* params = ok ? OSSL_PARAM_BLD_to_param(bld) : nullptr;
  OSSL_PARAM_BLD_free(bld);
  if (!params) fail("building EC key parameters");
  EVP_PKEY* pkey = nullptr;
  PctxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  ok = ctx && EVP_PKEY_fromdata_init(ctx.get()) > 0 &&
       EVP_PKEY_fromdata(ctx.get(), &pkey, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) > 0;
  OSSL_PARAM_free(params);
  if (!ok) fail(priv ? "EC private key import" : "EC public point import");
  return PkeyPtr(pkey);
}

}  // namespace

namespace ossl {

Bytes random_bytes(std::size_t n) {
  Bytes out(n);
  for (std::size_t off = 0; off < n; off += INT_MAX)
    check(RAND_bytes(out.data() + off, static_cast<int>(std::min<std::size_t>(INT_MAX, n - off))), "RAND_bytes");
  return out;
}

static Bytes digest(const EVP_MD* md, std::size_t len, ByteView data) {
  Bytes out(len);
  check(EVP_Digest(data.data(), data.size(), out.data(), nullptr, md, nullptr), "digest");
  return out;
}
Bytes sha256(ByteView data) { return digest(algs().sha256, 32, data); }
Bytes sha1(ByteView data) { return digest(algs().sha1, 20, data); }

static Bytes mac(EVP_MAC* alg, const char* param, const char* value, ByteView key, ByteView data, std::size_t len,
                 const char* what) {
  MacCtxPtr ctx(EVP_MAC_CTX_new(alg));
  if (!ctx) fail(what);
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(param, const_cast<char*>(value), 0), OSSL_PARAM_construct_end()};
  static const unsigned char empty = 0;  // a NULL key means "keep the previous one" to EVP_MAC_init
  Bytes out(len);
  std::size_t outl = 0;
  check(EVP_MAC_init(ctx.get(), key.empty() ? &empty : key.data(), key.size(), params), what);
  check(EVP_MAC_update(ctx.get(), data.data(), data.size()), what);
  check(EVP_MAC_final(ctx.get(), out.data(), &outl, out.size()), what);
  if (outl != len) throw CryptoError(std::string(what) + ": unexpected length");
  return out;
}

Bytes hmac_sha256(ByteView key, ByteView data) {
  return mac(algs().hmac, OSSL_MAC_PARAM_DIGEST, "SHA256", key, data, 32, "hmac");
}

Bytes aes_cmac(ByteView key, ByteView data) {
  static const char* const names[] = {"AES-128-CBC", "AES-192-CBC", "AES-256-CBC"};
  return mac(algs().cmac, OSSL_MAC_PARAM_CIPHER, names[aes_index(key)], key, data, 16, "aes_cmac");
}

// One pass of a block cipher without padding; the caller checked the lengths.
static Bytes block_cipher(const EVP_CIPHER* cipher, int enc, ByteView key, const unsigned char* iv, ByteView data,
                          const char* what) {
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) fail(what);
  check(EVP_CipherInit_ex2(ctx.get(), cipher, key.data(), iv, enc, nullptr), what);
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
  Bytes out(data.size() + 16);
  int n1 = 0, n2 = 0;
  if (!data.empty()) check(EVP_CipherUpdate(ctx.get(), out.data(), &n1, data.data(), static_cast<int>(data.size())), what);
  check(EVP_CipherFinal_ex(ctx.get(), out.data() + n1, &n2), what);
  out.resize(static_cast<std::size_t>(n1 + n2));
  return out;
}

static Bytes aes_cbc(int enc, ByteView key, ByteView iv, ByteView data) {
  std::size_t i = aes_index(key);
  if (iv.size() != 16) throw CryptoError("AES-CBC IV must be 16 bytes");
  if (data.size() % 16 != 0) throw CryptoError("AES-CBC data is not a multiple of the block size");
  return block_cipher(algs().aes_cbc[i], enc, key, iv.data(), data, "aes_cbc");
}
Bytes aes_cbc_encrypt(ByteView key, ByteView iv, ByteView data) { return aes_cbc(1, key, iv, data); }
Bytes aes_cbc_decrypt(ByteView key, ByteView iv, ByteView data) { return aes_cbc(0, key, iv, data); }

Bytes aes_ecb_encrypt_block(ByteView key, ByteView block16) {
  std::size_t i = aes_index(key);
  if (block16.size() != 16) throw CryptoError("AES-ECB block must be 16 bytes");
  return block_cipher(algs().aes_ecb[i], 1, key, nullptr, block16, "aes_ecb");
}

static Bytes des_cbc(int enc, ByteView key, ByteView iv, ByteView data) {
  if (key.size() != 8 && key.size() != 16 && key.size() != 24) throw CryptoError("DES key must be 8, 16 or 24 bytes");
  if (iv.size() != 8) throw CryptoError("DES-CBC IV must be 8 bytes");
  if (data.size() % 8 != 0) throw CryptoError("DES-CBC data is not a multiple of the block size");
  if (key.size() == 16) return block_cipher(algs().des_ede_cbc, enc, key, iv.data(), data, "des_cbc");
  if (key.size() == 24) return block_cipher(algs().des_ede3_cbc, enc, key, iv.data(), data, "des_cbc");
  SecretBytes k3(24);
  for (std::size_t i = 0; i < 24; ++i) k3[i] = key[i % 8];
  return block_cipher(algs().des_ede3_cbc, enc, k3, iv.data(), data, "des_cbc");
}
Bytes des_cbc_encrypt(ByteView key, ByteView iv, ByteView data) { return des_cbc(1, key, iv, data); }
Bytes des_cbc_decrypt(ByteView key, ByteView iv, ByteView data) { return des_cbc(0, key, iv, data); }

static CipherCtxPtr gcm_ctx(int enc, ByteView key, ByteView iv, ByteView aad, const char* what) {
  std::size_t i = aes_index(key);
  if (iv.empty()) throw CryptoError("AES-GCM IV must not be empty");
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) fail(what);
  check(EVP_CipherInit_ex2(ctx.get(), algs().aes_gcm[i], nullptr, nullptr, enc, nullptr), what);
  if (iv.size() != 12)
    check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_IVLEN, static_cast<int>(iv.size()), nullptr), what);
  check(EVP_CipherInit_ex2(ctx.get(), nullptr, key.data(), iv.data(), enc, nullptr), what);
  int n = 0;
  if (!aad.empty()) check(EVP_CipherUpdate(ctx.get(), nullptr, &n, aad.data(), static_cast<int>(aad.size())), what);
  return ctx;
}

Bytes aes_gcm_encrypt(ByteView key, ByteView iv, ByteView aad, ByteView plain) {
  auto ctx = gcm_ctx(1, key, iv, aad, "aes_gcm_encrypt");
  Bytes out(plain.size() + 16);
  int n1 = 0, n2 = 0;
  if (!plain.empty())
    check(EVP_CipherUpdate(ctx.get(), out.data(), &n1, plain.data(), static_cast<int>(plain.size())), "aes_gcm_encrypt");
  check(EVP_CipherFinal_ex(ctx.get(), out.data() + n1, &n2), "aes_gcm_encrypt");
  check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, 16, out.data() + plain.size()), "aes_gcm_encrypt");
  return out;
}

Bytes aes_gcm_decrypt(ByteView key, ByteView iv, ByteView aad, ByteView cipher_and_tag) {
  require_aes_key(key);
  if (cipher_and_tag.size() < 16) throw CryptoError("AES-GCM input shorter than its tag");
  std::size_t n = cipher_and_tag.size() - 16;
  auto ctx = gcm_ctx(0, key, iv, aad, "aes_gcm_decrypt");
  Bytes out(n + 16);
  int n1 = 0, n2 = 0;
  if (n) check(EVP_CipherUpdate(ctx.get(), out.data(), &n1, cipher_and_tag.data(), static_cast<int>(n)), "aes_gcm_decrypt");
  Bytes tag(cipher_and_tag.begin() + static_cast<std::ptrdiff_t>(n), cipher_and_tag.end());
  check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, 16, tag.data()), "aes_gcm_decrypt");
  if (EVP_CipherFinal_ex(ctx.get(), out.data() + n1, &n2) <= 0) {
    ERR_clear_error();
    wipe(out.data(), out.size());
    throw CryptoError("AES-GCM authentication failed");
  }
  out.resize(static_cast<std::size_t>(n1 + n2));
  return out;
}

Bytes x963_kdf_sha256(ByteView z, ByteView shared_info, std::size_t out_len) {
  // ANSI X9.63 2.6.1 (BSI TR-03111 4.3.3) through OpenSSL's X963KDF, which
  // wants a non-empty secret and output: those two corners by the definition.
  if (out_len == 0) return {};
  if (z.empty()) {
    Bytes out;
    for (std::uint32_t counter = 1; out.size() < out_len; ++counter) {
      Bytes block;
      for (int s = 24; s >= 0; s -= 8) block.push_back(static_cast<std::uint8_t>(counter >> s));
      append(block, shared_info);
      append(out, sha256(block));
    }
    out.resize(out_len);
    return out;
  }
  KdfCtxPtr ctx(EVP_KDF_CTX_new(algs().x963));
  if (!ctx) fail("x963_kdf");
  OSSL_PARAM params[4];
  int i = 0;
  params[i++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0);
  params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<std::uint8_t*>(z.data()), z.size());
  if (!shared_info.empty())
    params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<std::uint8_t*>(shared_info.data()),
                                                    shared_info.size());
  params[i] = OSSL_PARAM_construct_end();
  Bytes out(out_len);
  check(EVP_KDF_derive(ctx.get(), out.data(), out.size(), params), "x963_kdf");
  return out;
}

}  // namespace ossl

// ---------------------------------------------------------------- EcKey

namespace {

struct OsslKey final : detail::KeyImpl {
  Curve c = Curve::P256;
  PkeyPtr pkey;
  Bytes pub;  // 04||X||Y, kept: read on every verify and ECDH by callers
  bool priv = false;
  mutable std::once_flag mbed_once;
  mutable std::unique_ptr<detail::KeyImpl> mbed;  // for native_pk()

  OsslKey(Curve curve, PkeyPtr k) : c(curve), pkey(std::move(k)) {
    unsigned char buf[72];
    std::size_t n = 0;
    check(EVP_PKEY_get_octet_string_param(pkey.get(), OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof buf, &n), "EC public point");
    pub.assign(buf, buf + n);
    // The point of a key read from PEM/DER may be compressed: store it as SGP.22 sends it.
    if (n != 65 || buf[0] != 0x04) {
      PointPtr p(EC_POINT_new(group_of(c)));
      if (!p || !EC_POINT_oct2point(group_of(c), p.get(), buf, n, nullptr)) fail("EC public point");
      pub.resize(65);
      if (EC_POINT_point2oct(group_of(c), p.get(), POINT_CONVERSION_UNCOMPRESSED, pub.data(), 65, nullptr) != 65)
        fail("EC public point");
    }
    BIGNUM* d = nullptr;
    priv = EVP_PKEY_get_bn_param(pkey.get(), OSSL_PKEY_PARAM_PRIV_KEY, &d) > 0 && d && !BN_is_zero(d);
    BN_clear_free(d);
    ERR_clear_error();  // "no private key" is an answer here, not an error
  }

  Backend backend() const override { return Backend::OpenSsl; }
  Curve curve() const override { return c; }
  bool has_private() const override { return priv; }
  Bytes public_point() const override { return pub; }

  SecretBytes private_scalar() const override {
    if (!priv) throw CryptoError("no private key");
    BIGNUM* d = nullptr;
    check(EVP_PKEY_get_bn_param(pkey.get(), OSSL_PKEY_PARAM_PRIV_KEY, &d), "EC private scalar");
    BnPtr dd(d);
    SecretBytes out(32);
    if (BN_bn2binpad(d, out.data(), 32) != 32) fail("EC private scalar");
    return out;
  }

  std::string private_pem() const override {
    if (!priv) throw CryptoError("no private key");
    // SEC1 "EC PRIVATE KEY" (RFC 5915) with the named curve, as mbedTLS writes it.
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || !PEM_write_bio_PrivateKey_traditional(bio.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr))
      fail("write_key_pem");
    char* p = nullptr;
    long n = BIO_get_mem_data(bio.get(), &p);
    std::string out(p, static_cast<std::size_t>(n));
    OPENSSL_cleanse(p, static_cast<std::size_t>(n));
    return out;
  }

  Bytes public_der() const override {
    unsigned char* p = nullptr;
    int n = i2d_PUBKEY(pkey.get(), &p);
    if (n <= 0) fail("write_pubkey_der");
    Bytes out(p, p + n);
    OPENSSL_free(p);
    return out;
  }

  Bytes sign_digest(ByteView hash) const override {
    if (!priv) throw CryptoError("no private key to sign with");
    PctxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
    if (!ctx) fail("ecdsa_sign");
    check(EVP_PKEY_sign_init(ctx.get()), "ecdsa_sign");
    unsigned char der[80];
    std::size_t len = sizeof der;
    check(EVP_PKEY_sign(ctx.get(), der, &len, hash.data(), hash.size()), "ecdsa_sign");
    const unsigned char* q = der;
    SigPtr sig(d2i_ECDSA_SIG(nullptr, &q, static_cast<long>(len)));
    if (!sig) fail("ecdsa_sign");
    Bytes out(64);
    if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out.data(), 32) != 32 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out.data() + 32, 32) != 32)
      fail("ecdsa_sign");
    return out;
  }

  bool verify(ByteView message, ByteView raw_rs) const override {
    if (raw_rs.size() != 64) return false;
    Bytes hash = ossl::sha256(message);
    SigPtr sig(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(raw_rs.data(), 32, nullptr);
    BIGNUM* s = BN_bin2bn(raw_rs.data() + 32, 32, nullptr);
    if (!sig || !r || !s || !ECDSA_SIG_set0(sig.get(), r, s)) {
      BN_free(r);
      BN_free(s);
      fail("ecdsa_verify");
    }
    unsigned char der[80];
    unsigned char* p = der;
    int len = i2d_ECDSA_SIG(sig.get(), &p);
    if (len <= 0) fail("ecdsa_verify");
    PctxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
    if (!ctx) fail("ecdsa_verify");
    check(EVP_PKEY_verify_init(ctx.get()), "ecdsa_verify");
    int rc = EVP_PKEY_verify(ctx.get(), der, static_cast<std::size_t>(len), hash.data(), hash.size());
    if (rc != 1) ERR_clear_error();
    return rc == 1;
  }

  SecretBytes ecdh(ByteView peer_point) const override {
    if (!priv) throw CryptoError("no private key for ECDH");
    require_uncompressed(peer_point);
    PkeyPtr peer = pkey_from(c, peer_point, nullptr);
    PctxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
    if (!ctx) fail("ecdh");
    check(EVP_PKEY_derive_init(ctx.get()), "ecdh");
    // The peer point was checked on import (on the curve, coordinates below
    // p); the cofactor is 1 on both curves, so no further validation.
    check(EVP_PKEY_derive_set_peer_ex(ctx.get(), peer.get(), 0), "ecdh");
    SecretBytes out(32);
    std::size_t len = out.size();
    check(EVP_PKEY_derive(ctx.get(), out.data(), &len), "ecdh");
    if (len != 32) throw CryptoError("ecdh: unexpected secret length");
    return out;
  }

  void* native_pk() const override {
    // The X.509 writer (certs/src/generate.cpp) is mbedTLS's: give it the same
    // key there, made once from our DER.
    std::call_once(mbed_once, [this] {
      if (priv) {
        std::string pem = private_pem();
        mbed = detail::mbed_from_pem_or_der(to_bytes(pem));
        wipe(pem.data(), pem.size());
      } else {
        mbed = detail::mbed_from_pem_or_der(public_der());
      }
    });
    return mbed->native_pk();
  }
};

Curve curve_of(EVP_PKEY* pkey) {
  char name[64];
  std::size_t n = 0;
  if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC) throw CryptoError("not an EC key");
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &n) > 0) {
    std::string_view g(name, n);
    if (g == SN_X9_62_prime256v1) return Curve::P256;
    if (g == SN_brainpoolP256r1) return Curve::BrainpoolP256r1;
  }
  ERR_clear_error();
  throw CryptoError("EC key is not on P-256 or brainpoolP256r1");
}

}  // namespace

std::unique_ptr<detail::KeyImpl> detail::ossl_generate(Curve c) {
  PkeyPtr k(EVP_EC_gen(group_name(c)));
  if (!k) fail("ecp_gen_key");
  return std::make_unique<OsslKey>(c, std::move(k));
}

std::unique_ptr<detail::KeyImpl> detail::ossl_from_pem_or_der(ByteView data) {
  // PEM or DER; SEC1, PKCS#8 or SubjectPublicKeyInfo: OpenSSL's decoder chain
  // tries each (private structures first, as mbedTLS's pk_parse_key does).
  // A PEM file may hold other blocks first: `openssl ecparam -genkey` writes
  // "EC PARAMETERS" before the key (so do SGP.26's DPauth keys). Start at the
  // key's block, looking for the labels mbedTLS's parsers look for, in order.
  std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  for (std::string_view label : {"-----BEGIN EC PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----", "-----BEGIN PUBLIC KEY-----"}) {
    std::size_t at = text.find(label);
    if (at != std::string_view::npos) {
      data = data.subspan(at);
      break;
    }
  }
  EVP_PKEY* pkey = nullptr;
  OSSL_DECODER_CTX* dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, nullptr, nullptr, "EC", 0, nullptr, nullptr);
  if (!dctx) fail("parse EC key");
  const unsigned char* p = data.data();
  std::size_t len = data.size();
  int ok = OSSL_DECODER_from_data(dctx, &p, &len);
  OSSL_DECODER_CTX_free(dctx);
  if (ok <= 0 || !pkey) {
    EVP_PKEY_free(pkey);
    fail("parse EC key");
  }
  PkeyPtr k(pkey);
  Curve c = curve_of(pkey);
  return std::make_unique<OsslKey>(c, std::move(k));
}

std::unique_ptr<detail::KeyImpl> detail::ossl_from_public_point(Curve c, ByteView point) {
  require_uncompressed(point);
  return std::make_unique<OsslKey>(c, pkey_from(c, point, nullptr));
}

std::unique_ptr<detail::KeyImpl> detail::ossl_from_private_scalar(Curve c, ByteView d) {
  const EC_GROUP* g = group_of(c);
  BnPtr bn(BN_bin2bn(d.data(), static_cast<int>(d.size()), nullptr));
  if (!bn) fail("ecp_read_key");
  // 1 <= d < n (SEC 1 3.2.1), as mbedtls_ecp_check_privkey demands.
  if (BN_is_zero(bn.get()) || BN_is_negative(bn.get()) || BN_cmp(bn.get(), EC_GROUP_get0_order(g)) >= 0)
    throw CryptoError("ecp_read_key failed: private scalar out of range");
  PointPtr q(EC_POINT_new(g));
  Bytes pub(65);
  if (!q || !EC_POINT_mul(g, q.get(), bn.get(), nullptr, nullptr, nullptr) ||
      EC_POINT_point2oct(g, q.get(), POINT_CONVERSION_UNCOMPRESSED, pub.data(), pub.size(), nullptr) != 65)
    fail("ecp_mul");
  return std::make_unique<OsslKey>(c, pkey_from(c, pub, bn.get()));
}

}  // namespace rsp::crypto
