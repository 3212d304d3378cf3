// The one BER-TLV helper (ISO/IEC 8825-1 tags and lengths, as used by
// ISO 7816-4, ETSI TS 102 221/223, GlobalPlatform and SGP.22 ES10/ES8+).
// Typed ASN.1 messages go through asn1/ (asn1c); this is for framing: APDU
// data fields, BoundProfilePackage segments, TLVs inside OCTET STRINGs.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "rsp/bytes.hpp"

namespace rsp::tlv {

// A parsed TLV. `tag` holds the tag bytes big-endian (e.g. 0xBF36, 0x5F37, 0x80).
struct Tlv {
  std::uint32_t tag = 0;
  ByteView value;        // view into the parsed buffer
  ByteView raw;          // tag + length + value, as received
  bool constructed() const;
  std::size_t header_size() const { return raw.size() - value.size(); }
};

// Parses one TLV at the start of `in`; throws DecodeError on truncation or a
// malformed tag/length (indefinite length is rejected: DER/ES10 never use it).
Tlv parse_one(ByteView in);
// Parses a sequence of TLVs that must exactly fill `in`.
std::vector<Tlv> parse_all(ByteView in);
// First child with the given tag, if any.
std::optional<Tlv> find(ByteView in, std::uint32_t tag);
Tlv require(ByteView in, std::uint32_t tag);  // throws DecodeError if absent

Bytes encode_tag(std::uint32_t tag);
Bytes encode_length(std::size_t len);
Bytes make(std::uint32_t tag, ByteView value);
// Length of header (tag+length) for a value of `len` bytes.
std::size_t header_len(std::uint32_t tag, std::size_t len);

}  // namespace rsp::tlv
