// ES10a/b/c client (SGP.22 v2.2.2 section 5.7) over any rsp::apdu::Transport.
//
// Requests are encoded and responses decoded with the asn1c RSPDefinitions
// types (rsp_asn1); this header is plain C++ so that users need not see them.
// Values that the LPA forwards to the SM-DP+ (EUICCInfo1, the
// AuthenticateServer, PrepareDownload and CancelSession responses, pending
// notifications, the ProfileInstallationResult) are kept as received in `raw`.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/apdu.hpp"
#include "rsp/bytes.hpp"
#include "rsp/lpa/es10_channel.hpp"

namespace rsp::lpa {

// The eUICC answered an ES10 function with an error result, or with data that
// does not decode as the function's response.
struct Es10Error : std::runtime_error {
  Es10Error(const std::string& what, std::string fn, int result_code, std::string result_name)
      : std::runtime_error(what), function(std::move(fn)), code(result_code), code_name(std::move(result_name)) {}
  std::string function;   // "GetProfilesInfo", "AuthenticateServer", ...
  int code;               // the error code (-1: malformed response)
  std::string code_name;  // e.g. "invalidCertificate", "malformedResponse"
};

// Result of the ES10c functions that answer with a single INTEGER.
struct Es10Result {
  int code = 0;
  std::string name;  // "ok", "iccidOrAidNotFound", "profileNotInDisabledState", ...
  bool ok() const { return code == 0; }
};

using Version = std::array<std::uint8_t, 3>;  // VersionType: major, minor, revision
std::string version_to_string(const Version& v);  // "2.2.2"

enum class NotificationEvent { Install = 0, Enable = 1, Disable = 2, Delete = 3 };
std::string_view to_string(NotificationEvent e);  // "install", "enable", "disable", "delete"

enum class CancelSessionReason {
  EndUserRejection = 0,
  Postponed = 1,
  Timeout = 2,
  PprNotAllowed = 3,
  MetadataMismatch = 4,
  LoadBppExecutionError = 5,
  UndefinedReason = 127,
};
std::string_view to_string(CancelSessionReason r);

struct NotificationMetadata {
  long long seq_number = 0;
  NotificationEvent operation = NotificationEvent::Install;
  std::string address;               // notificationAddress (FQDN of the receiver)
  std::optional<std::string> iccid;  // decimal digits
};

struct PendingNotification {
  NotificationMetadata metadata;
  bool profile_installation_result = false;  // BF37 (else OtherSignedNotification)
  Bytes raw;                                 // the PendingNotification DER, as sent by ES9+.HandleNotification
};

struct ProfileInfo {
  std::optional<std::string> iccid;
  Bytes isdp_aid;
  std::optional<int> state;  // 0 disabled, 1 enabled
  std::optional<std::string> nickname;
  std::optional<std::string> service_provider_name;
  std::optional<std::string> profile_name;
  std::optional<int> icon_type;  // 0 jpg, 1 png
  Bytes icon;
  int profile_class = 2;  // 0 test, 1 provisioning, 2 operational
  std::optional<Bytes> owner_mcc_mnc;  // profileOwner.mccMnc (3 bytes, TS 24.008)
  std::vector<int> policy_rules;       // PPR bits set (1 = ppr1, 2 = ppr2)
  std::vector<std::pair<NotificationEvent, std::string>> notification_configuration;
};
std::string_view profile_state_name(int state);  // "disabled" / "enabled"
std::string_view profile_class_name(int cls);    // "test" / "provisioning" / "operational"

struct EuiccInfo1 {
  Bytes raw;  // BF20 TLV, as ES9+.InitiateAuthentication carries it
  Version svn{};
  std::vector<Bytes> ci_pkids_verification;  // SubjectKeyIdentifier values
  std::vector<Bytes> ci_pkids_signing;
};

struct EuiccInfo2 {
  Bytes raw;  // BF22 TLV
  Version profile_version{}, svn{}, firmware_version{};
  Bytes ext_card_resource;
  std::optional<unsigned long long> installed_applications;  // from extCardResource '81'
  std::optional<unsigned long long> free_nvm;                // '82'
  std::optional<unsigned long long> free_volatile;           // '83'
  std::vector<std::string> uicc_capability;                  // named bits set
  std::optional<Version> javacard_version, globalplatform_version;
  std::vector<std::string> rsp_capability;  // additionalProfile, crlSupport, rpmSupport, testProfileSupport
  std::vector<Bytes> ci_pkids_verification, ci_pkids_signing;
  std::optional<int> euicc_category;  // 0 other, 1 basic, 2 medium, 3 contactless
  std::vector<int> forbidden_profile_policy_rules;
  Version pp_version{};
  std::string sas_accreditation_number;
  std::optional<std::string> platform_label, discovery_base_url;
};

struct ConfiguredAddresses {
  std::optional<std::string> default_dp_address;
  std::string root_ds_address;
};

// ICCID (decimal digits, 18-20) or ISD-P AID (hex), for Enable/Disable/Delete.
struct ProfileId {
  enum class Kind { Iccid, Aid } kind = Kind::Iccid;
  std::string iccid;
  Bytes aid;
  static ProfileId from_iccid(std::string_view digits);  // throws std::invalid_argument
  static ProfileId from_aid(ByteView aid);               // 5..16 bytes
  // "8944..." (18-20 digits, optional trailing F) is an ICCID; 10-32 hex digits
  // starting with "A0" is an AID. Throws std::invalid_argument.
  static ProfileId parse(std::string_view text);
  std::string to_string() const;
};

// DeviceInfo (SGP.22 2.3.1 / ES10b.AuthenticateServer ctxParams1).
struct DeviceInfo {
  std::array<std::uint8_t, 4> tac{};  // Type Allocation Code, 8 BCD digits
  std::optional<Bytes> imei;          // 8 bytes, TS 24.008-style swapped BCD
  std::optional<Version> gsm, utran, cdma2000_1x, cdma2000_hrpd, cdma2000_ehrpd, eutran_epc, contactless, rsp_crl,
      nr_epc, nr_5gc, eutran_5gc;
  // A plausible handset: TAC 35674108, GSM/UTRAN/E-UTRAN/NR releases 15.
  static DeviceInfo plausible_default();
  // TAC from the first 8 digits, IMEI swapped-BCD (15 or 16 digits).
  void set_imei(std::string_view digits);  // throws std::invalid_argument
};

// What the SM-DP+ sent in ES9+.InitiateAuthentication, to be passed on.
struct AuthenticateServerInput {
  Bytes server_signed1;             // DER SEQUENCE, as received
  Bytes server_signature1;          // 5F37 TLV
  Bytes euicc_ci_pkid_to_be_used;   // 04 14 <SKI> (a bare 20-byte SKI is wrapped)
  Bytes server_certificate;         // DER Certificate
  std::optional<std::string> matching_id;
  DeviceInfo device_info = DeviceInfo::plausible_default();
};

struct AuthenticateServerResult {
  Bytes raw;  // BF38 TLV, forwarded in ES9+.AuthenticateClient
  bool ok = false;
  Bytes transaction_id;
  int error_code = 0;  // AuthenticateErrorCode when !ok
  std::string error_name;
};

struct PrepareDownloadInput {
  Bytes smdp_signed2;      // DER SEQUENCE, as received
  Bytes smdp_signature2;   // 5F37 TLV
  Bytes smdp_certificate;  // DER Certificate
  std::optional<Bytes> hash_cc;  // 32 bytes
};

struct PrepareDownloadResult {
  Bytes raw;  // BF21 TLV, forwarded in ES9+.GetBoundProfilePackage
  bool ok = false;
  Bytes transaction_id;
  Bytes euicc_otpk;    // otPK.EUICC.ECKA when ok
  int error_code = 0;  // DownloadErrorCode when !ok
  std::string error_name;
};

struct ProfileInstallationResult {
  Bytes raw;  // BF37 TLV (a PendingNotification)
  Bytes transaction_id;
  NotificationMetadata notification;
  std::optional<std::string> smdp_oid;
  bool success = false;
  Bytes isdp_aid;           // success
  int bpp_command_id = -1;  // error
  int error_reason = 0;     // error
  std::string bpp_command_name, error_reason_name;
  std::string describe() const;  // "success (ISD-P A000...)" / "error: configureISDP / scp03tSecurityError"
};

struct CancelSessionResult {
  Bytes raw;  // BF41 TLV, forwarded in ES9+.CancelSession
  bool ok = false;
  int error_code = 0;
  std::string error_name;
};

class Es10Client {
 public:
  explicit Es10Client(apdu::Transport& transport, ChannelOptions options = {});

