#include "rsp/eth/u256.hpp"

#include <algorithm>
#include <ostream>
#include <stdexcept>

namespace rsp::eth {

namespace {
__extension__ typedef unsigned __int128 u128;  // -Wpedantic: GCC extension on purpose

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

void U256::throw_negative() { throw std::out_of_range("U256: negative value"); }

U256 U256::max() {
  U256 v;
  v.w_.fill(~0ULL);
  return v;
}

U256 U256::from_dec(std::string_view digits) {
  if (digits.empty()) throw DecodeError("U256: empty number");
  U256 v;
  for (char c : digits) {
    if (c < '0' || c > '9') throw DecodeError("U256: bad decimal digit");
    try {
      v = v * 10 + U256(static_cast<std::uint64_t>(c - '0'));
    } catch (const std::overflow_error&) {
      throw DecodeError("U256: number above 2^256-1");
    }
  }
  return v;
}

U256 U256::from_hex(std::string_view hex) {
  if (hex.size() >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex.remove_prefix(2);
  if (hex.empty()) throw DecodeError("U256: empty hex number");
  while (hex.size() > 1 && hex.front() == '0') hex.remove_prefix(1);
  if (hex.size() > 64) throw DecodeError("U256: number above 2^256-1");
  U256 v;
  unsigned bit = 0;
  for (auto it = hex.rbegin(); it != hex.rend(); ++it, bit += 4) {
    int d = hex_digit(*it);
    if (d < 0) throw DecodeError("U256: bad hex digit");
    v.w_[bit / 64] |= static_cast<std::uint64_t>(d) << (bit % 64);
  }
  return v;
}

U256 U256::parse(std::string_view text) {
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) return from_hex(text);
  return from_dec(text);
}

U256 U256::from_be(ByteView be) {
  if (be.size() > 32) throw DecodeError("U256: more than 32 bytes");
  U256 v;
  for (std::size_t i = 0; i < be.size(); ++i) {
    std::size_t bytepos = be.size() - 1 - i;  // 0 = least significant
    v.w_[bytepos / 8] |= static_cast<std::uint64_t>(be[i]) << (8 * (bytepos % 8));
  }
  return v;
}

std::array<std::uint8_t, 32> U256::to_be32() const {
  std::array<std::uint8_t, 32> out{};
  for (std::size_t i = 0; i < 32; ++i) {
    std::size_t bytepos = 31 - i;
    out[i] = static_cast<std::uint8_t>(w_[bytepos / 8] >> (8 * (bytepos % 8)));
  }
  return out;
}

Bytes U256::to_be_minimal() const {
  auto full = to_be32();
  auto first = std::find_if(full.begin(), full.end(), [](std::uint8_t b) { return b != 0; });
  return Bytes(first, full.end());
}

std::string U256::to_dec() const {
  if (is_zero()) return "0";
  std::string out;
  U256 v = *this;
  for (;;) {
    std::uint64_t rem = 0;
    // 19 decimal digits per division; every chunk but the top one is zero-padded.
    v = v.div_u64(10'000'000'000'000'000'000ULL, &rem);
    if (v.is_zero()) {
      for (; rem != 0; rem /= 10) out.push_back(static_cast<char>('0' + rem % 10));
      break;
    }
    for (int i = 0; i < 19; ++i, rem /= 10) out.push_back(static_cast<char>('0' + rem % 10));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::string U256::to_hex() const {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (int i = 63; i >= 0; --i) {
    unsigned d = static_cast<unsigned>(w_[static_cast<unsigned>(i) / 16] >> (4 * (static_cast<unsigned>(i) % 16))) & 0xF;
    if (out.empty() && d == 0) continue;
    out.push_back(digits[d]);
  }
  return "0x" + (out.empty() ? std::string("0") : out);
}

std::uint64_t U256::as_u64() const {
  if (!fits_u64()) throw std::overflow_error("U256: value does not fit in 64 bits");
  return w_[0];
}

unsigned U256::bit_length() const {
  for (int i = 3; i >= 0; --i)
    if (w_[static_cast<unsigned>(i)] != 0)
      return static_cast<unsigned>(i) * 64 + 64 - static_cast<unsigned>(__builtin_clzll(w_[static_cast<unsigned>(i)]));
  return 0;
}

U256 U256::operator+(const U256& o) const {
  U256 r;
  std::uint64_t carry = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    u128 s = static_cast<u128>(w_[i]) + o.w_[i] + carry;
    r.w_[i] = static_cast<std::uint64_t>(s);
    carry = static_cast<std::uint64_t>(s >> 64);
  }
  if (carry) throw std::overflow_error("U256: addition overflows");
  return r;
}

U256 U256::operator-(const U256& o) const {
  if (*this < o) throw std::underflow_error("U256: subtraction below zero");
  U256 r;
  std::uint64_t borrow = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    u128 d = static_cast<u128>(w_[i]) - o.w_[i] - borrow;
    r.w_[i] = static_cast<std::uint64_t>(d);
    borrow = (d >> 64) ? 1 : 0;
  }
  return r;
}

U256 U256::operator*(std::uint64_t m) const {
  U256 r;
  std::uint64_t carry = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    u128 p = static_cast<u128>(w_[i]) * m + carry;
    r.w_[i] = static_cast<std::uint64_t>(p);
    carry = static_cast<std::uint64_t>(p >> 64);
  }
  if (carry) throw std::overflow_error("U256: multiplication overflows");
  return r;
}

U256 U256::div_u64(std::uint64_t d, std::uint64_t* rem) const {
  if (d == 0) throw std::domain_error("U256: division by zero");
  U256 q;
  u128 r = 0;
  for (int i = 3; i >= 0; --i) {
    u128 cur = (r << 64) | w_[static_cast<unsigned>(i)];
    q.w_[static_cast<unsigned>(i)] = static_cast<std::uint64_t>(cur / d);
    r = cur % d;
  }
  if (rem) *rem = static_cast<std::uint64_t>(r);
  return q;
}

std::ostream& operator<<(std::ostream& os, const U256& v) { return os << v.to_dec(); }

}  // namespace rsp::eth
