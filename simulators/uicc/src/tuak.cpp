// TUAK (3GPP TS 35.231). Every function runs Keccak-f[1600] over a 1600-bit
// IN built from TOPc, INSTANCE, ALGONAME "TUAK1.0", RAND, AMF, SQN and KEY,
// then a padding of 1F ... 80 (TS 35.231 clause 6). The 3GPP parameters are
// numbered most significant bit first and IN is numbered from the least
// significant bit of byte 0, so each multi-octet field lies in IN with its
// octets in reverse order, and an output is read back reversed (TS 35.232's
// intermediate IN/OUT values show this: TOPc bd04...cbff enters as ff cb ...,
// "TUAK1.0" as 30 2e 31 4b 41 55 54). INSTANCE is one octet: b8 f1* / f5*,
// b7 f2345 / f5*, b6-b4 the length of MAC or RES (000 32 bits, 001 64,
// 010 128, 100 256), b3 CK 256 bits, b2 IK 256 bits, b1 K 256 bits.
#include "rsp/uicc/tuak.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace rsp::uicc::tuak {
namespace {

constexpr std::array<std::uint64_t, 24> kRoundConstants = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808AULL, 0x8000000080008000ULL,
    0x000000000000808BULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008AULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000AULL,
    0x000000008000808BULL, 0x800000000000008BULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800AULL, 0x800000008000000AULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};
// rho offsets and pi lane order, walking the lanes from (1, 0) as FIPS 202 3.2.2-3.2.3 do.
constexpr std::array<int, 24> kRho = {1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14, 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44};
constexpr std::array<int, 24> kPi = {10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4, 15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1};

std::uint64_t rotl(std::uint64_t x, int n) { return (x << n) | (x >> (64 - n)); }

constexpr std::uint8_t kF1Star = 0x80, kF2345 = 0x40, kK256 = 0x01, kCk256 = 0x04, kIk256 = 0x02;

std::uint8_t length_code(std::size_t bytes) {
  switch (bytes) {
    case 4: return 0x00;
    case 8: return 0x08;
    case 16: return 0x10;
    case 32: return 0x20;
    default: throw std::invalid_argument("TUAK: MAC / RES of 32, 64, 128 or 256 bits");
  }
}

void put_reversed(std::uint8_t* at, ByteView v) { std::reverse_copy(v.begin(), v.end(), at); }

Bytes take_reversed(const std::array<std::uint8_t, 200>& out, std::size_t at, std::size_t len) {
  Bytes v(out.begin() + static_cast<std::ptrdiff_t>(at), out.begin() + static_cast<std::ptrdiff_t>(at + len));
  std::reverse(v.begin(), v.end());
  return v;
}

// IN -> OUT for one function (TS 35.231 6.2-6.6); zero RAND/SQN/AMF where a
// function does not take them.
std::array<std::uint8_t, 200> run(ByteView topc, std::uint8_t instance, ByteView rand, ByteView amf, ByteView sqn,
                                  ByteView k, unsigned iterations) {
  if (topc.size() != 32 || rand.size() != 16 || amf.size() != 2 || sqn.size() != 6)
    throw std::invalid_argument("TUAK: TOPc 256 bits, RAND 128, AMF 16, SQN 48");
  if (k.size() != 16 && k.size() != 32) throw std::invalid_argument("TUAK: K of 128 or 256 bits");
  if (iterations == 0) throw std::invalid_argument("TUAK: at least one Keccak iteration");
  std::array<std::uint8_t, 200> s{};
  put_reversed(&s[0], topc);
  s[32] = static_cast<std::uint8_t>(instance | (k.size() == 32 ? kK256 : 0));
  static constexpr char kAlgoName[] = "TUAK1.0";
  std::reverse_copy(kAlgoName, kAlgoName + 7, &s[33]);
  put_reversed(&s[40], rand);
  put_reversed(&s[56], amf);
  put_reversed(&s[58], sqn);
  put_reversed(&s[64], k);  // KEY is 256 bits: a 128-bit K fills its low half (IN octets 64..79)
  s[96] = 0x1F;
  s[135] = 0x80;
  for (unsigned i = 0; i < iterations; ++i) keccak_f1600(s.data());
  return s;
}

