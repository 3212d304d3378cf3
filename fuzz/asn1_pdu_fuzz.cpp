// libFuzzer target: every SGP.22 PDU an outsider can send, through the one
// ASN.1 layer (rsp::asn1 over asn1c). Input: one selector byte (which type,
// modulo the table in asn1_types.inc; seeds start with their index) then
// the DER/BER. A value that decodes must re-encode as DER, and that DER must
// decode and re-encode to itself (no value the decoder accepts can break the
// encoder or the C++ layer).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <RemoteProfileProvisioningRequest.h>
#include <RemoteProfileProvisioningResponse.h>
#include <InitiateAuthenticationRequest.h>
#include <InitiateAuthenticationResponse.h>
#include <AuthenticateClientRequest.h>
#include <AuthenticateClientResponseEs9.h>
#include <GetBoundProfilePackageRequest.h>
#include <GetBoundProfilePackageResponse.h>
#include <HandleNotification.h>
#include <CancelSessionRequestEs9.h>
#include <CancelSessionResponseEs9.h>
#include <EUICCInfo1.h>
#include <EUICCInfo2.h>
#include <GetEuiccChallengeResponse.h>
#include <GetEuiccDataResponse.h>
#include <EuiccConfiguredAddressesResponse.h>
#include <AuthenticateServerRequest.h>
#include <AuthenticateServerResponse.h>
#include <PrepareDownloadRequest.h>
#include <PrepareDownloadResponse.h>
#include <ServerSigned1.h>
#include <SmdpSigned2.h>
#include <EUICCSigned2.h>
#include <CtxParams1.h>
#include <BoundProfilePackage.h>
#include <InitialiseSecureChannelRequest.h>
#include <StoreMetadataRequest.h>
#include <ProfileInstallationResult.h>
#include <PendingNotification.h>
#include <ListNotificationResponse.h>
#include <RetrieveNotificationsListResponse.h>
#include <NotificationSentResponse.h>
#include <ProfileInfoListRequest.h>
#include <ProfileInfoListResponse.h>
#include <EnableProfileRequest.h>
#include <EnableProfileResponse.h>
#include <DisableProfileRequest.h>
#include <DisableProfileResponse.h>
#include <DeleteProfileRequest.h>
#include <DeleteProfileResponse.h>
#include <SetNicknameRequest.h>
#include <SetNicknameResponse.h>
#include <EuiccMemoryResetRequest.h>
#include <EuiccMemoryResetResponse.h>
#include <NotificationSentRequest.h>
#include <SetDefaultDpAddressRequest.h>
#include <SetDefaultDpAddressResponse.h>
#include <ListNotificationRequest.h>
#include <RetrieveNotificationsListRequest.h>
#include <GetEuiccDataRequest.h>
#include <EuiccConfiguredAddressesRequest.h>
#include <CancelSessionRequest.h>
#include <CancelSessionResponse.h>
#include <LoadCRLResponse.h>
#include <Certificate.h>
#include <CertificateList.h>
#include <ProfileElement.h>

#include "rsp/asn1.hpp"

namespace {
const asn_TYPE_descriptor_t* const kTypes[] = {
#define RSP_FUZZ_ASN1_TYPE(t) &asn_DEF_##t,
#include "asn1_types.inc"
#undef RSP_FUZZ_ASN1_TYPE
};
constexpr std::size_t kCount = sizeof(kTypes) / sizeof(kTypes[0]);
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const asn_TYPE_descriptor_t& td = *kTypes[data[0] % kCount];
  rsp::ByteView der(data + 1, size - 1);
  void* value = nullptr;
  try {
    value = rsp::asn1::decode_raw(td, der);
  } catch (const rsp::asn1::Asn1Error&) {
    return 0;
  }
  rsp::Bytes once;
  try {
    once = rsp::asn1::encode_der(td, value);
  } catch (const rsp::asn1::Asn1Error&) {
    // A value that passed check_constraints on decode must encode.
    std::abort();
  }
  rsp::asn1::free_struct(td, value);
  void* again = rsp::asn1::decode_raw(td, once);  // throws (and so crashes) if our own DER is refused
  rsp::Bytes twice = rsp::asn1::encode_der(td, again);
  rsp::asn1::free_struct(td, again);
  if (once != twice) std::abort();
  return 0;
}
