// libFuzzer target: the SM-DP+ batch import files (smdp batch_import: CSV and
// JSON subscriber batches, as an operator hands them over). Input: one byte
// (even: CSV, odd: JSON) then the file. Bad input should be a BatchError
// naming the line. Another std::exception is what the import tool prints
// without a line: accepted by default, fatal with RSP_FUZZ_STRICT=1.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>

#include "rsp/smdp/batch_import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool strict = [] {
    const char* e = std::getenv("RSP_FUZZ_STRICT");
    return e && *e == '1';
  }();
  if (size < 1) return 0;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    if (data[0] % 2 == 0)
      (void)rsp::smdp::parse_batch_csv(text);
    else
      (void)rsp::smdp::parse_batch_json(text);
  } catch (const rsp::smdp::BatchError&) {
  } catch (const std::exception& e) {
    if (strict) {
      std::fprintf(stderr, "escaped: %s\n", e.what());
      std::abort();
    }
  }
  return 0;
}
