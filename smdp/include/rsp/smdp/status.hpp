// ES9+/ES2+ function execution status (SGP.22 6.5.1.4 / 6.5.2): a failed
// function answers HTTP 200 with header.functionExecutionStatus = Failed and
// statusCodeData {subjectCode, reasonCode, message}.
#pragma once
#include <stdexcept>
#include <string>

namespace rsp::smdp {

struct FunctionError : std::runtime_error {
  std::string subject_code, reason_code;
  FunctionError(std::string subject, std::string reason, const std::string& message)
      : std::runtime_error(message), subject_code(std::move(subject)), reason_code(std::move(reason)) {}
};

// Subject and reason codes used by ES9+ (SGP.22 v2.2.2 5.6, Annex: Subject
// Code / Reason Code tables).
namespace code {
// subject codes
inline constexpr const char* kEuicc = "8.1";
inline constexpr const char* kEid = "8.1.1";
inline constexpr const char* kEumCertificate = "8.1.2";
inline constexpr const char* kEuiccCertificate = "8.1.3";
inline constexpr const char* kProfile = "8.2";
inline constexpr const char* kProfileIccid = "8.2.1";
inline constexpr const char* kMatchingId = "8.2.6";
inline constexpr const char* kConfirmationCode = "8.2.7";
inline constexpr const char* kSmdpAddress = "8.8.1";
inline constexpr const char* kSecurityConfiguration = "8.8.2";
inline constexpr const char* kSpecificationVersion = "8.8.3";
inline constexpr const char* kDpAuthCertificate = "8.8.4";
inline constexpr const char* kTransactionId = "8.10.1";
inline constexpr const char* kCiPublicKey = "8.11.1";
// Malformed requests (a field missing, not base64, not the DER it should be)
// are reported against the function provider with reason 2.x; a body that is
// not JSON at all gets HTTP 400 (SGP.22 6.5.1).
inline constexpr const char* kFunctionProvider = "1.2";
// reason codes
inline constexpr const char* kMandatoryElementMissing = "2.2";
inline constexpr const char* kInvalid = "2.1";
inline constexpr const char* kUnsupported = "3.1";
inline constexpr const char* kConditionsNotSatisfied = "3.7";
inline constexpr const char* kRefused = "3.8";
inline constexpr const char* kUnknown = "3.9";
inline constexpr const char* kVerificationFailed = "6.1";
inline constexpr const char* kExpired = "6.3";
inline constexpr const char* kMaxRetriesExceeded = "6.4";
inline constexpr const char* kNoEligibleProfile = "4.3";
}  // namespace code

}  // namespace rsp::smdp
