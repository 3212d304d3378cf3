// rsp::masim::MultiAccountSim: the multi-account UICC of issue 10 as a
// simulated card, an apdu::Transport like the eUICC (in-process; TCP, stdio
// and vpcd through the `masim` tool):
//
// - the UICC platform (rsp::uicc::Uicc) over a default image built from the
//   Interoperable Profile templates: MF with EF.ICCID, EF.DIR, EF.PL; ADF.USIM
//   with EF.IMSI, EF.AD, EF.LOCI, EF.PSLOCI, EF.EPSLOCI, EF.SPN, EF.PLMNwAcT,
//   EF.OPLMNwAcT, EF.HPLMNwAcT, EF.EHPLMN, EF.UST, EF.EST, EF.ACC, EF.FPLMN,
//   EF.Keys, EF.KeysPS, EF.HPPLMN, EF.START-HFN, EF.THRESHOLD;
// - the multi-account applet (multi_account_applet.hpp) at its AID, an
//   instance the card manager makes from module F05253504D4101 (at start,
//   or by INSTALL when `applet_instance` is false) and DELETE removes;
// - USIM AUTHENTICATE with Milenage for the active account's Ki/OPc;
// - the card side of OTA: ENVELOPE D1 (SMS-PP download) -> ota::SmsPpHandler
//   with the card's key sets and counters; RFM (UICC file system) at TAR
//   B0 00 00 and the applet at TAR 4D 41 53; PoR as ENVELOPE response data
//   (SMS-DELIVER-REPORT) or SEND SHORT MESSAGE (SMS-SUBMIT), as the SPI asks;
// - the GlobalPlatform card manager (rsp::sim::gp::CardManager, the ISD) as
//   a selectable applet at its AID (SCP02/SCP03 as gp-card-sim) and as the
//   RAM application at the ISD's TAR 00 00 00 (TS 102 226 8), where the
//   SCP80 security replaces the secure channel;
// - the SCP81 admin agent (GlobalPlatform Amendment B): a push SMS at the
//   ISD's TAR whose secured data is the '81' triggering parameters starts
//   an admin session (rsp::admin_agent::AdminAgent, PSK-TLS) on a
//   background thread; its scripts run through the card's own APDU
//   processing on a logical channel of their own (docs/multi-account-applet.md);
// - state in a file (accounts, active one, SQNms per account, OTA counters),
//   written atomically; Ki/OPc sealed with AES-256-GCM under the state key.
#pragma once
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rsp/apdu.hpp"
#include "rsp/masim/multi_account_applet.hpp"
#include "rsp/ota/key_set.hpp"
#include "rsp/ota/receiving_entity.hpp"
#include "rsp/sim/card_manager.hpp"
#include "rsp/uicc/uicc.hpp"

namespace rsp::masim {

// TS 101 220 Annex D: B0 00 00 is RFM for the UICC file system (ADF.USIM
// reached by path 7FFF). 4D 41 53 ("MAS") is our applet's TAR, outside the
// ranges TS 101 220 reserves; docs/multi-account-applet.md.
inline constexpr ota::Tar kRfmTar{0xB0, 0x00, 0x00};
inline constexpr ota::Tar kAppletTar{0x4D, 0x41, 0x53};
// TS 101 220 Annex D: 00 00 00 is the Issuer Security Domain (RAM).
inline constexpr ota::Tar kIsdTar{0x00, 0x00, 0x00};
// The ISD's AID (GP 2.3.1 F.1 default) and the load file the multi-account
// applet comes from as the card manager's registry shows it.
inline const Bytes kIsdAid = from_hex("A000000151000000");
inline const Bytes kAppletLoadFileAid = {0xF0, 0x52, 0x53, 0x50, 0x4D, 0x41};
// ADF.USIM's AID: 3GPP RID, USIM application code, no country/provider code.
inline const Bytes kUsimAid = from_hex("A0000000871002FFFFFFFF8907090000");

// The card's SCP81 parameters (the ISD's stored administration session
// parameters and PSK, Amendment B 3.8): what a trigger leaves out comes
// from here. The agent connects over TCP from the card's process (a real
// card goes through the handset's BIP channel: not simulated).
struct MasimScp81 {
  std::string psk_identity;
  std::uint8_t key_version = 0x40;  // the PSK's KVN and key id in the ISD's key set
  std::uint8_t key_id = 0x01;
  SecretBytes psk;                  // 16 or 32 bytes
  std::string server_host = "127.0.0.1";
  std::uint16_t server_port = 0;    // 0: the trigger must give it
  std::string admin_uri = "/gp/admin";
  std::string admin_from;           // X-Admin-From; "" = //se-id/iccid/<iccid>
  std::chrono::milliseconds timeout{10'000};
};

struct MasimConfig {
  std::string iccid = "8988211000000000016";  // digits (EF.ICCID; with a profile package: only names the state)
  // A SIMalliance/TCA profile package (the PE sequence, DER), e.g. a TS.48
  // test profile: the card's image is built from it instead of the default
  // one; the first USIM is the one the accounts rewrite. Empty: the default.
  Bytes profile_package;
  std::string factory_imsi = "001010000000001";  // EF.IMSI before any account is active
  std::string state_path;                      // "" = in memory only
  SecretBytes state_key;                       // 32 bytes: seals Ki/OPc in the state file; empty: stored in clear
  std::vector<ota::KeySet> key_sets;           // the card's OTA key sets (KIc/KID per key version)
  std::uint8_t rfm_msl = 0x16;                 // TS 102 226 MSL: CC, ciphered, counter "higher"
  std::uint8_t applet_msl = 0x16;
  std::uint8_t ram_msl = 0x16;                 // the ISD TAR's MSL
  // The card manager's SCP02/SCP03 key sets; empty: the GP test keys
  // (KVN 30 AES, 20 DES). Its registry and keys go to `state_path`.isd.json.
  std::vector<sim::gp::KeySet> gp_key_sets;
  std::size_t capacity = MultiAccountApplet::kDefaultCapacity;
  int extra_channels = 3;
  // The applet's instance at first start (GP 2.3.1 5.1: what the card
  // holds from manufacture). false: only its load file F0525350 4D41 is on
  // the card (LOADED): the instance, its TAR 4D4153 and its SELECT exist
  // once an INSTALL [for install] of module F05253504D4101 made it (RAM
  // over SCP80/SCP81, or the contact ISD). Ignored when the ISD's state
  // file exists: its registry says.
  bool applet_instance = true;
  std::optional<MasimScp81> scp81;             // none: a trigger is answered but starts nothing
};

class MultiAccountSim : public apdu::Transport {
 public:
  explicit MultiAccountSim(MasimConfig cfg);
  ~MultiAccountSim() override;  // joins a running admin session's thread

  // transmit() and reset() may be called from any thread (the handset's,
  // while the admin agent's thread runs its scripts): one APDU at a time.

  Bytes transmit(ByteView command_apdu) override;
  Bytes reset() override;

  uicc::Uicc& uicc();
  const AccountTable& accounts() const;
  sim::gp::CardManager& card_manager();
  std::uint64_t ota_counter(std::uint8_t key_version) const;
  std::string dump() const;  // the file tree (rsp::uicc::dump)

  // SCP81 admin sessions: started, and ended (completed or failed).
  struct AdminSessions {
    std::size_t started = 0, completed = 0, failed = 0, refused = 0;
  };
  AdminSessions admin_sessions() const;
  // Waits until no admin session runs; false on timeout.
  bool wait_admin_idle(std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rsp::masim
