#include "rsp/lpa/bpp.hpp"

#include "rsp/tlv.hpp"

namespace rsp::lpa {
namespace {

Bytes header_of(const tlv::Tlv& t) {
  ByteView h = t.raw.first(t.header_size());
  return Bytes(h.begin(), h.end());
}

void children_of(const tlv::Tlv& seq, std::uint32_t child_tag, std::vector<tlv::Tlv>& out) {
  out = tlv::parse_all(seq.value);
  for (const auto& c : out)
    if (c.tag != child_tag) throw DecodeError("BPP: unexpected tag inside sequence");
}

// "tag and length of the sequence plus its first '87' TLV", then the rest.
void add_sequence_of_87(const tlv::Tlv& seq, std::vector<Bytes>& segments) {
  std::vector<tlv::Tlv> items;
  children_of(seq, 0x87, items);
  if (items.empty()) throw DecodeError("BPP: empty sequence of '87'");
  segments.push_back(concat(header_of(seq), items[0].raw));
  for (std::size_t i = 1; i < items.size(); ++i) segments.emplace_back(items[i].raw.begin(), items[i].raw.end());
}

void add_header_and_items(const tlv::Tlv& seq, std::uint32_t child_tag, std::vector<Bytes>& segments) {
  std::vector<tlv::Tlv> items;
  children_of(seq, child_tag, items);
  segments.push_back(header_of(seq));
  for (const auto& it : items) segments.emplace_back(it.raw.begin(), it.raw.end());
}

}  // namespace

std::vector<Bytes> segment_bpp(ByteView bpp) {
  tlv::Tlv top = tlv::parse_one(bpp);
  if (top.tag != 0xBF36) throw DecodeError("BPP: not a BoundProfilePackage (BF36)");
  if (top.raw.size() != bpp.size()) throw DecodeError("BPP: trailing bytes after BF36");
  std::vector<tlv::Tlv> parts = tlv::parse_all(top.value);

  // Expected order: BF23, A0, A1, [A2], A3 (extensions after A3 are ignored).
  std::size_t i = 0;
  auto next_is = [&](std::uint32_t tag) { return i < parts.size() && parts[i].tag == tag; };
  std::vector<Bytes> segments;

  if (!next_is(0xBF23)) throw DecodeError("BPP: initialiseSecureChannelRequest (BF23) missing");
  segments.push_back(concat(header_of(top), parts[i].raw));
  ++i;
  if (!next_is(0xA0)) throw DecodeError("BPP: firstSequenceOf87 (A0) missing");
  add_sequence_of_87(parts[i++], segments);
  if (!next_is(0xA1)) throw DecodeError("BPP: sequenceOf88 (A1) missing");
  add_header_and_items(parts[i++], 0x88, segments);
  if (next_is(0xA2)) add_sequence_of_87(parts[i++], segments);
  if (!next_is(0xA3)) throw DecodeError("BPP: sequenceOf86 (A3) missing");
  add_header_and_items(parts[i++], 0x86, segments);
  return segments;
}

}  // namespace rsp::lpa
