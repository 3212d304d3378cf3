// rsp::crypto on mbedTLS 2.28: the card side's implementation (the eUICC and
// UICC simulators, the SCP81 admin agent), and the one secp256k1 keys live in
// (their signatures go through libsecp256k1). crypto.cpp dispatches here.
#include <secp256k1.h>
#include <mbedtls/aes.h>
#include <mbedtls/bignum.h>
#include <mbedtls/cipher.h>
#include <mbedtls/cmac.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/des.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/gcm.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>

#include "crypto_impl.hpp"

namespace rsp::crypto {
namespace mbed {

namespace {

void check(int rc, const char* what) {
  if (rc != 0) throw CryptoError(std::string(what) + " failed (mbedTLS -0x" + to_hex(Bytes{static_cast<std::uint8_t>((-rc) >> 8), static_cast<std::uint8_t>(-rc)}) + ")");
}

// One DRBG per thread: mbedTLS contexts are not thread-safe, and a per-thread
// instance avoids a lock on the hot path (every session draws randomness).
struct Drbg {
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context ctr;
  Drbg() {
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&ctr);
    static const char pers[] = "rsp-drbg";
    check(mbedtls_ctr_drbg_seed(&ctr, mbedtls_entropy_func, &entropy, reinterpret_cast<const unsigned char*>(pers),
                                sizeof pers - 1),
          "ctr_drbg_seed");
  }
  ~Drbg() {
    mbedtls_ctr_drbg_free(&ctr);
    mbedtls_entropy_free(&entropy);
  }
};

Drbg& drbg() {
  thread_local Drbg d;
  return d;
}

int rng(void*, unsigned char* out, size_t len) { return mbedtls_ctr_drbg_random(&drbg().ctr, out, len); }

const mbedtls_cipher_info_t* aes_ecb_info(std::size_t keylen) {
  auto info = mbedtls_cipher_info_from_values(MBEDTLS_CIPHER_ID_AES, static_cast<int>(keylen * 8), MBEDTLS_MODE_ECB);
  if (!info) throw CryptoError("unsupported AES key length");
  return info;
}

}  // namespace

Bytes random_bytes(std::size_t n) {
  Bytes out(n);
  // ctr_drbg limits one request to 1024 bytes.
  for (std::size_t off = 0; off < n; off += 1024)
    check(rng(nullptr, out.data() + off, std::min<std::size_t>(1024, n - off)), "ctr_drbg_random");
  return out;
}

Bytes sha256(ByteView data) {
  Bytes out(32);
  check(mbedtls_sha256_ret(data.data(), data.size(), out.data(), 0), "sha256");
  return out;
}

Bytes sha1(ByteView data) {
  Bytes out(20);
  check(mbedtls_sha1_ret(data.data(), data.size(), out.data()), "sha1");
  return out;
}

Bytes hmac_sha256(ByteView key, ByteView data) {
  Bytes out(32);
  check(mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key.data(), key.size(), data.data(), data.size(),
                        out.data()),
        "hmac");
  return out;
}

static Bytes aes_cbc(int mode, ByteView key, ByteView iv, ByteView data) {
  require_aes_key(key);
  if (iv.size() != 16) throw CryptoError("AES-CBC IV must be 16 bytes");
  if (data.size() % 16 != 0) throw CryptoError("AES-CBC data is not a multiple of the block size");
  mbedtls_aes_context ctx;
  mbedtls_aes_init(&ctx);
  int rc = mode == MBEDTLS_AES_ENCRYPT ? mbedtls_aes_setkey_enc(&ctx, key.data(), static_cast<unsigned>(key.size() * 8))
                                       : mbedtls_aes_setkey_dec(&ctx, key.data(), static_cast<unsigned>(key.size() * 8));
  Bytes out(data.size());
  unsigned char ivbuf[16];
  std::memcpy(ivbuf, iv.data(), 16);
  if (rc == 0) rc = mbedtls_aes_crypt_cbc(&ctx, mode, data.size(), ivbuf, data.data(), out.data());
  mbedtls_aes_free(&ctx);
  check(rc, "aes_cbc");
  return out;
}

Bytes aes_cbc_encrypt(ByteView key, ByteView iv, ByteView data) { return aes_cbc(MBEDTLS_AES_ENCRYPT, key, iv, data); }
Bytes aes_cbc_decrypt(ByteView key, ByteView iv, ByteView data) { return aes_cbc(MBEDTLS_AES_DECRYPT, key, iv, data); }

