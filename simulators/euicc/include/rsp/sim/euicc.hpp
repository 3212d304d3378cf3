// A simulated SGP.22 v2.2.2 eUICC: an ISD-R (ES10a/b/c over STORE DATA) plus
// the UICC file system of the enabled profile, behind the one card interface
// (rsp::apdu::Transport), so an LPA can drive it in-process, over TCP, or
// through a PC/SC virtual reader (see rsp/sim/vpcd.hpp and euicc-sim).
//
// What it checks is what SGP.22 5.7 asks of an eUICC: CERT.DPauth / CERT.DPpb
// against the trusted CIs (rsp::certs), the SM-DP+ signatures over the bytes
// as received, challenge / transactionId binding, SCP03t MAC chaining of every
// BoundProfilePackage segment. Its state (profiles with their files,
// notifications, default SM-DP+ address, RAT) persists in a JSON file.
#pragma once
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rsp/apdu.hpp"
#include "rsp/bytes.hpp"

namespace rsp::sim {

// ISD-R AID (SGP.22 2.2.3).
inline const Bytes kIsdrAid = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF,
                               0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x01, 0x00};

struct EuiccConfig {
  Bytes euicc_cert_der;            // CERT.EUICC.ECDSA; the EID is its subject serialNumber
  Bytes euicc_key;                 // SK.EUICC.ECDSA, PEM or DER
  Bytes eum_cert_der;              // CERT.EUM.ECDSA
  std::vector<Bytes> ci_certs_der;  // trusted CIs; their SKIs form both euiccCiPKId lists
  // Where the persistent state lives (JSON, rewritten atomically on every
  // change; written once at construction, so an unwritable place is refused
  // there). Empty: in memory only.
  std::string state_path;
  // Called (with the reason) when a change could not be written to
  // state_path: the command is answered 6F00 and the file keeps the state
  // before it; the in-memory state may be ahead of the file from then on, so
  // a tool should stop (euicc-sim exits 1).
  std::function<void(const std::string&)> on_state_write_error;
  // Clock for certificate validity checks; default: std::time(nullptr).
  std::function<std::time_t()> now;
  // Values reported in EUICCInfo2 / EuiccConfiguredAddresses.
  std::string root_ds_address = "lpa.ds.gsma.com";
  std::string initial_default_dp_address;  // used only when the state has none
  Bytes firmware_version = {0x01, 0x00, 0x00};
  // Free memory reported in extCardResource (TS 102 226 8.2.1.7.2).
  std::uint32_t free_nvm = 512 * 1024;
  std::uint32_t free_ram = 16 * 1024;
  // EUICCInfo2.profileVersion: the SIMalliance/TCA profile package version
  // the eUICC installs (the TS.48 packages are 2.1 and 2.3).
  Bytes profile_version = {2, 3, 1};
  // EUICCInfo2.ppVersion: the eUICC Protection Profile version.
  Bytes pp_version = {1, 0, 0};
  // EUICCInfo2.forbiddenProfilePolicyRules (PprIds bits: 1 ppr1, 2 ppr2);
  // empty: the field is absent.
  std::vector<unsigned> forbidden_ppr;
  // Rules Authorisation Table (SGP.22 2.9.2), DER of a SEQUENCE OF
  // ProfilePolicyAuthorisationRule, set on a new state (one without a RAT);
  // empty: default_rat_der().
  Bytes rat_der;
  // Logical channels the card offers besides the basic one (1..19).
  int extra_channels = 3;

  // Reads the files named (DER or PEM for the key; DER for certificates).
  static EuiccConfig from_files(const std::string& euicc_cert, const std::string& euicc_key,
                                const std::string& eum_cert, const std::vector<std::string>& ci_certs,
                                const std::string& state_path);
};

