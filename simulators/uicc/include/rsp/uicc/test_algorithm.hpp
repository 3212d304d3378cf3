// The test USIM's authentication algorithm: XOR, 3GPP TS 34.108 8.1.2 (the
// "usim-test-algorithm" of PE-AKAParameter, used by GSMA TS.48 test profiles).
#pragma once
#include "rsp/bytes.hpp"

namespace rsp::uicc::test_algorithm {

inline constexpr std::size_t kResLen = 8;  // n = 64 bits

struct Vectors {
  SecretBytes xdout;  // K xor RAND
  SecretBytes res;    // f2: XDOUT bits 0..n-1
  SecretBytes ck;     // f3: XDOUT rotated left by 8 bits
  SecretBytes ik;     // f4: XDOUT rotated left by 16 bits
  Bytes ak;           // f5 and f5* (resynchronisation): XDOUT bits 24..71
};

Vectors compute(ByteView k, ByteView rand);
// f1 and f1*: MAC-A (MAC-S) = XDOUT bits 0..63 xor CDOUT, CDOUT = SQN || AMF
// (TS 34.108 8.1.2 defines both by the same steps).
Bytes mac(const Vectors& v, ByteView sqn, ByteView amf);

}  // namespace rsp::uicc::test_algorithm