Bytes aes_ecb_encrypt_block(ByteView key, ByteView block16) {
  require_aes_key(key);
  if (block16.size() != 16) throw CryptoError("AES-ECB block must be 16 bytes");
  mbedtls_aes_context ctx;
  mbedtls_aes_init(&ctx);
  Bytes out(16);
  int rc = mbedtls_aes_setkey_enc(&ctx, key.data(), static_cast<unsigned>(key.size() * 8));
  if (rc == 0) rc = mbedtls_aes_crypt_ecb(&ctx, MBEDTLS_AES_ENCRYPT, block16.data(), out.data());
  mbedtls_aes_free(&ctx);
  check(rc, "aes_ecb");
  return out;
}

Bytes aes_cmac(ByteView key, ByteView data) {
  require_aes_key(key);
  Bytes out(16);
  static const unsigned char empty = 0;  // mbedTLS rejects a NULL input even when its length is 0
  check(mbedtls_cipher_cmac(aes_ecb_info(key.size()), key.data(), key.size() * 8, data.empty() ? &empty : data.data(),
                            data.size(), out.data()),
        "aes_cmac");
  return out;
}

static Bytes des_cbc(int mode, ByteView key, ByteView iv, ByteView data) {
  if (key.size() != 8 && key.size() != 16 && key.size() != 24) throw CryptoError("DES key must be 8, 16 or 24 bytes");
  if (iv.size() != 8) throw CryptoError("DES-CBC IV must be 8 bytes");
  if (data.size() % 8 != 0) throw CryptoError("DES-CBC data is not a multiple of the block size");
  Bytes out(data.size());
  unsigned char ivbuf[8];
  std::memcpy(ivbuf, iv.data(), 8);
  int rc = 0;
  if (key.size() == 8) {
    mbedtls_des_context ctx;
    mbedtls_des_init(&ctx);
    rc = mode == MBEDTLS_DES_ENCRYPT ? mbedtls_des_setkey_enc(&ctx, key.data()) : mbedtls_des_setkey_dec(&ctx, key.data());
    if (rc == 0) rc = mbedtls_des_crypt_cbc(&ctx, mode, data.size(), ivbuf, data.data(), out.data());
    mbedtls_des_free(&ctx);
  } else {
    mbedtls_des3_context ctx;
    mbedtls_des3_init(&ctx);
    if (key.size() == 16)
      rc = mode == MBEDTLS_DES_ENCRYPT ? mbedtls_des3_set2key_enc(&ctx, key.data()) : mbedtls_des3_set2key_dec(&ctx, key.data());
    else
      rc = mode == MBEDTLS_DES_ENCRYPT ? mbedtls_des3_set3key_enc(&ctx, key.data()) : mbedtls_des3_set3key_dec(&ctx, key.data());
    if (rc == 0) rc = mbedtls_des3_crypt_cbc(&ctx, mode, data.size(), ivbuf, data.data(), out.data());
    mbedtls_des3_free(&ctx);
  }
  wipe(ivbuf, sizeof ivbuf);
  check(rc, "des_cbc");
  return out;
}

Bytes des_cbc_encrypt(ByteView key, ByteView iv, ByteView data) { return des_cbc(MBEDTLS_DES_ENCRYPT, key, iv, data); }
Bytes des_cbc_decrypt(ByteView key, ByteView iv, ByteView data) { return des_cbc(MBEDTLS_DES_DECRYPT, key, iv, data); }

Bytes aes_gcm_encrypt(ByteView key, ByteView iv, ByteView aad, ByteView plain) {
  require_aes_key(key);
  mbedtls_gcm_context ctx;
  mbedtls_gcm_init(&ctx);
  Bytes out(plain.size() + 16);
  int rc = mbedtls_gcm_setkey(&ctx, MBEDTLS_CIPHER_ID_AES, key.data(), static_cast<unsigned>(key.size() * 8));
  if (rc == 0)
    rc = mbedtls_gcm_crypt_and_tag(&ctx, MBEDTLS_GCM_ENCRYPT, plain.size(), iv.data(), iv.size(), aad.data(),
                                   aad.size(), plain.data(), out.data(), 16, out.data() + plain.size());
  mbedtls_gcm_free(&ctx);
  check(rc, "aes_gcm_encrypt");
  return out;
}

