// TUAK, the second 3GPP example algorithm set for f1, f1*, f2-f5, f5*
// (3GPP TS 35.231), built on the Keccak-f[1600] permutation. Selected by a
// profile's PE-AKAParameter with algorithmID tuak(2): `opc` then holds TOPc
// and numberOfKeccak the number of permutations.
#pragma once
#include "rsp/bytes.hpp"

namespace rsp::uicc::tuak {

// TS 35.231 6.1: TOPc from K (16 or 32 bytes) and TOP (32 bytes).
Bytes topc(ByteView k, ByteView top, unsigned iterations = 1);

// f1 (MAC-A) / f1* (MAC-S), `mac_len` 8, 16 or 32 bytes.
Bytes f1(ByteView topc, ByteView k, ByteView rand, ByteView sqn, ByteView amf, std::size_t mac_len,
         unsigned iterations = 1);
Bytes f1_star(ByteView topc, ByteView k, ByteView rand, ByteView sqn, ByteView amf, std::size_t mac_len,
              unsigned iterations = 1);

struct F2345 {
  SecretBytes res;  // f2, `res_len` bytes (4, 8, 16 or 32)
  SecretBytes ck;   // f3, 16 or 32 bytes
  SecretBytes ik;   // f4, 16 or 32 bytes
  Bytes ak;         // f5, 6 bytes
};
// One permutation run gives all four; their lengths are part of the input.
F2345 f2345(ByteView topc, ByteView k, ByteView rand, std::size_t res_len, std::size_t ck_len = 16,
            std::size_t ik_len = 16, unsigned iterations = 1);
// f5* (AK for resynchronisation), 6 bytes.
Bytes f5_star(ByteView topc, ByteView k, ByteView rand, unsigned iterations = 1);

// The permutation itself (FIPS 202 Keccak-p[1600, 24]) on a 200-byte state,
// lanes little-endian.
void keccak_f1600(std::uint8_t state[200]);

}  // namespace rsp::uicc::tuak
