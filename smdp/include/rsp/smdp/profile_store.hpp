// Profiles and RSP sessions of the SM-DP+, in the SQLite store. Profile
// packages are encrypted at rest (AES-256-GCM, AAD = ICCID) since they carry
// Ki, OPc and PINs.
#pragma once
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "rsp/bytes.hpp"
#include "rsp/smdp/eligibility.hpp"
#include "rsp/store.hpp"

namespace rsp::smdp {

// SGP.22 3.1 / 5.3 profile states (the subset the download path moves through
// until the ES2+ operator side adds ordering).
enum class ProfileState { Available, Allocated, Linked, Confirmed, Released, Downloaded, Installed, Error, Unavailable };
std::string_view to_string(ProfileState s);
ProfileState profile_state_from(std::string_view s);

// One entry of StoreMetadata's notificationConfigurationInfo (SGP.22 5.5.3,
// NotificationConfigurationInformation): the eUICC sends notifications of
// this operation to this address.
struct NotificationConfiguration {
  enum class Event { Install = 0, Enable = 1, Disable = 2, Delete = 3 };  // NotificationEvent bits
  Event event = Event::Enable;
  std::string address;  // empty: this SM-DP+'s address
};
std::string_view to_string(NotificationConfiguration::Event e);  // "install" ...
// "install" | "enable" | "disable" | "delete"; throws std::invalid_argument.
NotificationConfiguration::Event notification_event_from(std::string_view s);

// IconType (SGP.22 5.5.3 / 2.4a.1.1): jpg(0), png(1); the icon itself is at
// most 1,024 bytes (StoreMetadataRequest.icon SIZE(0..1024)).
inline constexpr int kIconTypeJpg = 0, kIconTypePng = 1;
inline constexpr std::size_t kMaxIconBytes = 1024;

struct Profile {
  std::string iccid;        // decimal digits
  std::string matching_id;
  std::string eid;          // empty: any eUICC may download it
  ProfileState state = ProfileState::Available;
  std::optional<Bytes> cc_hash;  // SHA-256(confirmation code)
  int cc_attempts = 0;
  int download_attempts = 0;
  std::string service_provider_name, profile_name;
  int profile_class = 2;    // operational
  std::string transaction_id;  // hex, of the session that holds it
  std::string owner;           // operator (ES2+ function requester) that owns it
  std::string profile_type;    // what DownloadOrder asks for
  std::int64_t order_expires_at = 0;  // unix time an unfinished ES2+ order lapses (0: never)
  // StoreMetadata extras set at staging (SGP.22 5.5.3): the icon (empty:
  // none) with its IconType, and the notification configuration (nullopt:
  // the default, enable/disable/delete to this SM-DP+; empty: none).
  Bytes icon;
  int icon_type = kIconTypePng;
  std::optional<std::vector<NotificationConfiguration>> notification_configuration;
};

struct Session {
  std::string transaction_id;  // 32 hex chars
  std::string state;           // initiated | authenticated | bpp-sent | done | cancelled
  std::time_t created_at = 0;
  Bytes euicc_challenge, server_challenge;
  std::string server_address;
  int credential_index = 0;
  int signing_ci_index = -1;   // credential set whose CI is euiccCiPKIdToBeUsed (-1: not recorded)
  std::string eid;
  Bytes euicc_certificate;
  std::string iccid;           // profile bound to the session
  Bytes smdp_signature2;       // raw r||s, for checking euiccSignature2
  Bytes euicc_otpk;            // once the BPP is built
};

// A profile protected once with profile protection keys (SGP.22 2.5.3): the
// 86 segments, and the keys the BPP hands over in ReplaceSessionKeys.
struct ProtectedPackage {
  SecretBytes ppk_enc, ppk_mac, initial_mcv;
  Bytes segments;  // concatenated 86 TLVs
};

// stage() of an ICCID or matching id that is already staged.
struct DuplicateProfile : store::StoreError {
  using store::StoreError::StoreError;
};

class ProfileStore {
 public:
  ProfileStore(store::Db& db, ByteView storage_key);

