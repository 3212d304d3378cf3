#include "rsp/smdp/es2plus.hpp"

#include <ctime>

#include "rsp/crypto.hpp"
#include "rsp/log.hpp"
#include "rsp/smdp/status.hpp"

namespace rsp::smdp {

using nlohmann::json;

namespace {

json success(json body = json::object()) {
  body["header"] = {{"functionExecutionStatus", {{"status", "Executed-Success"}}}};
  return body;
}

std::string optional_string(const json& req, const char* name) {
  auto it = req.find(name);
  if (it == req.end() || it->is_null()) return {};
  if (!it->is_string()) throw FunctionError(status::kInvalidRequest, std::string(name) + " is not a string");
  return it->get<std::string>();
}

std::string required_string(const json& req, const char* name) {
  std::string v = optional_string(req, name);
  if (v.empty())
    throw FunctionError(status::kMandatoryElementMissing, std::string("missing ") + name);
  return v;
}

// The ICCID of an ES2+ request. The JSON binding's ICCID is 19 or 20 digits
// where a 20th character may be the padding F (the text pySim's ES2+ client
// quotes and follows: it sends every 19-digit ICCID as 20 characters with
// that F); the store keys profiles by their digits, so the padding goes.
std::string request_iccid(const json& req) {
  std::string iccid = optional_string(req, "iccid");
  if (iccid.size() == 20 && (iccid.back() == 'F' || iccid.back() == 'f')) iccid.pop_back();
  return iccid;
}

// EID: 32 decimal digits (SGP.22 / SGP.29).
std::string checked_eid(std::string eid) {
  if (eid.empty()) return eid;
  if (eid.size() != 32 || eid.find_first_not_of("0123456789") != std::string::npos)
    throw FunctionError(status::kEidInvalid, "EID must be 32 digits");
  return eid;
}

// AC_Token for an activation code (SGP.22 4.1): unambiguous upper-case
// letters and digits in groups, 20 characters of entropy (~100 bits).
std::string new_matching_id() {
  static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";  // 32 symbols
  Bytes r = crypto::random_bytes(20);
  std::string out;
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (i && i % 5 == 0) out.push_back('-');
    out.push_back(alphabet[r[i] & 31]);
  }
  return out;
}

}  // namespace

Es2Plus::Es2Plus(const Config& config, ProfileStore& store) : config_(config), store_(store) {}

Profile Es2Plus::owned_profile(const std::string& operator_id, const json& req) {
  std::string iccid = request_iccid(req);
  if (iccid.empty()) throw FunctionError(status::kMandatoryElementMissing, "missing iccid");
  auto p = store_.by_iccid(iccid);
  // Another operator's profile is answered exactly like an unknown one: an
  // operator learns nothing about profiles it does not own.
  if (!p || p->owner != operator_id) throw FunctionError(status::kIccidUnknown, "unknown ICCID " + iccid);
  return *p;
}

// SGP.22 5.3.1
json Es2Plus::download_order(const std::string& operator_id, const json& req) {
  std::string eid = checked_eid(optional_string(req, "eid"));
  std::string iccid = request_iccid(req);
  std::string type = optional_string(req, "profileType");
  if (iccid.empty() && type.empty())
    throw FunctionError(status::kMandatoryElementMissing, "iccid or profileType is required");
  std::int64_t now = std::time(nullptr);
  store_.expire_orders(now);
  std::int64_t expires = config_.order_expiry_seconds > 0 ? now + config_.order_expiry_seconds : 0;
  std::optional<Profile> p;
  if (!iccid.empty()) {
    store::Transaction tx(store_.db());
    p = owned_profile(operator_id, req);
    if (!type.empty() && p->profile_type != type)
      throw FunctionError(status::kProfileTypeMismatch, "the ICCID is not of profileType " + type);
    if (p->state != ProfileState::Available)
      throw FunctionError(status::kIccidInUse, "ICCID " + iccid + " is already in use");
    p->eid = eid;
    p->state = eid.empty() ? ProfileState::Allocated : ProfileState::Linked;
    p->order_expires_at = expires;
    store_.update(*p);
    tx.commit();
  } else {
    p = store_.allocate(operator_id, type, eid, expires);
    if (!p && !store_.has_profile_type(operator_id, type))
      throw FunctionError(status::kProfileTypeUnknown, "unknown profileType " + type);
    if (!p) throw FunctionError(status::kProfileTypeUnavailable, "no profile of type " + type + " is available");
  }
  log::info("es2+", operator_id + " DownloadOrder ICCID " + p->iccid + " -> " + std::string(to_string(p->state)));
  return success({{"iccid", p->iccid}});
}

