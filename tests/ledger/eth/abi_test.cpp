// Solidity ABI: the examples of the "Contract ABI Specification", decoding,
// events and revert reasons.
#include <gtest/gtest.h>

#include "rsp/eth/abi.hpp"
#include "rsp/eth/keccak.hpp"

using namespace rsp;
using namespace rsp::eth;

namespace {
std::string words(std::initializer_list<const char*> ws) {
  std::string s;
  for (const char* w : ws) s += w;
  return s;
}
std::string word(std::uint64_t v) { return to_hex(U256(v).to_be32()); }
}  // namespace

TEST(Abi, SpecBaz) {
  EXPECT_EQ(to_hex(encode_call("baz(uint32,bool)", {69, true})),
            "cdcd77c0" + word(0x45) + word(1));
}

TEST(Abi, SpecBar) {
  EXPECT_EQ(to_hex(encode_call("bar(bytes3[2])", {AbiValue::list({to_bytes("abc"), to_bytes("def")})})),
            "fce353f6"
            "6162630000000000000000000000000000000000000000000000000000000000"
            "6465660000000000000000000000000000000000000000000000000000000000");
}

TEST(Abi, SpecSam) {
  Bytes enc = encode_call("sam(bytes,bool,uint256[])", {to_bytes("dave"), true, AbiValue::list({1, 2, 3})});
  EXPECT_EQ(to_hex(enc), "a5643bf2" + word(0x60) + word(1) + word(0xa0) + word(4) +
                             "6461766500000000000000000000000000000000000000000000000000000000" + word(3) + word(1) +
                             word(2) + word(3));
  auto back = decode("(bytes,bool,uint256[])", ByteView(enc).subspan(4));
  EXPECT_EQ(to_string(back[0].as_bytes()), "dave");
  EXPECT_TRUE(back[1].as_bool());
  EXPECT_EQ(back[2].as_list().size(), 3u);
  EXPECT_EQ(back[2].as_list()[2].as_uint(), U256(3));
}

TEST(Abi, SpecDynamicF) {
  Bytes enc = encode_call("f(uint256,uint32[],bytes10,bytes)",
                          {0x123, AbiValue::list({0x456, 0x789}), to_bytes("1234567890"), to_bytes("Hello, world!")});
  EXPECT_EQ(to_hex(enc), words({"8be65246",
                                "0000000000000000000000000000000000000000000000000000000000000123",
                                "0000000000000000000000000000000000000000000000000000000000000080",
                                "3132333435363738393000000000000000000000000000000000000000000000",
                                "00000000000000000000000000000000000000000000000000000000000000e0",
                                "0000000000000000000000000000000000000000000000000000000000000002",
                                "0000000000000000000000000000000000000000000000000000000000000456",
                                "0000000000000000000000000000000000000000000000000000000000000789",
                                "000000000000000000000000000000000000000000000000000000000000000d",
                                "48656c6c6f2c20776f726c642100000000000000000000000000000000000000"}));
  auto back = decode("(uint256,uint32[],bytes10,bytes)", ByteView(enc).subspan(4));
  EXPECT_EQ(back[0].as_uint(), U256(0x123));
  EXPECT_EQ(back[1].as_list()[1].as_uint(), U256(0x789));
  EXPECT_EQ(to_string(back[2].as_bytes()), "1234567890");
  EXPECT_EQ(to_string(back[3].as_bytes()), "Hello, world!");
}

TEST(Abi, SpecNestedG) {
  Bytes enc = encode_call("g(uint256[][],string[])",
                          {AbiValue::list({AbiValue::list({1, 2}), AbiValue::list({3})}),
                           AbiValue::list({"one", "two", "three"})});
  std::string expected = "2289b18c" + word(0x40) + word(0x140) + word(2) + word(0x40) + word(0xa0) + word(2) + word(1) +
                         word(2) + word(1) + word(3) + word(3) + word(0x60) + word(0xa0) + word(0xe0) + word(3) +
                         "6f6e650000000000000000000000000000000000000000000000000000000000" + word(3) +
                         "74776f0000000000000000000000000000000000000000000000000000000000" + word(5) +
                         "7468726565000000000000000000000000000000000000000000000000000000";
  EXPECT_EQ(to_hex(enc), expected);
  auto back = decode("(uint256[][],string[])", ByteView(enc).subspan(4));
  EXPECT_EQ(back[1].as_list()[2].as_string(), "three");
  EXPECT_EQ(back[0].as_list()[0].as_list()[1].as_uint(), U256(2));
}

