// Internal state of rsp::sim::Euicc, shared by its source files:
//   euicc.cpp          the ISD-R on the UICC platform layer (STORE DATA)
//   state.cpp          persistent state (JSON)
//   es10.cpp           ES10a/b/c functions
//   bpp.cpp            LoadBoundProfilePackage (SCP03t) and installation
//   profile_package.cpp  profile package -> the profile's UICC (rsp::uicc)
//   uicc_fs.cpp        UICC side: the commands of rsp::uicc::Card on the
//                      enabled profile, after the command hook
#pragma once
#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "rsp/apdu.hpp"
#include "rsp/bytes.hpp"
#include "rsp/certs.hpp"
#include "rsp/crypto.hpp"
#include "rsp/scp03t.hpp"
#include "rsp/sim/euicc.hpp"
#include "rsp/uicc/card.hpp"
#include "rsp/uicc/profile_package.hpp"
#include "rsp/uicc/uicc.hpp"

namespace rsp::sim {

// ---- persistent state ------------------------------------------------------

struct Profile {
  std::string iccid;                 // digits
  Bytes isdp_aid;
  bool enabled = false;
  std::string nickname, service_provider_name, profile_name;
  int profile_class = 2;
  Bytes store_metadata_der;          // BF25 as received (icon, owner, notification config, PPRs)
  Bytes dp_proprietary_der;          // B8 from ConfigureISDP, if any
  std::string smdp_address;          // where the install notification went
  Bytes usim_aid;
  Bytes package;                     // the profile elements as installed (secret: keys, PINs)
  // The UICC built from `package` (file system, PINs, AKA parameters), with
  // the changes made since (UPDATE, PIN counters), which state.cpp keeps.
  std::shared_ptr<uicc::CardImage> image;
  std::vector<Bytes> aka_parameters;  // PE-AKAParameter DER (secret), for the Milenage hook
};

struct Notification {
  long seq = 0;
  NotificationSummary::Op op = NotificationSummary::Op::Install;
  std::string address;
  std::string iccid;
  Bytes pending_der;                 // the PendingNotification as RetrieveNotificationsList returns it
};

struct State {
  std::vector<Profile> profiles;
  std::vector<Notification> notifications;
  long next_seq = 1;
  unsigned next_isdp = 0x10;      // ISD-P AIDs A0000005591010FFFFFFFF890000<nn>00
  std::optional<std::string> default_dp_address;
  Bytes rat_der;                     // RulesAuthorisationTable (SEQUENCE OF ...), may be empty
  std::vector<Bytes> crls;           // CRLs loaded with ES10b.LoadCRL (DER), one per issuer

  static State load(const std::string& path);  // missing file: empty state
  void save(const std::string& path) const;    // atomic (tmp + rename); no-op for ""
};

// ---- volatile state --------------------------------------------------------

// The RSP session (SGP.22 3.1.3), one per eUICC.
struct RspSession {
  Bytes euicc_challenge;              // issued by GetEuiccChallenge
  // After AuthenticateServer:
  bool authenticated = false;
  Bytes transaction_id;
  std::string server_address;
  Bytes server_challenge;
  crypto::Curve curve = crypto::Curve::P256;
  Bytes ci_pkid;
  std::string smdp_oid_auth;          // subjectAltName registeredID of CERT.DPauth (dotted), if any
  Bytes euicc_signature1;
  // After PrepareDownload:
  bool prepared = false;
  std::unique_ptr<crypto::EcKey> otsk;
  Bytes euicc_otpk;
  Bytes smdp_signature2;
  std::string smdp_oid_pb;            // ... of CERT.DPpb
  std::unique_ptr<crypto::EcKey> dppb_key;
  // LoadBoundProfilePackage progress (SGP.22 2.5.5 segments):
  enum class Bpp { Idle, SecureChannel, Configure, Metadata, Replace, ReplaceDone, Profile, Done } bpp = Bpp::Idle;
  std::unique_ptr<scp03t::Channel> channel;
  std::size_t remaining_in_sequence = 0;  // bytes still expected in the current A0..A3 sequence
  Bytes configure_isdp, store_metadata, replace_keys;
  Bytes profile_plain;                // decrypted profile elements so far
  std::size_t bpp_outer_remaining = 0;  // bytes of BF36 not yet seen
};

struct Euicc::Impl {
  explicit Impl(EuiccConfig c);

