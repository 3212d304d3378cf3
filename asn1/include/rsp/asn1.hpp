// Thin C++ layer over the asn1c-generated C code (RSPDefinitions, PKIX1*,
// PEDefinitions). Generated types keep their asn1c names (`Certificate_t`,
// `AuthenticateServerRequest_t`, ...) and descriptors (`asn_DEF_Certificate`).
//
//   auto req = rsp::asn1::decode<AuthenticateServerRequest_t>(asn_DEF_AuthenticateServerRequest, der);
//   auto req = RSP_ASN1_DECODE(AuthenticateServerRequest, der);          // same
//   rsp::Bytes out = req.encode_der();
//
//   auto resp = RSP_ASN1_MAKE(GetEuiccChallengeResponse);                // zeroed
//   rsp::asn1::set(resp->euiccChallenge, challenge);
//
// Every failure (malformed or truncated input, trailing bytes, constraint
// violation on encode, allocation failure) throws rsp::asn1::Asn1Error.
#pragma once

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "rsp/bytes.hpp"

// asn1c runtime (generated build tree). _DEFAULT_SOURCE keeps glibc quiet about
// the _BSD_SOURCE that asn_system.h defines; the target also sets it publicly.
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif
#include <asn_application.h>
#include <asn_SEQUENCE_OF.h>
#include <ANY.h>
#include <BIT_STRING.h>
#include <INTEGER.h>
#include <OBJECT_IDENTIFIER.h>
#include <OCTET_STRING.h>
#include <UTF8String.h>

namespace rsp::asn1 {

// Decoding, encoding or building an ASN.1 value failed.
struct Asn1Error : rsp::DecodeError {
  using rsp::DecodeError::DecodeError;
};

// Nesting budget handed to asn1c's decoders (bytes of C stack), so that a
// hostile, deeply nested input fails cleanly instead of overflowing the stack.
inline constexpr std::size_t kMaxDecodeStack = 64 * 1024;

// --- untyped core -----------------------------------------------------------

// Decodes exactly one BER/DER value of type `td` from the whole of `der`
// (trailing bytes are an error) and checks its constraints (asn1c's decoder
// alone does not). Returns a malloc'ed struct owned by the caller
// (free with free_struct). Throws Asn1Error.
void* decode_raw(const asn_TYPE_descriptor_t& td, ByteView der);

// Decodes one value from the start of `der`; `consumed` receives its length.
// Bytes after it are left alone (for concatenated values, e.g. a profile
// package made of ProfileElements).
void* decode_prefix_raw(const asn_TYPE_descriptor_t& td, ByteView der, std::size_t& consumed);

// Checks the constraints of a value; throws Asn1Error naming the failure.
void check_constraints(const asn_TYPE_descriptor_t& td, const void* struct_ptr);

// DER encoding of a value, after check_constraints. Throws Asn1Error.
Bytes encode_der(const asn_TYPE_descriptor_t& td, const void* struct_ptr);

// Frees a whole struct (ASN_STRUCT_FREE) or only its members
// (ASN_STRUCT_FREE_CONTENTS_ONLY, for values embedded in another struct).
void free_struct(const asn_TYPE_descriptor_t& td, void* struct_ptr) noexcept;
void free_contents(const asn_TYPE_descriptor_t& td, void* struct_ptr) noexcept;

// Allocates a zeroed asn1c struct the way asn1c expects (calloc; asn1c frees
// with free()). Throws std::bad_alloc.
template <class T>
T* alloc() {
  static_assert(std::is_trivially_copyable_v<T>, "asn1c structs are plain C structs");
  void* p = std::calloc(1, sizeof(T));
  if (!p) throw std::bad_alloc();
  return static_cast<T*>(p);
}

// --- owning handle ----------------------------------------------------------

// Owns one asn1c struct together with its type descriptor. Move-only.
template <class T>
class Value {
 public:
  Value() noexcept = default;

  // A new, zeroed value of type `td`, to be filled in and encoded.
  static Value make(const asn_TYPE_descriptor_t& td) { return Value(td, alloc<T>()); }

  // Decodes exactly one value occupying all of `der`.
  static Value decode(const asn_TYPE_descriptor_t& td, ByteView der) {
    return Value(td, static_cast<T*>(decode_raw(td, der)));
  }

