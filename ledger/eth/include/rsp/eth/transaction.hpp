// Ethereum transactions signed locally: EIP-1559 (type 2) and legacy with
// EIP-155 replay protection, plus contract-creation addresses.
#pragma once
#include <cstdint>
#include <optional>

#include "rsp/bytes.hpp"
#include "rsp/eth/address.hpp"
#include "rsp/eth/key.hpp"
#include "rsp/eth/u256.hpp"

namespace rsp::eth {

// EIP-1559 dynamic-fee transaction, EIP-2718 type 0x02. The access list is
// always empty.
struct Eip1559Tx {
  std::uint64_t chain_id = 1;
  std::uint64_t nonce = 0;
  U256 max_priority_fee_per_gas;
  U256 max_fee_per_gas;
  std::uint64_t gas_limit = 21'000;
  std::optional<Address> to;  // nullopt = contract creation (data = init code)
  U256 value;
  Bytes data;

  // 0x02 || rlp([chain_id, nonce, max_priority_fee_per_gas, max_fee_per_gas,
  //              gas_limit, to, value, data, access_list])   (EIP-1559)
  Bytes signing_payload() const;
  Bytes signing_hash() const;  // keccak256(signing_payload())
  // 0x02 || rlp([..., access_list, y_parity, r, s]): what eth_sendRawTransaction takes.
  Bytes signed_raw(const Secp256k1Key& key) const;
  Bytes signed_raw(const Signature& sig) const;  // with a signature made elsewhere
};

// Pre-1559 transaction. With chain_id set, EIP-155: the signing hash covers
// [nonce, gas_price, gas, to, value, data, chain_id, 0, 0] and
// v = recovery_id + chain_id * 2 + 35. Without (nullopt), the original
// Homestead form, v = 27 + recovery_id (what a chain refuses when it requires
// replay protection; kept for completeness).
struct LegacyTx {
  std::optional<std::uint64_t> chain_id = 1;
  std::uint64_t nonce = 0;
  U256 gas_price;
  std::uint64_t gas_limit = 21'000;
  std::optional<Address> to;
  U256 value;
  Bytes data;

  Bytes signing_payload() const;  // the RLP list that is hashed
  Bytes signing_hash() const;
  Bytes signed_raw(const Secp256k1Key& key) const;  // rlp([..., v, r, s])
  Bytes signed_raw(const Signature& sig) const;
};

// The transaction hash as nodes report it: keccak256 of the raw bytes sent
// (for a typed transaction that includes the type byte, EIP-2718).
Bytes tx_hash(ByteView raw);

// A signed raw transaction taken apart again (type 2 or legacy): the fields,
// the signature and the recovered sender. Throws DecodeError.
struct DecodedTx {
  std::uint8_t type = 0;  // 0 legacy, 2 EIP-1559
  std::optional<std::uint64_t> chain_id;
  std::uint64_t nonce = 0;
  U256 gas_price;                 // legacy only
  U256 max_priority_fee_per_gas;  // type 2 only
  U256 max_fee_per_gas;           // type 2 only
  std::uint64_t gas_limit = 0;
  std::optional<Address> to;
  U256 value;
  Bytes data;
  Signature signature;
  Address from{};
};
DecodedTx decode_signed(ByteView raw);

// Address of a contract created by `sender` with CREATE at `nonce`:
// keccak256(rlp([sender, nonce]))[12:] (yellow paper, section 7).
Address contract_address(const Address& sender, std::uint64_t nonce);

}  // namespace rsp::eth