Bytes aes_gcm_decrypt(ByteView key, ByteView iv, ByteView aad, ByteView cipher_and_tag) {
  require_aes_key(key);
  if (cipher_and_tag.size() < 16) throw CryptoError("AES-GCM input shorter than its tag");
  std::size_t n = cipher_and_tag.size() - 16;
  mbedtls_gcm_context ctx;
  mbedtls_gcm_init(&ctx);
  Bytes out(n);
  int rc = mbedtls_gcm_setkey(&ctx, MBEDTLS_CIPHER_ID_AES, key.data(), static_cast<unsigned>(key.size() * 8));
  if (rc == 0)
    rc = mbedtls_gcm_auth_decrypt(&ctx, n, iv.data(), iv.size(), aad.data(), aad.size(), cipher_and_tag.data() + n, 16,
                                  cipher_and_tag.data(), out.data());
  mbedtls_gcm_free(&ctx);
  if (rc == MBEDTLS_ERR_GCM_AUTH_FAILED) throw CryptoError("AES-GCM authentication failed");
  check(rc, "aes_gcm_decrypt");
  return out;
}

Bytes x963_kdf_sha256(ByteView z, ByteView shared_info, std::size_t out_len) {
  // ANSI X9.63 2.6.1 (also BSI TR-03111 4.3.3): K = H(Z || counter32 || SharedInfo) ...
  Bytes out;
  for (std::uint32_t counter = 1; out.size() < out_len; ++counter) {
    Bytes block(z.begin(), z.end());
    for (int s = 24; s >= 0; s -= 8) block.push_back(static_cast<std::uint8_t>(counter >> s));
    append(block, shared_info);
    append(out, sha256(block));
    wipe(block.data(), block.size());
  }
  out.resize(out_len);
  return out;
}

}  // namespace mbed

// ---------------------------------------------------------------- EcKey

namespace {

using mbed::check;
using mbed::rng;

// libsecp256k1's context: created and randomised once, then only read (safe
// to share between threads).
const secp256k1_context* k1_context() {
  static secp256k1_context* ctx = [] {
    auto* c = secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
    Bytes seed = mbed::random_bytes(32);
    if (!secp256k1_context_randomize(c, seed.data())) throw CryptoError("secp256k1_context_randomize");
    return c;
  }();
  return ctx;
}

struct MbedKey final : detail::KeyImpl {
  mbedtls_pk_context pk;
  std::once_flag comb_table;
  // secp256k1 keys: the public key parsed once for libsecp256k1.
  std::once_flag k1_once;
  secp256k1_pubkey k1_pub{};
  bool k1_ok = false;
  std::once_flag k1_sk_once;
  SecretBytes k1_sk;  // the private scalar, exported from mbedTLS once
  MbedKey() { mbedtls_pk_init(&pk); }
  ~MbedKey() override { mbedtls_pk_free(&pk); }
  mbedtls_ecp_keypair* ec() const { return mbedtls_pk_ec(pk); }
  // mbedTLS caches the generator's comb table in the group on first use, a
  // write that races when threads share a key (the SM-DP+ signs with one
  // DPauth key from every worker). Filling it once up front makes every later
  // use read-only, so the key can be shared without a lock.
  mbedtls_ecp_keypair* ready() {
    auto* e = ec();
    std::call_once(comb_table, [e] {
      mbedtls_ecp_point p;
      mbedtls_mpi one;
      mbedtls_ecp_point_init(&p);
      mbedtls_mpi_init(&one);
      mbedtls_mpi_lset(&one, 1);
      mbedtls_ecp_mul(&e->grp, &p, &one, &e->grp.G, rng, nullptr);
      mbedtls_mpi_free(&one);
      mbedtls_ecp_point_free(&p);
    });
    return e;
  }
  void setup() { check(mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), "pk_setup"); }

  Backend backend() const override { return Backend::MbedTls; }

  Curve curve() const override {
    switch (ec()->grp.id) {
      case MBEDTLS_ECP_DP_SECP256R1: return Curve::P256;
      case MBEDTLS_ECP_DP_BP256R1: return Curve::BrainpoolP256r1;
      case MBEDTLS_ECP_DP_SECP256K1: return Curve::Secp256k1;
      default: throw CryptoError("key on an unsupported curve");
    }
  }

