// An unsigned 256-bit integer, just enough for Ethereum quantities (amounts,
// fees, gas, chain ids): parse, print, big-endian forms, compare, add and
// multiply by small values. Arithmetic is checked: overflow throws.
#pragma once
#include <array>
#include <compare>
#include <concepts>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <type_traits>

#include "rsp/bytes.hpp"

namespace rsp::eth {

class U256 {
 public:
  constexpr U256() = default;
  // Implicit from any non-negative integer so that `U256 v = 1000;` and
  // `tx.value = 0;` read naturally. Negative values throw std::out_of_range.
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  constexpr U256(T v) {  // NOLINT(google-explicit-constructor)
    if constexpr (std::is_signed_v<T>) {
      if (v < 0) throw_negative();
    }
    w_[0] = static_cast<std::uint64_t>(v);
  }

  // "123" (decimal) or "0x7b" (hex, the JSON-RPC quantity form). Throws
  // DecodeError on bad digits, empty input or a value above 2^256-1.
  static U256 parse(std::string_view text);
  static U256 from_dec(std::string_view digits);
  static U256 from_hex(std::string_view hex);  // with or without 0x
  // Big-endian, 0..32 bytes (leading zeros allowed). Throws DecodeError above 32.
  static U256 from_be(ByteView be);
  static U256 max();

  std::array<std::uint8_t, 32> to_be32() const;  // ABI word
  Bytes to_be_minimal() const;                    // no leading zeros; 0 -> empty (RLP integers)
  std::string to_dec() const;
  std::string to_hex() const;  // JSON-RPC quantity: "0x0", "0x7b"

  bool is_zero() const { return (w_[0] | w_[1] | w_[2] | w_[3]) == 0; }
  bool fits_u64() const { return (w_[1] | w_[2] | w_[3]) == 0; }
  std::uint64_t as_u64() const;  // throws std::overflow_error if it does not fit
  unsigned bit_length() const;

  U256 operator+(const U256& o) const;   // throws std::overflow_error
  U256 operator-(const U256& o) const;   // throws std::underflow_error below zero
  U256 operator*(std::uint64_t m) const; // throws std::overflow_error
  U256& operator+=(const U256& o) { return *this = *this + o; }
  // Division by a small value, for printing units (remainder in *rem).
  U256 div_u64(std::uint64_t d, std::uint64_t* rem = nullptr) const;

  friend bool operator==(const U256&, const U256&) = default;
  friend std::strong_ordering operator<=>(const U256& a, const U256& b) {
    for (int i = 3; i >= 0; --i)
      if (a.w_[i] != b.w_[i]) return a.w_[i] <=> b.w_[i];
    return std::strong_ordering::equal;
  }

 private:
  [[noreturn]] static void throw_negative();
  std::array<std::uint64_t, 4> w_{};  // little-endian limbs
};

// Prints the decimal value (for test messages and logs).
std::ostream& operator<<(std::ostream& os, const U256& v);

// 10^18 wei, 10^9 wei.
inline U256 ether(std::uint64_t n) { return U256(n) * 1'000'000'000'000'000'000ULL; }
inline U256 gwei(std::uint64_t n) { return U256(n) * 1'000'000'000ULL; }

}  // namespace rsp::eth
