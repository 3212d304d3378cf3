// The contracts' ABI as the C++ side uses it: function signatures, event
// topics and the tuple types their data decodes with. Must match
// ledger/contracts/*.sol (the chain tests exercise every one of them).
#pragma once
#include <cstdint>
#include <string>

#include "rsp/bytes.hpp"
#include "rsp/eth/abi.hpp"
#include "rsp/eth/u256.hpp"

namespace rsp::ledger::chain_abi {

// ---- SDRt ----
inline constexpr const char* kMint = "mint(address,uint256)";
inline constexpr const char* kSetRegistry = "setRegistry(address)";
inline constexpr const char* kApprove = "approve(address,uint256)";
inline constexpr const char* kIssuer = "issuer()";
inline constexpr const char* kTransferEvent = "Transfer(address,address,uint256)";

// ---- Marketplace ----
inline constexpr const char* kRegister = "register(address,string,uint8,address)";
inline constexpr const char* kParticipantOf = "participantOf(address)";  // (string id, uint8 role, bool registered)
// (string id, uint8 role, bool registered, address key): participant by number
inline constexpr const char* kParticipantAt = "participantAt(uint32)";
inline constexpr const char* kAddressOf = "addressOf(string)";  // the participant's current key
inline constexpr const char* kRotateKey = "rotateKey(string,address)";
inline constexpr const char* kKeyRotatedEvent = "KeyRotated(uint32,address,address,uint256)";
inline constexpr const char* kPublishOffer = "publishOffer(bytes32,string,string,uint256[11],bytes)";
inline constexpr const char* kWithdrawOffer = "withdrawOffer(bytes32)";
inline constexpr const char* kEditOffer = "editOffer(bytes32,uint256,uint256,uint256)";
inline constexpr const char* kRequest = "request(bytes32,bytes32,string,bytes,uint256,bytes)";
inline constexpr const char* kAccept = "accept(bytes32,bytes,bytes)";
inline constexpr const char* kActivate = "activate(bytes32,string)";
inline constexpr const char* kReportUsage = "reportUsage(bytes32,bytes32,uint256,uint256[3],uint256,uint256)";
// Marketplace.UsageReportIn[]: (requestId, recordId, reportNo, used, periodStart, periodEnd) per report.
inline constexpr const char* kReportUsageBatch =
    "reportUsageBatch((bytes32,bytes32,uint256,uint256[3],uint256,uint256)[])";
inline constexpr const char* kUsageRecord = "usageRecord(bytes32,bytes32)";  // ((bytes24 content, uint64 blockNumber))
inline constexpr const char* kRefund = "refund(bytes32)";
inline constexpr const char* kDispute = "dispute(bytes32,string)";
inline constexpr const char* kRevoke = "revoke(address)";
inline constexpr const char* kSetPaused = "setPaused(bool)";
inline constexpr const char* kPaused = "paused()";
inline constexpr const char* kRevokedEvent = "Revoked(uint32,uint32,uint256)";
inline constexpr const char* kPauseSetEvent = "PauseSet(bool,uint256)";
inline constexpr const char* kResolve = "resolve(bytes32,bool)";
inline constexpr const char* kOfferCount = "offerCount()";
inline constexpr const char* kOfferIdAt = "offerIdAt(uint256)";
inline constexpr const char* kGetOffer = "getOffer(bytes32)";
inline constexpr const char* kGetRequest = "getRequest(bytes32)";
inline constexpr const char* kBalances = "balances(address)";
inline constexpr const char* kBalancesOf = "balancesOf(string)";
inline constexpr const char* kDeployedAt = "deployedAt()";

// Marketplace.Offer and Marketplace.Request as the views return them;
// parties are participant numbers (uint32), see participantAt.
inline constexpr const char* kOfferTuple =
    "(uint32,uint64,uint64,uint64,uint64,uint64,uint64,uint64,uint64,uint64,uint64,uint64,uint64,uint8,bool)";
enum OfferField {
  O_PROVIDER, O_VALID_UNTIL, O_PRICE, O_TERM, O_STOCK, O_SOLD, O_PER_MB, O_PER_MINUTE, O_PER_SMS, O_BLOCK,
  O_ALLOW_DATA, O_ALLOW_MINUTES, O_ALLOW_SMS, O_KIND, O_WITHDRAWN
};
inline constexpr const char* kRequestTuple =
    "(uint32,uint8,uint64,uint32,uint64,bytes32,uint64,uint64,uint64,uint64,uint64,uint64,bytes6,uint64,uint64,uint64,"
    "uint64,uint64,uint64,uint32,uint64)";
enum RequestField {
  R_HOME, R_STATE, R_USAGE_REPORTS, R_PROVIDER, R_EXPIRES_AT, R_OFFER_ID, R_ESCROW, R_CHARGED,
  R_REQUESTED_AT, R_ACTIVATED_AT, R_BLOCK, R_ACCEPT_BLOCK, R_ACTIVATION_PLMN, R_ANSWER_BY, R_USED_DATA,
  R_USED_MINUTES, R_USED_SMS, R_PERIOD_END, R_ACCEPTED_AT, R_ARBITER, R_HELD
};
enum ContractState : std::uint8_t { S_NONE = 0, S_OPEN, S_ACCEPTED, S_ACTIVE, S_CLOSED, S_DISPUTED };

// Events: the signature (topic 0) and the tuple of their non-indexed fields.
// Parties are participant numbers (an indexed one is its topic word).
inline constexpr const char* kRegisteredEvent = "Registered(uint32,address,string,uint8)";
inline constexpr const char* kOfferEvent = "OfferPublished(bytes32,uint32,string,string,uint256[11],bytes,uint256)";
inline constexpr const char* kOfferData = "(string,string,uint256[11],bytes,uint256)";
inline constexpr const char* kOfferWithdrawnEvent = "OfferWithdrawn(bytes32,uint32,uint256)";
inline constexpr const char* kOfferWithdrawnData = "(uint256)";
inline constexpr const char* kOfferEditedEvent = "OfferEdited(bytes32,uint32,uint256,uint256,uint256,uint256)";
inline constexpr const char* kOfferEditedData = "(uint256,uint256,uint256,uint256)";
inline constexpr const char* kRequestEvent =
    "RequestMade(bytes32,bytes32,uint32,uint32,string,bytes,uint256,bytes,uint256,uint256)";
inline constexpr const char* kRequestData = "(uint32,string,bytes,uint256,bytes,uint256,uint256)";
inline constexpr const char* kAcceptEvent = "Accepted(bytes32,uint32,uint32,bytes32,bytes,uint256)";
inline constexpr const char* kAcceptData = "(uint32,bytes32,bytes,uint256)";
inline constexpr const char* kActivateEvent = "Activated(bytes32,uint32,uint32,string,uint256)";
inline constexpr const char* kActivateData = "(uint32,string,uint256)";
inline constexpr const char* kUsageEvent =
    "UsageReported(bytes32,uint32,uint32,bytes32,uint256,uint256[3],uint256,uint256,uint256,uint256)";
inline constexpr const char* kUsageData = "(uint32,bytes32,uint256,uint256[3],uint256,uint256,uint256,uint256)";
inline constexpr const char* kRefundEvent = "Refunded(bytes32,uint32,uint32,uint256,uint256)";
inline constexpr const char* kRefundData = "(uint32,uint256,uint256)";
inline constexpr const char* kReleaseEvent = "Released(bytes32,uint32,uint32,uint32,uint256,uint256)";
inline constexpr const char* kReleaseData = "(uint32,uint32,uint256,uint256)";
inline constexpr const char* kDisputeEvent = "Disputed(bytes32,uint32,uint32,uint32,string,uint256)";
inline constexpr const char* kDisputeData = "(uint32,uint32,string,uint256)";
inline constexpr const char* kResolveEvent = "Resolved(bytes32,uint32,uint32,uint32,uint256,uint256)";
inline constexpr const char* kResolveData = "(uint32,uint32,uint256,uint256)";

// C++ int64 fields travel as uint256: a negative value sign-extended (what
// Solidity's int64 -> uint256 would give), so the contract sees it as
// >= 2^63 and refuses it where the rules need a non-negative number.
eth::U256 int_word(std::int64_t v);
// The low 64 bits as int64: exact for everything the contract accepted.
std::int64_t word_int(const eth::U256& v);

}  // namespace rsp::ledger::chain_abi