const Bytes kZeroRand(16, 0), kZeroAmf(2, 0), kZeroSqn(6, 0);

}  // namespace

void keccak_f1600(std::uint8_t state[200]) {
  std::array<std::uint64_t, 25> a{};
  for (std::size_t i = 0; i < 25; ++i)
    for (std::size_t b = 0; b < 8; ++b) a[i] |= static_cast<std::uint64_t>(state[8 * i + b]) << (8 * b);
  for (std::uint64_t rc : kRoundConstants) {
    std::array<std::uint64_t, 5> c{};
    for (std::size_t x = 0; x < 5; ++x) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];  // theta
    for (std::size_t x = 0; x < 5; ++x) {
      std::uint64_t d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
      for (std::size_t y = 0; y < 25; y += 5) a[y + x] ^= d;
    }
    std::uint64_t t = a[1];  // rho and pi
    for (std::size_t i = 0; i < 24; ++i) {
      std::uint64_t next = a[static_cast<std::size_t>(kPi[i])];
      a[static_cast<std::size_t>(kPi[i])] = rotl(t, kRho[i]);
      t = next;
    }
    for (std::size_t y = 0; y < 25; y += 5) {  // chi
      std::array<std::uint64_t, 5> row{a[y], a[y + 1], a[y + 2], a[y + 3], a[y + 4]};
      for (std::size_t x = 0; x < 5; ++x) a[y + x] = row[x] ^ (~row[(x + 1) % 5] & row[(x + 2) % 5]);
    }
    a[0] ^= rc;  // iota
  }
  for (std::size_t i = 0; i < 25; ++i)
    for (std::size_t b = 0; b < 8; ++b) state[8 * i + b] = static_cast<std::uint8_t>(a[i] >> (8 * b));
}

Bytes topc(ByteView k, ByteView top, unsigned iterations) {
  if (top.size() != 32) throw std::invalid_argument("TUAK: TOP is 256 bits");
  return take_reversed(run(top, 0x00, kZeroRand, kZeroAmf, kZeroSqn, k, iterations), 0, 32);
}

Bytes f1(ByteView topc, ByteView k, ByteView rand, ByteView sqn, ByteView amf, std::size_t mac_len, unsigned iterations) {
  return take_reversed(run(topc, length_code(mac_len), rand, amf, sqn, k, iterations), 0, mac_len);
}

Bytes f1_star(ByteView topc, ByteView k, ByteView rand, ByteView sqn, ByteView amf, std::size_t mac_len,
              unsigned iterations) {
  return take_reversed(run(topc, kF1Star | length_code(mac_len), rand, amf, sqn, k, iterations), 0, mac_len);
}

F2345 f2345(ByteView topc, ByteView k, ByteView rand, std::size_t res_len, std::size_t ck_len, std::size_t ik_len,
            unsigned iterations) {
  if ((ck_len != 16 && ck_len != 32) || (ik_len != 16 && ik_len != 32))
    throw std::invalid_argument("TUAK: CK and IK of 128 or 256 bits");
  std::uint8_t instance = static_cast<std::uint8_t>(kF2345 | length_code(res_len) | (ck_len == 32 ? kCk256 : 0) |
                                                    (ik_len == 32 ? kIk256 : 0));
  auto out = run(topc, instance, rand, kZeroAmf, kZeroSqn, k, iterations);
  F2345 r;
  r.res = take_reversed(out, 0, res_len);
  r.ck = take_reversed(out, 32, ck_len);
  r.ik = take_reversed(out, 64, ik_len);
  r.ak = take_reversed(out, 96, 6);
  wipe(out.data(), out.size());
  return r;
}

Bytes f5_star(ByteView topc, ByteView k, ByteView rand, unsigned iterations) {
  return take_reversed(run(topc, kF1Star | kF2345, rand, kZeroAmf, kZeroSqn, k, iterations), 96, 6);
}

}  // namespace rsp::uicc::tuak
