// libFuzzer target: the one BER-TLV helper (rsp/tlv.hpp), as ES10 responses,
// BPP segments and profile elements reach it. Every TLV it accepts must be
// rebuilt by tlv::make to a TLV that parses back to the same tag and value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "rsp/tlv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rsp::ByteView in(data, size);
  try {
    auto all = rsp::tlv::parse_all(in);
    for (const auto& t : all) {
      if (t.raw.size() != t.header_size() + t.value.size()) std::abort();
      rsp::Bytes again = rsp::tlv::make(t.tag, t.value);
      auto back = rsp::tlv::parse_one(again);
      if (back.tag != t.tag || back.raw.size() != again.size() ||
          !std::equal(back.value.begin(), back.value.end(), t.value.begin(), t.value.end()))
        std::abort();
      if (back.header_size() != rsp::tlv::header_len(t.tag, t.value.size())) std::abort();
      // Children of constructed TLVs, as the ES10 parsers walk them.
      if (t.constructed()) {
        try {
          (void)rsp::tlv::parse_all(t.value);
        } catch (const rsp::DecodeError&) {
        }
      }
    }
  } catch (const rsp::DecodeError&) {
  }
  try {
    (void)rsp::tlv::find(in, 0xBF36);
    (void)rsp::tlv::require(in, 0x5F37);
  } catch (const rsp::DecodeError&) {
  }
  return 0;
}
