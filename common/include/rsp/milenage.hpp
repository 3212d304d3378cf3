// 3GPP Milenage (TS 35.206: f1, f1*, f2, f3, f4, f5, f5*, OPc from OP) over
// AES-128 (rsp::crypto::aes_ecb_encrypt_block), and the 3G AKA steps a USIM
// performs on AUTHENTICATE (TS 33.102 6.3.3): AUTN check (MAC-A, SQN
// freshness), RES/CK/IK, resynchronisation token AUTS, plus the network-side
// helpers that build AUTN and recover SQNms from AUTS (for tests and an AuC).
//
//   rsp::milenage::Milenage m(k, opc);               // or Milenage::from_op(k, op)
//   auto out = rsp::milenage::usim_check(m, rand, autn, sqn_ms);
//   if (out.status == UsimAuthStatus::Ok) { ... out.res, out.ck, out.ik ...; sqn_ms = out.sqn; }
//
// Sizes (TS 33.102 6.3.2): K, OP, OPc, RAND, CK, IK 16 bytes; SQN, AK 6; AMF 2;
// MAC-A, MAC-S, RES 8 (Milenage gives a 64-bit RES); AUTN 16; AUTS 14.
// Bad input sizes throw std::invalid_argument.
#pragma once
#include <array>
#include <cstdint>
#include <optional>

#include "rsp/bytes.hpp"

namespace rsp::milenage {

inline constexpr std::size_t kKeyLen = 16;
inline constexpr std::size_t kRandLen = 16;
inline constexpr std::size_t kSqnLen = 6;
inline constexpr std::size_t kAmfLen = 2;
inline constexpr std::size_t kMacLen = 8;
inline constexpr std::size_t kResLen = 8;
inline constexpr std::size_t kAutnLen = 16;
inline constexpr std::size_t kAutsLen = 14;

// The algorithm constants r1..r5 (rotations, in bits) and c1..c5 (128-bit
// XOR constants). Defaults are those of TS 35.206 4.1: r = 64, 0, 32, 64, 96;
// c1 = 0, c2 = ..01, c3 = ..02, c4 = ..04, c5 = ..08.
struct Constants {
  std::array<std::uint8_t, 5> r = {64, 0, 32, 64, 96};
  std::array<std::array<std::uint8_t, 16>, 5> c = {{
      {},
      {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
      {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
      {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4},
      {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8},
  }};

  // From the SIMalliance profile package encoding (PE-AKAParameter
  // AlgoParameter): rotationConstants, 5 bytes (r1..r5 in bits, each < 128),
  // xoringConstants, 80 bytes (c1..c5). An empty view keeps the default.
  static Constants from_profile(ByteView rotation_constants, ByteView xoring_constants);
  bool operator==(const Constants&) const = default;
};

// OPc = AES_K(OP) xor OP (TS 35.206 4.1).
SecretBytes opc_from_op(ByteView k, ByteView op);

// Outputs of f2..f5* for one RAND.
struct F2345 {
  SecretBytes res;      // f2, 8 bytes
  SecretBytes ck;       // f3, 16 bytes
  SecretBytes ik;       // f4, 16 bytes
  SecretBytes ak;       // f5, 6 bytes
  SecretBytes ak_star;  // f5*, 6 bytes (resynchronisation)
};

class Milenage {
 public:
  Milenage(ByteView k, ByteView opc, Constants constants = {});
  static Milenage from_op(ByteView k, ByteView op, Constants constants = {});

  const SecretBytes& opc() const { return opc_; }

  Bytes f1(ByteView rand, ByteView sqn, ByteView amf) const;       // MAC-A
  Bytes f1_star(ByteView rand, ByteView sqn, ByteView amf) const;  // MAC-S
  F2345 f2345(ByteView rand) const;
  SecretBytes f2(ByteView rand) const { return f2345(rand).res; }
  SecretBytes f3(ByteView rand) const { return f2345(rand).ck; }
  SecretBytes f4(ByteView rand) const { return f2345(rand).ik; }
  SecretBytes f5(ByteView rand) const { return f2345(rand).ak; }
  SecretBytes f5_star(ByteView rand) const { return f2345(rand).ak_star; }

 private:
  // OUT1 (f1 / f1*: 16 bytes, MAC-A is bytes 0..7, MAC-S 8..15).
  Bytes out1(ByteView rand, ByteView sqn, ByteView amf) const;
  SecretBytes k_, opc_;
  Constants c_;
};

// ---- 3G AKA (TS 33.102 6.3) -------------------------------------------------

// SQN (6 bytes, big-endian) <-> integer.
std::uint64_t sqn_to_u64(ByteView sqn);
Bytes sqn_from_u64(std::uint64_t sqn);

// Network side: AUTN = (SQN xor AK) || AMF || MAC-A.
Bytes make_autn(const Milenage& m, ByteView rand, ByteView sqn, ByteView amf);

// USIM side resynchronisation token (TS 33.102 6.3.3, 6.3.5):
// AUTS = (SQNms xor AK*) || MAC-S, MAC-S = f1*(SQNms || RAND || AMF*) with
// the dummy AMF* = 0000.
Bytes make_auts(const Milenage& m, ByteView rand, ByteView sqn_ms);

// Network side: checks MAC-S of an AUTS and returns SQNms, or nullopt.
std::optional<Bytes> verify_auts(const Milenage& m, ByteView rand, ByteView auts);

// GSM compatibility conversions (TS 33.102 6.8.1.2): c2 (SRES from the
// 64-bit RES: RES1 xor RES2) and c3 (Kc = CK1 xor CK2 xor IK1 xor IK2).
Bytes c2_sres(ByteView res);
SecretBytes c3_kc(ByteView ck, ByteView ik);

enum class UsimAuthStatus { Ok, MacFailure, SyncFailure };

struct UsimAuthResult {
  UsimAuthStatus status = UsimAuthStatus::MacFailure;
  Bytes sqn;             // SQN recovered from AUTN (Ok and SyncFailure)
  Bytes amf;             // AMF from AUTN
  SecretBytes res, ck, ik;  // Ok only
  Bytes auts;            // SyncFailure only (when AUTS generation was asked for)
};

// What a USIM does with RAND and AUTN (TS 33.102 6.3.3), kept simple:
// AK = f5(RAND), SQN = (SQN xor AK) xor AK, XMAC = f1(SQN, RAND, AMF); XMAC
// must equal MAC-A (else MacFailure); SQN must be greater than sqn_ms, the
// highest SQN accepted so far (else SyncFailure, with AUTS when make_resync).
// No SEQ/IND split, no age limit (TS 33.102 Annex C is not implemented). On
// Ok the caller stores `sqn` as the new SQNms.
UsimAuthResult usim_check(const Milenage& m, ByteView rand, ByteView autn, std::uint64_t sqn_ms,
                          bool make_resync = true);

}  // namespace rsp::milenage
