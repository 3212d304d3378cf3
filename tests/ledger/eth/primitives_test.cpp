// Keccak-256, RLP, U256, keys and EIP-55 against published values.
#include <gtest/gtest.h>

#include "rsp/eth/address.hpp"
#include "rsp/eth/keccak.hpp"
#include "rsp/eth/key.hpp"
#include "rsp/eth/rlp.hpp"
#include "rsp/eth/u256.hpp"

using namespace rsp;
using namespace rsp::eth;

namespace {
std::string hex(ByteView b) { return to_hex(b); }
}  // namespace

TEST(Keccak, KnownDigests) {
  // Keccak-256 (original padding), as used by Ethereum; SHA3-256("") would be a7ffc6f8...
  EXPECT_EQ(hex(keccak256(std::string_view(""))), "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  EXPECT_EQ(hex(keccak256(std::string_view("abc"))), "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
  EXPECT_EQ(hex(keccak256(std::string_view("The quick brown fox jumps over the lazy dog"))),
            "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15");
}

TEST(Keccak, Selectors) {
  EXPECT_EQ(hex(selector("transfer(address,uint256)")), "a9059cbb");
  EXPECT_EQ(hex(selector("baz(uint32,bool)")), "cdcd77c0");      // Solidity ABI spec
  EXPECT_EQ(hex(selector("Error(string)")), "08c379a0");
  EXPECT_EQ(hex(selector("Panic(uint256)")), "4e487b71");
}

// Examples of the RLP page of the Ethereum wiki / yellow paper appendix B.
TEST(Rlp, WikiExamples) {
  using rlp::Item;
  EXPECT_EQ(hex(rlp::encode(Item::str("dog"))), "83646f67");
  EXPECT_EQ(hex(rlp::encode(Item::list({Item::str("cat"), Item::str("dog")}))), "c88363617483646f67");
  EXPECT_EQ(hex(rlp::encode(Item::str(""))), "80");
  EXPECT_EQ(hex(rlp::encode(Item::list())), "c0");
  EXPECT_EQ(hex(rlp::encode_uint(0)), "80");
  EXPECT_EQ(hex(rlp::encode(Item(Bytes{0x00}))), "00");
  EXPECT_EQ(hex(rlp::encode(Item(Bytes{0x0f}))), "0f");
  EXPECT_EQ(hex(rlp::encode_uint(15)), "0f");
  EXPECT_EQ(hex(rlp::encode(Item(Bytes{0x04, 0x00}))), "820400");
  EXPECT_EQ(hex(rlp::encode_uint(1024)), "820400");
  // The set-theoretic representation of three: [ [], [[]], [ [], [[]] ] ].
  Item three = Item::list({Item::list(), Item::list({Item::list()}), Item::list({Item::list(), Item::list({Item::list()})})});
  EXPECT_EQ(hex(rlp::encode(three)), "c7c0c1c0c3c0c1c0");
  std::string lorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";
  EXPECT_EQ(hex(rlp::encode(Item::str(lorem))), "b838" + to_hex(to_bytes(lorem)));
}

TEST(Rlp, DecodeAndRejectNonCanonical) {
  using rlp::Item;
  Item three = rlp::decode(from_hex("c7c0c1c0c3c0c1c0"));
  EXPECT_EQ(rlp::encode(three), from_hex("c7c0c1c0c3c0c1c0"));
  ASSERT_TRUE(three.is_list());
  EXPECT_EQ(three.items().size(), 3u);
  Item cd = rlp::decode(from_hex("c88363617483646f67"));
  EXPECT_EQ(to_string(cd.items()[1].bytes()), "dog");
  EXPECT_EQ(rlp::decode(from_hex("820400")).as_uint(), U256(1024));
  // 1,100-byte string: long form with a two-byte length.
  Bytes big(1100, 0xab);
  Bytes enc = rlp::encode_string(big);
  EXPECT_EQ(hex(ByteView(enc).first(3)), "b9044c");
  EXPECT_EQ(rlp::decode(enc).bytes(), big);

  EXPECT_THROW(rlp::decode(from_hex("8100")), DecodeError);        // single byte < 0x80 wrapped
  EXPECT_THROW(rlp::decode(from_hex("b800")), DecodeError);        // long form for a short string
  EXPECT_THROW(rlp::decode(from_hex("83646f")), DecodeError);      // truncated
  EXPECT_THROW(rlp::decode(from_hex("83646f6767")), DecodeError);  // trailing byte
  EXPECT_THROW(rlp::decode(from_hex("c3646f")), DecodeError);      // list runs past the end
  EXPECT_THROW(rlp::decode(from_hex("820004")).as_uint(), DecodeError);  // integer with leading zero
}

TEST(U256, ParsePrintArithmetic) {
  U256 max = U256::max();
  EXPECT_EQ(max.to_dec(), "115792089237316195423570985008687907853269984665640564039457584007913129639935");
  EXPECT_EQ(U256::from_dec(max.to_dec()), max);
  EXPECT_EQ(max.to_hex(), "0x" + std::string(64, 'f'));
  EXPECT_THROW(U256::from_dec("115792089237316195423570985008687907853269984665640564039457584007913129639936"),
               DecodeError);
  EXPECT_THROW(max + U256(1), std::overflow_error);
  EXPECT_EQ(U256(0).to_hex(), "0x0");
  EXPECT_EQ(U256::parse("0x7b"), U256(123));
  EXPECT_EQ(U256::parse("123"), U256(123));
  EXPECT_EQ(ether(1).to_dec(), "1000000000000000000");
  EXPECT_EQ(hex(ether(1).to_be_minimal()), "0de0b6b3a7640000");
  EXPECT_TRUE(U256(0).to_be_minimal().empty());
  EXPECT_EQ(U256(10'000'000'000'000'000'000ULL).to_dec(), "10000000000000000000");
  EXPECT_EQ((U256::from_dec("100000000000000000000000000000") - U256(1)).to_dec(), "99999999999999999999999999999");
  EXPECT_LT(U256(5), gwei(1));
  EXPECT_EQ(U256::from_be(from_hex("0100")).as_u64(), 256u);
  EXPECT_THROW(U256::parse("12a"), DecodeError);
  EXPECT_THROW(U256::parse(""), DecodeError);
  EXPECT_THROW(U256(-1), std::out_of_range);
}

TEST(Address, Eip55Examples) {
  // The test cases in the EIP-55 text.
  for (const char* a : {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
                        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"}) {
    std::string lower = a;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(checksum_address(parse_address(lower)), a);
    EXPECT_EQ(parse_address(a), parse_address(lower));
  }
  // All-caps and all-lower forms carry no checksum and are accepted.
  EXPECT_NO_THROW(parse_address("0x52908400098527886E0F7030069857D2E4169EE7"));
  EXPECT_NO_THROW(parse_address("0xde709f2102306220921060314715629080e2fb77"));
  // One letter's case flipped: refused.
  EXPECT_THROW(parse_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"), DecodeError);
  EXPECT_THROW(parse_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA"), DecodeError);
}

TEST(Key, KnownAddresses) {
  Bytes one(32, 0);
  one[31] = 1;
  EXPECT_EQ(Secp256k1Key::from_private(one).address_hex(), "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
  // anvil / hardhat dev account 0 (as anvil prints it; the brief had "efcaf784" for "efcae784").
  auto dev = Secp256k1Key::from_hex("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
  EXPECT_EQ(dev.address_hex(), "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
  EXPECT_EQ(dev.public_key()[0], 0x04);
  EXPECT_EQ(Secp256k1Key::from_private(dev.export_private()).address(), dev.address());
}

TEST(Key, RejectsBadScalars) {
  EXPECT_THROW(Secp256k1Key::from_private(Bytes(32, 0)), KeyError);
  EXPECT_THROW(Secp256k1Key::from_private(Bytes(31, 1)), KeyError);
  // n, the group order, is out of range.
  EXPECT_THROW(Secp256k1Key::from_hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"), KeyError);
  try {
    Secp256k1Key::from_hex("not-a-key-zz");
    FAIL();
  } catch (const KeyError& e) {
    EXPECT_EQ(std::string(e.what()).find("not-a-key"), std::string::npos);  // input not echoed
  }
}

TEST(Key, SignRecoverLowS) {
  auto k = Secp256k1Key::generate();
  auto other = Secp256k1Key::generate();
  EXPECT_NE(k.address(), other.address());
  // n/2: EIP-2 requires s <= n/2.
  U256 half_n = U256::from_hex("7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0");
  for (int i = 0; i < 50; ++i) {
    Bytes h = keccak256(std::string_view("message " + std::to_string(i)));
    Signature s = k.sign_recoverable(h);
    EXPECT_LE(U256::from_be(s.s), half_n);
    EXPECT_LE(s.recovery_id, 1);
    EXPECT_EQ(recover_address(h, s), k.address());
    EXPECT_EQ(Signature::from_rsv(s.to_rsv()), s);
    Bytes h2 = h;
    h2[0] ^= 1;
    EXPECT_NE(recover_address(h2, s), k.address());
  }
  EXPECT_THROW(k.sign_recoverable(Bytes(31, 0)), KeyError);
}
