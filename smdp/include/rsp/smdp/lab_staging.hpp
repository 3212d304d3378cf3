// Staging one profile for a test lab (`smdpd stage`): a chosen ICCID under a
// named matching id, in the state a test needs (released, not released, an
// expired order, at its download retry limit), with the StoreMetadata a test
// wants to see on the device (icon, class, names, notification
// configuration; SGP.22 5.5.3).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rsp/bytes.hpp"
#include "rsp/smdp/config.hpp"
#include "rsp/smdp/profile_store.hpp"

namespace rsp::smdp {

// The order states a lab can stage a profile in.
enum class LabState {
  Released,     // downloadable now (ConfirmOrder with releaseFlag true)
  NotReleased,  // confirmed, not released: AuthenticateClient answers 8.2/1.2
  Expired,      // the order lapsed: its matching id answers 8.8.5/4.10
  RetryLimit,   // download attempts used up: 8.8.5/6.4
  Available,    // no order: in the owner's inventory for ES2+ DownloadOrder
};
// "released" | "not-released" | "expired" | "retry-limit" | "available";
// throws std::invalid_argument.
LabState lab_state_from(std::string_view s);

struct LabProfile {
  Bytes upp;                 // the package to stage (already personalized)
  std::string matching_id;   // required for every state but Available
  std::string owner, profile_type = "default";
  std::string eid, confirmation_code;
  LabState state = LabState::Released;
  std::int64_t expires_in_seconds = 0;  // > 0: the order lapses this long after staging
  std::string service_provider_name = "rsp-marketplace", profile_name = "Profile";
  int profile_class = 2;     // ProfileClass: test(0), provisioning(1), operational(2)
  Bytes icon;                // PNG or JPEG file content; its IconType is taken from it
  std::optional<std::vector<NotificationConfiguration>> notification_configuration;
  bool protect_with_ppk = false;
  // What the profile needs of the eUICC and device, and its PPRs (eligibility.hpp).
  ProfileRequirements requirements;
};

// IconType of a PNG or JPEG file (by its signature), or std::invalid_argument.
int icon_type_of(ByteView image);
// "test" | "provisioning" | "operational"; throws std::invalid_argument.
int profile_class_from(std::string_view s);
// Parses "event[=address]" ("none" gives an empty configuration).
std::vector<NotificationConfiguration> parse_notification_options(const std::vector<std::string>& items);

// Stages `lp` in one store transaction. Throws DuplicateProfile when the
// ICCID or matching id is already staged (message names it and its state),
// std::invalid_argument for inconsistent options. Returns the profile as stored.
Profile stage_lab_profile(ProfileStore& store, const Config& config, const LabProfile& lp, std::int64_t now);

}  // namespace rsp::smdp
