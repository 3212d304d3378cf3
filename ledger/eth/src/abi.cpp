#include "rsp/eth/abi.hpp"

#include <algorithm>
#include <cctype>
#include <memory>

#include "rsp/eth/keccak.hpp"

namespace rsp::eth {

namespace {

// ---- type grammar ----

struct Type {
  enum Kind { Uint, Addr, Bool, FixedBytes, DynBytes, String, FixedArray, DynArray, Tuple } kind = Uint;
  std::size_t n = 0;               // bits (uintN), N (bytesN) or length (T[k])
  std::shared_ptr<const Type> elem;  // arrays
  std::vector<Type> members;       // tuples

  bool dynamic() const {
    switch (kind) {
      case DynBytes: case String: case DynArray: return true;
      case FixedArray: return elem->dynamic();
      case Tuple: return std::any_of(members.begin(), members.end(), [](const Type& m) { return m.dynamic(); });
      default: return false;
    }
  }
  // Bytes this type takes in its enclosing tuple's head.
  std::size_t head_size() const {
    if (dynamic()) return 32;
    if (kind == FixedArray) return n * elem->head_size();
    if (kind == Tuple) {
      std::size_t s = 0;
      for (const auto& m : members) s += m.head_size();
      return s;
    }
    return 32;
  }
};

struct TypeParser {
  std::string_view s;
  std::size_t pos = 0;

  [[noreturn]] void fail(const std::string& what) const {
    throw AbiError("abi type \"" + std::string(s) + "\": " + what + " at " + std::to_string(pos));
  }

  static std::size_t number(std::string_view d, std::size_t max) {
    if (d.empty() || d.size() > 6 || d[0] == '0') return 0;
    std::size_t v = 0;
    for (char c : d) {
      if (c < '0' || c > '9') return 0;
      v = v * 10 + static_cast<std::size_t>(c - '0');
    }
    return v <= max ? v : 0;
  }

  Type base() {
    if (pos < s.size() && s[pos] == '(') return tuple();
    std::size_t start = pos;
    while (pos < s.size() && std::isalnum(static_cast<unsigned char>(s[pos]))) ++pos;
    std::string_view name = s.substr(start, pos - start);
    Type t;
    if (name == "address") {
      t.kind = Type::Addr;
    } else if (name == "bool") {
      t.kind = Type::Bool;
    } else if (name == "string") {
      t.kind = Type::String;
    } else if (name == "bytes") {
      t.kind = Type::DynBytes;
    } else if (name.starts_with("uint")) {
      t.kind = Type::Uint;
      t.n = number(name.substr(4), 256);
      if (t.n == 0 || t.n % 8 != 0) fail("uintN needs N in 8..256, a multiple of 8 (canonical: uint256, not uint)");
    } else if (name.starts_with("bytes")) {
      t.kind = Type::FixedBytes;
      t.n = number(name.substr(5), 32);
      if (t.n == 0) fail("bytesN needs N in 1..32");
    } else if (name.starts_with("int")) {
      fail("signed integers are not supported");
    } else {
      fail("unknown type '" + std::string(name) + "'");
    }
    return t;
  }

  Type type() {
    Type t = base();
    while (pos < s.size() && s[pos] == '[') {
      std::size_t close = s.find(']', pos);
      if (close == std::string_view::npos) fail("missing ]");
      std::string_view len = s.substr(pos + 1, close - pos - 1);
      Type arr;
      arr.elem = std::make_shared<const Type>(std::move(t));
      if (len.empty()) {
        arr.kind = Type::DynArray;
      } else {
        arr.kind = Type::FixedArray;
        arr.n = number(len, 1'000'000);
        if (arr.n == 0) fail("bad array length");
      }
      t = std::move(arr);
      pos = close + 1;
    }
    return t;
  }

