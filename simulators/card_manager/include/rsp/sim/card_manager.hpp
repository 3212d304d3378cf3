// A simulated GlobalPlatform card manager: the Issuer Security Domain of GP
// Card Specification 2.3.1 (chapter 9 card management, chapter 11 commands)
// with SCP02 (Annex E) and SCP03 (Amendment D) secure channels, its registry
// (load files and modules, applications, security domains, life cycles,
// privileges; GP 2.3.1 5.1 / 6.6) and its key sets.
//
// It executes no Java Card bytecode: LOAD checks the load file's structure
// (component order and lengths, JCVM 6.2) and records the package; INSTALL of
// a module whose AID has a registered native implementation instantiates it
// (e.g. the multi-account applet), any other module an inert application that
// answers SELECT and nothing else (6D00).
//
// process() is the whole card side: the UICC platform mounts it as an applet
// and as the RAM application (masim, docs/multi-account-applet.md);
// transmit()/reset() make it an apdu::Transport for the TCP, stdio and vpcd
// links.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rsp/apdu.hpp"
#include "rsp/bytes.hpp"
#include "rsp/gp/dap.hpp"
#include "rsp/gp/secure_channel.hpp"

namespace rsp::sim::gp {

// An application instance on the card.
class Applet {
 public:
  virtual ~Applet() = default;
  // Commands after SELECT of this application (SELECT itself is the card manager's).
  virtual apdu::Response process(const apdu::Command& c) = 0;
};
// Makes an instance of a module: (application AID, application specific install parameters C9).
using AppletFactory = std::function<std::unique_ptr<Applet>(ByteView application_aid, ByteView install_params)>;

// One registry entry (GP 2.3.1 5.1 "GlobalPlatform Registry").
struct RegistryEntry {
  enum class Kind { Isd, SecurityDomain, Application, LoadFile };
  Kind kind = Kind::Application;
  Bytes aid;
  std::uint8_t life_cycle = 0;
  Bytes privileges = Bytes(3, 0);
  Bytes load_file_aid, module_aid;  // applications and SDs: where they come from
  Bytes associated_sd;
  Bytes version;                    // load files: package major, minor
  std::vector<Bytes> modules;       // load files: applet AIDs
  std::vector<Bytes> imports;       // load files: imported package AIDs
  Bytes install_params;             // applications: C9 parameters
};

// A key set (GP 2.3.1 7.5 / 10.4): SCP02 (DES, type 80) or SCP03 (AES, type 88).
struct KeySet {
  std::uint8_t version = 0;
  std::uint8_t scp = 3;
  rsp::gp::StaticKeys keys;
  // Amd D 6.2.2.1: SCP03 pseudo-random challenges count per key set, from
  // zero when the key set is created or replaced.
  std::uint32_t sequence_counter = 0;
};

// The DAP key of a security domain with the DAP Verification or Mandated DAP
// Verification privilege (GP 2.3.1 9.2.1; the SD itself is a registry entry,
// e.g. in platform_content): an ECDSA P-256 public key, 04 || X || Y
// (rsp/gp/dap.hpp says which scheme).
struct DapKey {
  Bytes sd_aid;
  Bytes public_point;
};

struct CardManagerConfig {
  Bytes isd_aid = from_hex("A000000151000000");
  // Key sets; empty gives the GP test keys 40..4F as SCP03 KVN 30 and SCP02 KVN 20.
  std::vector<KeySet> key_sets;
  std::uint8_t default_key_version = 0x30;  // INITIALIZE UPDATE with P1 00
  std::uint8_t scp03_i = 0x70;              // Amd D: pseudo-random challenge, R-MAC, R-ENC
  std::uint8_t scp02_i = 0x15;
  unsigned max_auth_failures = 3;           // then INITIALIZE UPDATE answers 6983
  std::string state_file;                   // registry and keys survive restarts when set
  // What the card holds from manufacture besides the ISD (GP 2.3.1 5.1:
  // executable load files in ROM and the applications the platform made
  // from them), e.g. the UICC's own applets; ignored when a state file exists.
  std::vector<RegistryEntry> platform_content;
  // Highest javacard.framework version the "platform" offers (1.5 = Java Card 3.0.4);
  // load files that import a newer API are refused with 6A80.
  std::uint8_t javacard_api_major = 1, javacard_api_minor = 5;
  std::vector<DapKey> dap_keys;
};

class CardManager : public apdu::Transport {
 public:
  explicit CardManager(CardManagerConfig cfg = {});
  ~CardManager() override;

