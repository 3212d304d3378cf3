// TS 102 226 command and response scripts against byte strings assembled by
// hand from the text of TS 102 226 5.1 (compact) and 5.2 (expanded): tags
// AA/AE, 22, 81, 82, 83; AB/AF, 80, 23, 90; BER lengths. Each vector is
// written out byte by byte here, not produced by our encoder.
#include <gtest/gtest.h>

#include "rsp/ota/command_script.hpp"
#include "rsp/ota/remote_management.hpp"

using namespace rsp;
using namespace rsp::ota;

namespace {

const Bytes kSelectMf = from_hex("00 A4 00 04 02 3F 00");  // SELECT MF, case 3 (T=0)
const Bytes kReadBinary10 = from_hex("00 B0 00 00 0A");     // READ BINARY 10 bytes, case 2

}  // namespace

TEST(CommandScript, ExpandedDefiniteTwoCApdus) {
  // AA len(16) | 22 07 <SELECT MF> | 22 05 <READ BINARY>
  Bytes hand = from_hex("AA 10  22 07 00A40004023F00  22 05 00B000000A");
  CommandScript s = CommandScript::expanded({kSelectMf, kReadBinary10});
  EXPECT_EQ(to_hex(encode_command_script(s)), to_hex(hand));
  EXPECT_EQ(decode_command_script(hand), s);
  EXPECT_EQ(script_format(hand), ScriptFormat::Expanded);
}

TEST(CommandScript, ExpandedWithChainingImmediateAndErrorAction) {
  // Script Chaining 83 01 01 (first script), Immediate Action 81 01 01,
  // Error Action 82 00 (empty), then a C-APDU: 3 + 3 + 2 + 7 = 15 = 0F.
  Bytes hand = from_hex("AA 0F 83 01 01 81 01 01 82 00 22 05 00B000000A");
  CommandScript s;
  s.commands = {{kTagScriptChaining, {0x01}}, {kTagImmediateAction, {0x01}}, {kTagErrorAction, {}},
                {kTagCApdu, kReadBinary10}};
  EXPECT_EQ(to_hex(encode_command_script(s)), to_hex(hand));
  EXPECT_EQ(decode_command_script(hand), s);
}

TEST(CommandScript, ExpandedIndefiniteLength) {
  // AE 80 <TLVs> 00 00
  Bytes hand = from_hex("AE 80 22 05 00B000000A 00 00");
  CommandScript s = CommandScript::expanded({kReadBinary10});
  s.indefinite_length = true;
  EXPECT_EQ(to_hex(encode_command_script(s)), to_hex(hand));
  EXPECT_EQ(decode_command_script(hand), s);
}

TEST(CommandScript, ExpandedLongLengthsUseBerForms) {
  // UPDATE BINARY with 200 data bytes: C-APDU 205 = CD bytes -> '22 81 CD';
  // the template holds 3 + 205 = 208 = D0 bytes -> 'AA 81 D0'.
  Bytes data(200, 0x5A);
  Bytes capdu = concat(from_hex("00 D6 00 00 C8"), data);
  Bytes hand = concat(from_hex("AA 81 D0 22 81 CD"), capdu);
  EXPECT_EQ(to_hex(encode_command_script(CommandScript::expanded({capdu}))), to_hex(hand));
  EXPECT_EQ(decode_command_script(hand).commands.at(0).value, capdu);
}

TEST(CommandScript, ExpandedBadFormats) {
  auto code = [](const char* hex) {
    try {
      decode_command_script(from_hex(hex));
    } catch (const ScriptError& e) {
      return static_cast<int>(e.bad_format);
    }
    return -1;
  };
  EXPECT_EQ(code("AA 03 99 01 00"), 0x01);            // unknown tag 99
  EXPECT_EQ(code("AA 05 22 07 00 A4 00"), 0x02);      // 22 says 7, 3 left
  EXPECT_EQ(code("AA 01 22"), 0x03);                  // 22 without its length
  EXPECT_EQ(code("AA 05 22 03 00 A4 00"), 0x02);      // a C-APDU shorter than its header
  EXPECT_EQ(code("AE 80 22 05 00B000000A"), 0x02);    // indefinite without end-of-contents
  EXPECT_EQ(code("AA 07 22 05 00B000000A 00"), 0x02); // template length beyond the data
}

TEST(CommandScript, CompactConcatenatedT0Commands) {
  // 5.1.1: CLA INS P1 P2 P3 [data], one after the other.
  Bytes hand = from_hex("00A40004023F00 00B000000A 00D6000003 010203");
  CommandScript s = CommandScript::compact({kSelectMf, kReadBinary10, from_hex("00D6000003010203")});
  EXPECT_EQ(to_hex(encode_command_script(s)), to_hex(hand));
  EXPECT_EQ(decode_command_script(hand), s);
  EXPECT_EQ(script_format(hand), ScriptFormat::Compact);
  // A case 4 SELECT (Le 00) goes as case 3, its response by GET RESPONSE.
  EXPECT_EQ(to_hex(encode_command_script(CommandScript::compact({from_hex("00A40004023F0000")}))),
            to_hex(kSelectMf));
  // STATUS (F2) is case 2 on the UICC and GET STATUS, case 4, at a security domain.
  Bytes get_status = from_hex("80F24002024F00");
  EXPECT_THROW(encode_command_script(CommandScript::compact({get_status})), std::invalid_argument);
  EXPECT_EQ(decode_command_script(get_status, CommandSet::GlobalPlatform).commands.at(0).value, get_status);
  EXPECT_THROW(decode_command_script(from_hex("00A40004053F00"), CommandSet::Uicc), ScriptError);  // Lc 5, 2 left
  EXPECT_THROW(decode_command_script(from_hex("00A400")), ScriptError);
}