// The RAT a new simulated eUICC gets unless configured (SGP.22 2.9.2 leaves
// its content to the eUICC's manufacturing): one rule allowing PPR1 and PPR2
// for any operator (mccMnc 'EEEEEE', every digit a wildcard), with
// consentRequired, so that the LPA asks the end user.
Bytes default_rat_der();
// A RAT of one rule: `ppr_bits` (1 ppr1, 2 ppr2) allowed for the operators
// given as 5/6-digit MCC+MNC strings ('E' is a wildcard digit), pprFlags
// consentRequired if `consent`. For tests and tools.
Bytes make_rat_der(const std::vector<unsigned>& ppr_bits, const std::vector<std::string>& mcc_mncs, bool consent);

// A profile as the eUICC holds it (read-only view, for tests and tools).
struct ProfileSummary {
  std::string iccid;  // digits
  Bytes isdp_aid;
  bool enabled = false;
  std::string nickname, service_provider_name, profile_name;
  int profile_class = 2;  // 0 test, 1 provisioning, 2 operational
  Bytes usim_aid;         // empty if the profile has no USIM
  std::vector<unsigned> ppr;  // profilePolicyRules bits set (1 ppr1, 2 ppr2)
};

struct NotificationSummary {
  long seq = 0;
  enum class Op { Install, Enable, Disable, Delete } op = Op::Install;
  std::string address;
  std::string iccid;
};

// Extension point for UICC applications (e.g. USIM AUTHENTICATE with
// Milenage, added by another module). Called for every command on a channel
// where the ISD-R is not selected, before the built-in file system commands;
// return nullopt to let the built-in handling (SELECT, READ BINARY, READ
// RECORD, STATUS, ...) answer.
struct UiccContext {
  std::uint8_t channel = 0;
  std::string iccid;               // enabled profile, empty if none
  Bytes selected_adf_aid;          // AID of the ADF selected on this channel, if any
  std::uint16_t selected_file_id = 0;
  // DER of the profile's PE-AKAParameter elements as installed (secret:
  // algorithm parameters, K, OPc). Empty if the profile had none.
  const std::vector<Bytes>* aka_parameters = nullptr;
  // SQNms of the selected application (the card image's, which the state
  // file keeps), or nullptr: the hook then keeps its own, in memory.
  std::uint64_t* sqn_ms = nullptr;
};
using UiccCommandHook = std::function<std::optional<apdu::Response>(const apdu::Command&, const UiccContext&)>;

class Euicc : public apdu::Transport {
 public:
  // Parses certificates and key, loads (or creates) the state file. Throws
  // std::runtime_error (or rsp::DecodeError) on unusable configuration.
  explicit Euicc(EuiccConfig cfg);
  ~Euicc() override;
  Euicc(const Euicc&) = delete;
  Euicc& operator=(const Euicc&) = delete;

  // apdu::Transport. transmit() never throws for bad input: it answers with
  // an ISO 7816-4 status word. Thread-safe (one command at a time).
  Bytes transmit(ByteView command_apdu) override;
  Bytes reset() override;  // closes logical channels, ends the RSP session

  // Introspection for tests and tools.
  Bytes eid() const;  // 16 bytes
  std::string eid_hex() const;
  std::vector<ProfileSummary> profiles() const;
  std::vector<NotificationSummary> notifications() const;
  std::optional<std::string> default_dp_address() const;
  // File content of the enabled profile by path from the MF, e.g. {0x2FE2}
  // or {0x7FFF, 0x6F07}; nullopt if absent.
  std::optional<Bytes> read_file(const std::vector<std::uint16_t>& path) const;
  // The file tree of the enabled profile (rsp::uicc::dump), "" if none.
  std::string dump_file_system() const;

  void set_uicc_command_hook(UiccCommandHook hook);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The file trees of the profiles installed in an eUICC state file (all, or
// the one whose ICCID digits are `iccid`), one "profile ICCID" heading each.
// Throws std::runtime_error when the state file does not load.
std::string dump_profiles(const std::string& state_path, const std::string& iccid = "");

}  // namespace rsp::sim
