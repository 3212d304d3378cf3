#include "rsp/eth/key.hpp"

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <mutex>

#include "rsp/crypto.hpp"
#include "rsp/eth/keccak.hpp"

namespace rsp::eth {

namespace {

// One context for the process (see key.hpp): created and randomized once;
// afterwards only used through const pointers, which libsecp256k1 allows
// from several threads at once. Never destroyed (lives until exit).
const secp256k1_context* ctx() {
  static secp256k1_context* c = [] {
    secp256k1_context* made = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (!made) throw KeyError("secp256k1_context_create failed");
    SecretBytes seed = crypto::random_bytes(32);
    if (!secp256k1_context_randomize(made, seed.data())) throw KeyError("secp256k1_context_randomize failed");
    return made;
  }();
  return c;
}

}  // namespace

Bytes Signature::to_rsv() const {
  Bytes out = concat(r, s);
  out.push_back(static_cast<std::uint8_t>(27 + recovery_id));
  return out;
}

Signature Signature::from_rsv(ByteView rsv) {
  if (rsv.size() != 65) throw KeyError("signature: expected 65 bytes r||s||v");
  Signature sig;
  std::copy(rsv.begin(), rsv.begin() + 32, sig.r.begin());
  std::copy(rsv.begin() + 32, rsv.begin() + 64, sig.s.begin());
  std::uint8_t v = rsv[64];
  if (v >= 27) v = static_cast<std::uint8_t>(v - 27);
  if (v > 1) throw KeyError("signature: v must be 0, 1, 27 or 28");
  sig.recovery_id = v;
  return sig;
}

Secp256k1Key Secp256k1Key::generate() {
  for (;;) {
    SecretBytes scalar = crypto::random_bytes(32);
    // Out of range with probability ~2^-128; try again rather than reduce.
    if (secp256k1_ec_seckey_verify(ctx(), scalar.data())) return from_private(scalar);
  }
}

Secp256k1Key Secp256k1Key::from_private(ByteView scalar32) {
  if (scalar32.size() != 32) throw KeyError("secp256k1 private key must be 32 bytes");
  if (!secp256k1_ec_seckey_verify(ctx(), scalar32.data()))
    throw KeyError("secp256k1 private key out of range (0 or >= n)");
  Secp256k1Key k;
  std::copy(scalar32.begin(), scalar32.end(), k.secret_.begin());
  secp256k1_pubkey pub;
  if (!secp256k1_ec_pubkey_create(ctx(), &pub, k.secret_.data())) throw KeyError("secp256k1_ec_pubkey_create failed");
  std::size_t len = k.public_key_.size();
  secp256k1_ec_pubkey_serialize(ctx(), k.public_key_.data(), &len, &pub, SECP256K1_EC_UNCOMPRESSED);
  k.address_ = address_of_public_key(k.public_key_);
  return k;
}

Secp256k1Key Secp256k1Key::from_hex(std::string_view hex) {
  SecretBytes scalar;
  try {
    scalar = parse_hex(hex);
  } catch (const DecodeError&) {
    throw KeyError("secp256k1 private key: not hex");  // the text is not echoed
  }
  return from_private(scalar);
}

Secp256k1Key::~Secp256k1Key() { wipe(secret_.data(), secret_.size()); }

SecretBytes Secp256k1Key::export_private() const { return SecretBytes(secret_.begin(), secret_.end()); }

Signature Secp256k1Key::sign_recoverable(ByteView hash32) const {
  if (hash32.size() != 32) throw KeyError("sign: digest must be 32 bytes");
  secp256k1_ecdsa_recoverable_signature rs;
  // NULL nonce function = RFC 6979; libsecp256k1 always produces low-s
  // (EIP-2 requires s <= n/2 for transactions).
  if (!secp256k1_ecdsa_sign_recoverable(ctx(), &rs, hash32.data(), secret_.data(), nullptr, nullptr))
    throw KeyError("secp256k1_ecdsa_sign_recoverable failed");
  std::uint8_t compact[64];
  int recid = 0;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx(), compact, &recid, &rs);
  Signature sig;
  std::copy(compact, compact + 32, sig.r.begin());
  std::copy(compact + 32, compact + 64, sig.s.begin());
  sig.recovery_id = static_cast<std::uint8_t>(recid);
  return sig;
}

Address recover_address(ByteView hash32, const Signature& sig) {
  if (hash32.size() != 32) throw KeyError("recover: digest must be 32 bytes");
  if (sig.recovery_id > 3) throw KeyError("recover: recovery id out of range");
  std::uint8_t compact[64];
  std::copy(sig.r.begin(), sig.r.end(), compact);
  std::copy(sig.s.begin(), sig.s.end(), compact + 32);
  secp256k1_ecdsa_recoverable_signature rs;
  if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx(), &rs, compact, sig.recovery_id))
    throw KeyError("recover: r or s out of range");
  secp256k1_pubkey pub;
  if (!secp256k1_ecdsa_recover(ctx(), &pub, &rs, hash32.data())) throw KeyError("recover: signature does not recover");
  std::uint8_t ser[65];
  std::size_t len = sizeof ser;
  secp256k1_ec_pubkey_serialize(ctx(), ser, &len, &pub, SECP256K1_EC_UNCOMPRESSED);
  return address_of_public_key(ByteView(ser, len));
}

Address address_of_public_key(ByteView pub) {
  if (pub.size() == 65 && pub[0] == 0x04) pub = pub.subspan(1);
  if (pub.size() != 64) throw KeyError("public key: expected 04||X||Y or X||Y");
  Bytes h = keccak256(pub);
  return address_from_bytes(ByteView(h).subspan(12));
}

}  // namespace rsp::eth
