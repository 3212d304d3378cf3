// Data Authentication Pattern: the signature a security domain with the DAP
// Verification or Mandated DAP Verification privilege checks before a load
// file may stay on the card (GP Card Specification 2.3.1 9.2.1 "Data
// Authentication Pattern Verification", 11.5.2.3 INSTALL [for load] with the
// Load File Data Block Hash, 11.6.2.3 the DAP block E2 {4F SD AID, C3
// signature} in front of C4 in the first LOAD block).
//
// The one scheme here is ECDSA over NIST P-256 with SHA-256 (GP 2.3.1 B.4.3),
// signed over the Load File Data Block Hash, the signature as raw r || s (64
// bytes), as GlobalPlatformPro signs with an EC key. The hash is SHA-1 (20
// bytes, GP 2.3.1 B.1.1) or SHA-256 (32 bytes, B.1.2); the card tells them
// apart by length. Not here: the DES/AES MAC schemes (C.3 / Amd D) and RSA
// (B.3); docs/applet-tools.md says so.
#pragma once
#include <string_view>
#include <vector>

#include "rsp/bytes.hpp"
#include "rsp/crypto.hpp"

namespace rsp::gp {

enum class LoadFileHash { Sha1, Sha256 };
LoadFileHash load_file_hash_from_name(std::string_view name);  // "sha1", "sha256"; throws DecodeError
// The Load File Data Block Hash over the value of C4 (not its tag and length).
Bytes load_file_data_block_hash(ByteView load_file_data_block, LoadFileHash how);

// Host: the Load File Data Block Signature with the DAP private key (P-256).
// Throws crypto::CryptoError for a key that is not a P-256 private key.
Bytes dap_signature(const crypto::EcKey& private_key, ByteView load_file_data_block_hash);
// Card: true when `signature` is the DAP over the hash under `public_key` (P-256).
bool dap_verify(const crypto::EcKey& public_key, ByteView load_file_data_block_hash, ByteView signature);

// One DAP block: E2 { 4F SD AID, C3 Load File Data Block Signature } (11.6.2.3).
struct DapBlock {
  Bytes sd_aid, signature;
};
Bytes encode_dap_block(const DapBlock& d);

// What all LOAD blocks of one load carry together: DAP blocks, then C4 and
// the load file data block (11.6.2.3). Throws DecodeError on anything else.
struct LoadData {
  std::vector<DapBlock> daps;
  Bytes load_file_data_block;
  static LoadData parse(ByteView data);
};

}  // namespace rsp::gp
