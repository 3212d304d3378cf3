// Solidity contract ABI encoding and decoding (the "Contract ABI
// Specification" of the Solidity documentation).
//
// Types are given as in canonical signatures: uint8..uint256, address, bool,
// bytes1..bytes32, bytes, string, T[k] and T[] of any of these, and tuples
// "(T1,T2,...)". Signed intN is not supported (AbiError).
#pragma once
#include <array>
#include <concepts>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "rsp/bytes.hpp"
#include "rsp/eth/address.hpp"
#include "rsp/eth/u256.hpp"

namespace rsp::eth {

// Malformed type string, a value that does not fit its type, or data that
// does not decode.
struct AbiError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One argument or decoded value:
//   uintN                       -> U256
//   address                     -> Address (Bytes of 20 and U256 also accepted on encoding)
//   bool                        -> bool
//   bytesN, bytes               -> Bytes (bytesN: at most N bytes, right-padded with zeros)
//   string                      -> std::string
//   T[k], T[], tuples           -> std::vector<AbiValue>
struct AbiValue {
  using List = std::vector<AbiValue>;
  std::variant<U256, Address, Bytes, std::string, bool, List> value;

  AbiValue() = default;
  AbiValue(U256 v) : value(v) {}  // NOLINT
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  AbiValue(T v) : value(U256(v)) {}  // NOLINT: integers are uints, not bools
  AbiValue(bool b) : value(b) {}     // NOLINT
  AbiValue(const Address& a) : value(a) {}  // NOLINT
  AbiValue(Bytes b) : value(std::move(b)) {}  // NOLINT
  AbiValue(std::string s) : value(std::move(s)) {}  // NOLINT
  AbiValue(const char* s) : value(std::string(s)) {}  // NOLINT: text, not bool
  AbiValue(std::string_view s) : value(std::string(s)) {}  // NOLINT
  AbiValue(List l) : value(std::move(l)) {}  // NOLINT
  static AbiValue list(List l) { return AbiValue(std::move(l)); }

  // Typed access; each throws AbiError when the value holds something else.
  const U256& as_uint() const;
  const Address& as_address() const;
  bool as_bool() const;
  const Bytes& as_bytes() const;
  const std::string& as_string() const;
  const List& as_list() const;

  bool operator==(const AbiValue&) const = default;
};

// selector(signature) || encoding of args as the tuple of the signature's
// parameter types, e.g. encode_call("baz(uint32,bool)", {69, true}).
Bytes encode_call(std::string_view signature, const std::vector<AbiValue>& args);
// The argument tuple only (constructor arguments appended to init code):
// types as "(uint256,string)"; "()" for none.
Bytes encode(std::string_view types_tuple, const std::vector<AbiValue>& args);
// Decodes return data or a log's data against "(uint256,bytes,string)".
// Offsets and lengths are bounds-checked; throws AbiError.
std::vector<AbiValue> decode(std::string_view types_tuple, ByteView data);

// keccak256 of the canonical event signature, e.g.
// "Accepted(bytes32,address,address,bytes32,bytes)": a log's topic 0.
Bytes event_topic(std::string_view event_signature);
// An indexed parameter read back from its 32-byte topic (AbiError if not 32 bytes;
// an address topic must have 12 zero bytes on the left).
Bytes topic_bytes32(ByteView topic);
Address topic_address(ByteView topic);
U256 topic_uint(ByteView topic);
// Values turned into topics for eth_getLogs filters.
Bytes address_topic(const Address& a);
Bytes uint_topic(const U256& v);

// The message of a Solidity `revert("...")` / `require(cond, "...")`: data
// selector 08c379a0 = Error(string). Also names Panic(uint256) (4e487b71) as
// "Panic(0x..)". nullopt for empty data and custom errors.
std::optional<std::string> decode_revert_reason(ByteView revert_data);

}  // namespace rsp::eth
