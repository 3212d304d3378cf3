// The OTA side of the marketplace on one machine (issue 10), next to
// LocalStack: the home operator's OTA server (otad::Daemon in this process,
// its operator API over HTTPS with mutual TLS on a loopback ephemeral port,
// its own test CA), the simulated SMSC (SMPP 3.4 on loopback), the
// subscriber's simulated handset and its multi-account SIM. The card is
// reached through a CardLink: the masim simulator in this process, or a real
// PC/SC reader (pcscd + vpcd with `masim --vpcd` as its own process). The
// card is registered in otad with its OTA key set (AES KIc/KID) and the
// multi-account applet's TAR 4D4153 with its MSL. With transport "scp81"
// otad also listens for the card's admin sessions (PSK-TLS, GlobalPlatform
// Amendment B) on a loopback ephemeral port, and the card is registered with
// its SCP81 PSK and the ISD's TAR 000000 (the push SMS's target).
#pragma once
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "rsp/agents/otad_client.hpp"
#include "rsp/apdu.hpp"
#include "rsp/masim/masim.hpp"
#include "rsp/otad/daemon.hpp"
#include "rsp/sim/handset.hpp"
#include "rsp/sim/smsc.hpp"

namespace rsp::agents {

struct OtaStackOptions {
  std::filesystem::path dir;  // scratch folder (created): otad.db
  std::string iccid = "8988211000000000016";  // the card's (masim's default)
  std::string msisdn = "447700900123";
  std::uint8_t key_version = 1;
  SecretBytes kic, kid;  // AES-128 each; empty: fresh random keys (in-process card only)
  // The key set's counter as otad registers it (the last one used): a card
  // that earlier OTA servers already sent packets to needs one at least as
  // high (TS 102 225 5.1.1: "process if higher", else PoR 02).
  std::uint64_t counter = 0;
  std::uint8_t applet_msl = 0x16;  // CC, ciphered, counter "process if higher" (as masim's default)
  // Empty: the card is masim in this process. Else the PC/SC reader's name
  // ("Virtual PCD 00 00"); the card there must hold `kic`/`kid`.
  std::string pcsc_reader;
  std::string transport = "sms";  // what the home agent asks otad for: "sms" or "scp81"
  // SCP81 (transport "scp81"): the card's PSK-TLS identity and PSK (16
  // bytes; empty: a fresh random one, in-process card only) and the PSK's
  // key version / id in the ISD's key set (Amendment B 3.8).
  std::string scp81_psk_identity = "masim-8988211000000000016";
  SecretBytes scp81_psk;
  std::uint8_t scp81_key_version = 0x40, scp81_key_id = 0x01;
};

// A masim --keys file (the card's key sets): the first AES key set, and
// its "scp81" object when there is one.
void load_masim_keys(const std::filesystem::path& keys_json, OtaStackOptions& o);

class OtaStack {
 public:
  explicit OtaStack(OtaStackOptions o);
  ~OtaStack();

  // The card as the handset and the network's attach see it (one link, its
  // APDUs serialised: the SMSC's thread and the caller's share it).
  apdu::Transport& card();
  // The in-process simulator; nullptr through PC/SC.
  masim::MultiAccountSim* simulated_card() { return sim_.get(); }
  OtadClient& otad_client() { return *client_; }
  otad::Daemon& otad() { return *daemon_; }
  sim::Smsc& smsc() { return *smsc_; }
  sim::Handset& handset() { return *handset_; }
  const OtaStackOptions& options() const { return o_; }
  std::string otad_url() const;
  // The key set's counter in otad now (GET /ota/v1/cards/{iccid}).
  std::uint64_t counter() const;
  // Waits (bounded) until the handset has performed `n` REFRESH commands in
  // all. Over SCP81 the switch queues its REFRESH outside any terminal
  // command, so the handset polls (STATUS, TS 102 221 14.6.1) meanwhile.
  bool wait_refreshes(std::uint64_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // A client of otad's API with the home operator's certificate.
  http::ClientConfig client_tls() const { return client_tls_; }

 private:
  class LockedCard;
  OtaStackOptions o_;
  http::ClientConfig client_tls_;
  std::unique_ptr<masim::MultiAccountSim> sim_;
  std::unique_ptr<apdu::Transport> reader_;
  std::unique_ptr<LockedCard> link_;
  std::unique_ptr<sim::Smsc> smsc_;
  std::unique_ptr<sim::Handset> handset_;
  std::unique_ptr<otad::Daemon> daemon_;
  std::unique_ptr<OtadClient> client_;
};

}  // namespace rsp::agents
