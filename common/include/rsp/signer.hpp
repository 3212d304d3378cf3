// The narrow signing interface for long-term private keys (the SM-DP+'s
// SK.DPauth, SK.DPpb and the TLS key SK.DP.TLS): the key may be in a file
// (crypto::EcKey) or in a token that never lets it out (rsp/pkcs11.hpp).
// Callers only sign.
#pragma once
#include <memory>

#include "rsp/bytes.hpp"
#include "rsp/crypto.hpp"

namespace rsp::crypto {

class Signer {
 public:
  virtual ~Signer() = default;
  virtual Curve curve() const = 0;
  // ECDSA with SHA-256 over `message`: raw r||s, each zero-padded to the
  // field size (64 bytes on 256-bit curves), as SGP.22 puts it in 5F37.
  // Thread-safe.
  virtual Bytes sign(ByteView message) const = 0;
  // ECDSA over a digest the caller computed (TLS: the TLS library hashes the
  // handshake with the hash the signature_algorithms extension chose, SHA-256
  // or longer; ECDSA uses its leftmost bits, FIPS 186-4 6.4). Raw r||s as
  // above. Thread-safe.
  virtual Bytes sign_digest(ByteView digest) const = 0;
};

// A key held in memory (read from a file).
std::shared_ptr<const Signer> key_signer(EcKey key);

}  // namespace rsp::crypto
