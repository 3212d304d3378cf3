// rsp::crypto's dispatch: the free functions go to the process's backend, an
// EcKey to the implementation it was made in (crypto_impl.hpp). The two
// implementations are crypto_openssl.cpp (servers, default) and
// crypto_mbedtls.cpp (card side); docs/architecture.md says why both.
#include "rsp/crypto.hpp"
#include "rsp/crypto_backend.hpp"

#include <atomic>
#include <cctype>
#include <string>

#include "crypto_impl.hpp"

namespace rsp::crypto {

namespace {
std::atomic<Backend> g_backend{Backend::OpenSsl};
bool use_ossl() { return g_backend.load(std::memory_order_relaxed) == Backend::OpenSsl; }
}  // namespace

void use_backend(Backend b) { g_backend.store(b, std::memory_order_relaxed); }
Backend backend() { return g_backend.load(std::memory_order_relaxed); }
std::string_view backend_name(Backend b) { return b == Backend::OpenSsl ? "OpenSSL" : "mbedTLS"; }

Bytes random_bytes(std::size_t n) { return use_ossl() ? ossl::random_bytes(n) : mbed::random_bytes(n); }
Bytes sha256(ByteView data) { return use_ossl() ? ossl::sha256(data) : mbed::sha256(data); }
Bytes sha1(ByteView data) { return use_ossl() ? ossl::sha1(data) : mbed::sha1(data); }
Bytes hmac_sha256(ByteView key, ByteView data) {
  return use_ossl() ? ossl::hmac_sha256(key, data) : mbed::hmac_sha256(key, data);
}
Bytes aes_cbc_encrypt(ByteView key, ByteView iv, ByteView data) {
  return use_ossl() ? ossl::aes_cbc_encrypt(key, iv, data) : mbed::aes_cbc_encrypt(key, iv, data);
}
Bytes aes_cbc_decrypt(ByteView key, ByteView iv, ByteView data) {
  return use_ossl() ? ossl::aes_cbc_decrypt(key, iv, data) : mbed::aes_cbc_decrypt(key, iv, data);
}
Bytes aes_ecb_encrypt_block(ByteView key, ByteView block16) {
  return use_ossl() ? ossl::aes_ecb_encrypt_block(key, block16) : mbed::aes_ecb_encrypt_block(key, block16);
}
Bytes aes_cmac(ByteView key, ByteView data) { return use_ossl() ? ossl::aes_cmac(key, data) : mbed::aes_cmac(key, data); }
Bytes des_cbc_encrypt(ByteView key, ByteView iv, ByteView data) {
  return use_ossl() ? ossl::des_cbc_encrypt(key, iv, data) : mbed::des_cbc_encrypt(key, iv, data);
}
Bytes des_cbc_decrypt(ByteView key, ByteView iv, ByteView data) {
  return use_ossl() ? ossl::des_cbc_decrypt(key, iv, data) : mbed::des_cbc_decrypt(key, iv, data);
}
Bytes aes_gcm_encrypt(ByteView key, ByteView iv, ByteView aad, ByteView plain) {
  return use_ossl() ? ossl::aes_gcm_encrypt(key, iv, aad, plain) : mbed::aes_gcm_encrypt(key, iv, aad, plain);
}
Bytes aes_gcm_decrypt(ByteView key, ByteView iv, ByteView aad, ByteView cipher_and_tag) {
  return use_ossl() ? ossl::aes_gcm_decrypt(key, iv, aad, cipher_and_tag) : mbed::aes_gcm_decrypt(key, iv, aad, cipher_and_tag);
}
Bytes x963_kdf_sha256(ByteView z, ByteView shared_info, std::size_t out_len) {
  return use_ossl() ? ossl::x963_kdf_sha256(z, shared_info, out_len) : mbed::x963_kdf_sha256(z, shared_info, out_len);
}

std::string_view curve_name(Curve c) {
  switch (c) {
    case Curve::P256: return "P-256";
    case Curve::BrainpoolP256r1: return "brainpoolP256r1";
    case Curve::Secp256k1: return "secp256k1";
  }
  return "?";
}

Curve curve_from_name(std::string_view n) {
  std::string s(n);
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (s == "p-256" || s == "p256" || s == "nist" || s == "prime256v1" || s == "secp256r1") return Curve::P256;
  if (s == "brainpoolp256r1" || s == "brp" || s == "bp256" || s == "brainpool") return Curve::BrainpoolP256r1;
  if (s == "secp256k1" || s == "k256") return Curve::Secp256k1;
  throw CryptoError("unknown curve '" + std::string(n) + "'");
}

// ---------------------------------------------------------------- EcKey
// secp256k1 keys always live in the mbedTLS implementation, beside
// libsecp256k1 which signs and verifies them (crypto.hpp).

EcKey::EcKey() = default;
EcKey::~EcKey() = default;
EcKey::EcKey(EcKey&&) noexcept = default;
EcKey& EcKey::operator=(EcKey&&) noexcept = default;

namespace {
const detail::KeyImpl& need(const detail::KeyImpl* k) {
  if (!k) throw CryptoError("empty EC key");
  return *k;
}
}  // namespace

#define RSP_KEY need(impl_ ? impl_->key.get() : nullptr)

EcKey EcKey::generate(Curve c) {
  EcKey k;
  k.impl_ = std::make_unique<Impl>();
  k.impl_->key = use_ossl() && c != Curve::Secp256k1 ? detail::ossl_generate(c) : detail::mbed_generate(c);
  return k;
}

EcKey EcKey::from_pem_or_der(ByteView data) {
  EcKey k;
  k.impl_ = std::make_unique<Impl>();
  k.impl_->key = use_ossl() ? detail::ossl_from_pem_or_der(data) : detail::mbed_from_pem_or_der(data);
  return k;
}

EcKey EcKey::from_public_point(Curve c, ByteView point) {
  EcKey k;
  k.impl_ = std::make_unique<Impl>();
  k.impl_->key = use_ossl() && c != Curve::Secp256k1 ? detail::ossl_from_public_point(c, point)
                                                      : detail::mbed_from_public_point(c, point);
  return k;
}

EcKey EcKey::from_private_scalar(Curve c, ByteView d) {
  EcKey k;
  k.impl_ = std::make_unique<Impl>();
  k.impl_->key = use_ossl() && c != Curve::Secp256k1 ? detail::ossl_from_private_scalar(c, d)
                                                      : detail::mbed_from_private_scalar(c, d);
  return k;
}

Curve EcKey::curve() const { return RSP_KEY.curve(); }
bool EcKey::has_private() const { return RSP_KEY.has_private(); }
Bytes EcKey::public_point() const { return RSP_KEY.public_point(); }
SecretBytes EcKey::private_scalar() const { return RSP_KEY.private_scalar(); }
std::string EcKey::private_pem() const { return RSP_KEY.private_pem(); }
Bytes EcKey::public_der() const { return RSP_KEY.public_der(); }
Bytes EcKey::sign(ByteView message) const {
  const auto& k = RSP_KEY;
  // The digest from the key's own implementation: a card-side key hashes with
  // mbedTLS even in a process whose backend is OpenSSL.
  return k.sign_digest(k.backend() == Backend::OpenSsl ? ossl::sha256(message) : mbed::sha256(message));
}
Bytes EcKey::sign_digest(ByteView digest) const { return RSP_KEY.sign_digest(digest); }
bool EcKey::verify(ByteView message, ByteView raw_rs) const { return RSP_KEY.verify(message, raw_rs); }
SecretBytes EcKey::ecdh(ByteView peer_point) const { return RSP_KEY.ecdh(peer_point); }
void* EcKey::native_pk() const { return RSP_KEY.native_pk(); }

#undef RSP_KEY

}  // namespace rsp::crypto