  // Decodes one value from the start of `der`; `consumed` receives its length.
  static Value decode_prefix(const asn_TYPE_descriptor_t& td, ByteView der, std::size_t& consumed) {
    return Value(td, static_cast<T*>(decode_prefix_raw(td, der, consumed)));
  }

  // Takes ownership of a struct allocated with malloc/calloc (or by asn1c).
  static Value adopt(const asn_TYPE_descriptor_t& td, T* p) noexcept { return Value(td, p); }

  Value(const Value&) = delete;
  Value& operator=(const Value&) = delete;
  Value(Value&& o) noexcept : td_(std::exchange(o.td_, nullptr)), p_(std::exchange(o.p_, nullptr)) {}
  Value& operator=(Value&& o) noexcept {
    if (this != &o) {
      reset();
      td_ = std::exchange(o.td_, nullptr);
      p_ = std::exchange(o.p_, nullptr);
    }
    return *this;
  }
  ~Value() { reset(); }

  T* get() noexcept { return p_; }
  const T* get() const noexcept { return p_; }
  T* operator->() noexcept { return p_; }
  const T* operator->() const noexcept { return p_; }
  T& operator*() noexcept { return *p_; }
  const T& operator*() const noexcept { return *p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }
  const asn_TYPE_descriptor_t& descriptor() const noexcept { return *td_; }

  // DER, after a constraint check. Throws Asn1Error (also when empty).
  Bytes encode_der() const {
    if (!p_) throw Asn1Error("asn1: encoding an empty value");
    return rsp::asn1::encode_der(*td_, p_);
  }
  void check_constraints() const {
    if (!p_) throw Asn1Error("asn1: checking an empty value");
    rsp::asn1::check_constraints(*td_, p_);
  }

  // Gives up ownership (the caller frees with free_struct).
  T* release() noexcept {
    td_ = nullptr;
    return std::exchange(p_, nullptr);
  }
  void reset() noexcept {
    if (p_) free_struct(*td_, p_);
    p_ = nullptr;
    td_ = nullptr;
  }

