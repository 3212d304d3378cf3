#include "rsp/eth/sender.hpp"

#include <algorithm>
#include <cctype>
#include <thread>

#include "rsp/eth/transaction.hpp"
#include "rsp/http_client.hpp"

namespace rsp::eth {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The node refused the nonce because another writer used it (or the node
// already has it): anvil/geth say "nonce too low", "already known",
// "replacement transaction underpriced"; Besu "Nonce too low", "Known
// transaction", "Replacement transaction underpriced".
bool nonce_conflict(const RpcError& e) {
  std::string m = lower(e.message);
  for (const char* s : {"nonce too low", "nonce is too low", "nonce_too_low", "already known", "known transaction",
                        "replacement transaction underpriced", "transaction_replacement_underpriced"})
    if (m.find(s) != std::string::npos) return true;
  return false;
}

// eth_call / eth_estimateGas hit a revert (not a node or argument problem):
// geth and anvil use code 3, Besu -32000 "Execution reverted".
bool is_revert(const RpcError& e) {
  return e.code == 3 || e.revert_reason.has_value() || lower(e.message).find("revert") != std::string::npos;
}

std::string reverted_what(const std::optional<std::string>& reason, bool on_chain) {
  if (reason) return "transaction reverted: " + *reason;
  return on_chain ? "transaction failed (status 0) with no revert reason (out of gas?)"
                  : "transaction reverted with no reason";
}

}  // namespace

TxReverted::TxReverted(std::optional<std::string> r, Bytes data, std::string hash, std::optional<Receipt> rc)
    : std::runtime_error(reverted_what(r, rc.has_value())), reason(std::move(r)), revert_data(std::move(data)),
      tx_hash(std::move(hash)), receipt(std::move(rc)) {}

ReceiptTimeout::ReceiptTimeout(std::string hash)
    : std::runtime_error("no receipt for " + hash + " before the timeout"), tx_hash(std::move(hash)) {}

Sender::Sender(JsonRpc& rpc, Secp256k1Key key, SenderConfig config)
    : rpc_(rpc), key_(std::move(key)), config_(std::move(config)) {
  try {
    chain_id_ = rpc_.chain_id();
  } catch (const std::exception& e) {
    throw SenderError("eth_chainId at " + rpc_.url() + " failed: " + e.what());
  }
  if (config_.chain_id && *config_.chain_id != chain_id_)
    throw SenderError("chain id mismatch: configured " + std::to_string(*config_.chain_id) + ", node at " + rpc_.url() +
                      " reports " + std::to_string(chain_id_));
  nonce_ = rpc_.get_transaction_count(key_.address(), "pending");
}

void Sender::resync_nonce() {
  std::lock_guard lock(mu_);
  nonce_ = rpc_.get_transaction_count(key_.address(), "pending");
}

std::uint64_t Sender::next_nonce() const {
  std::lock_guard lock(mu_);
  return nonce_;
}

Sender::FeeCache Sender::fees() {
  if (config_.max_fee_per_gas && (config_.legacy || config_.max_priority_fee_per_gas)) {
    FeeCache f;
    f.max_fee = *config_.max_fee_per_gas;
    f.priority = config_.max_priority_fee_per_gas.value_or(U256(0));
    f.valid = true;
    return f;
  }
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    if (fee_cache_.valid && now - fee_cache_.at < config_.fee_refresh) return fee_cache_;
  }
  FeeCache f;  // asked outside the lock: the node may be slow
  if (config_.legacy) {
    f.max_fee = config_.max_fee_per_gas.value_or(rpc_.gas_price());
  } else {
    JsonRpc::Fees s = rpc_.suggest_fees();
    f.priority = config_.max_priority_fee_per_gas.value_or(s.max_priority_fee_per_gas);
    f.max_fee = config_.max_fee_per_gas.value_or(s.max_fee_per_gas);
    if (f.max_fee < f.priority) f.max_fee = f.priority;  // EIP-1559 requires max_fee >= priority
  }
  f.at = now;
  f.valid = true;
  std::lock_guard lock(mu_);
  fee_cache_ = f;
  return f;
}

