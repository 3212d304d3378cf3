// The Market on an Ethereum-compatible chain (anvil for tests, Hyperledger
// Besu QBFT/IBFT 2 for a permissioned network): the rules live in the
// Marketplace contract (ledger/contracts/Marketplace.sol), SDRt is an ERC-20
// token, and this handle signs its transactions locally with one secp256k1
// key (the node holds no keys).
//
// Mapping to rsp::ledger::Market:
//   participant ids    the strings of the Marketplace registry; records and events
//                      name participants by number (number -> id and key -> id
//                      cached: neither ever changes); the id -> key map changes
//                      with a key rotation, so it is asked, never cached
//   record ids         bytes32: the id's bytes left-aligned, zero-padded
//   position           block_number * 1'000'000 + log_index of the record's event
//   reference          the transaction hash, "0x..."
//   refused write      the contract reverts "RSP:<code>" -> MarketError{code};
//                      any other failure (node down, timeout, a revert without
//                      an RSP code) is a std::runtime_error, never a MarketError
//
// One handle may be shared by threads: the Sender hands out nonces under a
// lock, JsonRpc serialises its calls, the registry cache has its own lock.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "rsp/eth/abi.hpp"
#include "rsp/eth/address.hpp"
#include "rsp/eth/json_rpc.hpp"
#include "rsp/eth/key.hpp"
#include "rsp/eth/sender.hpp"
#include "rsp/eth/u256.hpp"
#include "rsp/ledger/market.hpp"

namespace rsp::ledger {

inline constexpr std::int64_t kChainPositionsPerBlock = 1'000'000;

struct ChainConfig {
  std::string rpc_url;                  // JSON-RPC over HTTP, e.g. "http://127.0.0.1:8545"
  std::optional<std::uint64_t> chain_id;  // expected; a node on another chain is refused
  eth::Address marketplace{};
  eth::Address sdrt{};
  // Gas fees. Unset = what the node suggests. A free-gas permissioned chain
  // (base fee 0, min gas price 0) sets both to 0, so keys need no ether.
  std::optional<eth::U256> max_fee_per_gas;
  std::optional<eth::U256> max_priority_fee_per_gas;
  std::chrono::milliseconds receipt_timeout{60'000};
  std::uint64_t max_log_range = 2'000;  // blocks per eth_getLogs (nodes cap ranges)
};

class ChainMarket final : public Market {
 public:
  // Connects, checks the chain id, and looks up this key's participant id
  // (an unregistered key still gets a handle: its writes are refused with
  // `not-registered`, and me() is its address).
  ChainMarket(ChainConfig config, eth::Secp256k1Key key);
  ~ChainMarket() override;

  std::string backend() const override { return "chain"; }
  const std::string& me() const override { return me_; }
  Bytes ledger_id() override;

  Receipt mint(const std::string& to, Amount amount) override;
  Receipt publish_offer(const OfferTerms& t) override;
  Receipt withdraw_offer(const std::string& offer_id) override;
  Receipt edit_offer(const OfferEdit& e) override;
  Receipt request(const RequestTerms& t) override;  // approve(escrow), then request
  Receipt accept(const AcceptTerms& t) override;
  Receipt activate(const std::string& request_id, const std::string& plmn) override;
  Receipt report_usage(const UsageReport& u) override;
  // One Marketplace.reportUsageBatch transaction (last_gas_used: its gas).
  std::vector<Receipt> report_usage_batch(const std::vector<UsageReport>& reports) override;
  Receipt refund(const std::string& request_id) override;
  Receipt dispute(const std::string& request_id, const std::string& reason) override;
  Receipt resolve(const std::string& request_id, Resolution r) override;
  Receipt revoke(const std::string& participant) override;
  Receipt set_paused(bool paused) override;
  // `new_key` must be a secp256k1 key with its private part (it becomes this
  // handle's account; on a chain with gas fees it needs ether first).
  Receipt rotate_key(const std::string& participant, std::shared_ptr<crypto::EcKey> new_key) override;

  std::vector<Offer> offers() override;
  std::optional<Offer> offer(const std::string& offer_id) override;
  std::optional<Request> find_request(const std::string& request_id) override;
  std::optional<Accept> find_accept(const std::string& request_id) override;
  Balance balance(const std::string& participant) override;
  bool paused() override;
  std::vector<Event> events_after(std::int64_t position, std::size_t limit = 1000) override;

  // ---- chain specifics ----
  eth::Address address() const;  // the key this handle writes with (changes with rotate_key)
  const ChainConfig& config() const { return config_; }
  eth::JsonRpc& rpc() { return *rpc_; }
  // Registry lookups. key -> id is cached (a key, even rotated out, always
  // names the same participant: keys are never reused); id -> current key
  // is asked each time (it changes when the participant rotates).
  std::optional<std::string> participant_id(const eth::Address& a);
  std::optional<eth::Address> participant_address(const std::string& id);
  // The id of participant number `n` (cached: numbers are permanent).
  std::string participant_at(std::uint32_t n);
  // Gas used by the last successful write (approve + request for request()).
  std::uint64_t last_gas_used() const { return last_gas_used_.load(); }

 private:
  eth::Receipt send(const eth::Address& to, const Bytes& data);
  Receipt receipt_for(const eth::Receipt& r, const eth::Address& contract, const Bytes& topic) const;
  Bytes view(const eth::Address& to, const Bytes& data);
  // The Receipt of a usage record applied before (its UsageReported event).
  Receipt applied_usage(const UsageReport& u);
  std::vector<eth::Log> logs_at(std::uint64_t block, const Bytes& topic, const Bytes& id_topic);
  std::string name_of(const eth::Address& a);  // participant id, or the address if unregistered
  std::string name_at(const eth::AbiValue& number);  // participant id of a number (a uint32 ABI value)
  std::string name_at_topic(const Bytes& topic);     // ... of an indexed number
  std::shared_ptr<eth::Sender> sender() const;
  std::optional<Event> to_event(const eth::Log& log);

  ChainConfig config_;
  std::unique_ptr<eth::JsonRpc> rpc_;
  mutable std::mutex sender_mu_;  // rotate_key swaps the sender
  std::shared_ptr<eth::Sender> sender_;
  eth::SenderConfig sender_config_;
  std::string me_;
  std::uint64_t deployed_at_ = 0;  // Marketplace.deployedAt: where log scans start
  eth::Address issuer_{};  // SDRt.issuer() when the handle was made: the author of mints (any of the admin's keys names it)
  std::mutex cache_mu_;
  std::mutex request_mu_;  // approve + request as one step: the allowance is shared per key
  std::map<eth::Address, std::string> id_of_;
  std::map<std::uint32_t, std::string> id_at_;
  std::atomic<std::uint64_t> last_gas_used_{0};
};

// The small factory the backend-neutral tests use: addresses as "0x..." text.
std::unique_ptr<ChainMarket> make_chain_market(const std::string& rpc_url, const std::string& marketplace,
                                               const std::string& sdrt, const eth::Secp256k1Key& key,
                                               std::optional<std::uint64_t> chain_id = std::nullopt,
                                               bool free_gas = false);

// Record ids <-> bytes32. An id that cannot be written as a bytes32 faithfully
// (over 32 bytes, or holding a NUL) becomes one the contract refuses as an
// invalid id (first byte 0x01), so the contract still names the rule that
// breaks first, in its own order.
Bytes record_id_word(const std::string& id);
std::string record_id_from_word(ByteView word32);

}  // namespace rsp::ledger
