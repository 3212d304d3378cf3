// libFuzzer target: SGP.22 4.1 activation codes (QR codes, typed text). An
// accepted code must print to a canonical form that parses back to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rsp/activation_code.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  rsp::ActivationCode ac;
  try {
    ac = rsp::ActivationCode::parse(text);
  } catch (const rsp::ActivationCodeError&) {
    return 0;
  }
  for (bool prefix : {true, false}) {
    if (rsp::ActivationCode::parse(ac.to_string(prefix)) != ac) std::abort();
  }
  return 0;
}
