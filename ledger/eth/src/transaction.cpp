#include "rsp/eth/transaction.hpp"

#include "rsp/eth/keccak.hpp"
#include "rsp/eth/rlp.hpp"

namespace rsp::eth {

namespace {

Bytes enc_to(const std::optional<Address>& to) {
  // Contract creation: the empty byte string (yellow paper, section 4.2).
  return to ? rlp::encode_string(*to) : rlp::encode_string({});
}

// r and s are RLP integers: leading zero bytes removed.
Bytes enc_scalar(const std::array<std::uint8_t, 32>& v) { return rlp::encode_uint(U256::from_be(v)); }

std::vector<Bytes> eip1559_fields(const Eip1559Tx& t) {
  return {rlp::encode_uint(t.chain_id),
          rlp::encode_uint(t.nonce),
          rlp::encode_uint(t.max_priority_fee_per_gas),
          rlp::encode_uint(t.max_fee_per_gas),
          rlp::encode_uint(t.gas_limit),
          enc_to(t.to),
          rlp::encode_uint(t.value),
          rlp::encode_string(t.data),
          rlp::encode_list({})};  // access list: always empty here
}

std::vector<Bytes> legacy_fields(const LegacyTx& t) {
  return {rlp::encode_uint(t.nonce), rlp::encode_uint(t.gas_price), rlp::encode_uint(t.gas_limit),
          enc_to(t.to),              rlp::encode_uint(t.value),     rlp::encode_string(t.data)};
}

std::array<std::uint8_t, 32> to32(const rlp::Item& it) {
  const Bytes& b = it.bytes();
  if (b.size() > 32) throw DecodeError("tx: r/s longer than 32 bytes");
  return U256::from_be(b).to_be32();
}

std::uint64_t u64_of(const rlp::Item& it) {
  U256 v = it.as_uint();
  if (!v.fits_u64()) throw DecodeError("tx: value does not fit 64 bits");
  return v.as_u64();
}

std::optional<Address> to_of(const rlp::Item& it) {
  const Bytes& b = it.bytes();
  if (b.empty()) return std::nullopt;
  return address_from_bytes(b);
}

constexpr std::uint8_t kEip1559Type = 0x02;  // EIP-1559 / EIP-2718

}  // namespace

Bytes Eip1559Tx::signing_payload() const {
  Bytes out{kEip1559Type};
  append(out, rlp::encode_list(eip1559_fields(*this)));
  return out;
}

Bytes Eip1559Tx::signing_hash() const { return keccak256(signing_payload()); }

Bytes Eip1559Tx::signed_raw(const Secp256k1Key& key) const { return signed_raw(key.sign_recoverable(signing_hash())); }

Bytes Eip1559Tx::signed_raw(const Signature& sig) const {
  auto fields = eip1559_fields(*this);
  fields.push_back(rlp::encode_uint(sig.recovery_id));  // y_parity: 0 or 1
  fields.push_back(enc_scalar(sig.r));
  fields.push_back(enc_scalar(sig.s));
  Bytes out{kEip1559Type};
  append(out, rlp::encode_list(fields));
  return out;
}

Bytes LegacyTx::signing_payload() const {
  auto fields = legacy_fields(*this);
  if (chain_id) {  // EIP-155: [..., chain_id, 0, 0]
    fields.push_back(rlp::encode_uint(*chain_id));
    fields.push_back(rlp::encode_uint(0));
    fields.push_back(rlp::encode_uint(0));
  }
  return rlp::encode_list(fields);
}

Bytes LegacyTx::signing_hash() const { return keccak256(signing_payload()); }

Bytes LegacyTx::signed_raw(const Secp256k1Key& key) const { return signed_raw(key.sign_recoverable(signing_hash())); }

Bytes LegacyTx::signed_raw(const Signature& sig) const {
  auto fields = legacy_fields(*this);
  // EIP-155: v = recovery_id + chain_id * 2 + 35; Homestead: 27 + recovery_id.
  U256 v = chain_id ? U256(*chain_id) * 2 + U256(35u + sig.recovery_id) : U256(27u + sig.recovery_id);
  fields.push_back(rlp::encode_uint(v));
  fields.push_back(enc_scalar(sig.r));
  fields.push_back(enc_scalar(sig.s));
  return rlp::encode_list(fields);
}

Bytes tx_hash(ByteView raw) { return keccak256(raw); }

DecodedTx decode_signed(ByteView raw) {
  if (raw.empty()) throw DecodeError("tx: empty");
  DecodedTx d;
  if (raw[0] == kEip1559Type) {
    rlp::Item it = rlp::decode(raw.subspan(1));
    const auto& f = it.items();
    if (f.size() != 12) throw DecodeError("tx: type 2 needs 12 fields");
    if (!f[8].items().empty()) throw DecodeError("tx: access lists are not supported");
    Eip1559Tx t;
    t.chain_id = u64_of(f[0]);
    t.nonce = u64_of(f[1]);
    t.max_priority_fee_per_gas = f[2].as_uint();
    t.max_fee_per_gas = f[3].as_uint();
    t.gas_limit = u64_of(f[4]);
    t.to = to_of(f[5]);
    t.value = f[6].as_uint();
    t.data = f[7].bytes();
    std::uint64_t parity = u64_of(f[9]);
    if (parity > 1) throw DecodeError("tx: y_parity must be 0 or 1");
    d.type = 2;
    d.chain_id = t.chain_id;
    d.nonce = t.nonce;
    d.max_priority_fee_per_gas = t.max_priority_fee_per_gas;
    d.max_fee_per_gas = t.max_fee_per_gas;
    d.gas_limit = t.gas_limit;
    d.to = t.to;
    d.value = t.value;
    d.data = t.data;
    d.signature.recovery_id = static_cast<std::uint8_t>(parity);
    d.signature.r = to32(f[10]);
    d.signature.s = to32(f[11]);
    d.from = recover_address(t.signing_hash(), d.signature);
    return d;
  }
  if (raw[0] < 0xc0) throw DecodeError("tx: unsupported transaction type");
  rlp::Item it = rlp::decode(raw);
  const auto& f = it.items();
  if (f.size() != 9) throw DecodeError("tx: legacy needs 9 fields");
  LegacyTx t;
  t.nonce = u64_of(f[0]);
  t.gas_price = f[1].as_uint();
  t.gas_limit = u64_of(f[2]);
  t.to = to_of(f[3]);
  t.value = f[4].as_uint();
  t.data = f[5].bytes();
  U256 v = f[6].as_uint();
  if (v == U256(27) || v == U256(28)) {
    t.chain_id = std::nullopt;
    d.signature.recovery_id = static_cast<std::uint8_t>(v.as_u64() - 27);
  } else {
    if (v < U256(35) || !v.fits_u64()) throw DecodeError("tx: bad v");
    std::uint64_t x = v.as_u64() - 35;  // EIP-155
    t.chain_id = x / 2;
    d.signature.recovery_id = static_cast<std::uint8_t>(x % 2);
  }
  d.type = 0;
  d.chain_id = t.chain_id;
  d.nonce = t.nonce;
  d.gas_price = t.gas_price;
  d.gas_limit = t.gas_limit;
  d.to = t.to;
  d.value = t.value;
  d.data = t.data;
  d.signature.r = to32(f[7]);
  d.signature.s = to32(f[8]);
  d.from = recover_address(t.signing_hash(), d.signature);
  return d;
}

Address contract_address(const Address& sender, std::uint64_t nonce) {
  Bytes h = keccak256(rlp::encode_list({rlp::encode_string(sender), rlp::encode_uint(nonce)}));
  return address_from_bytes(ByteView(h).subspan(12));
}

}  // namespace rsp::eth
