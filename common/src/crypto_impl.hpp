// Internal to rsp::crypto: what crypto.cpp (the dispatch) needs from the two
// implementations, crypto_openssl.cpp and crypto_mbedtls.cpp.
#pragma once
#include <memory>
#include <string>

#include "rsp/crypto.hpp"
#include "rsp/crypto_backend.hpp"

namespace rsp::crypto {
namespace detail {

// One key, in one implementation. EcKey forwards to it.
struct KeyImpl {
  virtual ~KeyImpl() = default;
  virtual Backend backend() const = 0;
  virtual Curve curve() const = 0;
  virtual bool has_private() const = 0;
  virtual Bytes public_point() const = 0;
  virtual SecretBytes private_scalar() const = 0;
  virtual std::string private_pem() const = 0;
  virtual Bytes public_der() const = 0;
  virtual Bytes sign_digest(ByteView digest) const = 0;
  virtual bool verify(ByteView message, ByteView raw_rs) const = 0;
  virtual SecretBytes ecdh(ByteView peer_point) const = 0;
  virtual void* native_pk() const = 0;

};

// Factories of each implementation (defined in its file).
std::unique_ptr<KeyImpl> mbed_generate(Curve c);
std::unique_ptr<KeyImpl> mbed_from_pem_or_der(ByteView data);
std::unique_ptr<KeyImpl> mbed_from_public_point(Curve c, ByteView point);
std::unique_ptr<KeyImpl> mbed_from_private_scalar(Curve c, ByteView d);
std::unique_ptr<KeyImpl> ossl_generate(Curve c);
std::unique_ptr<KeyImpl> ossl_from_pem_or_der(ByteView data);
std::unique_ptr<KeyImpl> ossl_from_public_point(Curve c, ByteView point);
std::unique_ptr<KeyImpl> ossl_from_private_scalar(Curve c, ByteView d);

}  // namespace detail

// EcKey's pimpl: the key in whichever implementation made it.
struct EcKey::Impl {
  std::unique_ptr<detail::KeyImpl> key;
};

// The free functions of crypto.hpp, once per implementation.
#define RSP_CRYPTO_BACKEND_FUNCTIONS                                                   \
  Bytes random_bytes(std::size_t n);                                                   \
  Bytes sha256(ByteView data);                                                         \
  Bytes sha1(ByteView data);                                                           \
  Bytes hmac_sha256(ByteView key, ByteView data);                                      \
  Bytes aes_cbc_encrypt(ByteView key, ByteView iv, ByteView data);                     \
  Bytes aes_cbc_decrypt(ByteView key, ByteView iv, ByteView data);                     \
  Bytes aes_ecb_encrypt_block(ByteView key, ByteView block16);                         \
  Bytes aes_cmac(ByteView key, ByteView data);                                         \
  Bytes des_cbc_encrypt(ByteView key, ByteView iv, ByteView data);                     \
  Bytes des_cbc_decrypt(ByteView key, ByteView iv, ByteView data);                     \
  Bytes aes_gcm_encrypt(ByteView key, ByteView iv, ByteView aad, ByteView plain);      \
  Bytes aes_gcm_decrypt(ByteView key, ByteView iv, ByteView aad, ByteView cipher_tag); \
  Bytes x963_kdf_sha256(ByteView z, ByteView shared_info, std::size_t out_len);

namespace mbed {
RSP_CRYPTO_BACKEND_FUNCTIONS
}
namespace ossl {
RSP_CRYPTO_BACKEND_FUNCTIONS
}
#undef RSP_CRYPTO_BACKEND_FUNCTIONS

// Checks both implementations make identically (same messages), so that bad
// input is refused the same way whatever the backend.
inline void require_aes_key(ByteView key) {
  if (key.size() != 16 && key.size() != 24 && key.size() != 32) throw CryptoError("AES key must be 16, 24 or 32 bytes");
}

}  // namespace rsp::crypto
