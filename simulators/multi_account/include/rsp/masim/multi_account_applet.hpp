// The multi-account applet (docs/multi-account-applet.md): our own
// application on the UICC platform, AID F0 52 53 50 4D 41 01 (a proprietary,
// unregistered AID: ISO 7816-5 category 'F'). It keeps several accounts and
// makes one the USIM's: STORE ACCOUNT, DELETE ACCOUNT, LIST ACCOUNTS,
// SWITCH ACCOUNT, GET ACTIVE ACCOUNT. Ki and OPc go in and never out.
//
// The applet owns the account table; what an account means for the USIM
// (its files, its AUTHENTICATE keys, the REFRESH) is the card's, told
// through `on_switch`; `on_change` is where the card persists the table.
#pragma once
#include <functional>
#include <optional>
#include <vector>

#include "rsp/masim/account.hpp"
#include "rsp/uicc/applet.hpp"

namespace rsp::masim {

inline const Bytes kAppletAid = {0xF0, 0x52, 0x53, 0x50, 0x4D, 0x41, 0x01};

// Instructions (CLA 80..83 / C0..CF, proprietary class, ISO 7816-4 5.4.1).
namespace ins {
inline constexpr std::uint8_t kStoreAccount = 0x1A, kDeleteAccount = 0x1C, kListAccounts = 0x1E,
                              kSwitchAccount = 0x3A, kGetActive = 0x3C;
}  // namespace ins

struct AccountTable {
  std::vector<Account> accounts;
  std::optional<std::uint8_t> active;
  const Account* find(std::uint8_t id) const;
};

class MultiAccountApplet : public uicc::Applet {
 public:
  static constexpr std::size_t kDefaultCapacity = 8;

  struct Hooks {
    std::function<void()> on_change;                    // the table changed: persist it
    std::function<void(const Account&)> on_switch;      // make this account the USIM's
  };

  MultiAccountApplet(AccountTable& table, Hooks hooks, std::size_t capacity = kDefaultCapacity)
      : table_(table), hooks_(std::move(hooks)), capacity_(capacity) {}

  const Bytes& aid() const override { return kAppletAid; }
  apdu::Response select(std::uint8_t channel) override;
  apdu::Response process(const apdu::Command& c, std::uint8_t channel) override;

 private:
  apdu::Response store(const apdu::Command& c);
  apdu::Response remove(const apdu::Command& c);
  apdu::Response list(const apdu::Command& c) const;
  apdu::Response switch_to(const apdu::Command& c);
  apdu::Response get_active(const apdu::Command& c) const;

  AccountTable& table_;
  Hooks hooks_;
  std::size_t capacity_;
};

}  // namespace rsp::masim
