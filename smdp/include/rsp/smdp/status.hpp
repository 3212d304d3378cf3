// ES9+/ES2+ function execution status (SGP.22 v2.2.2 6.5.1.4 / 6.5.2): a
// failed function answers HTTP 200 with header.functionExecutionStatus =
// Failed and statusCodeData {subjectCode, reasonCode, message}.
//
// Every status code the SM-DP+ sends is named once below, and listed in
// kStatusTable with the function and the SGP.22 v2.2.2 section whose
// "Specific Status Codes" table defines it. docs/sgp22-status-codes.md is
// checked against kStatusTable by tests/smdp/status_table_test.cpp.
#pragma once
#include <stdexcept>
#include <string>
#include <string_view>

namespace rsp::smdp {

// A subject code / reason code pair (SGP.22 5.2.6.1 / 5.2.6.2).
struct StatusCode {
  std::string_view subject, reason;
};

struct FunctionError : std::runtime_error {
  std::string subject_code, reason_code;
  FunctionError(std::string subject, std::string reason, const std::string& message)
      : std::runtime_error(message), subject_code(std::move(subject)), reason_code(std::move(reason)) {}
  FunctionError(StatusCode c, const std::string& message)
      : FunctionError(std::string(c.subject), std::string(c.reason), message) {}
};

// Subject and reason codes by name (SGP.22 5.2.6.1 / 5.2.6.2).
namespace code {
// subject codes
inline constexpr const char* kEuicc = "8.1";
inline constexpr const char* kEid = "8.1.1";
inline constexpr const char* kEumCertificate = "8.1.2";
inline constexpr const char* kEuiccCertificate = "8.1.3";
inline constexpr const char* kProfile = "8.2";
inline constexpr const char* kProfileIccid = "8.2.1";
inline constexpr const char* kProfileType = "8.2.5";
inline constexpr const char* kMatchingId = "8.2.6";
inline constexpr const char* kConfirmationCode = "8.2.7";
inline constexpr const char* kSmdp = "8.8";
inline constexpr const char* kSmdpAddress = "8.8.1";
inline constexpr const char* kSecurityConfiguration = "8.8.2";
inline constexpr const char* kSpecificationVersion = "8.8.3";
inline constexpr const char* kDpAuthCertificate = "8.8.4";
inline constexpr const char* kDownloadOrder = "8.8.5";
inline constexpr const char* kSmds = "8.9";
inline constexpr const char* kTransactionId = "8.10.1";
inline constexpr const char* kCiPublicKey = "8.11.1";
// Malformed requests (a field missing, not base64, not the DER it should be)
// are reported against the function provider with reason 2.x; a body that is
// not JSON at all gets HTTP 400 (SGP.22 6.5.1).
inline constexpr const char* kFunctionProvider = "1.2";
// reason codes
inline constexpr const char* kNotAllowed = "1.2";
inline constexpr const char* kInvalid = "2.1";
inline constexpr const char* kMandatoryElementMissing = "2.2";
inline constexpr const char* kUnsupported = "3.1";
inline constexpr const char* kAlreadyInUse = "3.3";
inline constexpr const char* kInvalidTransition = "3.5";
inline constexpr const char* kConditionsNotSatisfied = "3.7";  // "Unavailable"
inline constexpr const char* kRefused = "3.8";
inline constexpr const char* kUnknown = "3.9";
inline constexpr const char* kInvalidAssociation = "3.10";
inline constexpr const char* kExecutionError = "4.2";
inline constexpr const char* kNoEligibleProfile = "4.3";  // "Stopped on warning"
inline constexpr const char* kInsufficientMemory = "4.8";
inline constexpr const char* kTimeToLiveExpired = "4.10";
inline constexpr const char* kInaccessible = "5.1";
inline constexpr const char* kVerificationFailed = "6.1";
inline constexpr const char* kExpired = "6.3";
inline constexpr const char* kMaxRetriesExceeded = "6.4";
}  // namespace code

// The codes the SM-DP+ sends, by what they mean.
namespace status {
// generic (SGP.22 6.5.1.4; JSON binding)
inline constexpr StatusCode kInvalidRequest{"1.2", "2.1"};
inline constexpr StatusCode kMandatoryElementMissing{"1.2", "2.2"};
inline constexpr StatusCode kRequesterNotAllowed{"1.1", "1.2"};
// ES9+
inline constexpr StatusCode kSmdpAddressRefused{"8.8.1", "3.8"};
inline constexpr StatusCode kNoSupportedCiForSigning{"8.8.2", "3.1"};
inline constexpr StatusCode kSvnUnsupported{"8.8.3", "3.1"};
inline constexpr StatusCode kNoDpAuthForVerificationCi{"8.8.4", "3.7"};
inline constexpr StatusCode kEumInvalid{"8.1.2", "6.1"};
inline constexpr StatusCode kEumExpired{"8.1.2", "6.3"};
inline constexpr StatusCode kEuiccCertInvalid{"8.1.3", "6.1"};
inline constexpr StatusCode kEuiccCertExpired{"8.1.3", "6.3"};
inline constexpr StatusCode kEuiccSignatureInvalid{"8.1", "6.1"};
inline constexpr StatusCode kEuiccRefused{"8.1", "3.8"};
inline constexpr StatusCode kUnknownCi{"8.11.1", "3.9"};
inline constexpr StatusCode kProfileNotReleased{"8.2", "1.2"};
inline constexpr StatusCode kUnknownTransaction{"8.10.1", "3.9"};
inline constexpr StatusCode kMatchingIdRefused{"8.2.6", "3.8"};
inline constexpr StatusCode kEidRefused{"8.1.1", "3.8"};
inline constexpr StatusCode kNoEligibleProfile{"8.2.5", "4.3"};
inline constexpr StatusCode kInsufficientMemory{"8.1", "4.8"};
inline constexpr StatusCode kDownloadOrderExpired{"8.8.5", "4.10"};
inline constexpr StatusCode kDownloadRetriesExceeded{"8.8.5", "6.4"};
inline constexpr StatusCode kBppUnavailable{"8.2", "3.7"};
inline constexpr StatusCode kSmdpOidInvalid{"8.8", "3.10"};
inline constexpr StatusCode kCcMissing{"8.2.7", "2.2"};
inline constexpr StatusCode kCcRefused{"8.2.7", "3.8"};
inline constexpr StatusCode kCcRetriesExceeded{"8.2.7", "6.4"};
inline constexpr StatusCode kInstallFailed{"8.2", "4.2"};  // HandleDownloadProgressInfo point 4, failed PIR
// ES2+
inline constexpr StatusCode kEidInvalid{"8.1.1", "2.1"};
inline constexpr StatusCode kEidMissing{"8.1.1", "2.2"};
inline constexpr StatusCode kEidDiffers{"8.1.1", "3.10"};
inline constexpr StatusCode kIccidUnknown{"8.2.1", "3.9"};
inline constexpr StatusCode kIccidInUse{"8.2.1", "3.3"};
inline constexpr StatusCode kIccidWrongState{"8.2.1", "3.8"};
inline constexpr StatusCode kIccidNotReleasable{"8.2.1", "3.5"};
inline constexpr StatusCode kProfileTypeUnknown{"8.2.5", "3.9"};
inline constexpr StatusCode kProfileTypeUnavailable{"8.2.5", "3.7"};
inline constexpr StatusCode kProfileTypeMismatch{"8.2.5", "3.8"};
inline constexpr StatusCode kMatchingIdMissing{"8.2.6", "2.2"};
inline constexpr StatusCode kMatchingIdInUse{"8.2.6", "3.3"};
inline constexpr StatusCode kMatchingIdDiffers{"8.2.6", "3.10"};
inline constexpr StatusCode kSmdsInaccessible{"8.9", "5.1"};
}  // namespace status

// One row of the table: which function sends the code, and the SGP.22
// v2.2.2 section whose table it comes from.
struct StatusRow {
  std::string_view function;
  StatusCode code;
  std::string_view section;
  std::string_view meaning;
};

inline constexpr StatusRow kStatusTable[] = {
    // any function: the generic subject/reason codes (5.2.6)
    {"(any)", status::kInvalidRequest, "5.2.6", "a field is not valid base64, hex or the DER it should be"},
    {"(any)", status::kMandatoryElementMissing, "5.2.6", "a mandatory field is missing"},
    {"(any ES2+)", status::kRequesterNotAllowed, "5.2.6", "functionRequesterIdentifier is not the authenticated operator"},
    // ES9+.InitiateAuthentication
    {"InitiateAuthentication", status::kSmdpAddressRefused, "5.6.1", "smdpAddress is not this SM-DP+"},
    {"InitiateAuthentication", status::kNoSupportedCiForSigning, "5.6.1",
     "none of euiccCiPKIdListForSigning is a CI the SM-DP+ trusts"},
    {"InitiateAuthentication", status::kSvnUnsupported, "5.6.1", "the eUICC's SGP.22 version is not supported"},
    {"InitiateAuthentication", status::kNoDpAuthForVerificationCi, "5.6.1",
     "no CERT.DPauth under a CI in euiccCiPKIdListForVerification"},
    // ES9+.AuthenticateClient
    {"AuthenticateClient", status::kEumInvalid, "5.6.3",
     "CERT.EUM does not verify or chain (no authorityKeyIdentifier, not the announced CI), or a loaded CRL revokes it"},
    {"AuthenticateClient", status::kEumExpired, "5.6.3", "CERT.EUM expired"},
    {"AuthenticateClient", status::kEuiccCertInvalid, "5.6.3", "CERT.EUICC does not verify, or its EID is outside the EUM's"},
    {"AuthenticateClient", status::kEuiccCertExpired, "5.6.3", "CERT.EUICC expired"},
    {"AuthenticateClient", status::kEuiccSignatureInvalid, "5.6.3", "euiccSignature1 or serverChallenge invalid"},
    {"AuthenticateClient", status::kUnknownCi, "5.6.3", "CERT.EUM is issued by a CI the SM-DP+ does not know"},
    {"AuthenticateClient", status::kProfileNotReleased, "5.6.3", "the profile is not released for download"},
    {"AuthenticateClient", status::kUnknownTransaction, "5.6.3", "unknown, finished or expired RSP session"},
    {"AuthenticateClient", status::kMatchingIdRefused, "5.6.3", "unknown matchingId"},
    {"AuthenticateClient", status::kEidRefused, "5.6.3",
     "the order is associated with another EID, or no order for this EID (default SM-DP+)"},
    {"AuthenticateClient", status::kDownloadOrderExpired, "5.6.3", "the download order has expired"},
    {"AuthenticateClient", status::kEuiccRefused, "5.6.3",
     "the eUICC answered AuthenticateServer with an error (our choice: not in SGP.22's table)"},
    {"AuthenticateClient", status::kDownloadRetriesExceeded, "5.6.3",
     "download attempts (or confirmation code attempts) of the order exhausted"},
    {"AuthenticateClient", status::kNoEligibleProfile, "5.6.3",
     "eligibility check failed: profile package version, ppVersion, forbidden PPRs or device capabilities"},
    {"AuthenticateClient", status::kInsufficientMemory, "5.6.3",
     "the eUICC's free non-volatile memory (extCardResource) is less than the profile needs"},
    // ES9+.GetBoundProfilePackage
    {"GetBoundProfilePackage", status::kEuiccSignatureInvalid, "5.6.2", "euiccSignature2 invalid"},
    {"GetBoundProfilePackage", status::kBppUnavailable, "5.6.2", "the session no longer holds its profile"},
    {"GetBoundProfilePackage", status::kUnknownTransaction, "5.6.2", "unknown, finished or expired RSP session"},
    {"GetBoundProfilePackage", status::kCcMissing, "5.6.2", "hashCc missing where a confirmation code is required"},
    {"GetBoundProfilePackage", status::kCcRefused, "5.6.2", "wrong confirmation code, retries left"},
    {"GetBoundProfilePackage", status::kCcRetriesExceeded, "5.6.2", "wrong confirmation code, no retries left"},
    {"GetBoundProfilePackage", status::kDownloadOrderExpired, "5.6.2", "the download order has expired"},
    {"GetBoundProfilePackage", status::kEuiccRefused, "5.6.2",
     "the eUICC answered PrepareDownload with an error (our choice: not in SGP.22's table)"},
    // ES9+.HandleNotification: SGP.22 defines no specific codes (the LPA
    // gets HTTP 204 either way in practice); these are what we log and answer.
    {"HandleNotification", status::kUnknownTransaction, "5.6.4", "a PIR for a session we do not know (our choice)"},
    {"HandleNotification", status::kEuiccSignatureInvalid, "5.6.4", "the notification's signature does not verify (our choice)"},
    {"HandleNotification", status::kSmdpOidInvalid, "5.6.4",
     "smdpOid in ProfileInstallationResultData is not this SM-DP+'s (as for CancelSession)"},
    // ES9+.CancelSession
    {"CancelSession", status::kUnknownTransaction, "5.6.5", "unknown or finished RSP session"},
    {"CancelSession", status::kEuiccSignatureInvalid, "5.6.5", "euiccCancelSessionSignature invalid"},
    {"CancelSession", status::kSmdpOidInvalid, "5.6.5", "smdpOid in euiccCancelSessionSigned is not this SM-DP+'s"},
    {"CancelSession", status::kEuiccRefused, "5.6.5", "cancelSessionResponseError (our choice: not in SGP.22's table)"},
    // ES2+.DownloadOrder
    {"DownloadOrder", status::kEidInvalid, "5.3.1", "EID is not 32 digits"},
    {"DownloadOrder", status::kIccidUnknown, "5.3.1", "unknown ICCID (or another operator's)"},
    {"DownloadOrder", status::kIccidInUse, "5.3.1", "the ICCID is not available"},
    {"DownloadOrder", status::kProfileTypeUnknown, "5.3.1", "no profile of this profileType exists"},
    {"DownloadOrder", status::kProfileTypeUnavailable, "5.3.1", "no profile of this profileType is left"},
    {"DownloadOrder", status::kProfileTypeMismatch, "5.3.1", "the ICCID is not of the requested profileType"},
    // ES2+.ConfirmOrder
    {"ConfirmOrder", status::kIccidUnknown, "5.3.2", "unknown ICCID (or another operator's)"},
    {"ConfirmOrder", status::kIccidWrongState, "5.3.2", "the profile is not allocated or linked (our choice)"},
    {"ConfirmOrder", status::kEidMissing, "5.3.2", "no EID where one is mandatory (empty matchingId, or smdsAddress)"},
    {"ConfirmOrder", status::kEidDiffers, "5.3.2", "EID differs from the one of DownloadOrder"},
    {"ConfirmOrder", status::kMatchingIdInUse, "5.3.2", "matchingId already used by another order"},
    {"ConfirmOrder", status::kSmdsInaccessible, "5.3.2", "smdsAddress given: no SM-DS can be reached (ES12 not supported)"},
    // ES2+.CancelOrder
    {"CancelOrder", status::kIccidUnknown, "5.3.3", "unknown ICCID (or another operator's)"},
    {"CancelOrder", status::kIccidWrongState, "5.3.3", "no order to cancel, or the profile is being downloaded (our choice)"},
    {"CancelOrder", status::kEidDiffers, "5.3.3", "EID differs from the order's"},
    {"CancelOrder", status::kMatchingIdDiffers, "5.3.3", "matchingId differs from the order's"},
    // ES2+.ReleaseProfile
    {"ReleaseProfile", status::kIccidUnknown, "5.3.4", "unknown ICCID (or another operator's)"},
    {"ReleaseProfile", status::kIccidNotReleasable, "5.3.4", "the profile is not in a state that can be released"},
    // ES2+.HandleDownloadProgressInfo (sent by the SM-DP+)
    {"HandleDownloadProgressInfo", status::kInstallFailed, "5.3.5", "notificationPointId 4: the eUICC could not install"},
};

}  // namespace rsp::smdp
