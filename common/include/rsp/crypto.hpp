// The one crypto wrapper: the rest of the code never touches OpenSSL's or
// mbedTLS's crypto directly (TLS aside). It runs on OpenSSL 3 in the servers
// and tools and on mbedTLS 2.28 in the card-side simulators: see
// rsp/crypto_backend.hpp.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "rsp/bytes.hpp"

namespace rsp::crypto {

struct CryptoError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---- randomness and hashes ----
Bytes random_bytes(std::size_t n);  // CTR_DRBG seeded from the OS entropy source
Bytes sha256(ByteView data);
Bytes sha1(ByteView data);
Bytes hmac_sha256(ByteView key, ByteView data);

// ---- symmetric ----
// AES-CBC without padding: input must be a multiple of 16 bytes.
Bytes aes_cbc_encrypt(ByteView key, ByteView iv, ByteView data);
Bytes aes_cbc_decrypt(ByteView key, ByteView iv, ByteView data);
Bytes aes_ecb_encrypt_block(ByteView key, ByteView block16);
// AES-CMAC (NIST SP 800-38B, RFC 4493), full 16-byte tag.
Bytes aes_cmac(ByteView key, ByteView data);
// DES and triple DES (outer CBC, EDE) in CBC mode without padding, as ETSI TS
// 102 225 5.1.2 uses them: the key length selects the cipher, 8 bytes DES,
// 16 bytes 3DES with two keys (K1 K2 K1), 24 bytes 3DES with three keys. Input
// must be a multiple of 8 bytes; the IV is 8 bytes.
Bytes des_cbc_encrypt(ByteView key, ByteView iv, ByteView data);
Bytes des_cbc_decrypt(ByteView key, ByteView iv, ByteView data);
// AES-GCM with a 12-byte IV; tag (16 bytes) appended to the ciphertext.
Bytes aes_gcm_encrypt(ByteView key, ByteView iv, ByteView aad, ByteView plain);
Bytes aes_gcm_decrypt(ByteView key, ByteView iv, ByteView aad, ByteView cipher_and_tag);  // throws on bad tag

// ANSI X9.63 KDF with SHA-256 (as SGP.22 2.6.5 / BSI TR-03111 use it).
Bytes x963_kdf_sha256(ByteView shared_secret, ByteView shared_info, std::size_t out_len);

// ---- elliptic curves (SGP.22 2.6.5: NIST P-256 and brainpoolP256r1; and
// secp256k1 (SEC 2) for ledger participants, whose keys are also their chain
// accounts). secp256k1 signatures go through libsecp256k1: mbedTLS's generic
// ECDSA is ~30x slower on it and would cap the ledger's appends per second.
enum class Curve { P256, BrainpoolP256r1, Secp256k1 };
std::string_view curve_name(Curve c);          // "P-256" / "brainpoolP256r1" / "secp256k1"
Curve curve_from_name(std::string_view name);  // accepts "nist"/"P-256"/"prime256v1"/"brp"/"brainpoolP256r1"

// An EC key pair (or public key only). Signatures are raw r||s, each
// zero-padded to the field size (64 bytes on 256-bit curves), as SGP.22 puts
// them inside 5F37.
class EcKey {
 public:
  EcKey();
  ~EcKey();
  EcKey(EcKey&&) noexcept;
  EcKey& operator=(EcKey&&) noexcept;
  EcKey(const EcKey&) = delete;
  EcKey& operator=(const EcKey&) = delete;

  static EcKey generate(Curve c);
  // PEM or DER; SEC1 "EC PRIVATE KEY" or PKCS#8, also public keys (SPKI).
  static EcKey from_pem_or_der(ByteView data);
  static EcKey from_public_point(Curve c, ByteView uncompressed_point);  // 04||X||Y
  static EcKey from_private_scalar(Curve c, ByteView d);

  Curve curve() const;
  bool has_private() const;
  Bytes public_point() const;  // uncompressed 04||X||Y (65 bytes)
  SecretBytes private_scalar() const;
  std::string private_pem() const;  // SEC1 PEM
  Bytes public_der() const;         // SubjectPublicKeyInfo DER

  Bytes sign(ByteView message) const;  // ECDSA with SHA-256, raw r||s
  Bytes sign_digest(ByteView digest) const;  // ECDSA over a precomputed digest, raw r||s
  bool verify(ByteView message, ByteView raw_rs) const;
  // ECKA-DH (BSI TR-03111): the x-coordinate of d * peer, field-size bytes.
  SecretBytes ecdh(ByteView peer_uncompressed_point) const;

  // mbedtls_pk_context*, for the X.509/TLS code in certs/ and common/http.
  void* native_pk() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rsp::crypto