TEST(ResponseScript, ExpandedAndCompact) {
  // AB len | 80 01 02 | 23 02 9000 | 23 04 AABB9000 : 3 + 4 + 6 = 13 = 0D
  Bytes hand = from_hex("AB 0D 80 01 02 23 02 9000 23 04 AABB9000");
  ResponseScript r;
  r.executed = 2;
  r.responses = {{kTagRApdu, from_hex("9000")}, {kTagRApdu, from_hex("AABB9000")}};
  EXPECT_EQ(to_hex(encode_response_script(r)), to_hex(hand));
  EXPECT_EQ(decode_response_script(ScriptFormat::Expanded, hand), r);
  EXPECT_EQ(r.last_status_word(), 0x9000);

  Bytes bad = from_hex("AB 06 80 01 00 90 01 01");  // nothing executed, unknown tag
  ResponseScript rb = decode_response_script(ScriptFormat::Expanded, bad);
  EXPECT_EQ(rb.bad_format, BadFormat::UnknownTag);
  EXPECT_EQ(to_hex(encode_response_script(rb)), to_hex(bad));

  Bytes compact = from_hex("02 0102030405060708090A 9000");  // 2 executed, last R-APDU
  ResponseScript rc = decode_response_script(ScriptFormat::Compact, compact);
  EXPECT_EQ(rc.executed, 2);
  EXPECT_EQ(rc.r_apdus().at(0), from_hex("0102030405060708090A9000"));
  EXPECT_EQ(to_hex(encode_response_script(rc)), to_hex(compact));
  EXPECT_THROW(decode_response_script(ScriptFormat::Expanded, from_hex("AB 03 23 01 90")), ScriptError);
  EXPECT_THROW(decode_response_script(ScriptFormat::Expanded, from_hex("AB 04 23 02 9000")), ScriptError);  // no 80
}

namespace {
// A test double: answers by INS, records what ran.
struct Recorder {
  std::vector<Bytes> ran;
  Bytes operator()(ByteView c) {
    ran.emplace_back(c.begin(), c.end());
    if (c[1] == 0xA4) return c[5] == 0x7F ? from_hex("6A82") : from_hex("9000");
    if (c[1] == 0xB0) return from_hex("0102039000");
    return from_hex("6D00");
  }
};
}  // namespace

TEST(RunCommandScript, StopsAtFirstErrorInBothFormats) {
  Recorder rec;
  ApduExecutor ex = [&](ByteView c) { return rec(c); };
  Bytes select_missing = from_hex("00A40004027F99");
  // expanded: R-APDU per executed C-APDU; the failing one counted and shown
  Bytes exp = encode_command_script(CommandScript::expanded({kSelectMf, select_missing, kReadBinary10}));
  ResponseScript r = run_command_script(exp, ex);
  EXPECT_EQ(rec.ran.size(), 2u);
  EXPECT_EQ(to_hex(encode_response_script(r)), to_hex(from_hex("AB 0B 80 01 02 23 02 9000 23 02 6A82")));
  // compact: the count and the last R-APDU
  rec.ran.clear();
  Bytes cmp = encode_command_script(CommandScript::compact({kSelectMf, kReadBinary10}));
  EXPECT_EQ(to_hex(encode_response_script(run_command_script(cmp, ex))), to_hex(from_hex("02 0102039000")));
  rec.ran.clear();
  cmp = encode_command_script(CommandScript::compact({select_missing, kReadBinary10}));
  EXPECT_EQ(to_hex(encode_response_script(run_command_script(cmp, ex))), to_hex(from_hex("01 6A82")));
  EXPECT_EQ(rec.ran.size(), 1u);
  // a malformed script executes nothing
  rec.ran.clear();
  EXPECT_EQ(to_hex(encode_response_script(run_command_script(from_hex("AA 05 22 07 00A400"), ex))),
            to_hex(from_hex("AB 06 80 01 00 90 01 02")));
  EXPECT_EQ(to_hex(encode_response_script(run_command_script(from_hex("00A4000405 3F00"), ex))),
            to_hex(from_hex("00 6700")));
  EXPECT_TRUE(rec.ran.empty());
}

TEST(RunCommandScript, StatusWordClasses) {
  for (std::uint16_t ok : {0x9000, 0x6110, 0x9112, 0x9200, 0x6282, 0x63C2}) EXPECT_FALSE(is_error_status_word(ok)) << ok;
  for (std::uint16_t err : {0x6A82, 0x6982, 0x6700, 0x9862, 0x6F00, 0x9001}) EXPECT_TRUE(is_error_status_word(err)) << err;
}
