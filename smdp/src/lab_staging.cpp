#include "rsp/smdp/lab_staging.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "rsp/crypto.hpp"
#include "rsp/smdp/profile_package.hpp"

namespace rsp::smdp {

namespace {
constexpr std::array<std::string_view, 5> kLabStates = {"released", "not-released", "expired", "retry-limit", "available"};
constexpr std::array<std::string_view, 3> kClasses = {"test", "provisioning", "operational"};
}  // namespace

LabState lab_state_from(std::string_view s) {
  for (std::size_t i = 0; i < kLabStates.size(); ++i)
    if (kLabStates[i] == s) return static_cast<LabState>(i);
  throw std::invalid_argument("unknown state '" + std::string(s) +
                              "' (released, not-released, expired, retry-limit, available)");
}

int profile_class_from(std::string_view s) {
  for (std::size_t i = 0; i < kClasses.size(); ++i)
    if (kClasses[i] == s) return static_cast<int>(i);
  throw std::invalid_argument("unknown profile class '" + std::string(s) + "' (test, provisioning, operational)");
}

int icon_type_of(ByteView image) {
  static const Bytes kPng = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};  // PNG signature (ISO/IEC 15948 5.2)
  static const Bytes kJpeg = {0xFF, 0xD8, 0xFF};                            // SOI + the next marker (ITU-T T.81 B.1)
  if (image.size() >= kPng.size() && std::equal(kPng.begin(), kPng.end(), image.begin())) return kIconTypePng;
  if (image.size() >= kJpeg.size() && std::equal(kJpeg.begin(), kJpeg.end(), image.begin())) return kIconTypeJpg;
  throw std::invalid_argument("the icon is neither a PNG nor a JPEG file (SGP.22 IconType: jpg, png)");
}

std::vector<NotificationConfiguration> parse_notification_options(const std::vector<std::string>& items) {
  std::vector<NotificationConfiguration> out;
  for (const auto& item : items) {
    if (item == "none") {
      if (items.size() != 1) throw std::invalid_argument("--notify none cannot be combined with events");
      continue;
    }
    auto eq = item.find('=');
    NotificationConfiguration c;
    c.event = notification_event_from(item.substr(0, eq));
    if (eq != std::string::npos) c.address = item.substr(eq + 1);
    for (const auto& seen : out)
      if (seen.event == c.event) throw std::invalid_argument("notification event " + item.substr(0, eq) + " given twice");
    out.push_back(std::move(c));
  }
  return out;
}

Profile stage_lab_profile(ProfileStore& store, const Config& config, const LabProfile& lp, std::int64_t now) {
  auto summary = inspect_upp(lp.upp);
  if (lp.state != LabState::Available && lp.matching_id.empty())
    throw std::invalid_argument("a profile in state " + std::string(kLabStates[static_cast<std::size_t>(lp.state)]) +
                                " needs a matching id");
  if (lp.state == LabState::Available && lp.owner.empty())
    throw std::invalid_argument("an available profile needs an owner (the operator whose ES2+ orders take it)");
  Profile p;
  p.iccid = summary.iccid;
  p.eid = lp.eid;
  p.owner = lp.owner;
  p.profile_type = lp.owner.empty() ? "" : lp.profile_type;
  if (!lp.confirmation_code.empty()) p.cc_hash = crypto::sha256(to_bytes(lp.confirmation_code));
  p.service_provider_name = lp.service_provider_name;
  p.profile_name = lp.profile_name;
  p.profile_class = lp.profile_class;
  if (!lp.icon.empty()) {
    p.icon = lp.icon;
    p.icon_type = icon_type_of(lp.icon);
  }
  p.notification_configuration = lp.notification_configuration;
  if (lp.expires_in_seconds > 0) p.order_expires_at = now + lp.expires_in_seconds;
  p.matching_id = lp.matching_id;
  switch (lp.state) {
    case LabState::Released: p.state = ProfileState::Released; break;
    case LabState::NotReleased: p.state = ProfileState::Confirmed; break;
    case LabState::RetryLimit:
      p.state = ProfileState::Released;
      p.download_attempts = config.max_download_attempts;
      break;
    case LabState::Expired:
      // What expire_orders leaves behind: the profile back in its
      // inventory, its order's matching id remembered as expired.
      p.state = ProfileState::Available;
      p.matching_id.clear();
      p.eid.clear();
      p.cc_hash.reset();
      p.order_expires_at = 0;
      break;
    case LabState::Available: p.state = ProfileState::Available; break;
  }
  store::Transaction tx(store.db());
  if (lp.state == LabState::Expired) {
    if (auto other = store.by_matching_id(lp.matching_id))
      throw DuplicateProfile("matching id " + lp.matching_id + " is already used by ICCID " + other->iccid + " (state " +
                             std::string(to_string(other->state)) + ")");
  }
  store.stage(p, lp.upp, lp.protect_with_ppk || config.use_ppk, lp.requirements);
  if (lp.state == LabState::Expired) store.remember_expired_order(lp.matching_id, p.iccid, now);
  tx.commit();
  return p;
}

}  // namespace rsp::smdp
