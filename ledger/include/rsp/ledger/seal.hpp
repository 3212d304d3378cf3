// Sealing data to one participant's public key on the shared ledger: the
// Accept's profile (activation code and protected profile package) to the home
// operator's reply key, the Request's target (EID / ICCID) to the provider's
// seal key. Everyone can read the ledger; only the key holder can open.
//
// Scheme (ECIES, as in SEC 1 5.1 with the primitives SGP.22 already uses):
//   ephemeral P-256 key e; Z = ECKA-DH(e, recipient) (x-coordinate, BSI TR-03111)
//   K = X9.63-KDF-SHA-256(Z, "RSP-SEAL-v1" || u32be(len(context)) || context || E || R, 44)
//     -> AES-256 key = K[0..32), GCM IV = K[32..44)  (a fresh key per message, so a derived IV is safe)
//   sealed = 0x01 || E (65) || AES-256-GCM(key, iv, aad = context, plaintext) || tag (16)
// E and R (ephemeral and recipient points) are in the KDF input so a sealed
// blob cannot be re-targeted; `context` (e.g. "accept:<request_id>") binds it
// to one record so it cannot be replayed into another.
#pragma once
#include <stdexcept>
#include <string_view>

#include "rsp/bytes.hpp"
#include "rsp/crypto.hpp"

namespace rsp::ledger {

struct SealError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline constexpr std::uint8_t kSealVersion = 0x01;

// `recipient_point`: uncompressed P-256 point (65 bytes).
Bytes seal(ByteView recipient_point, std::string_view context, ByteView plaintext);
// Throws SealError when the blob is malformed, was sealed to another key, or
// was altered (GCM tag), or `context` differs.
Bytes open_sealed(const crypto::EcKey& recipient, std::string_view context, ByteView sealed);

}  // namespace rsp::ledger
