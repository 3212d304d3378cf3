// EIP-155 and EIP-1559 signing against published vectors; contract addresses;
// signing speed.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "rsp/eth/keccak.hpp"
#include "rsp/eth/rlp.hpp"
#include "rsp/eth/transaction.hpp"

using namespace rsp;
using namespace rsp::eth;

// The example in the EIP-155 text.
TEST(Eip155, SpecExample) {
  auto key = Secp256k1Key::from_hex("0x4646464646464646464646464646464646464646464646464646464646464646");
  LegacyTx t;
  t.chain_id = 1;
  t.nonce = 9;
  t.gas_price = gwei(20);
  t.gas_limit = 21000;
  t.to = parse_address("0x3535353535353535353535353535353535353535");
  t.value = ether(1);
  EXPECT_EQ(to_hex(t.signing_payload()),
            "ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080");
  EXPECT_EQ(to_hex(t.signing_hash()), "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53");

  Signature sig = key.sign_recoverable(t.signing_hash());
  // (v, r, s) = (37, 18515461264373351373200002665853028612451056578545711640558177340181847433846,
  //              46948507304638947509940763649030358759909902576025900602547168820602576006531)
  EXPECT_EQ(sig.recovery_id, 0);  // v = 0 + 1*2 + 35 = 37
  EXPECT_EQ(U256::from_be(sig.r),
            U256::from_dec("18515461264373351373200002665853028612451056578545711640558177340181847433846"));
  EXPECT_EQ(U256::from_be(sig.s),
            U256::from_dec("46948507304638947509940763649030358759909902576025900602547168820602576006531"));

  Bytes raw = t.signed_raw(key);
  EXPECT_EQ(to_hex(raw),
            "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195"
            "fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83");

  DecodedTx d = decode_signed(raw);
  EXPECT_EQ(d.type, 0);
  EXPECT_EQ(d.chain_id, std::optional<std::uint64_t>(1));
  EXPECT_EQ(d.nonce, 9u);
  EXPECT_EQ(d.value, ether(1));
  EXPECT_EQ(d.from, key.address());
  EXPECT_EQ(checksum_address(d.from), "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F");
}

// Vectors from the ethereumjs tx package test suite (packages/tx/test/json/
// eip1559.json): an independent implementation. They are given there as the
// typed transaction wrapped in an RLP string (b87x...); the inner bytes are
// what eth_sendRawTransaction takes.
TEST(Eip1559, EthereumjsVectors) {
  struct V {
    std::uint64_t nonce, value, gas, tip, fee;
    const char* wrapped;
  };
  const V vectors[] = {
      {819, 43203529, 35552, 75853, 121212,
       "b87302f870821e8e8203338301284d8301d97c828ae094000000000000000000000000000000000000aaaa8402933bc980c080a0d067f2167"
       "008c59219652f91cbf8788dbca5f771f6e91e2b7657e85b78b472e0a01d305af9fe81fdba43f0dfcd400ed24dcace0a7e30d4e85701dcaaf4"
       "84cd079e"},
      {353, 61901619, 32593, 38850, 136295,
       "b87202f86f821e8e8201618297c283021467827f5194000000000000000000000000000000000000aaaa8403b08b3380c001a004205678f13fc"
       "1d7b10feea6513dfa76e24418b6e08097d95c6f93a3b64e536da01d45ad61bfece43862de2cce7d2575a8c1d08c26c87f3cb5f26d7b0be54a9"
       "1b2"},
      {709, 6478043, 28335, 86252, 94636,
       "b87202f86f821e8e8202c5830150ec830171ac826eaf94000000000000000000000000000000000000aaaa8362d8db80c001a09880d133cd636"
       "f8c8dce32e2c43494b9f2dc000eee8dc61931e09f866ed04b46a00e44d5c503c7f08b36c8b062c32a963f3dd20a71e95e3d903bfbe7f4da47c"
       "d47"},
      {119, 65456115, 62341, 24721, 107729,
       "b87002f86d821e8e778260918301a4d182f38594000000000000000000000000000000000000aaaa8403e6c7f380c001a0e38e239770801eb9"
       "95498c821e55ac9c19ae09184bb27b34be105e02fe3b7615a067c64ca6bd6d9107e85fd581ab2e70a14b637eb36505bb40861ef9d6e800cab"
       "6"},
  };
  auto key = Secp256k1Key::from_hex("0x8f2a55949038a9610f50fb23b5883af3b4ecb3c3bb792cbcefbd1542c692be63");
  for (const auto& v : vectors) {
    Bytes expected = rlp::decode(from_hex(v.wrapped)).bytes();
    Eip1559Tx t;
    t.chain_id = 0x1e8e;  // the suite's custom chain
    t.nonce = v.nonce;
    t.value = v.value;
    t.gas_limit = v.gas;
    t.max_priority_fee_per_gas = v.tip;
    t.max_fee_per_gas = v.fee;
    t.to = parse_address("0x000000000000000000000000000000000000aaaa");
    Bytes raw = t.signed_raw(key);
    EXPECT_EQ(to_hex(raw), to_hex(expected)) << "nonce " << v.nonce;
    DecodedTx d = decode_signed(raw);
    EXPECT_EQ(d.type, 2);
    EXPECT_EQ(d.chain_id, std::optional<std::uint64_t>(0x1e8e));
    EXPECT_EQ(d.max_fee_per_gas, U256(v.fee));
    EXPECT_EQ(d.from, key.address());
    EXPECT_EQ(tx_hash(raw), keccak256(raw));
  }
}

