#include "rsp/eid.hpp"

#include <stdexcept>

namespace rsp {
namespace {
bool digits(std::string_view s, std::size_t n) {
  if (s.size() != n) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}
// The number's remainder mod 97, digit by digit (32 digits do not fit 64 bits).
int mod97(std::string_view s) {
  int rem = 0;
  for (char c : s) rem = (rem * 10 + (c - '0')) % 97;
  return rem;
}
}  // namespace

bool eid_valid(std::string_view eid) { return digits(eid, 32) && mod97(eid) == 1; }

std::string eid_check_digits(std::string_view first30) {
  if (!digits(first30, 30)) throw std::invalid_argument("EID: expected the first 30 decimal digits");
  int check = 98 - mod97(std::string(first30) + "00");
  return {static_cast<char>('0' + check / 10), static_cast<char>('0' + check % 10)};
}

}  // namespace rsp
