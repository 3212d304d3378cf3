// libFuzzer target: ISO/IEC 7816-4 command and response APDUs (rsp/apdu.hpp),
// as the eUICC simulator and the card links parse them. A parsed command must
// re-encode to a command that parses to the same fields.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "rsp/apdu.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rsp::ByteView in(data, size);
  try {
    auto c = rsp::apdu::Command::parse(in);
    (void)c.channel();
    auto back = rsp::apdu::Command::parse(c.encode());
    if (back.cla != c.cla || back.ins != c.ins || back.p1 != c.p1 || back.p2 != c.p2 || back.data != c.data ||
        back.le != c.le)
      std::abort();
  } catch (const rsp::DecodeError&) {
  }
  try {
    auto r = rsp::apdu::Response::parse(in);
    if (r.encode() != rsp::Bytes(in.begin(), in.end())) std::abort();
  } catch (const rsp::DecodeError&) {
  }
  return 0;
}
