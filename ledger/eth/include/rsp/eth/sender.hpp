// Sends transactions from one key on one chain: local signing (EIP-1559, or
// legacy EIP-155), one nonce counter per key, receipts by polling, revert
// reasons brought back as text.
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include "rsp/bytes.hpp"
#include "rsp/eth/json_rpc.hpp"
#include "rsp/eth/key.hpp"
#include "rsp/eth/u256.hpp"

namespace rsp::eth {

struct SenderConfig {
  // Expected chain id: the constructor refuses a node that reports another
  // one (SenderError). nullopt = take the node's.
  std::optional<std::uint64_t> chain_id;
  // eth_call the transaction before sending it, so a revert is reported
  // (TxReverted, no tx_hash) without spending a nonce or gas.
  bool preflight = true;
  std::chrono::milliseconds poll_interval{100};      // eth_getTransactionReceipt polling
  std::chrono::milliseconds receipt_timeout{60'000}; // send_and_wait gives up after this
  // Fees. Unset = asked from the node (JsonRpc::suggest_fees), refreshed at
  // most every fee_refresh. A free-gas permissioned chain can set both to 0.
  std::optional<U256> max_fee_per_gas;
  std::optional<U256> max_priority_fee_per_gas;
  std::chrono::milliseconds fee_refresh{10'000};
  // Legacy (EIP-155) transactions with gas_price = max_fee_per_gas (or
  // eth_gasPrice), for chains without EIP-1559.
  bool legacy = false;
  // Gas when the caller gives none: eth_estimateGas * (100 + margin)% .
  unsigned gas_margin_percent = 25;
};

// Construction failed: chain id mismatch, node unreachable.
struct SenderError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The transaction reverted: in preflight (tx_hash empty, no receipt) or on
// chain (receipt.status == false). `reason` is the Error(string) message
// (e.g. "RSP:beyond-escrow") when one was found; what() says the same.
struct TxReverted : std::runtime_error {
  TxReverted(std::optional<std::string> reason, Bytes revert_data, std::string tx_hash,
             std::optional<Receipt> receipt);
  std::optional<std::string> reason;
  Bytes revert_data;
  std::string tx_hash;  // "" when caught by preflight
  std::optional<Receipt> receipt;
};

// No receipt within receipt_timeout: the transaction may still be mined later.
struct ReceiptTimeout : std::runtime_error {
  explicit ReceiptTimeout(std::string hash);
  std::string tx_hash;
};

class Sender {
 public:
  // Reads eth_chainId (checked against config.chain_id) and the key's
  // "pending" transaction count. `rpc` must outlive the Sender.
  Sender(JsonRpc& rpc, Secp256k1Key key, SenderConfig config = {});

  const Address& address() const { return key_.address(); }
  std::uint64_t chain_id() const { return chain_id_; }
  JsonRpc& rpc() { return rpc_; }

  // Signs and sends; returns the transaction hash "0x...". `to` nullopt =
  // contract creation with `data` as init code. gas_limit nullopt =
  // estimated. Thread-safe: nonces are handed out under a mutex, in send
  // order. On "nonce too low" / "already known" / "replacement underpriced"
  // (another writer used the key) the nonce is re-read from the node and the
  // send retried once. Throws TxReverted (preflight), RpcError, HttpError.
  std::string send(const std::optional<Address>& to, ByteView data, const U256& value = 0,
                   std::optional<std::uint64_t> gas_limit = std::nullopt);
  // send() then wait_for_receipt(); a status-0 receipt throws TxReverted
  // with the reason found by replaying the call with eth_call at the
  // receipt's block (the state after that block: close to, not exactly, the
  // state the transaction saw).
  Receipt send_and_wait(const std::optional<Address>& to, ByteView data, const U256& value = 0,
                        std::optional<std::uint64_t> gas_limit = std::nullopt);
  // Polls until mined or receipt_timeout (ReceiptTimeout). Returns failed
  // receipts as they are (no replay, no throw).
  Receipt wait_for_receipt(const std::string& tx_hash);
  // For a failed receipt of a transaction this Sender sent: the revert
  // reason by eth_call replay (nullopt when none is found).
  std::optional<std::string> replay_revert_reason(const Receipt& receipt, const std::optional<Address>& to,
                                                  ByteView data, const U256& value);

  // Re-reads the "pending" count from the node.
  void resync_nonce();
  std::uint64_t next_nonce() const;

 private:
  struct FeeCache {
    U256 max_fee, priority;
    std::chrono::steady_clock::time_point at{};
    bool valid = false;
  };
  struct Replay {
    std::optional<std::string> reason;
    Bytes data;
  };
  Replay replay(const Receipt& receipt, const std::optional<Address>& to, ByteView data, const U256& value);
  FeeCache fees();
  Bytes sign(const std::optional<Address>& to, ByteView data, const U256& value, std::uint64_t gas,
             std::uint64_t nonce, const FeeCache& f) const;

  JsonRpc& rpc_;
  const Secp256k1Key key_;
  SenderConfig config_;
  std::uint64_t chain_id_ = 0;
  mutable std::mutex mu_;  // nonce_ and fee cache
  std::uint64_t nonce_ = 0;
  FeeCache fee_cache_;
};

}  // namespace rsp::eth