TEST(Abi, FixedArraysAddressesAndMarketplaceShapes) {
  Address a = parse_address("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
  AbiValue::List ten;
  for (int i = 0; i < 10; ++i) ten.push_back(i * 7);
  Bytes enc = encode("(address,uint256[10],uint64[3],bytes32)",
                     {a, ten, AbiValue::list({1, 2, 3}), Bytes(32, 0xee)});
  EXPECT_EQ(enc.size(), 32u * (1 + 10 + 3 + 1));  // all static: inline
  EXPECT_EQ(to_hex(ByteView(enc).first(32)), "000000000000000000000000f39fd6e51aad88f6f4ce6ab8827279cfffb92266");
  auto back = decode("(address,uint256[10],uint64[3],bytes32)", enc);
  EXPECT_EQ(back[0].as_address(), a);
  EXPECT_EQ(back[1].as_list()[9].as_uint(), U256(63));
  EXPECT_EQ(back[3].as_bytes(), Bytes(32, 0xee));

  // The request() call of the marketplace: bytes32,bytes32,string,bytes,uint256,bytes.
  Bytes call = encode_call("request(bytes32,bytes32,string,bytes,uint256,bytes)",
                           {Bytes(32, 1), Bytes(32, 2), "sub-1", Bytes(65, 4), 5'000'000, Bytes{9, 9}});
  auto r = decode("(bytes32,bytes32,string,bytes,uint256,bytes)", ByteView(call).subspan(4));
  EXPECT_EQ(r[2].as_string(), "sub-1");
  EXPECT_EQ(r[3].as_bytes(), Bytes(65, 4));
  EXPECT_EQ(r[4].as_uint(), U256(5'000'000));
  EXPECT_EQ(r[5].as_bytes(), (Bytes{9, 9}));

  // A tuple argument (a Solidity struct) with a dynamic member.
  Bytes t = encode("((uint256,string),bool)", {AbiValue::list({7, "x"}), false});
  auto tb = decode("((uint256,string),bool)", t);
  EXPECT_EQ(tb[0].as_list()[1].as_string(), "x");
}

TEST(Abi, RefusesBadInput) {
  EXPECT_THROW(encode_call("baz(uint32,bool)", {69}), AbiError);                 // count
  EXPECT_THROW(encode_call("baz(uint32,bool)", {U256(1) * 0x100000000ULL, true}), AbiError);  // does not fit uint32
  EXPECT_THROW(encode_call("f(uint)", {1}), AbiError);                           // not canonical
  EXPECT_THROW(encode_call("f(int256)", {1}), AbiError);                         // unsupported
  EXPECT_THROW(encode_call("f(bytes2)", {to_bytes("abc")}), AbiError);           // too long
  EXPECT_THROW(encode_call("f(uint256[2])", {AbiValue::list({1})}), AbiError);   // wrong length
  EXPECT_THROW(encode_call("f(string)", {true}), AbiError);                      // wrong kind
  // Decoding: truncated data, offsets past the end, dirty high bits.
  EXPECT_THROW(decode("(uint256)", Bytes(31, 0)), AbiError);
  Bytes bad_off = from_hex(word(0x1000) + word(0));
  EXPECT_THROW(decode("(bytes)", bad_off), AbiError);
  Bytes huge_len = from_hex(word(0x20) + word(0xffffffff));
  EXPECT_THROW(decode("(bytes)", huge_len), AbiError);
  EXPECT_THROW(decode("(uint256[])", huge_len), AbiError);
  EXPECT_THROW(decode("(bool)", from_hex(word(2))), AbiError);
  EXPECT_THROW(decode("(uint8)", from_hex(word(256))), AbiError);
  EXPECT_THROW(decode("(address)", Bytes(32, 0xff)), AbiError);
}

TEST(Abi, EventsAndTopics) {
  // ERC-20 Transfer: the well-known topic 0.
  EXPECT_EQ(to_hex(event_topic("Transfer(address,address,uint256)")),
            "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
  Address a = parse_address("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
  EXPECT_EQ(topic_address(address_topic(a)), a);
  EXPECT_EQ(topic_uint(uint_topic(12345)), U256(12345));
  EXPECT_EQ(topic_bytes32(Bytes(32, 3)), Bytes(32, 3));
  EXPECT_THROW(topic_bytes32(Bytes(20, 3)), AbiError);
  EXPECT_EQ(event_topic("Accepted(bytes32,address,address,bytes32,bytes)"),
            keccak256(std::string_view("Accepted(bytes32,address,address,bytes32,bytes)")));
}

TEST(Abi, RevertReasons) {
  // require(false, "RSP:beyond-escrow") returns Error(string).
  Bytes data = encode_call("Error(string)", {"RSP:beyond-escrow"});
  EXPECT_EQ(to_hex(ByteView(data).first(4)), "08c379a0");
  EXPECT_EQ(decode_revert_reason(data), std::optional<std::string>("RSP:beyond-escrow"));
  EXPECT_EQ(decode_revert_reason(encode_call("Panic(uint256)", {0x11})), std::optional<std::string>("Panic(0x11)"));
  EXPECT_EQ(decode_revert_reason({}), std::nullopt);
  EXPECT_EQ(decode_revert_reason(from_hex("08c379a0")), std::nullopt);   // truncated
  EXPECT_EQ(decode_revert_reason(from_hex("deadbeef")), std::nullopt);   // a custom error
}