  bool has_private() const override { return mbedtls_mpi_cmp_int(&ec()->d, 0) != 0; }

  Bytes public_point() const override {
    auto* e = ec();
    Bytes out(1 + 2 * 66);
    std::size_t olen = 0;
    check(mbedtls_ecp_point_write_binary(&e->grp, &e->Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, out.data(), out.size()),
          "ecp_point_write");
    out.resize(olen);
    return out;
  }

  SecretBytes private_scalar() const override {
    if (!has_private()) throw CryptoError("no private key");
    auto* e = ec();
    SecretBytes out((e->grp.nbits + 7) / 8);
    check(mbedtls_mpi_write_binary(&e->d, out.data(), out.size()), "mpi_write");
    return out;
  }

  std::string private_pem() const override {
    if (!has_private()) throw CryptoError("no private key");
    std::string out(1024, '\0');
    check(mbedtls_pk_write_key_pem(const_cast<mbedtls_pk_context*>(&pk), reinterpret_cast<unsigned char*>(out.data()),
                                   out.size()),
          "write_key_pem");
    out.resize(std::strlen(out.c_str()));
    return out;
  }

  Bytes public_der() const override {
    unsigned char buf[256];
    int n = mbedtls_pk_write_pubkey_der(const_cast<mbedtls_pk_context*>(&pk), buf, sizeof buf);
    if (n < 0) check(n, "write_pubkey_der");
    return Bytes(buf + sizeof buf - n, buf + sizeof buf);
  }

  Bytes sign_digest(ByteView hash) const override {
    if (!has_private()) throw CryptoError("no private key to sign with");
    auto* self = const_cast<MbedKey*>(this);
    if (curve() == Curve::Secp256k1) {
      if (hash.size() != 32) throw CryptoError("secp256k1 signs 32-byte digests only");
      std::call_once(self->k1_sk_once, [self] { self->k1_sk = self->private_scalar(); });
      secp256k1_ecdsa_signature sig;
      // RFC 6979 nonces; the result is low-s (BIP 62) by construction.
      if (!secp256k1_ecdsa_sign(k1_context(), &sig, hash.data(), k1_sk.data(), nullptr, nullptr))
        throw CryptoError("secp256k1_ecdsa_sign");
      Bytes out(64);
      secp256k1_ecdsa_signature_serialize_compact(k1_context(), out.data(), &sig);
      return out;
    }
    auto* e = self->ready();
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    std::size_t n = (e->grp.nbits + 7) / 8;
    Bytes out(2 * n);
    int rc = mbedtls_ecdsa_sign(&e->grp, &r, &s, &e->d, hash.data(), hash.size(), rng, nullptr);
    if (rc == 0) rc = mbedtls_mpi_write_binary(&r, out.data(), n);
    if (rc == 0) rc = mbedtls_mpi_write_binary(&s, out.data() + n, n);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    check(rc, "ecdsa_sign");
    return out;
  }

  bool verify(ByteView message, ByteView raw_rs) const override {
    auto* self = const_cast<MbedKey*>(this);
    if (curve() == Curve::Secp256k1) {
      std::call_once(self->k1_once, [self] {
        Bytes q = self->public_point();
        self->k1_ok = secp256k1_ec_pubkey_parse(k1_context(), &self->k1_pub, q.data(), q.size()) == 1;
      });
      secp256k1_ecdsa_signature sig;
      if (!k1_ok || raw_rs.size() != 64 || !secp256k1_ecdsa_signature_parse_compact(k1_context(), &sig, raw_rs.data()))
        return false;
      // Accept high-s too, as plain ECDSA (and mbedTLS for the other curves) does.
      secp256k1_ecdsa_signature_normalize(k1_context(), &sig, &sig);
      Bytes hash = mbed::sha256(message);
      return secp256k1_ecdsa_verify(k1_context(), &sig, hash.data(), &k1_pub) == 1;
    }
    auto* e = self->ready();
    std::size_t n = (e->grp.nbits + 7) / 8;
    if (raw_rs.size() != 2 * n) return false;
    Bytes hash = mbed::sha256(message);
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    int rc = mbedtls_mpi_read_binary(&r, raw_rs.data(), n);
    if (rc == 0) rc = mbedtls_mpi_read_binary(&s, raw_rs.data() + n, n);
    if (rc == 0) rc = mbedtls_ecdsa_verify(&e->grp, hash.data(), hash.size(), &e->Q, &r, &s);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    return rc == 0;
  }

