// rsp::uicc::Uicc: a whole UICC as a terminal sees it, built on the card
// core (rsp::uicc::Card over a CardImage):
//
// - the ATR and the transport rules it announces (T=1, see uicc_atr());
// - logical channels (MANAGE CHANNEL, TS 102 221 11.1.17; channel in CLA,
//   10.1.1), each with its own selection and pending response data;
// - GET RESPONSE (11.1.13) for answers longer than Le ('61 xx');
// - selectable applications (Applet) besides the file-system ADFs;
// - TERMINAL PROFILE (11.2.1) kept, ENVELOPE (11.2.2) dispatched by its
//   BER-TLV tag (D1 SMS-PP download, ...) to a registered handler;
// - the proactive session (14.7): '91 xx', FETCH, TERMINAL RESPONSE;
// - command hooks tried before the card core (e.g. USIM AUTHENTICATE with
//   Milenage for the keys the card's owner holds).
//
// Not thread-safe by itself: one terminal drives one card (the transports
// call transmit() from one thread).
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "rsp/apdu.hpp"
#include "rsp/uicc/applet.hpp"
#include "rsp/uicc/card.hpp"
#include "rsp/uicc/proactive.hpp"

namespace rsp::uicc {

// T=1 (and T=15 global interface bytes), the card's choice: a case-4
// command (with Le) answers its data in the same exchange with '90 00' (or
// '91 xx'); '61 xx' when the data are longer than Le or the command had no
// Le (case 3: ENVELOPE, SELECT without Le); '6C xx' for a wrong Le on READ
// BINARY/RECORD and FETCH.
Bytes uicc_atr();

class Uicc : public apdu::Transport {
 public:
  static constexpr std::size_t kMaxChannels = 20;  // basic + 19 (TS 102 221 10.1.1 extended CLA)

  struct Options {
    int extra_channels = 3;  // logical channels besides the basic one (1..19)
    Bytes atr = uicc_atr();
  };
  // A command hook: an answer, or nullopt to let the next hook / the card
  // core process the command. `sel` is the channel's file-system selection.
  using CommandHook = std::function<std::optional<apdu::Response>(const apdu::Command&, Selection& sel)>;
  // An ENVELOPE handler gets the whole data field (tag included).
  using EnvelopeHandler = std::function<apdu::Response(ByteView envelope_data)>;

  Uicc(CardImage& image, Options options);
  explicit Uicc(CardImage& image) : Uicc(image, Options{}) {}

  // Another file system behind the same platform (an eUICC enabling or
  // disabling a profile, SGP.22 3.2.1/3.2.2): every channel's file-system
  // selection starts over at the MF and verified PINs are forgotten, as
  // after the REFRESH that follows a profile change; applets stay selected
  // (the LPA's ISD-R channel lives on).
  void set_image(CardImage& image);

  void add_applet(std::shared_ptr<Applet> applet);
  void add_command_hook(CommandHook hook);
  void set_envelope_handler(std::uint8_t tag, EnvelopeHandler handler);
  // Called after every reset (the card's volatile state is gone).
  void on_reset(std::function<void()> f);

  // apdu::Transport
  Bytes transmit(ByteView command_apdu) override;
  Bytes reset() override;

  // One parsed command on the channel its CLA names.
  apdu::Response process(const apdu::Command& c);
  // A command on the file system outside any channel (hooks, then the card
  // core), e.g. for an RFM application with its own selection.
  apdu::Response process_file_system(const apdu::Command& c, Selection& sel);

  ProactiveSession& proactive() { return proactive_; }
  const Bytes& terminal_profile() const { return terminal_profile_; }
  CardImage& image() { return *image_; }
  SecurityStatus& security() { return security_; }
  Card& card() { return *card_; }
  // The file-system selection of an open channel (nullptr when closed).
  Selection* selection(std::uint8_t channel);

 private:
  struct Channel {
    bool open = false;
    Selection sel;
    Applet* applet = nullptr;  // selected applet, if any
    Bytes pending_response;    // for GET RESPONSE
  };

  apdu::Response dispatch(const apdu::Command& c, std::uint8_t n, Channel& ch);
  apdu::Response manage_channel(const apdu::Command& c);
  apdu::Response select(const apdu::Command& c, std::uint8_t n, Channel& ch);
  apdu::Response envelope(const apdu::Command& c);
  apdu::Response deliver(Channel& ch, apdu::Response r, std::optional<std::size_t> le);
  apdu::Response get_response(const apdu::Command& c, Channel& ch);
  void deselect(std::uint8_t n, Channel& ch);
  void close(std::uint8_t n);

  CardImage* image_;
  Options options_;
  SecurityStatus security_;
  std::optional<Card> card_;  // over *image_ (re-made by set_image)
  std::array<Channel, kMaxChannels> channels_{};
  std::vector<std::shared_ptr<Applet>> applets_;
  std::vector<CommandHook> hooks_;
  std::map<std::uint8_t, EnvelopeHandler> envelope_handlers_;
  std::vector<std::function<void()>> reset_listeners_;
  ProactiveSession proactive_;
  Bytes terminal_profile_;
};

}  // namespace rsp::uicc
