// Status words of the card manager and what they mean in GlobalPlatform
// terms (GP 2.3.1 11.1.3 and each command's section in chapter 11).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace rsp::gp::sw {

inline constexpr std::uint16_t kOk = 0x9000;
inline constexpr std::uint16_t kMoreData = 0x6310;            // GET STATUS: more data (11.4.3)
inline constexpr std::uint16_t kAuthFailed = 0x6300;          // EXTERNAL AUTHENTICATE (11.8.3)
inline constexpr std::uint16_t kWrongLength = 0x6700;
inline constexpr std::uint16_t kSecurityNotSatisfied = 0x6982;
inline constexpr std::uint16_t kAuthMethodBlocked = 0x6983;
inline constexpr std::uint16_t kRefDataNotUsable = 0x6984;
inline constexpr std::uint16_t kConditionsNotSatisfied = 0x6985;
inline constexpr std::uint16_t kSelectFailed = 0x6999;        // Java Card: applet selection failed
inline constexpr std::uint16_t kWrongData = 0x6A80;
inline constexpr std::uint16_t kFunctionNotSupported = 0x6A81;
inline constexpr std::uint16_t kNotFound = 0x6A82;
inline constexpr std::uint16_t kNotEnoughMemory = 0x6A84;
inline constexpr std::uint16_t kIncorrectP1P2 = 0x6A86;
inline constexpr std::uint16_t kRefDataNotFound = 0x6A88;
inline constexpr std::uint16_t kInsNotSupported = 0x6D00;
inline constexpr std::uint16_t kClaNotSupported = 0x6E00;
inline constexpr std::uint16_t kNoPreciseDiagnosis = 0x6F00;

// "6982 security status not satisfied", for people and for --json "meaning".
std::string_view meaning(std::uint16_t sw);
std::string describe(std::uint16_t sw);  // "6982 (security status not satisfied)"

}  // namespace rsp::gp::sw