  EuiccConfig cfg;
  crypto::EcKey sk_euicc;
  certs::Certificate euicc_cert;
  std::vector<certs::Certificate> cis;
  Bytes eid;
  Bytes atr;
  State state;
  RspSession session;
  UiccCommandHook hook;
  // The card's platform layer (logical channels, GET RESPONSE, the ISD-R
  // as an application, CAT commands) over the enabled profile's file
  // system, or over `no_profile` (an MF alone) when none is enabled.
  std::unique_ptr<uicc::CardImage> no_profile;
  std::unique_ptr<uicc::Uicc> platform;
  mutable std::mutex mu;

  std::time_t now() const { return cfg.now ? cfg.now() : std::time(nullptr); }
  void save();  // throws (after on_state_write_error) when the state file cannot be written
  void reset_volatile();

  // euicc.cpp: the platform with the ISD-R applet and uicc_hook.
  void make_platform();

  // es10.cpp: one reassembled ES10 command in, its response out. An empty
  // return means "no data, 9000" (intermediate BPP segments).
  Bytes es10(ByteView request);
  Bytes get_euicc_info1();
  Bytes euicc_info2_der();  // EUICCInfo2 (BF22)
  Bytes authenticate_server(ByteView req);
  Bytes prepare_download(ByteView req);
  Bytes get_profiles_info(ByteView req);
  Bytes enable_profile(ByteView req);
  Bytes disable_profile(ByteView req);
  Bytes delete_profile(ByteView req);
  Bytes set_nickname(ByteView req);
  Bytes list_notification(ByteView req);
  Bytes retrieve_notifications(ByteView req);
  Bytes notification_sent(ByteView req);
  Bytes get_eid(ByteView req);
  Bytes memory_reset(ByteView req);
  Bytes configured_addresses(ByteView req);
  Bytes set_default_dp(ByteView req);
  Bytes get_rat(ByteView req);
  Bytes cancel_session(ByteView req);
  Bytes get_challenge(ByteView req);
  // crl.cpp: ES10b.LoadCRL and the loaded CRLs the chain checks use.
  Bytes load_crl(ByteView req);
  void restore_crls();                    // state.crls -> crls, at start
  certs::ChainOptions chain_options() const;
  certs::CrlSet crls;
  Profile* find_profile(ByteView iccid_coded, ByteView aid);
  // policy.cpp: why StoreMetadata's PPRs may not be installed (the RAT does
  // not allow them for the profile owner), or nullopt.
  std::optional<std::string> ppr_refusal(ByteView store_metadata_der) const;
  void add_other_notification(NotificationSummary::Op op, const Profile& p);
  Bytes sign(ByteView data) const { return sk_euicc.sign(data); }

  // bpp.cpp: one BPP segment (SGP.22 2.5.5); returns the response (empty: 9000)
  Bytes bpp_segment(ByteView seg);
  Bytes bpp_fail(int bpp_command_id, int reason);
  Bytes bpp_finish();
  Bytes make_pir(const Bytes& aid, bool ok, int cmd_id, int reason, long seq, const std::string& iccid);

  // profile_package.cpp: decode PEs into a profile's files; throws on error
  // Returns the ProfileHeader's iccid octets as coded.
  Bytes install_profile_package(ByteView pes, Profile& p);

  // uicc_fs.cpp
  const Profile* enabled_profile() const;
  Profile* enabled_profile();
  // The platform's command hook on a channel's file-system selection: the
  // user's UiccCommandHook (e.g. Milenage AUTHENTICATE), STORE DATA where
  // the ISD-R is not selected, and the answers when no profile is enabled;
  // nullopt leaves the command to the card core.
  std::optional<apdu::Response> uicc_hook(const apdu::Command& c, uicc::Selection& sel);
  // A new file system (profile enabled, disabled, deleted): the platform
  // switches to it; selections and PIN verification start over (TS 102 221
  // REFRESH / UICC reset).
  void uicc_refresh();
};

// Helpers shared by the source files.
Bytes default_atr();
// ICCID as coded in EF.ICCID / the ES10 Iccid type (10 bytes, swapped
// nibbles) <-> its digits (lossless: odd nibbles show as hex letters).
std::string iccid_digits(ByteView bcd);
Bytes iccid_bcd(std::string_view digits);
// profilePolicyRules bits set in a profile's metadata (policy.cpp).
std::vector<unsigned> profile_policy_rules(const Profile& p);

}  // namespace rsp::sim