// SGP.22 5.3.2
json Es2Plus::confirm_order(const std::string& operator_id, const json& req) {
  std::string eid = checked_eid(optional_string(req, "eid"));
  std::string matching_id = optional_string(req, "matchingId");
  // A zero-length matchingId is the default SM-DP+ use case (SGP.22 3.1.1,
  // 5.3.2): the eUICC asks without one, so the order needs its EID.
  bool default_smdp = req.contains("matchingId") && req["matchingId"].is_string() && matching_id.empty();
  std::string smds_address = optional_string(req, "smdsAddress");
  std::string cc = optional_string(req, "confirmationCode");
  auto rf = req.find("releaseFlag");
  if (rf == req.end() || !rf->is_boolean())
    throw FunctionError(status::kMandatoryElementMissing, "missing releaseFlag");
  store::Transaction tx(store_.db());
  Profile p = owned_profile(operator_id, req);
  if (p.state != ProfileState::Allocated && p.state != ProfileState::Linked)
    throw FunctionError(status::kIccidWrongState,
                        "ConfirmOrder needs an allocated or linked profile, ICCID is " + std::string(to_string(p.state)));
  if (!p.eid.empty() && !eid.empty() && p.eid != eid)
    throw FunctionError(status::kEidDiffers, "EID differs from the one given in DownloadOrder");
  if (p.eid.empty()) p.eid = eid;
  if (p.eid.empty() && (default_smdp || !smds_address.empty()))
    throw FunctionError(status::kEidMissing, "an EID is required for this order (default SM-DP+ or SM-DS use case)");
  // Registering the event with an SM-DS (ES12) is not implemented: refuse
  // rather than confirm an order no device will ever hear of.
  if (!smds_address.empty())
    throw FunctionError(status::kSmdsInaccessible, "smdsAddress " + smds_address + " cannot be reached");
  if (matching_id.empty() && !default_smdp) matching_id = new_matching_id();
  if (!matching_id.empty()) {
    if (auto other = store_.by_matching_id(matching_id); other && other->iccid != p.iccid)
      throw FunctionError(status::kMatchingIdInUse, "matchingId already in use");
    store_.forget_expired_order(matching_id);
  }
  p.matching_id = matching_id;
  if (!cc.empty()) p.cc_hash = crypto::sha256(to_bytes(cc));
  p.state = rf->get<bool>() ? ProfileState::Released : ProfileState::Confirmed;
  store_.update(p);
  tx.commit();
  log::info("es2+", operator_id + " ConfirmOrder ICCID " + p.iccid + " -> " + std::string(to_string(p.state)));
  json body = {{"matchingId", matching_id}, {"smdpAddress", config_.address}};  // "" in the default SM-DP+ case
  if (!p.eid.empty()) body["eid"] = p.eid;
  return success(body);
}

// SGP.22 5.3.3
json Es2Plus::cancel_order(const std::string& operator_id, const json& req) {
  std::string final_status = required_string(req, "finalProfileStatusIndicator");
  if (final_status != "Available" && final_status != "Unavailable")
    throw FunctionError(status::kInvalidRequest, "finalProfileStatusIndicator must be Available or Unavailable");
  store::Transaction tx(store_.db());
  Profile p = owned_profile(operator_id, req);
  std::string eid = checked_eid(optional_string(req, "eid"));
  std::string matching_id = optional_string(req, "matchingId");
  // The order's EID is the one of DownloadOrder/ConfirmOrder or, for an
  // order without one, the eUICC that authenticateClient associated.
  if (!eid.empty() && eid != p.eid) throw FunctionError(status::kEidDiffers, "EID does not match the order");
  if (!matching_id.empty() && matching_id != p.matching_id)
    throw FunctionError(status::kMatchingIdDiffers, "matchingId does not match the order");
  if (p.state == ProfileState::Available || p.state == ProfileState::Installed || p.state == ProfileState::Unavailable)
    throw FunctionError(status::kIccidWrongState, "no order to cancel: ICCID is " + std::string(to_string(p.state)));
  if (p.state == ProfileState::Downloaded && !p.transaction_id.empty())
    throw FunctionError(status::kIccidWrongState, "the profile is being downloaded");
  p.state = final_status == "Available" ? ProfileState::Available : ProfileState::Unavailable;
  p.order_expires_at = 0;
  p.eid.clear();
  p.matching_id.clear();
  p.cc_hash.reset();
  p.cc_attempts = p.download_attempts = 0;
  p.transaction_id.clear();
  store_.update(p);
  tx.commit();
  log::info("es2+", operator_id + " CancelOrder ICCID " + p.iccid + " -> " + std::string(to_string(p.state)));
  return success();
}

// SGP.22 5.3.4
json Es2Plus::release_profile(const std::string& operator_id, const json& req) {
  store::Transaction tx(store_.db());
  Profile p = owned_profile(operator_id, req);
  if (p.state != ProfileState::Confirmed)
    throw FunctionError(status::kIccidNotReleasable,
                        "ReleaseProfile needs a confirmed profile, ICCID is " + std::string(to_string(p.state)));
  p.state = ProfileState::Released;
  store_.update(p);
  tx.commit();
  log::info("es2+", operator_id + " ReleaseProfile ICCID " + p.iccid);
  return success();
}

}  // namespace rsp::smdp