  Es10Channel& channel() { return channel_; }
  // One ES10 command (DER request) -> response data.
  Bytes command(ByteView der_request) { return channel_.store_data(der_request); }

  // ES10a/ES10b/ES10c functions; all throw ApduError (card) or Es10Error.
  Bytes get_euicc_challenge();  // 16 bytes
  EuiccInfo1 get_euicc_info1();
  EuiccInfo2 get_euicc_info2();
  std::string get_eid();  // 32 hex digits, upper case
  ConfiguredAddresses get_configured_addresses();
  Es10Result set_default_dp_address(std::string_view address);
  std::vector<ProfileInfo> get_profiles_info();
  Es10Result enable_profile(const ProfileId& id, bool refresh = true);
  Es10Result disable_profile(const ProfileId& id, bool refresh = true);
  Es10Result delete_profile(const ProfileId& id);
  Es10Result set_nickname(std::string_view iccid, std::string_view nickname);
  Es10Result euicc_memory_reset(bool operational_profiles, bool field_loaded_test_profiles, bool default_smdp_address);
  std::vector<NotificationMetadata> list_notifications(std::optional<NotificationEvent> filter = std::nullopt);
  // All pending notifications, or the one with `seq_number` (empty when none).
  std::vector<PendingNotification> retrieve_notifications(std::optional<long long> seq_number = std::nullopt);
  Es10Result notification_sent(long long seq_number);

  AuthenticateServerResult authenticate_server(const AuthenticateServerInput& in);
  PrepareDownloadResult prepare_download(const PrepareDownloadInput& in);
  // Sends the BPP segment by segment (see bpp.hpp) and returns the
  // ProfileInstallationResult as soon as the eUICC answers with BF37 data.
  // `progress(done, total)` is called after each segment. Throws Es10Error
  // when the eUICC never returned a result.
  ProfileInstallationResult load_bound_profile_package(
      ByteView bpp, const std::function<void(std::size_t, std::size_t)>& progress = {});
  CancelSessionResult cancel_session(ByteView transaction_id, CancelSessionReason reason);

 private:
  Es10Channel channel_;
};

// Decoders, public for tests and for the download flow.
ProfileInstallationResult decode_profile_installation_result(ByteView bf37);
NotificationMetadata decode_notification_metadata(ByteView bf2f);

}  // namespace rsp::lpa
