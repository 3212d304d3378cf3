// Bounded JSON parsing: every JSON document that comes from outside (ES9+ and
// ES2+ request bodies, batches, configuration files) is parsed through here.
//
// The limits are checked by a linear, non-recursive pre-scan (nlohmann's SAX
// interface) before any tree is built, so a hostile document can neither
// exhaust the stack (a tree nested 85,000 deep overflows the recursive copy,
// dump and comparison of nlohmann::json) nor memory.
#pragma once
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "rsp/bytes.hpp"

namespace rsp {

struct JsonLimits {
  std::size_t max_bytes = 1024 * 1024;       // the whole document
  std::size_t max_depth = 32;                // nested objects/arrays (top level = 1)
  std::size_t max_values = 100'000;          // values of any kind, keys included
  std::size_t max_string_bytes = 64 * 1024;  // one string or key
};

// Malformed or over a limit. The message is short and ours ("JSON nested
// deeper than 32 levels", "invalid JSON at byte 17"); it never carries the
// document's content or the library's wording.
struct JsonError : DecodeError {
  using DecodeError::DecodeError;
};

// Parses `text` within `limits`; throws rsp::JsonError.
nlohmann::json parse_json(std::string_view text, const JsonLimits& limits = {});

}  // namespace rsp
