// The multi-account applet's commands (docs/multi-account-applet.md).
#include "rsp/masim/multi_account_applet.hpp"

#include <algorithm>

#include "rsp/log.hpp"
#include "rsp/tlv.hpp"

namespace rsp::masim {
namespace {

constexpr const char* kLog = "masim-applet";
namespace sw = apdu::sw;
constexpr std::uint16_t kNotEnoughMemory = 0x6A84;  // ISO 7816-4: not enough memory space in the file

apdu::Response sw_only(std::uint16_t s) { return apdu::Response{{}, s}; }

}  // namespace

const Account* AccountTable::find(std::uint8_t id) const {
  for (const auto& a : accounts)
    if (a.id == id) return &a;
  return nullptr;
}

apdu::Response MultiAccountApplet::select(std::uint8_t /*channel*/) {
  // FCI (ISO 7816-4 5.3.3): 6F { 84 AID, A5 { 80 capacity, 81 accounts stored } }.
  Bytes prop = concat(tlv::make(0x80, Bytes{static_cast<std::uint8_t>(capacity_)}),
                      tlv::make(0x81, Bytes{static_cast<std::uint8_t>(table_.accounts.size())}));
  return {tlv::make(0x6F, concat(tlv::make(0x84, kAppletAid), tlv::make(0xA5, prop))), sw::kOk};
}

apdu::Response MultiAccountApplet::process(const apdu::Command& c, std::uint8_t /*channel*/) {
  // Proprietary class only: 80..83 (channels 0-3) or C0..CF (4-19), no
  // secure messaging (the OTA packet around it is the protection).
  bool proprietary = (c.cla & 0x80) && ((c.cla & 0x40) ? (c.cla & 0x30) == 0 : (c.cla & 0x3C) == 0);
  if (!proprietary) return sw_only(sw::kClaNotSupported);
  switch (c.ins) {
    case ins::kStoreAccount: return store(c);
    case ins::kDeleteAccount: return remove(c);
    case ins::kListAccounts: return list(c);
    case ins::kSwitchAccount: return switch_to(c);
    case ins::kGetActive: return get_active(c);
    default: return sw_only(sw::kInsNotSupported);
  }
}

// 80 1A 00 00 Lc A0 {...}: a new account, or replaces the one with its id
// unless that one is active (switch away first).
apdu::Response MultiAccountApplet::store(const apdu::Command& c) {
  if (c.p1 || c.p2) return sw_only(sw::kIncorrectP1P2);
  Account a;
  try {
    a = decode_account(c.data);
  } catch (const DecodeError& e) {
    log::info(kLog, std::string("STORE ACCOUNT refused: ") + e.what());
    return sw_only(sw::kWrongData);
  }
  auto it = std::find_if(table_.accounts.begin(), table_.accounts.end(), [&](const Account& x) { return x.id == a.id; });
  if (it != table_.accounts.end()) {
    if (table_.active == a.id) return sw_only(sw::kConditionsNotSatisfied);
    *it = std::move(a);
  } else {
    if (table_.accounts.size() >= capacity_) return sw_only(kNotEnoughMemory);
    table_.accounts.push_back(std::move(a));
  }
  log::info(kLog, "account " + std::to_string(table_.accounts.back().id) + " stored");
  if (hooks_.on_change) hooks_.on_change();
  return sw_only(sw::kOk);
}

// 80 1C id 00: the active account cannot be deleted.
apdu::Response MultiAccountApplet::remove(const apdu::Command& c) {
  if (c.p2 || !c.data.empty()) return sw_only(c.p2 ? sw::kIncorrectP1P2 : sw::kWrongLength);
  auto it = std::find_if(table_.accounts.begin(), table_.accounts.end(), [&](const Account& x) { return x.id == c.p1; });
  if (it == table_.accounts.end()) return sw_only(sw::kRefDataNotFound);
  if (table_.active == c.p1) return sw_only(sw::kConditionsNotSatisfied);
  table_.accounts.erase(it);
  if (hooks_.on_change) hooks_.on_change();
  return sw_only(sw::kOk);
}

// 80 1E 00 00 [Le]: A1 {80 id, 81 IMSI, [86 HPLMN], [89 SPN], [8A label], 8B active} per account.
apdu::Response MultiAccountApplet::list(const apdu::Command& c) const {
  if (c.p1 || c.p2) return sw_only(sw::kIncorrectP1P2);
  Bytes out;
  for (const auto& a : table_.accounts) append(out, encode_list_entry(a, table_.active == a.id));
  return {std::move(out), sw::kOk};
}

// 80 3A id 00: the account becomes the USIM's (files, keys, REFRESH).
apdu::Response MultiAccountApplet::switch_to(const apdu::Command& c) {
  if (c.p2) return sw_only(sw::kIncorrectP1P2);
  if (!c.data.empty()) return sw_only(sw::kWrongLength);
  const Account* a = table_.find(c.p1);
  if (!a) return sw_only(sw::kRefDataNotFound);
  table_.active = a->id;
  if (hooks_.on_switch) hooks_.on_switch(*a);
  if (hooks_.on_change) hooks_.on_change();
  log::info(kLog, "switched to account " + std::to_string(a->id));
  return sw_only(sw::kOk);
}

// 80 3C 00 00 [Le]: 80 id, or '6A 88' when none is active.
apdu::Response MultiAccountApplet::get_active(const apdu::Command& c) const {
  if (c.p1 || c.p2) return sw_only(sw::kIncorrectP1P2);
  if (!table_.active) return sw_only(sw::kRefDataNotFound);
  return {tlv::make(tag::kId, Bytes{*table_.active}), sw::kOk};
}

}  // namespace rsp::masim