  // Stages an unprotected profile package for download (the CLI path until
  // ES2+ orders land): state Released, bound to `eid` if given. With
  // `protect`, the package is also protected now with fresh PPKs, so that
  // binding later only wraps ReplaceSessionKeys for the session.
  // A profile whose ICCID is already staged, or whose matching id another
  // profile holds, is refused with DuplicateProfile naming the ICCID or
  // matching id and the state it is in (no partial write). A matching id
  // remembered from an expired order is forgotten (the new order takes it).
  void stage(const Profile& p, ByteView upp, bool protect = false);
  // Remembers `matching_id` as the id of an order of `iccid` that lapsed at
  // `expired_at` (as expire_orders does): an LPA presenting it hears 8.8.5/4.10.
  void remember_expired_order(const std::string& matching_id, const std::string& iccid, std::int64_t expired_at);
  // The same, with the profile's requirements and policy rules: the
  // package's version and size are read from `upp` unless `requirements`
  // sets them (see set_requirements).
  void stage(const Profile& p, ByteView upp, bool protect, const ProfileRequirements& requirements);
  // What a profile needs of the eUICC and device, and its Profile Policy
  // Rules (table profile_requirements, one row per ICCID; SGP.22 2.9, 3.1.3).
  // A profile staged before the table existed has none: empty requirements.
  void set_requirements(const std::string& iccid, const ProfileRequirements& r);
  ProfileRequirements requirements(const std::string& iccid);
  std::optional<ProtectedPackage> protected_package(const std::string& iccid);

  // Operators' profile templates (a profile package the generator
  // personalizes per subscriber), by name, encrypted like profiles.
  void put_template(const std::string& name, const std::string& owner, ByteView upp);
  std::optional<Bytes> template_package(const std::string& name);
  std::vector<std::pair<std::string, std::string>> templates();  // name, owner
  std::optional<Profile> by_matching_id(const std::string& matching_id);
  // Default SM-DP+ use case (SGP.22 3.1.3, no matchingId): a released (or
  // downloaded, for a retry) profile ordered for this EID.
  std::optional<Profile> default_smdp_order(const std::string& eid);
  // SGP.22 5.3.1 DownloadOrder: takes one Available profile of `profile_type`
  // owned by `owner` (or the given ICCID) and moves it to Allocated, or to
  // Linked when an EID is given, in one IMMEDIATE transaction, so concurrent
  // orders never get the same profile. Empty: none left.
  std::optional<Profile> allocate(const std::string& owner, const std::string& profile_type, const std::string& eid,
                                  std::int64_t order_expires_at = 0);
  // Whether `owner` has any profile of `profile_type`, in any state (SGP.22
  // 5.3.1: an unknown type, 8.2.5/3.9, is not one with none left, 3.7).
  bool has_profile_type(const std::string& owner, const std::string& profile_type);
  // Orders not downloaded by their expiry go back to Available (SGP.22 leaves
  // the validity period to the operator's agreement). Returns how many.
  // Their matching ids are remembered (is_expired_order) until a new order
  // takes the same id (forget_expired_order).
  int expire_orders(std::int64_t now);
  bool is_expired_order(const std::string& matching_id);
  // Enable/disable/delete notifications (SGP.22 3.5), once per (EID,
  // seqNumber): false if this one was recorded before (an LPA retrying).
  bool record_notification(const std::string& eid, std::int64_t seq_number, const std::string& operation,
                           const std::string& iccid, std::int64_t received_at);
  void forget_expired_order(const std::string& matching_id);
  std::optional<Profile> by_iccid(const std::string& iccid);
  Bytes upp(const std::string& iccid);  // decrypted package
  void update(const Profile& p);

  void put_session(const Session& s);
  // Compare-and-set: writes `s` only if the stored session is still in
  // `from_state`; false if another call moved it first (two concurrent
  // calls on one transactionId must not both pass).
  bool transition_session(const Session& s, std::string_view from_state);
  std::optional<Session> session(const std::string& transaction_id);
  void end_session(const std::string& transaction_id, const std::string& state);
  // Deletes sessions created before `created_before` that can no longer
  // lead anywhere: ended (done, cancelled, failed, expired, install-failed)
  // or never past authenticateClient. Sessions in bpp-sent stay: their
  // install notification may come late (SGP.22 3.5). Returns how many.
  int purge_sessions(std::int64_t created_before);

  store::Db& db() { return db_; }

  // The statements of the request path (ES9+, ES2+, the session purge) as
  // this store runs them: a test checks with EXPLAIN QUERY PLAN that each is
  // served by an index (issue 12), so dropping one fails it.
  static std::vector<std::string> request_path_queries();

 private:
  // Columns added after the first schema (additive: older stores get them).
  void add_metadata_columns();
  // Writes p's icon and notification configuration (set at staging only).
  void put_metadata(const Profile& p);

  void create_requirements_table();
  void insert_profile(const Profile& p, ByteView upp, bool protect);
  store::Db& db_;
  SecretBytes key_;
};

}  // namespace rsp::smdp
