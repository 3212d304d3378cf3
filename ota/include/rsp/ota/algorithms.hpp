// The ciphers, cryptographic checksums and redundancy checks of ETSI TS 102
// 225 (5.1.2 KIc, 5.1.3 KID), over the one crypto wrapper (rsp::crypto).
// IVs are zero (TS 102 225 5.1.2: "initial chaining value ... zero").
#pragma once
#include <cstddef>

#include "rsp/bytes.hpp"
#include "rsp/ota/security_parameters.hpp"

namespace rsp::ota {

// 8 for the DES family, 16 for AES.
std::size_t cipher_block_size(Algorithm a);

// Throws PacketError(06) when the key does not fit the algorithm (DES 8
// bytes, 3DES 16 or 24, AES 16, 24 or 32) or the algorithm is not one we
// implement (implicit, proprietary, reserved).
void require_cipher_key(Algorithm a, ByteView key);

// Data must already be padded to the block size; PacketError(05) otherwise.
Bytes encipher(Algorithm a, ByteView key, ByteView data);
Bytes decipher(Algorithm a, ByteView key, ByteView data);

// TS 102 225 5.1.3.1: DES/3DES CBC-MAC (zero IV, data zero-padded to a
// multiple of 8, the last cipher block; 8 bytes) or AES-CMAC (NIST SP
// 800-38B, no padding of ours; truncated to its leftmost `length` bytes, 4
// or 8 by the CHL). `length` 0 means the default: 8.
Bytes cryptographic_checksum(Algorithm a, ByteView key, ByteView data, std::size_t length = 0);
// TS 102 225 5.1.3.2: CRC16 / CRC32 of ISO/IEC 13239, big-endian.
Bytes redundancy_check(Algorithm a, ByteView data);
std::uint16_t crc16_iso13239(ByteView data);  // x^16+x^12+x^5+1, reflected, init FFFF, complemented
std::uint32_t crc32_iso13239(ByteView data);  // the IEEE 802.3 CRC-32

// How long the RC/CC/DS of an algorithm is: CRC16 2, CRC32 4, CC 8 (AES-CMAC
// also 4 when asked for). Throws PacketError(06) for what we cannot check.
std::size_t checksum_length(RcCcDs mode, Algorithm a, std::size_t requested = 0);

}  // namespace rsp::ota
