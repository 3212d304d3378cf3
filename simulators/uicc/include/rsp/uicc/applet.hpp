// A selectable application of the UICC platform that is not a file-system
// ADF: it is reached by SELECT by DF name (AID, ISO 7816-4 7.1.1 / TS 102 221
// 11.1.1 P1 = 04) and then receives the commands of the logical channel it is
// selected on, as a Java Card applet would (GlobalPlatform Card Spec 3.4.1:
// the selected application of a logical channel processes its commands).
// The platform keeps MANAGE CHANNEL, GET RESPONSE and the CAT commands
// (TERMINAL PROFILE, ENVELOPE, FETCH, TERMINAL RESPONSE) for itself.
#pragma once
#include <cstdint>

#include "rsp/apdu.hpp"
#include "rsp/bytes.hpp"

namespace rsp::uicc {

class Applet {
 public:
  virtual ~Applet() = default;
  // Its full AID (5..16 bytes, ISO 7816-4 8.2.1.2); SELECT may give a
  // right-truncated prefix of it.
  virtual const Bytes& aid() const = 0;
  // Selected on `channel`: the SELECT response (its FCI, ISO 7816-4 5.3.3,
  // tag 6F) or an error status that refuses the selection.
  virtual apdu::Response select(std::uint8_t channel) = 0;
  // A command on a channel where it is selected.
  virtual apdu::Response process(const apdu::Command& c, std::uint8_t channel) = 0;
  // Another SELECT on that channel, the channel closed, or a card reset.
  virtual void deselect(std::uint8_t /*channel*/) {}
};

}  // namespace rsp::uicc
