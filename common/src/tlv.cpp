#include "rsp/tlv.hpp"

namespace rsp::tlv {

bool Tlv::constructed() const {
  // The constructed bit lives in the first tag byte.
  std::uint32_t first = tag;
  while (first > 0xFF) first >>= 8;
  return (first & 0x20) != 0;
}

Tlv parse_one(ByteView in) {
  std::size_t pos = 0;
  auto need = [&](std::size_t n) {
    if (in.size() - pos < n) throw DecodeError("TLV truncated");
  };
  need(1);
  std::uint32_t tag = in[pos++];
  if ((tag & 0x1F) == 0x1F) {
    // Multi-byte tag: subsequent bytes while bit 8 is set (at most 3 tag bytes here).
    do {
      need(1);
      if (tag > 0xFFFF) throw DecodeError("TLV tag too long");
      tag = (tag << 8) | in[pos];
    } while (in[pos++] & 0x80);
  }
  need(1);
  std::size_t len = in[pos++];
  if (len == 0x80) throw DecodeError("TLV indefinite length not allowed");
  if (len > 0x80) {
    std::size_t n = len & 0x7F;
    if (n > 4) throw DecodeError("TLV length field too long");
    need(n);
    len = 0;
    for (std::size_t i = 0; i < n; ++i) len = (len << 8) | in[pos++];
  }
  need(len);
  Tlv t;
  t.tag = tag;
  t.value = in.subspan(pos, len);
  t.raw = in.subspan(0, pos + len);
  return t;
}

std::vector<Tlv> parse_all(ByteView in) {
  std::vector<Tlv> out;
  while (!in.empty()) {
    out.push_back(parse_one(in));
    in = in.subspan(out.back().raw.size());
  }
  return out;
}

std::optional<Tlv> find(ByteView in, std::uint32_t tag) {
  for (auto& t : parse_all(in))
    if (t.tag == tag) return t;
  return std::nullopt;
}

Tlv require(ByteView in, std::uint32_t tag) {
  auto t = find(in, tag);
  if (!t) throw DecodeError("missing TLV tag " + to_hex(encode_tag(tag), true));
  return *t;
}

Bytes encode_tag(std::uint32_t tag) {
  Bytes out;
  for (int shift = 24; shift >= 0; shift -= 8) {
    auto b = static_cast<std::uint8_t>(tag >> shift);
    if (b != 0 || !out.empty() || shift == 0) out.push_back(b);
  }
  return out;
}

Bytes encode_length(std::size_t len) {
  if (len < 0x80) return {static_cast<std::uint8_t>(len)};
  Bytes out;
  for (std::size_t l = len; l > 0; l >>= 8) out.insert(out.begin(), static_cast<std::uint8_t>(l));
  out.insert(out.begin(), static_cast<std::uint8_t>(0x80 | out.size()));
  return out;
}

std::size_t header_len(std::uint32_t tag, std::size_t len) { return encode_tag(tag).size() + encode_length(len).size(); }

Bytes make(std::uint32_t tag, ByteView value) {
  Bytes out = encode_tag(tag);
  append(out, encode_length(value.size()));
  append(out, value);
  return out;
}

}  // namespace rsp::tlv