 private:
  Value(const asn_TYPE_descriptor_t& td, T* p) noexcept : td_(&td), p_(p) {}
  const asn_TYPE_descriptor_t* td_ = nullptr;
  T* p_ = nullptr;
};

template <class T>
Value<T> decode(const asn_TYPE_descriptor_t& td, ByteView der) {
  return Value<T>::decode(td, der);
}

template <class T>
Value<T> make(const asn_TYPE_descriptor_t& td) {
  return Value<T>::make(td);
}

// Decodes value after value until `der` is used up (e.g. a profile package:
// ProfileElements back to back). Calls f(Value<T>&&, ByteView raw_element).
template <class T, class F>
void decode_each(const asn_TYPE_descriptor_t& td, ByteView der, F&& f) {
  while (!der.empty()) {
    std::size_t used = 0;
    auto v = Value<T>::decode_prefix(td, der, used);
    f(std::move(v), der.first(used));
    der = der.subspan(used);
  }
}

// Moves a decoded (or built) value into a member embedded in another struct,
// e.g. a Certificate_t inside AuthenticateServerRequest_t. `dst` must be empty
// (zeroed); the handle's outer allocation is freed, its contents now belong to
// `dst`.
template <class T>
void move_into(T& dst, Value<T>&& v) {
  if (!v) throw Asn1Error("asn1: moving an empty value");
  std::memcpy(static_cast<void*>(&dst), v.get(), sizeof(T));
  std::free(v.release());
}

// --- OCTET STRING / UTF8String ------------------------------------------------
// (UTF8String_t, IA5String_t, PrintableString_t ... are OCTET_STRING_t.)

inline ByteView view(const OCTET_STRING_t& s) noexcept {
  return s.buf ? ByteView(s.buf, static_cast<std::size_t>(s.size)) : ByteView();
}
inline Bytes to_bytes(const OCTET_STRING_t& s) {
  auto v = view(s);
  return Bytes(v.begin(), v.end());
}
// Optional members are pointers; nullptr gives an empty result.
inline Bytes to_bytes(const OCTET_STRING_t* s) { return s ? to_bytes(*s) : Bytes(); }
inline std::string to_string(const OCTET_STRING_t& s) {
  auto v = view(s);
  return std::string(v.begin(), v.end());
}
// Replaces the content (frees the old buffer). Throws Asn1Error on allocation failure.
void set(OCTET_STRING_t& s, ByteView data);
void set(OCTET_STRING_t& s, std::string_view text);
// A new heap OCTET STRING (for OPTIONAL members, which are pointers).
OCTET_STRING_t* new_octet_string(ByteView data);
OCTET_STRING_t* new_octet_string(std::string_view text);

// ANY (e.g. AttributeValue, AlgorithmIdentifier.parameters): the complete TLV.
inline ByteView view(const ANY_t& a) noexcept {
  return a.buf ? ByteView(a.buf, static_cast<std::size_t>(a.size)) : ByteView();
}
inline Bytes to_bytes(const ANY_t& a) {
  auto v = view(a);
  return Bytes(v.begin(), v.end());
}

// --- BIT STRING -----------------------------------------------------------------

// Bit n counts from the first (most significant) bit of the first byte, as
// ASN.1 named bits do. Bits beyond the encoded length read as 0.
bool test_bit(const BIT_STRING_t& b, std::size_t n) noexcept;
std::size_t bit_count(const BIT_STRING_t& b) noexcept;  // size*8 - unused
// Raw content and unused-bit count (0..7).
void set_bits(BIT_STRING_t& b, ByteView bytes, int unused_bits = 0);
// A named-bit list value with the given bits set, in DER's minimal form
// (trailing zero bits removed: X.690 11.2.2).
void set_named_bits(BIT_STRING_t& b, std::initializer_list<unsigned> bits_set);
// Sets or clears one named bit, keeping the minimal form.
void set_named_bit(BIT_STRING_t& b, unsigned n, bool on = true);

// --- INTEGER / ENUMERATED ---------------------------------------------------------
// (INTEGER_t, ENUMERATED_t and OBJECT_IDENTIFIER_t are all ASN__PRIMITIVE_TYPE_t
// in asn1c, so these helpers carry the type in their names.)

std::int64_t to_int64(const INTEGER_t& i);  // throws Asn1Error if it does not fit
void set_int64(INTEGER_t& i, std::int64_t v);
INTEGER_t* new_integer(std::int64_t v);
// Big-endian two's complement content octets, as encoded.
Bytes integer_bytes(const INTEGER_t& i);
void set_integer_bytes(INTEGER_t& i, ByteView twos_complement);

// --- OBJECT IDENTIFIER --------------------------------------------------------------

std::string oid_to_string(const OBJECT_IDENTIFIER_t& oid);  // "2.23.146.1.2.1.0"
void set_oid(OBJECT_IDENTIFIER_t& oid, std::string_view dotted);  // throws Asn1Error
OBJECT_IDENTIFIER_t* new_oid(std::string_view dotted);

// --- SEQUENCE OF / SET OF -------------------------------------------------------------

// Appends a new zeroed element to an A_SEQUENCE_OF / A_SET_OF list and returns
// it for filling in. The list owns it.
template <class List>
auto& add(List& list) {
  using Elem = std::remove_pointer_t<std::remove_pointer_t<decltype(list.array)>>;
  Elem* e = alloc<Elem>();
  if (asn_sequence_add(&list, e) != 0) {
    std::free(e);
    throw Asn1Error("asn1: cannot grow SEQUENCE OF");
  }
  return *e;
}

// Appends an element that was allocated with alloc<>() (or malloc); the list
// takes ownership, also when this throws.
template <class List, class Elem>
void add_owned(List& list, Elem* e, const asn_TYPE_descriptor_t& elem_td) {
  if (asn_sequence_add(&list, e) != 0) {
    free_struct(elem_td, e);
    throw Asn1Error("asn1: cannot grow SEQUENCE OF");
  }
}

}  // namespace rsp::asn1

// RSP_ASN1_DECODE(AuthenticateServerRequest, der)
//   == rsp::asn1::decode<AuthenticateServerRequest_t>(asn_DEF_AuthenticateServerRequest, der)
#define RSP_ASN1_DECODE(Type, der) (::rsp::asn1::decode<Type##_t>(asn_DEF_##Type, (der)))
// RSP_ASN1_MAKE(GetEuiccChallengeResponse): a new zeroed value of that type.
#define RSP_ASN1_MAKE(Type) (::rsp::asn1::make<Type##_t>(asn_DEF_##Type))
// RSP_ASN1_ENCODE(Certificate, ptr): DER of a struct that is not in a Value.
#define RSP_ASN1_ENCODE(Type, ptr) (::rsp::asn1::encode_der(asn_DEF_##Type, (ptr)))