  SecretBytes ecdh(ByteView peer_point) const override {
    if (!has_private()) throw CryptoError("no private key for ECDH");
    auto* e = const_cast<MbedKey*>(this)->ready();
    mbedtls_ecp_point q;
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi z;
    mbedtls_mpi_init(&z);
    SecretBytes out((e->grp.nbits + 7) / 8);
    int rc = mbedtls_ecp_point_read_binary(&e->grp, &q, peer_point.data(), peer_point.size());
    if (rc == 0) rc = mbedtls_ecp_check_pubkey(&e->grp, &q);
    if (rc == 0) rc = mbedtls_ecdh_compute_shared(&e->grp, &z, &q, &e->d, rng, nullptr);
    if (rc == 0) rc = mbedtls_mpi_write_binary(&z, out.data(), out.size());
    mbedtls_mpi_free(&z);
    mbedtls_ecp_point_free(&q);
    check(rc, "ecdh");
    return out;
  }

  void* native_pk() const override { return const_cast<mbedtls_pk_context*>(&pk); }
};

mbedtls_ecp_group_id group_of(Curve c) {
  switch (c) {
    case Curve::P256: return MBEDTLS_ECP_DP_SECP256R1;
    case Curve::BrainpoolP256r1: return MBEDTLS_ECP_DP_BP256R1;
    case Curve::Secp256k1: return MBEDTLS_ECP_DP_SECP256K1;
  }
  throw CryptoError("unknown curve");
}

}  // namespace

std::unique_ptr<detail::KeyImpl> detail::mbed_generate(Curve c) {
  auto k = std::make_unique<MbedKey>();
  k->setup();
  check(mbedtls_ecp_gen_key(group_of(c), k->ec(), rng, nullptr), "ecp_gen_key");
  return k;
}

std::unique_ptr<detail::KeyImpl> detail::mbed_from_pem_or_der(ByteView data) {
  auto k = std::make_unique<MbedKey>();
  Bytes buf(data.begin(), data.end());
  bool pem = std::string_view(reinterpret_cast<const char*>(buf.data()), buf.size()).find("-----BEGIN") != std::string_view::npos;
  if (pem) buf.push_back(0);  // mbedTLS wants PEM NUL-terminated, length included
  int rc = mbedtls_pk_parse_key(&k->pk, buf.data(), buf.size(), nullptr, 0);
  if (rc != 0) {
    mbedtls_pk_free(&k->pk);
    mbedtls_pk_init(&k->pk);
    rc = mbedtls_pk_parse_public_key(&k->pk, buf.data(), buf.size());
  }
  wipe(buf.data(), buf.size());
  check(rc, "parse EC key");
  if (mbedtls_pk_get_type(&k->pk) != MBEDTLS_PK_ECKEY) throw CryptoError("not an EC key");
  auto id = k->ec()->grp.id;
  if (id != MBEDTLS_ECP_DP_SECP256R1 && id != MBEDTLS_ECP_DP_BP256R1)
    throw CryptoError("EC key is not on P-256 or brainpoolP256r1");
  return k;
}

std::unique_ptr<detail::KeyImpl> detail::mbed_from_public_point(Curve c, ByteView point) {
  auto k = std::make_unique<MbedKey>();
  k->setup();
  auto* ec = k->ec();
  check(mbedtls_ecp_group_load(&ec->grp, group_of(c)), "ecp_group_load");
  check(mbedtls_ecp_point_read_binary(&ec->grp, &ec->Q, point.data(), point.size()), "ecp_point_read");
  check(mbedtls_ecp_check_pubkey(&ec->grp, &ec->Q), "ecp_check_pubkey");
  return k;
}

std::unique_ptr<detail::KeyImpl> detail::mbed_from_private_scalar(Curve c, ByteView d) {
  auto k = std::make_unique<MbedKey>();
  k->setup();
  auto* ec = k->ec();
  check(mbedtls_ecp_read_key(group_of(c), ec, d.data(), d.size()), "ecp_read_key");
  check(mbedtls_ecp_mul(&ec->grp, &ec->Q, &ec->d, &ec->grp.G, rng, nullptr), "ecp_mul");
  return k;
}

}  // namespace rsp::crypto
