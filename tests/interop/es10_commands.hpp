// The ES10a/b/c commands of SGP.22 v2.2.2 (5.7) by their tag: name, request
// and response types of our module's decoder. Every response carries its
// command's tag (RSPDefinitions gives both the same [APPLICATION/CONTEXT] tag).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rsp/asn1.hpp"
#include "rsp/tlv.hpp"

#include <AuthenticateServerRequest.h>
#include <AuthenticateServerResponse.h>
#include <CancelSessionRequest.h>
#include <CancelSessionResponse.h>
#include <DeleteProfileRequest.h>
#include <DeleteProfileResponse.h>
#include <DisableProfileRequest.h>
#include <DisableProfileResponse.h>
#include <EUICCInfo1.h>
#include <EUICCInfo2.h>
#include <EnableProfileRequest.h>
#include <EnableProfileResponse.h>
#include <EuiccConfiguredAddressesRequest.h>
#include <EuiccConfiguredAddressesResponse.h>
#include <EuiccMemoryResetRequest.h>
#include <EuiccMemoryResetResponse.h>
#include <GetEuiccChallengeRequest.h>
#include <GetEuiccChallengeResponse.h>
#include <GetEuiccDataRequest.h>
#include <GetEuiccDataResponse.h>
#include <GetEuiccInfo1Request.h>
#include <GetEuiccInfo2Request.h>
#include <GetRatRequest.h>
#include <GetRatResponse.h>
#include <ListNotificationRequest.h>
#include <ListNotificationResponse.h>
#include <LoadCRLRequest.h>
#include <LoadCRLResponse.h>
#include <NotificationSentRequest.h>
#include <NotificationSentResponse.h>
#include <PrepareDownloadRequest.h>
#include <PrepareDownloadResponse.h>
#include <ProfileInfoListRequest.h>
#include <ProfileInfoListResponse.h>
#include <RetrieveNotificationsListRequest.h>
#include <RetrieveNotificationsListResponse.h>
#include <SetDefaultDpAddressRequest.h>
#include <SetDefaultDpAddressResponse.h>
#include <SetNicknameRequest.h>
#include <SetNicknameResponse.h>

namespace rsp::interop {

struct Es10Command {
  std::uint32_t tag;
  const char* iface;  // ES10a, ES10b, ES10c
  const char* name;   // as SGP.22 5.7 names the function
  const asn_TYPE_descriptor_t* request;
  const asn_TYPE_descriptor_t* response;
  bool has_result;    // the response is { result INTEGER } at [0] (80)
};

inline const std::vector<Es10Command>& es10_commands() {
  static const std::vector<Es10Command> t = {
      {0xBF3C, "ES10a", "GetEuiccConfiguredAddresses", &asn_DEF_EuiccConfiguredAddressesRequest,
       &asn_DEF_EuiccConfiguredAddressesResponse, false},
      {0xBF3F, "ES10a", "SetDefaultDpAddress", &asn_DEF_SetDefaultDpAddressRequest,
       &asn_DEF_SetDefaultDpAddressResponse, true},
      {0xBF21, "ES10b", "PrepareDownload", &asn_DEF_PrepareDownloadRequest, &asn_DEF_PrepareDownloadResponse, false},
      {0xBF2E, "ES10b", "GetEUICCChallenge", &asn_DEF_GetEuiccChallengeRequest, &asn_DEF_GetEuiccChallengeResponse,
       false},
      {0xBF20, "ES10b", "GetEUICCInfo (EUICCInfo1)", &asn_DEF_GetEuiccInfo1Request, &asn_DEF_EUICCInfo1, false},
      {0xBF22, "ES10b", "GetEUICCInfo (EUICCInfo2)", &asn_DEF_GetEuiccInfo2Request, &asn_DEF_EUICCInfo2, false},
      {0xBF28, "ES10b", "ListNotification", &asn_DEF_ListNotificationRequest, &asn_DEF_ListNotificationResponse, false},
      {0xBF2B, "ES10b", "RetrieveNotificationsList", &asn_DEF_RetrieveNotificationsListRequest,
       &asn_DEF_RetrieveNotificationsListResponse, false},
      {0xBF30, "ES10b", "RemoveNotificationFromList", &asn_DEF_NotificationSentRequest,
       &asn_DEF_NotificationSentResponse, true},
      {0xBF35, "ES10b", "LoadCRL", &asn_DEF_LoadCRLRequest, &asn_DEF_LoadCRLResponse, false},
      {0xBF38, "ES10b", "AuthenticateServer", &asn_DEF_AuthenticateServerRequest, &asn_DEF_AuthenticateServerResponse,
       false},
      {0xBF41, "ES10b", "CancelSession", &asn_DEF_CancelSessionRequest, &asn_DEF_CancelSessionResponse, false},
      {0xBF43, "ES10b", "GetRAT", &asn_DEF_GetRatRequest, &asn_DEF_GetRatResponse, false},
      {0xBF2D, "ES10c", "GetProfilesInfo", &asn_DEF_ProfileInfoListRequest, &asn_DEF_ProfileInfoListResponse, false},
      {0xBF31, "ES10c", "EnableProfile", &asn_DEF_EnableProfileRequest, &asn_DEF_EnableProfileResponse, true},
      {0xBF32, "ES10c", "DisableProfile", &asn_DEF_DisableProfileRequest, &asn_DEF_DisableProfileResponse, true},
      {0xBF33, "ES10c", "DeleteProfile", &asn_DEF_DeleteProfileRequest, &asn_DEF_DeleteProfileResponse, true},
      {0xBF34, "ES10c", "eUICCMemoryReset", &asn_DEF_EuiccMemoryResetRequest, &asn_DEF_EuiccMemoryResetResponse, true},
      {0xBF3E, "ES10c", "GetEID", &asn_DEF_GetEuiccDataRequest, &asn_DEF_GetEuiccDataResponse, false},
      {0xBF29, "ES10c", "SetNickname", &asn_DEF_SetNicknameRequest, &asn_DEF_SetNicknameResponse, true},
  };
  return t;
}

inline const Es10Command* es10_command(std::uint32_t tag) {
  for (const auto& c : es10_commands())
    if (c.tag == tag) return &c;
  return nullptr;
}

// Decodes `der` as `td` with our module's decoder; throws asn1::Asn1Error.
inline void decode_as(const asn_TYPE_descriptor_t& td, ByteView der) {
  void* p = asn1::decode_raw(td, der);
  asn1::free_struct(td, p);
}

// The result of a { result INTEGER } response (tag 80 inside), if any.
inline std::optional<long> result_of(ByteView response) {
  auto outer = tlv::parse_one(response);
  auto r = tlv::find(outer.value, 0x80);
  if (!r || r->value.empty()) return std::nullopt;
  long v = static_cast<std::int8_t>(r->value[0]);
  for (std::size_t i = 1; i < r->value.size(); ++i) v = (v << 8) | r->value[i];
  return v;
}

}  // namespace rsp::interop
