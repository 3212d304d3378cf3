// Recursive Length Prefix encoding (Ethereum yellow paper, appendix B).
#pragma once
#include <cstdint>
#include <string_view>
#include <variant>
#include <vector>

#include "rsp/bytes.hpp"
#include "rsp/eth/u256.hpp"

namespace rsp::eth::rlp {

// ---- encoding of single pieces ----
Bytes encode_string(ByteView bytes);          // a byte-string item
Bytes encode_uint(const U256& v);             // minimal big-endian, 0 -> 0x80
Bytes encode_list(const std::vector<Bytes>& encoded_items);  // items already encoded
Bytes encode_list_payload(ByteView concatenated_items);      // same, items pre-concatenated

// ---- tree form (for tests and decoding) ----
struct Item {
  std::variant<Bytes, std::vector<Item>> value;

  Item() = default;
  Item(Bytes b) : value(std::move(b)) {}                 // NOLINT: a byte string
  Item(std::vector<Item> l) : value(std::move(l)) {}     // NOLINT: a list
  static Item str(std::string_view s) { return Item(Bytes(s.begin(), s.end())); }
  static Item uint(const U256& v) { return Item(v.to_be_minimal()); }
  static Item list(std::vector<Item> items = {}) { return Item(std::move(items)); }

  bool is_list() const { return std::holds_alternative<std::vector<Item>>(value); }
  const Bytes& bytes() const;               // throws DecodeError if a list
  const std::vector<Item>& items() const;   // throws DecodeError if a string
  U256 as_uint() const;                     // canonical integer (no leading zero), else DecodeError
  bool operator==(const Item&) const = default;
};

Bytes encode(const Item& item);
// Decodes exactly one item spanning all of `data`; throws DecodeError on
// truncation, trailing bytes or non-canonical forms (a single byte < 0x80
// wrapped in 0x81, long form used for < 56 bytes, leading zero lengths).
Item decode(ByteView data);

}  // namespace rsp::eth::rlp