TEST(Eip1559, ContractCreationAndData) {
  auto key = Secp256k1Key::generate();
  Eip1559Tx t;
  t.chain_id = 31337;
  t.nonce = 0;
  t.max_fee_per_gas = gwei(2);
  t.gas_limit = 100000;
  t.data = from_hex("600a600c600039600a6000f3602a60005260206000f3");
  Bytes raw = t.signed_raw(key);
  EXPECT_EQ(raw[0], 0x02);
  DecodedTx d = decode_signed(raw);
  EXPECT_FALSE(d.to.has_value());  // empty `to`: creation
  EXPECT_EQ(d.data, t.data);
  EXPECT_EQ(d.from, key.address());
  // Same transaction, same bytes (RFC 6979 is deterministic).
  EXPECT_EQ(t.signed_raw(key), raw);
}

// Well-known CREATE addresses of 0x6ac7ea33f8831ea9dcc53393aaa88b25a785dbf0.
TEST(ContractAddress, KnownValues) {
  Address sender = parse_address("0x6ac7ea33f8831ea9dcc53393aaa88b25a785dbf0");
  EXPECT_EQ(to_hex(contract_address(sender, 0)), "cd234a471b72ba2f1ccf0a70fcaba648a5eecd8d");
  EXPECT_EQ(to_hex(contract_address(sender, 1)), "343c43a37d37dff08ae8c4a11544c718abb4fcf8");
  EXPECT_EQ(to_hex(contract_address(sender, 2)), "f778b86fa74e846c4f0a1fbd1335fe81c00a0c91");
  EXPECT_EQ(to_hex(contract_address(sender, 3)), "fffd933a0bc612844eaf0c6fe3e5b8e9b6c1d19c");
}

// Not a pass/fail figure: prints the one-core signing rate for the report.
TEST(Eip1559, SigningSpeed) {
  auto key = Secp256k1Key::generate();
  Eip1559Tx t;
  t.chain_id = 1337;
  t.max_fee_per_gas = 0;
  t.gas_limit = 300000;
  t.to = key.address();
  t.data = Bytes(260, 0x5a);  // about a marketplace call's size
  const int n = 5000;
  auto start = std::chrono::steady_clock::now();
  std::size_t total = 0;
  for (int i = 0; i < n; ++i) {
    t.nonce = static_cast<std::uint64_t>(i);
    total += t.signed_raw(key).size();
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ speed    ] %d EIP-1559 tx signed in %.3f s: %.0f tx/s on one core (%zu bytes)\n", n, secs, n / secs,
              total);
  EXPECT_GT(n / secs, 1000.0);
}
