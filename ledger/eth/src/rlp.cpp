#include "rsp/eth/rlp.hpp"

namespace rsp::eth::rlp {

namespace {

// Header for a payload of `len` bytes: short form (offset + len) below 56
// bytes, else long form (offset + 55 + length-of-length, then the length
// big-endian). offset is 0x80 for strings, 0xc0 for lists.
void put_header(Bytes& out, std::size_t len, std::uint8_t offset) {
  if (len < 56) {
    out.push_back(static_cast<std::uint8_t>(offset + len));
    return;
  }
  Bytes be = U256(static_cast<std::uint64_t>(len)).to_be_minimal();
  out.push_back(static_cast<std::uint8_t>(offset + 55 + be.size()));
  append(out, be);
}

struct Parser {
  ByteView in;
  std::size_t pos = 0;

  std::size_t read_len(std::size_t n) {
    if (n > 8 || pos + n > in.size()) throw DecodeError("rlp: truncated length");
    if (in[pos] == 0) throw DecodeError("rlp: length with leading zero");
    std::size_t len = 0;
    for (std::size_t i = 0; i < n; ++i) len = len << 8 | in[pos + i];
    pos += n;
    if (len < 56) throw DecodeError("rlp: long form for a short payload");
    return len;
  }

  Item item() {
    if (pos >= in.size()) throw DecodeError("rlp: truncated");
    std::uint8_t b = in[pos++];
    if (b < 0x80) return Item(Bytes{b});
    std::size_t len;
    bool list = b >= 0xc0;
    std::uint8_t base = list ? 0xc0 : 0x80;
    if (b - base < 56) {
      len = static_cast<std::size_t>(b - base);
    } else {
      len = read_len(static_cast<std::size_t>(b - base - 55));
    }
    if (len > in.size() - pos) throw DecodeError("rlp: payload runs past the end");
    std::size_t end = pos + len;
    if (!list) {
      Bytes s(in.begin() + static_cast<std::ptrdiff_t>(pos), in.begin() + static_cast<std::ptrdiff_t>(end));
      if (len == 1 && s[0] < 0x80) throw DecodeError("rlp: single byte below 0x80 must not be wrapped");
      pos = end;
      return Item(std::move(s));
    }
    std::vector<Item> items;
    while (pos < end) {
      Parser sub{in.subspan(0, end), pos};
      items.push_back(sub.item());
      pos = sub.pos;
    }
    return Item(std::move(items));
  }
};

}  // namespace

Bytes encode_string(ByteView bytes) {
  if (bytes.size() == 1 && bytes[0] < 0x80) return Bytes{bytes[0]};  // a byte is its own encoding
  Bytes out;
  out.reserve(bytes.size() + 9);
  put_header(out, bytes.size(), 0x80);
  append(out, bytes);
  return out;
}

Bytes encode_uint(const U256& v) { return encode_string(v.to_be_minimal()); }

Bytes encode_list_payload(ByteView concatenated_items) {
  Bytes out;
  out.reserve(concatenated_items.size() + 9);
  put_header(out, concatenated_items.size(), 0xc0);
  append(out, concatenated_items);
  return out;
}

Bytes encode_list(const std::vector<Bytes>& encoded_items) {
  Bytes payload;
  for (const auto& i : encoded_items) append(payload, i);
  return encode_list_payload(payload);
}

const Bytes& Item::bytes() const {
  if (is_list()) throw DecodeError("rlp: expected a string, found a list");
  return std::get<Bytes>(value);
}

const std::vector<Item>& Item::items() const {
  if (!is_list()) throw DecodeError("rlp: expected a list, found a string");
  return std::get<std::vector<Item>>(value);
}

U256 Item::as_uint() const {
  const Bytes& b = bytes();
  if (!b.empty() && b[0] == 0) throw DecodeError("rlp: integer with leading zero");
  return U256::from_be(b);
}

Bytes encode(const Item& item) {
  if (!item.is_list()) return encode_string(std::get<Bytes>(item.value));
  Bytes payload;
  for (const auto& i : std::get<std::vector<Item>>(item.value)) append(payload, encode(i));
  return encode_list_payload(payload);
}

Item decode(ByteView data) {
  Parser p{data, 0};
  Item it = p.item();
  if (p.pos != data.size()) throw DecodeError("rlp: trailing bytes after the item");
  return it;
}

}  // namespace rsp::eth::rlp
