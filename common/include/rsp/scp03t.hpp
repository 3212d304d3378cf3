// SCP03t: the secure channel that binds a BoundProfilePackage to one eUICC
// (SGP.22 2.6.4 key derivation, 2.5.4 / 5.5 ES8+ command protection; the
// algorithms are GlobalPlatform SCP03's AES-CBC + AES-CMAC applied to TLVs).
// The SM-DP+ wraps, the eUICC unwraps; both use this one class.
#pragma once
#include <cstdint>

#include "rsp/bytes.hpp"

namespace rsp::scp03t {

// SGP.22 2.6.4: KeyData = X9.63-KDF(ShS, keyType || keyLength || L(hostId) ||
// hostId || L(EID) || EID), split into initial MCV, S-ENC and S-MAC.
struct SessionKeys {
  SecretBytes initial_mcv, s_enc, s_mac;
};
SessionKeys derive_session_keys(ByteView shared_secret, ByteView host_id, ByteView eid);

// TLV tags of protected ES8+ segments (SGP.22 5.5.1 BoundProfilePackage).
inline constexpr std::uint8_t kTagEncryptedMac = 0x86;  // profile segments
inline constexpr std::uint8_t kTagConfigureOrReplace = 0x87;  // ConfigureISDP / ReplaceSessionKeys
inline constexpr std::uint8_t kTagMacOnly = 0x88;        // StoreMetadata (MAC only)

// SGP.22 2.5.5 (v2.2.2 section 2.5, "Segmentation"): each segment of the
// Bound Profile Package is at most 1,020 bytes including tag, length and MAC.
// 1,007 plaintext bytes + 1 padding byte = 1,008 (63 AES blocks), + 8 MAC =
// 1,016, + '86 82 03 F8' = 1,020. One more plaintext byte adds a whole padding
// block (1,036 bytes), which a standard eUICC refuses.
inline constexpr std::size_t kMaxSegmentSize = 1020;
inline constexpr std::size_t kMaxSegmentPlaintext = 1007;
// MAC-only segments ('88' StoreMetadata) have no padding: 1,008 + 8 + 4 = 1,020.
inline constexpr std::size_t kMaxMacOnlySegmentPlaintext = 1008;

struct MacError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Channel {
 public:
  Channel(ByteView s_enc, ByteView s_mac, ByteView initial_mcv);

  // Encrypts (unless `encrypt` is false, as for tag 88) and MACs one TLV:
  // tag || L || [AES-CBC(S-ENC, ICV=AES(S-ENC, counter), data||80 00..)] || MAC8.
  // The block counter advances for every segment, MAC-only ones included.
  Bytes wrap(std::uint8_t tag, ByteView plain, bool encrypt = true);
  // Data as its sequence of protected segments, concatenated (SGP.22 2.5.5:
  // no segment over kMaxSegmentSize bytes): a profile package as 86 TLVs of
  // at most kMaxSegmentPlaintext bytes each, or (encrypt false) StoreMetadata
  // as 88 TLVs of at most kMaxMacOnlySegmentPlaintext bytes each.
  Bytes wrap_segments(std::uint8_t tag, ByteView plain, bool encrypt = true);
  // Verifies the MAC against the running chaining value, then decrypts and
  // strips the padding. Throws MacError on a MAC or padding mismatch; the
  // chaining value and counter only advance on success, so a tampered,
  // replayed or reordered segment cannot be accepted later either.
  Bytes unwrap(ByteView tlv, bool encrypted = true);

  std::uint32_t block_counter() const { return counter_; }

 private:
  SecretBytes enc_, mac_, mcv_;
  std::uint32_t counter_ = 1;
};

}  // namespace rsp::scp03t
