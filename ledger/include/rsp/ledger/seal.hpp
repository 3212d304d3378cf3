// Sealing data to one participant's public key on the shared ledger: the
// Accept's profile (activation code and protected profile package) to the home
// operator's reply key, the Request's target (EID / ICCID) to the provider's
// seal key. Everyone can read the ledger; only the key holder can open.
//
// Scheme (ECIES, as in SEC 1 5.1 with the primitives SGP.22 already uses):
//   ephemeral P-256 key e; Z = ECKA-DH(e, recipient) (x-coordinate, BSI TR-03111)
//   C = SealContext::encode()  (below)
//   K = X9.63-KDF-SHA-256(Z, "RSP-SEAL-v2" || u32be(len(C)) || C || E || R, 44)
//     -> AES-256 key = K[0..32), GCM IV = K[32..44)  (a fresh key per message, so a derived IV is safe)
//   sealed = 0x02 || E (65) || AES-256-GCM(key, iv, aad = C, plaintext) || tag (16)
// E and R (ephemeral and recipient points) are in the KDF input so a sealed
// blob cannot be re-targeted; the context C names the ledger, the Request, both
// parties and (for an Accept) the package hash, so a blob opens only in the
// one record it was made for: not in a Request that front-ran its id, not on
// another ledger, not under another package hash (docs/ledger.md, "Sealing
// context").
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

#include "rsp/bytes.hpp"
#include "rsp/crypto.hpp"
#include "rsp/ledger/market.hpp"

namespace rsp::ledger {

struct SealError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// 0x01 was the first scheme, whose context was only "target:<id>" /
// "accept:<id>"; such blobs are refused by their version byte.
inline constexpr std::uint8_t kSealVersion = 0x02;

// What a sealed blob is bound to. Every field is in the encoding; the
// builders below fill them from the records both sides read on the ledger.
struct SealContext {
  enum class Purpose { Target, Accept };
  Purpose purpose = Purpose::Target;
  Bytes ledger;              // Market::ledger_id(): which ledger the Request is on
  std::string request_id;
  std::string offer_id;      // the Offer the Request buys
  std::string home;          // the Request's home operator (participant id)
  std::string provider;      // the Offer's provider (participant id)
  Bytes seal_key;            // the Offer's seal key (65-byte P-256 point)
  Bytes reply_key;           // the Request's reply key (65-byte P-256 point)
  Bytes package_hash;        // Accept: the Accept's package_hash (32 bytes); Target: empty

  // "target" or "accept", then each field in the order above, every one as
  // u32be(len) || bytes (ids UTF-8 as on the ledger), so no two contexts
  // encode the same.
  Bytes encode() const;
};

// The Request's sealed target, as its home operator makes it before the
// Request is on the ledger (`home` is the writer, Market::me()).
SealContext target_context(ByteView ledger, const Offer& offer, const std::string& home, const RequestTerms& request);
// ... and as the provider checks it, from the Request the ledger holds.
SealContext target_context(ByteView ledger, const Request& request, ByteView seal_key);
// The Accept's sealed profile (both sides): `package_hash` is the one the
// Accept carries, SHA-256 of the protected profile package bytes.
SealContext accept_context(ByteView ledger, const Request& request, ByteView seal_key, ByteView package_hash);

// `recipient_point`: uncompressed P-256 point (65 bytes).
Bytes seal(ByteView recipient_point, const SealContext& context, ByteView plaintext);
// Throws SealError when the blob is malformed, was sealed to another key, or
// was altered (GCM tag), or any field of `context` differs.
Bytes open_sealed(const crypto::EcKey& recipient, const SealContext& context, ByteView sealed);

}  // namespace rsp::ledger
