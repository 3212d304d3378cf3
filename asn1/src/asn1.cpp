// C++ layer over the asn1c runtime: decoding with full-input checks, DER
// encoding with constraint checks, and helpers for the primitive types.
#include "rsp/asn1.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

namespace rsp::asn1 {

namespace {

// asn1c's API predates const; it does not modify descriptors.
asn_TYPE_descriptor_t* mut(const asn_TYPE_descriptor_t& td) {
  return const_cast<asn_TYPE_descriptor_t*>(&td);
}

std::string type_name(const asn_TYPE_descriptor_t& td) {
  return td.name ? td.name : "?";
}

int append_cb(const void* buffer, size_t size, void* app_key) {
  auto* out = static_cast<Bytes*>(app_key);
  const auto* p = static_cast<const std::uint8_t*>(buffer);
  out->insert(out->end(), p, p + size);
  return 0;
}

void* decode_impl(const asn_TYPE_descriptor_t& td, ByteView der, std::size_t& consumed) {
  if (der.empty()) throw Asn1Error("asn1: empty input for " + type_name(td));
  asn_codec_ctx_t ctx{};
  ctx.max_stack_size = kMaxDecodeStack;
  void* p = nullptr;
  asn_dec_rval_t rv = ber_decode(&ctx, mut(td), &p, der.data(), der.size());
  if (rv.code != RC_OK) {
    if (p) free_struct(td, p);
    const char* why = rv.code == RC_WMORE ? "truncated input" : "malformed input";
    throw Asn1Error("asn1: cannot decode " + type_name(td) + ": " + why + " (at byte " +
                    std::to_string(rv.consumed) + " of " + std::to_string(der.size()) + ")");
  }
  if (!p) throw Asn1Error("asn1: cannot decode " + type_name(td) + ": no value");
  // asn1c's BER decoder does not check subtype constraints (SIZE, ranges);
  // a value that decodes must also be valid.
  try {
    check_constraints(td, p);
  } catch (...) {
    free_struct(td, p);
    throw;
  }
  consumed = rv.consumed;
  return p;
}

void ensure_ok(int rc, const char* what) {
  if (rc != 0) throw Asn1Error(std::string("asn1: ") + what);
}

}  // namespace

void* decode_raw(const asn_TYPE_descriptor_t& td, ByteView der) {
  std::size_t used = 0;
  void* p = decode_impl(td, der, used);
  if (used != der.size()) {
    free_struct(td, p);
    throw Asn1Error("asn1: " + std::to_string(der.size() - used) + " trailing byte(s) after " +
                    type_name(td) + " (" + std::to_string(used) + " bytes)");
  }
  return p;
}

void* decode_prefix_raw(const asn_TYPE_descriptor_t& td, ByteView der, std::size_t& consumed) {
  return decode_impl(td, der, consumed);
}

void check_constraints(const asn_TYPE_descriptor_t& td, const void* struct_ptr) {
  if (!struct_ptr) throw Asn1Error("asn1: null " + type_name(td));
  char err[256] = {0};
  size_t errlen = sizeof(err);
  if (asn_check_constraints(mut(td), struct_ptr, err, &errlen) != 0) {
    throw Asn1Error("asn1: " + type_name(td) + " violates its constraints: " +
                    std::string(err, strnlen(err, sizeof(err))));
  }
}

Bytes encode_der(const asn_TYPE_descriptor_t& td, const void* struct_ptr) {
  check_constraints(td, struct_ptr);
  Bytes out;
  asn_enc_rval_t rv = der_encode(mut(td), const_cast<void*>(struct_ptr), append_cb, &out);
  if (rv.encoded < 0) {
    std::string where = rv.failed_type && rv.failed_type->name ? rv.failed_type->name : "?";
    throw Asn1Error("asn1: cannot DER-encode " + type_name(td) + " (failed at " + where + ")");
  }
  return out;
}

void free_struct(const asn_TYPE_descriptor_t& td, void* struct_ptr) noexcept {
  if (struct_ptr) ASN_STRUCT_FREE(*mut(td), struct_ptr);
}

void free_contents(const asn_TYPE_descriptor_t& td, void* struct_ptr) noexcept {
  if (struct_ptr) ASN_STRUCT_FREE_CONTENTS_ONLY(*mut(td), struct_ptr);
}

// --- OCTET STRING ---------------------------------------------------------------

void set(OCTET_STRING_t& s, ByteView data) {
  if (data.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw Asn1Error("asn1: OCTET STRING too long");
  static const char empty[1] = {0};
  const char* src = data.empty() ? empty : reinterpret_cast<const char*>(data.data());
  ensure_ok(OCTET_STRING_fromBuf(&s, src, static_cast<int>(data.size())), "cannot set OCTET STRING");
}

void set(OCTET_STRING_t& s, std::string_view text) {
  set(s, ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

OCTET_STRING_t* new_octet_string(ByteView data) {
  auto* s = alloc<OCTET_STRING_t>();
  try {
    set(*s, data);
  } catch (...) {
    std::free(s);
    throw;
  }
  return s;
}

OCTET_STRING_t* new_octet_string(std::string_view text) {
  return new_octet_string(ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

// --- BIT STRING -------------------------------------------------------------------

std::size_t bit_count(const BIT_STRING_t& b) noexcept {
  if (!b.buf || b.size <= 0) return 0;
  return static_cast<std::size_t>(b.size) * 8 - static_cast<std::size_t>(b.bits_unused & 7);
}

bool test_bit(const BIT_STRING_t& b, std::size_t n) noexcept {
  if (n >= bit_count(b)) return false;
  return (b.buf[n / 8] >> (7 - n % 8)) & 1;
}

void set_bits(BIT_STRING_t& b, ByteView bytes, int unused_bits) {
  if (unused_bits < 0 || unused_bits > 7 || (bytes.empty() && unused_bits != 0))
    throw Asn1Error("asn1: invalid BIT STRING unused-bit count");
  auto* buf = static_cast<std::uint8_t*>(std::malloc(bytes.size() + 1));
  if (!buf) throw std::bad_alloc();
  if (!bytes.empty()) std::memcpy(buf, bytes.data(), bytes.size());
  if (!bytes.empty()) buf[bytes.size() - 1] &= static_cast<std::uint8_t>(0xFF << unused_bits);
  buf[bytes.size()] = 0;
  std::free(b.buf);
  b.buf = buf;
  b.size = static_cast<int>(bytes.size());
  b.bits_unused = unused_bits;
}

namespace {
void set_minimal(BIT_STRING_t& b, std::vector<std::uint8_t> bytes) {
  while (!bytes.empty() && bytes.back() == 0) bytes.pop_back();
  int unused = 0;
  if (!bytes.empty()) {
    std::uint8_t last = bytes.back();
    while (!(last & (1u << unused))) ++unused;
  }
  set_bits(b, bytes, unused);
}
}  // namespace

void set_named_bits(BIT_STRING_t& b, std::initializer_list<unsigned> bits_set) {
  std::vector<std::uint8_t> bytes;
  for (unsigned n : bits_set) {
    if (bytes.size() <= n / 8) bytes.resize(n / 8 + 1, 0);
    bytes[n / 8] |= static_cast<std::uint8_t>(0x80u >> (n % 8));
  }
  set_minimal(b, std::move(bytes));
}

void set_named_bit(BIT_STRING_t& b, unsigned n, bool on) {
  std::size_t have = bit_count(b);
  std::vector<std::uint8_t> bytes((std::max<std::size_t>(have, n + 1) + 7) / 8, 0);
  for (std::size_t i = 0; i < have; ++i)
    if (test_bit(b, i)) bytes[i / 8] |= static_cast<std::uint8_t>(0x80u >> (i % 8));
  if (on)
    bytes[n / 8] |= static_cast<std::uint8_t>(0x80u >> (n % 8));
  else
    bytes[n / 8] &= static_cast<std::uint8_t>(~(0x80u >> (n % 8)));
  set_minimal(b, std::move(bytes));
}

// --- INTEGER ------------------------------------------------------------------------

static_assert(sizeof(long) == sizeof(std::int64_t), "asn1c's long helpers are used for int64");

std::int64_t to_int64(const INTEGER_t& i) {
  long v = 0;
  if (asn_INTEGER2long(&i, &v) != 0) throw Asn1Error("asn1: INTEGER does not fit in 64 bits");
  return v;
}

void set_int64(INTEGER_t& i, std::int64_t v) {
  ensure_ok(asn_long2INTEGER(&i, static_cast<long>(v)), "cannot set INTEGER");
}

INTEGER_t* new_integer(std::int64_t v) {
  auto* i = alloc<INTEGER_t>();
  try {
    set_int64(*i, v);
  } catch (...) {
    std::free(i);
    throw;
  }
  return i;
}

Bytes integer_bytes(const INTEGER_t& i) {
  if (!i.buf || i.size <= 0) return {};
  return Bytes(i.buf, i.buf + i.size);
}

void set_integer_bytes(INTEGER_t& i, ByteView v) {
  if (v.empty()) throw Asn1Error("asn1: INTEGER needs at least one content byte");
  auto* buf = static_cast<std::uint8_t*>(std::malloc(v.size() + 1));
  if (!buf) throw std::bad_alloc();
  std::memcpy(buf, v.data(), v.size());
  buf[v.size()] = 0;
  std::free(i.buf);
  i.buf = buf;
  i.size = static_cast<int>(v.size());
}

// --- OBJECT IDENTIFIER ------------------------------------------------------------------

std::string oid_to_string(const OBJECT_IDENTIFIER_t& oid) {
  if (!oid.buf || oid.size <= 0) throw Asn1Error("asn1: empty OBJECT IDENTIFIER");
  std::string out;
  std::uint64_t arc = 0;
  bool first = true;
  for (int k = 0; k < oid.size; ++k) {
    std::uint8_t c = oid.buf[k];
    if (arc == 0 && c == 0x80) throw Asn1Error("asn1: OBJECT IDENTIFIER arc not minimally encoded");
    if (arc > (std::numeric_limits<std::uint64_t>::max() >> 7))
      throw Asn1Error("asn1: OBJECT IDENTIFIER arc too large");
    arc = (arc << 7) | (c & 0x7F);
    if (c & 0x80) {
      if (k + 1 == oid.size) throw Asn1Error("asn1: OBJECT IDENTIFIER truncated");
      continue;
    }
    if (first) {
      std::uint64_t top = arc < 40 ? 0 : arc < 80 ? 1 : 2;
      out = std::to_string(top) + "." + std::to_string(arc - top * 40);
      first = false;
    } else {
      out += "." + std::to_string(arc);
    }
    arc = 0;
  }
  return out;
}

void set_oid(OBJECT_IDENTIFIER_t& oid, std::string_view dotted) {
  std::vector<std::uint64_t> arcs;
  std::size_t pos = 0;
  while (pos <= dotted.size()) {
    std::size_t dot = dotted.find('.', pos);
    if (dot == std::string_view::npos) dot = dotted.size();
    auto part = dotted.substr(pos, dot - pos);
    if (part.empty() || part.size() > 19 || (part.size() > 1 && part[0] == '0'))
      throw Asn1Error("asn1: invalid OID text: " + std::string(dotted));
    std::uint64_t v = 0;
    for (char ch : part) {
      if (ch < '0' || ch > '9') throw Asn1Error("asn1: invalid OID text: " + std::string(dotted));
      v = v * 10 + static_cast<std::uint64_t>(ch - '0');
    }
    arcs.push_back(v);
    pos = dot + 1;
  }
  if (arcs.size() < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40) ||
      arcs[1] > std::numeric_limits<std::uint64_t>::max() - 80)
    throw Asn1Error("asn1: invalid OID text: " + std::string(dotted));
  std::vector<std::uint64_t> subs{arcs[0] * 40 + arcs[1]};
  subs.insert(subs.end(), arcs.begin() + 2, arcs.end());
  Bytes enc;
  for (std::uint64_t s : subs) {
    std::uint8_t tmp[10];
    int n = 0;
    do {
      tmp[n++] = static_cast<std::uint8_t>(s & 0x7F);
      s >>= 7;
    } while (s);
    for (int k = n - 1; k >= 0; --k) enc.push_back(static_cast<std::uint8_t>(tmp[k] | (k ? 0x80 : 0)));
  }
  auto* buf = static_cast<std::uint8_t*>(std::malloc(enc.size() + 1));
  if (!buf) throw std::bad_alloc();
  std::memcpy(buf, enc.data(), enc.size());
  buf[enc.size()] = 0;
  std::free(oid.buf);
  oid.buf = buf;
  oid.size = static_cast<int>(enc.size());
}

OBJECT_IDENTIFIER_t* new_oid(std::string_view dotted) {
  auto* o = alloc<OBJECT_IDENTIFIER_t>();
  try {
    set_oid(*o, dotted);
  } catch (...) {
    std::free(o);
    throw;
  }
  return o;
}

}  // namespace rsp::asn1
