// secp256k1 keys for signing Ethereum transactions (libsecp256k1 with its
// recovery module).
//
// Thread safety: all keys share one secp256k1 context, created and
// randomized (side-channel blinding) once, on first use, under
// std::call_once. After that it is only passed as `const`, which
// libsecp256k1 documents as safe to use from several threads at once. A
// Secp256k1Key is immutable after construction, so one key may sign from
// several threads.
#pragma once
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "rsp/bytes.hpp"
#include "rsp/eth/address.hpp"

namespace rsp::eth {

struct KeyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A recoverable ECDSA signature: r, s (32 bytes each, big-endian) and the
// recovery id (0 or 1: the parity of R.y; EIP-2 low-s is always applied).
struct Signature {
  std::array<std::uint8_t, 32> r{};
  std::array<std::uint8_t, 32> s{};
  std::uint8_t recovery_id = 0;

  // r || s || v with v = 27 + recovery_id (eth_sign / ecrecover layout).
  Bytes to_rsv() const;
  static Signature from_rsv(ByteView rsv65);  // v 0/1 or 27/28
  bool operator==(const Signature&) const = default;
};

class Secp256k1Key {
 public:
  // A fresh key from rsp::crypto::random_bytes (retries the rare invalid scalar).
  static Secp256k1Key generate();
  // 32-byte big-endian scalar in [1, n-1]; throws KeyError otherwise.
  static Secp256k1Key from_private(ByteView scalar32);
  // 64 hex digits, "0x" optional; throws KeyError (the text is not echoed).
  static Secp256k1Key from_hex(std::string_view hex);

  Secp256k1Key(const Secp256k1Key&) = default;
  Secp256k1Key(Secp256k1Key&&) noexcept = default;
  Secp256k1Key& operator=(const Secp256k1Key&) = default;
  Secp256k1Key& operator=(Secp256k1Key&&) noexcept = default;
  ~Secp256k1Key();  // wipes the scalar

  const Address& address() const { return address_; }
  std::string address_hex() const { return checksum_address(address_); }  // EIP-55
  // 65 bytes 04 || X || Y.
  const std::array<std::uint8_t, 65>& public_key() const { return public_key_; }

  // Signs a 32-byte digest (RFC 6979 nonce, low-s). Throws KeyError if the
  // digest is not 32 bytes.
  Signature sign_recoverable(ByteView hash32) const;

  // The private scalar, for storing the key; deliberately not a stream
  // operator or to_string so that it is never printed by accident.
  SecretBytes export_private() const;

 private:
  Secp256k1Key() = default;
  std::array<std::uint8_t, 32> secret_{};
  std::array<std::uint8_t, 65> public_key_{};
  Address address_{};
};

// The address that signed `hash32`; throws KeyError if the signature does
// not recover (bad r/s, wrong recovery id range).
Address recover_address(ByteView hash32, const Signature& sig);

// Address of an uncompressed public key (65 bytes 04||X||Y or 64 bytes X||Y).
Address address_of_public_key(ByteView pub);

}  // namespace rsp::eth