Bytes Sender::sign(const std::optional<Address>& to, ByteView data, const U256& value, std::uint64_t gas,
                   std::uint64_t nonce, const FeeCache& f) const {
  if (config_.legacy) {
    LegacyTx t;
    t.chain_id = chain_id_;
    t.nonce = nonce;
    t.gas_price = f.max_fee;
    t.gas_limit = gas;
    t.to = to;
    t.value = value;
    t.data.assign(data.begin(), data.end());
    return t.signed_raw(key_);
  }
  Eip1559Tx t;
  t.chain_id = chain_id_;
  t.nonce = nonce;
  t.max_priority_fee_per_gas = f.priority;
  t.max_fee_per_gas = f.max_fee;
  t.gas_limit = gas;
  t.to = to;
  t.value = value;
  t.data.assign(data.begin(), data.end());
  return t.signed_raw(key_);
}

std::string Sender::send(const std::optional<Address>& to, ByteView data, const U256& value,
                         std::optional<std::uint64_t> gas_limit) {
  CallRequest call;
  call.from = key_.address();
  call.to = to;
  call.data.assign(data.begin(), data.end());
  call.value = value;
  std::uint64_t gas = 0;
  try {
    if (gas_limit) {
      gas = *gas_limit;
      if (config_.preflight) rpc_.eth_call(call, "latest");
    } else {
      // eth_estimateGas executes the call too: it is the preflight.
      std::uint64_t est = rpc_.estimate_gas(call);
      gas = est + est * config_.gas_margin_percent / 100;
    }
  } catch (const RpcError& e) {
    if (is_revert(e)) throw TxReverted(e.revert_reason, e.revert_data(), "", std::nullopt);
    throw;
  }
  FeeCache f = fees();

  // The nonce is taken and advanced under the lock around sign + send, so
  // that a refused send does not leave a gap that would block every later
  // transaction of this key. This serialises sends of one Sender; the HTTP
  // client serialises them anyway.
  std::lock_guard lock(mu_);
  for (int attempt = 0;; ++attempt) {
    Bytes raw = sign(to, data, value, gas, nonce_, f);
    try {
      std::string hash = rpc_.send_raw_transaction(raw);
      ++nonce_;
      return hash;
    } catch (const RpcError& e) {
      if (attempt == 0 && nonce_conflict(e)) {
        nonce_ = rpc_.get_transaction_count(key_.address(), "pending");
        continue;
      }
      throw;
    } catch (const http::HttpError&) {
      // Unknown whether the node took it: its pending count says.
      try {
        nonce_ = rpc_.get_transaction_count(key_.address(), "pending");
      } catch (const std::exception&) {
      }
      throw;
    }
  }
}

Receipt Sender::wait_for_receipt(const std::string& tx_hash) {
  auto deadline = std::chrono::steady_clock::now() + config_.receipt_timeout;
  for (;;) {
    try {
      if (auto r = rpc_.get_transaction_receipt(tx_hash)) return *r;
    } catch (const http::HttpError&) {
      // A transient transport failure: keep polling until the deadline.
    }
    if (std::chrono::steady_clock::now() + config_.poll_interval > deadline) throw ReceiptTimeout(tx_hash);
    std::this_thread::sleep_for(config_.poll_interval);
  }
}

std::optional<std::string> Sender::replay_revert_reason(const Receipt& receipt, const std::optional<Address>& to,
                                                        ByteView data, const U256& value) {
  return replay(receipt, to, data, value).reason;
}

Sender::Replay Sender::replay(const Receipt& receipt, const std::optional<Address>& to, ByteView data,
                              const U256& value) {
  CallRequest call;
  call.from = key_.address();
  call.to = to;
  call.data.assign(data.begin(), data.end());
  call.value = value;
  try {
    rpc_.eth_call(call, receipt.block_number);
  } catch (const RpcError& e) {
    return {e.revert_reason, e.revert_data()};
  }
  return {};  // succeeds now: state changed since, or it ran out of gas
}

Receipt Sender::send_and_wait(const std::optional<Address>& to, ByteView data, const U256& value,
                              std::optional<std::uint64_t> gas_limit) {
  std::string hash = send(to, data, value, gas_limit);
  Receipt r = wait_for_receipt(hash);
  if (!r.status) {
    Replay why = replay(r, to, data, value);
    throw TxReverted(std::move(why.reason), std::move(why.data), hash, r);
  }
  return r;
}

}  // namespace rsp::eth