  // Where a command comes from. Interface: the contact interface (or a
  // link standing for it): card content management needs the SCP02/SCP03
  // session (GP 2.3.1 9.1). RemoteManagement: a command of a TS 102 226
  // RAM script that the OTA receiving entity has already checked against
  // the ISD TAR's minimum security level (TS 102 226 8.1: the SCP80
  // security replaces the secure channel); it goes to the ISD whatever is
  // selected, without secure messaging, and leaves the contact session alone.
  // The card decides the origin per call; nothing an APDU carries can.
  enum class Origin { Interface, RemoteManagement };

  apdu::Response process(const apdu::Command& c, Origin origin = Origin::Interface);
  Bytes transmit(ByteView command_apdu) override;
  Bytes reset() override;  // ATR; closes the session, selects the ISD

  void register_native(ByteView module_aid, AppletFactory factory);

  const std::vector<RegistryEntry>& registry() const { return registry_; }
  const RegistryEntry* find(ByteView aid) const;
  std::uint8_t card_life_cycle() const;
  unsigned auth_failures() const { return auth_failures_; }
  bool session_open() const { return channel_ != nullptr; }
  const std::vector<KeySet>& key_sets() const { return key_sets_; }

 private:
  struct PendingAuth;
  struct PendingLoad {
    Bytes load_file_aid, sd_aid;
    Bytes hash;  // Load File Data Block Hash of INSTALL [for load], if any
    Bytes data;
    std::size_t next_block = 0;
  };
  apdu::Response dispatch(const apdu::Command& c, Origin origin);
  apdu::Response select(const apdu::Command& c);
  apdu::Response initialize_update(const apdu::Command& c);
  apdu::Response external_authenticate(const apdu::Command& c);
  apdu::Response get_status(const apdu::Command& c);
  apdu::Response get_data(const apdu::Command& c);
  apdu::Response install(const apdu::Command& c);
  apdu::Response load(const apdu::Command& c);
  std::optional<std::string> dap_refusal(const PendingLoad& pl, ByteView lfdb, const std::vector<rsp::gp::DapBlock>& daps) const;
  apdu::Response delete_object(const apdu::Command& c);
  apdu::Response put_key(const apdu::Command& c, bool remote);
  apdu::Response set_status(const apdu::Command& c);
  apdu::Response store_data(const apdu::Command& c);
  Bytes card_recognition_data() const;
  RegistryEntry* find_mut(ByteView aid);
  void instantiate(const RegistryEntry& e);
  void save() const;
  void load_state();

  CardManagerConfig cfg_;
  std::vector<RegistryEntry> registry_;
  std::vector<KeySet> key_sets_;
  std::map<Bytes, AppletFactory> natives_;
  std::map<Bytes, std::unique_ptr<Applet>> instances_;
  std::unique_ptr<rsp::gp::SecureChannel> channel_;
  std::unique_ptr<PendingAuth> pending_auth_;
  std::optional<PendingLoad> pending_load_;
  Bytes selected_;        // AID of the selected application; empty = the ISD
  Bytes personalizing_;   // INSTALL [for personalization] target
  Bytes store_data_;      // what STORE DATA gave the ISD
  unsigned auth_failures_ = 0;
  std::uint16_t scp02_counter_ = 0;  // GP 2.3.1 E.4.1 sequence counter
  std::size_t status_cursor_ = 0;    // GET STATUS "next occurrence"
};

}  // namespace rsp::sim::gp