  Type tuple() {
    if (pos >= s.size() || s[pos] != '(') fail("expected (");
    ++pos;
    Type t;
    t.kind = Type::Tuple;
    if (pos < s.size() && s[pos] == ')') {
      ++pos;
      return t;
    }
    for (;;) {
      t.members.push_back(type());
      if (pos >= s.size()) fail("missing )");
      if (s[pos] == ')') {
        ++pos;
        return t;
      }
      if (s[pos] != ',') fail("expected , or )");
      ++pos;
    }
  }
};

Type parse_tuple(std::string_view types) {
  TypeParser p{types};
  Type t = p.tuple();
  if (p.pos != types.size()) p.fail("trailing characters");
  return t;
}

// ---- encoding ----

void put_word(Bytes& out, const U256& v) {
  auto w = v.to_be32();
  out.insert(out.end(), w.begin(), w.end());
}

void put_padded(Bytes& out, ByteView b) {  // right-padded to a multiple of 32
  append(out, b);
  out.resize(out.size() + (32 - b.size() % 32) % 32, 0);
}

ByteView byte_view_of(const AbiValue& v, const char* what) {
  if (auto* b = std::get_if<Bytes>(&v.value)) return *b;
  if (auto* s = std::get_if<std::string>(&v.value))
    return ByteView(reinterpret_cast<const std::uint8_t*>(s->data()), s->size());
  throw AbiError(std::string(what) + ": expected bytes or a string");
}

Bytes encode_value(const Type& t, const AbiValue& v);

Bytes encode_tuple(const std::vector<const Type*>& types, const std::vector<const AbiValue*>& vals) {
  if (types.size() != vals.size())
    throw AbiError("abi: " + std::to_string(types.size()) + " values expected, got " + std::to_string(vals.size()));
  std::size_t head_len = 0;
  for (const Type* t : types) head_len += t->head_size();
  Bytes head, tail;
  head.reserve(head_len);
  for (std::size_t i = 0; i < types.size(); ++i) {
    Bytes enc = encode_value(*types[i], *vals[i]);
    if (types[i]->dynamic()) {
      put_word(head, U256(static_cast<std::uint64_t>(head_len + tail.size())));  // offset from the tuple start
      append(tail, enc);
    } else {
      append(head, enc);
    }
  }
  append(head, tail);
  return head;
}

Bytes encode_list_of(const Type& elem, const AbiValue::List& items) {
  std::vector<const Type*> types(items.size(), &elem);
  std::vector<const AbiValue*> vals;
  for (const auto& i : items) vals.push_back(&i);
  return encode_tuple(types, vals);
}

Bytes encode_value(const Type& t, const AbiValue& v) {
  Bytes out;
  switch (t.kind) {
    case Type::Uint: {
      const U256& u = v.as_uint();
      if (u.bit_length() > t.n) throw AbiError("abi: value " + u.to_dec() + " does not fit uint" + std::to_string(t.n));
      put_word(out, u);
      break;
    }
    case Type::Addr: {
      Address a{};
      if (auto* p = std::get_if<Address>(&v.value)) {
        a = *p;
      } else if (auto* b = std::get_if<Bytes>(&v.value)) {
        if (b->size() != 20) throw AbiError("abi: address needs 20 bytes");
        a = address_from_bytes(*b);
      } else if (auto* u = std::get_if<U256>(&v.value)) {
        if (u->bit_length() > 160) throw AbiError("abi: address above 2^160");
        auto w = u->to_be32();
        std::copy(w.begin() + 12, w.end(), a.begin());
      } else {
        throw AbiError("abi: expected an address");
      }
      out.assign(32, 0);
      std::copy(a.begin(), a.end(), out.begin() + 12);
      break;
    }
    case Type::Bool:
      put_word(out, U256(v.as_bool() ? 1 : 0));
      break;
    case Type::FixedBytes: {
      ByteView b = byte_view_of(v, "bytesN");
      if (b.size() > t.n) throw AbiError("abi: " + std::to_string(b.size()) + " bytes do not fit bytes" + std::to_string(t.n));
      put_padded(out, b);
      if (b.empty()) out.assign(32, 0);
      break;
    }
    case Type::DynBytes:
    case Type::String: {
      ByteView b = byte_view_of(v, t.kind == Type::String ? "string" : "bytes");
      put_word(out, U256(static_cast<std::uint64_t>(b.size())));
      put_padded(out, b);
      break;
    }
    case Type::FixedArray: {
      const auto& items = v.as_list();
      if (items.size() != t.n)
        throw AbiError("abi: array of " + std::to_string(t.n) + " needs as many values, got " + std::to_string(items.size()));
      out = encode_list_of(*t.elem, items);
      break;
    }
    case Type::DynArray: {
      const auto& items = v.as_list();
      put_word(out, U256(static_cast<std::uint64_t>(items.size())));
      append(out, encode_list_of(*t.elem, items));
      break;
    }
    case Type::Tuple: {
      const auto& items = v.as_list();
      std::vector<const Type*> types;
      for (const auto& m : t.members) types.push_back(&m);
      std::vector<const AbiValue*> vals;
      for (const auto& i : items) vals.push_back(&i);
      out = encode_tuple(types, vals);
      break;
    }
  }
  return out;
}

// ---- decoding ----

struct Reader {
  ByteView data;  // the enclosing tuple's encoding; offsets are relative to its start

