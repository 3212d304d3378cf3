#include "rsp/gp/status_words.hpp"

#include <cstdio>

namespace rsp::gp::sw {

std::string_view meaning(std::uint16_t s) {
  switch (s) {
    case 0x9000: return "success";
    case 0x6310: return "more data available";
    case 0x6300: return "authentication of host cryptogram failed";
    case 0x6283: return "selected file invalidated (card locked)";
    case 0x6581: return "memory failure";
    case 0x6700: return "wrong length in Lc";
    case 0x6881: return "logical channel not supported or not active";
    case 0x6882: return "secure messaging not supported";
    case 0x6982: return "security status not satisfied";
    case 0x6983: return "authentication method blocked";
    case 0x6984: return "referenced data not usable";
    case 0x6985: return "conditions of use not satisfied";
    case 0x6999: return "applet selection failed";
    case 0x6A80: return "incorrect values in command data";
    case 0x6A81: return "function not supported (e.g. card life cycle is CARD_LOCKED)";
    case 0x6A82: return "application or file not found";
    case 0x6A84: return "not enough memory space";
    case 0x6A86: return "incorrect P1 P2";
    case 0x6A88: return "referenced data not found";
    case 0x6D00: return "instruction not supported or invalid";
    case 0x6E00: return "class not supported";
    case 0x6F00: return "no precise diagnosis";
    case 0x6400: return "no specific diagnosis";
    default: break;
  }
  if ((s >> 8) == 0x61) return "response bytes still available";
  if ((s >> 8) == 0x6C) return "wrong Le";
  if ((s & 0xFFF0) == 0x63C0) return "verification failed, counter in low nibble";
  return "unknown status word";
}

std::string describe(std::uint16_t s) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04X", s);
  return std::string(buf) + " (" + std::string(meaning(s)) + ")";
}

}  // namespace rsp::gp::sw
