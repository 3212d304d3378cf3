// The multi-account applet's APDUs from the terminal side
// (docs/multi-account-applet.md): STORE / LIST / SWITCH / GET ACTIVE /
// DELETE with their status words; Ki and OPc never come back out.
#include <gtest/gtest.h>

#include "rsp/masim/masim.hpp"
#include "rsp/tlv.hpp"

namespace rsp::masim {
namespace {

std::uint16_t sw_of(ByteView r) { return static_cast<std::uint16_t>(r[r.size() - 2] << 8 | r.back()); }

Account account(std::uint8_t id) {
  Account a;
  a.id = id;
  a.imsi = imsi_to_ef("00101000000010" + std::to_string(id % 10));
  a.ki = Bytes(16, static_cast<std::uint8_t>(0xA0 + id));
  a.opc = Bytes(16, static_cast<std::uint8_t>(0xB0 + id));
  a.label = "account " + std::to_string(id);
  return a;
}

struct AppletRig : ::testing::Test {
  std::unique_ptr<MultiAccountSim> card;
  void SetUp() override {
    MasimConfig c;
    c.capacity = 2;
    card = std::make_unique<MultiAccountSim>(c);
    card->reset();
    Bytes fci = tx(concat(Bytes{0x00, 0xA4, 0x04, 0x00, static_cast<std::uint8_t>(kAppletAid.size())}, kAppletAid, Bytes{0x00}));
    ASSERT_EQ(sw_of(fci), 0x9000);
  }
  Bytes tx(ByteView c) { return card->transmit(c); }
  Bytes tx(std::string_view hex) { return card->transmit(from_hex(hex)); }
  std::uint16_t store(ByteView tmpl) {
    return sw_of(tx(concat(Bytes{0x80, ins::kStoreAccount, 0x00, 0x00, static_cast<std::uint8_t>(tmpl.size())}, tmpl)));
  }
};

TEST_F(AppletRig, StoreListSwitchDelete) {
  EXPECT_EQ(sw_of(tx("803C000000")), 0x6A88);  // nothing active yet
  EXPECT_EQ(store(encode_account(account(1))), 0x9000);
  EXPECT_EQ(store(encode_account(account(2))), 0x9000);
  EXPECT_EQ(store(encode_account(account(3))), 0x6A84);  // capacity 2
  Bytes list = tx("801E000000");
  ASSERT_EQ(sw_of(list), 0x9000);
  auto entries = tlv::parse_all(ByteView(list).first(list.size() - 2));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].tag, tag::kListEntry);
  EXPECT_FALSE(tlv::find(entries[0].value, tag::kKi));
  EXPECT_FALSE(tlv::find(entries[0].value, tag::kOpc));
  // Neither key appears anywhere in the answer.
  EXPECT_EQ(to_hex(list).find(to_hex(Bytes(16, 0xA1))), std::string::npos);
  EXPECT_EQ(to_hex(list).find(to_hex(Bytes(16, 0xB1))), std::string::npos);
  EXPECT_EQ(sw_of(tx("803A090000")), 0x6A88);  // no account 9
  Bytes sw = tx("803A020000");
  ASSERT_EQ(sw[0], 0x91);  // switched: the REFRESH waits
  Bytes refresh = tx(Bytes{0x80, 0x12, 0x00, 0x00, sw[1]});
  ASSERT_EQ(sw_of(refresh), 0x9000);
  Bytes tr = concat(Bytes{0x81, 0x03, refresh[4], 0x01, 0x02}, from_hex("82028281830100"));
  EXPECT_EQ(sw_of(tx(concat(Bytes{0x80, 0x14, 0x00, 0x00, static_cast<std::uint8_t>(tr.size())}, tr))), 0x9000);
  Bytes active = tx("803C000000");
  EXPECT_EQ(Bytes(active.begin(), active.end() - 2), from_hex("800102"));
  EXPECT_EQ(sw_of(tx("801C020000")), 0x6985);  // the active one cannot go
  EXPECT_EQ(store(encode_account(account(2))), 0x6985);  // nor be replaced
  EXPECT_EQ(sw_of(tx("801C010000")), 0x9000);
  EXPECT_EQ(sw_of(tx("801C010000")), 0x6A88);
  EXPECT_EQ(card->accounts().accounts.size(), 1u);
}

TEST_F(AppletRig, BadTemplatesAndClasses) {
  Account a = account(1);
  Bytes no_ki = encode_account(a);
  // Drop the Ki object: the template is refused.
  Bytes body;
  for (const auto& d : tlv::parse_all(tlv::parse_one(no_ki).value))
    if (d.tag != tag::kKi) append(body, d.raw);
  EXPECT_EQ(store(tlv::make(tag::kAccountTemplate, body)), 0x6A80);
  Bytes short_ki = concat(tlv::make(tag::kId, Bytes{1}), tlv::make(tag::kImsi, a.imsi), tlv::make(tag::kKi, Bytes(15, 1)),
                          tlv::make(tag::kOpc, a.opc));
  EXPECT_EQ(store(tlv::make(tag::kAccountTemplate, short_ki)), 0x6A80);
  EXPECT_EQ(store(concat(encode_account(a), Bytes{0x00})), 0x6A80);  // bytes after the template
  EXPECT_TRUE(card->accounts().accounts.empty());
  EXPECT_EQ(sw_of(tx("001E000000")), 0x6E00);  // interindustry class
  EXPECT_EQ(sw_of(tx("8040000000")), 0x6D00);  // unknown instruction
}

}  // namespace
}  // namespace rsp::masim