  ByteView word(std::size_t at) const {
    if (at > data.size() || data.size() - at < 32) throw AbiError("abi: data too short");
    return data.subspan(at, 32);
  }
  std::size_t size_at(std::size_t at) const {  // a length or an offset
    U256 v = U256::from_be(word(at));
    if (!v.fits_u64() || v.as_u64() > data.size()) throw AbiError("abi: offset or length beyond the data");
    return static_cast<std::size_t>(v.as_u64());
  }
};

AbiValue decode_value(const Type& t, ByteView data, std::size_t at);

AbiValue::List decode_seq(const std::vector<const Type*>& types, ByteView data) {
  Reader r{data};
  AbiValue::List out;
  out.reserve(types.size());
  std::size_t pos = 0;
  for (const Type* t : types) {
    if (t->dynamic()) {
      std::size_t off = r.size_at(pos);
      out.push_back(decode_value(*t, data, off));
    } else {
      out.push_back(decode_value(*t, data, pos));
    }
    pos += t->head_size();
  }
  return out;
}

AbiValue decode_value(const Type& t, ByteView data, std::size_t at) {
  Reader r{data};
  switch (t.kind) {
    case Type::Uint: {
      U256 v = U256::from_be(r.word(at));
      if (v.bit_length() > t.n) throw AbiError("abi: uint" + std::to_string(t.n) + " with high bits set");
      return v;
    }
    case Type::Addr: {
      ByteView w = r.word(at);
      if (std::any_of(w.begin(), w.begin() + 12, [](std::uint8_t b) { return b != 0; }))
        throw AbiError("abi: address with high bits set");
      return address_from_bytes(w.subspan(12));
    }
    case Type::Bool: {
      U256 v = U256::from_be(r.word(at));
      if (v > U256(1)) throw AbiError("abi: bool not 0 or 1");
      return v == U256(1);
    }
    case Type::FixedBytes: {
      ByteView w = r.word(at);
      return Bytes(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(t.n));
    }
    case Type::DynBytes:
    case Type::String: {
      std::size_t len = r.size_at(at);
      if (data.size() - at - 32 < len) throw AbiError("abi: bytes run past the data");
      ByteView b = data.subspan(at + 32, len);
      if (t.kind == Type::String) return std::string(b.begin(), b.end());
      return Bytes(b.begin(), b.end());
    }
    case Type::FixedArray: {
      std::vector<const Type*> types(t.n, t.elem.get());
      // A static array is inline; a dynamic one starts its own offset base.
      return decode_seq(types, data.subspan(at));
    }
    case Type::DynArray: {
      std::size_t k = r.size_at(at);
      ByteView body = data.subspan(at + 32);
      // Each element takes at least one word: refuse counts the data cannot hold.
      if (k > body.size() / 32) throw AbiError("abi: array length beyond the data");
      std::vector<const Type*> types(k, t.elem.get());
      return decode_seq(types, body);
    }
    case Type::Tuple: {
      std::vector<const Type*> types;
      for (const auto& m : t.members) types.push_back(&m);
      return decode_seq(types, data.subspan(at));
    }
  }
  throw AbiError("abi: unreachable");
}

template <typename T>
const T& get_as(const AbiValue& v, const char* what) {
  if (auto* p = std::get_if<T>(&v.value)) return *p;
  throw AbiError(std::string("abi value is not ") + what);
}

}  // namespace

const U256& AbiValue::as_uint() const { return get_as<U256>(*this, "a uint"); }
const Address& AbiValue::as_address() const { return get_as<Address>(*this, "an address"); }
bool AbiValue::as_bool() const { return get_as<bool>(*this, "a bool"); }
const Bytes& AbiValue::as_bytes() const { return get_as<Bytes>(*this, "bytes"); }
const std::string& AbiValue::as_string() const { return get_as<std::string>(*this, "a string"); }
const AbiValue::List& AbiValue::as_list() const { return get_as<List>(*this, "a list"); }

Bytes encode(std::string_view types_tuple, const std::vector<AbiValue>& args) {
  Type t = parse_tuple(types_tuple);
  return encode_value(t, AbiValue(args));
}

Bytes encode_call(std::string_view signature, const std::vector<AbiValue>& args) {
  std::size_t paren = signature.find('(');
  if (paren == std::string_view::npos || paren == 0) throw AbiError("abi: signature needs name(types)");
  auto sel = selector(signature);
  Bytes out(sel.begin(), sel.end());
  append(out, encode(signature.substr(paren), args));
  return out;
}

std::vector<AbiValue> decode(std::string_view types_tuple, ByteView data) {
  Type t = parse_tuple(types_tuple);
  return decode_value(t, data, 0).as_list();
}

Bytes event_topic(std::string_view event_signature) { return keccak256(event_signature); }

Bytes topic_bytes32(ByteView topic) {
  if (topic.size() != 32) throw AbiError("topic: expected 32 bytes");
  return Bytes(topic.begin(), topic.end());
}

Address topic_address(ByteView topic) {
  auto v = decode("(address)", topic_bytes32(topic));
  return v[0].as_address();
}

U256 topic_uint(ByteView topic) { return U256::from_be(topic_bytes32(topic)); }

Bytes address_topic(const Address& a) {
  Bytes out(32, 0);  // left-padded like an ABI word
  std::copy(a.begin(), a.end(), out.begin() + 12);
  return out;
}

Bytes uint_topic(const U256& v) {
  auto w = v.to_be32();
  return Bytes(w.begin(), w.end());
}

std::optional<std::string> decode_revert_reason(ByteView d) {
  if (d.size() < 4) return std::nullopt;
  try {
    if (d[0] == 0x08 && d[1] == 0xc3 && d[2] == 0x79 && d[3] == 0xa0)  // Error(string)
      return decode("(string)", d.subspan(4))[0].as_string();
    if (d[0] == 0x4e && d[1] == 0x48 && d[2] == 0x7b && d[3] == 0x71)  // Panic(uint256)
      return "Panic(" + decode("(uint256)", d.subspan(4))[0].as_uint().to_hex() + ")";
  } catch (const AbiError&) {
    return std::nullopt;  // malformed: treat as no reason
  }
  return std::nullopt;
}

}  // namespace rsp::eth
