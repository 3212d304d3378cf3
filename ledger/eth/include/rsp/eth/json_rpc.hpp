// Ethereum JSON-RPC 2.0 over HTTP (rsp::http::Client), the subset a client
// that signs locally needs. Works with anvil and Hyperledger Besu.
//
// Every call is bounded by JsonRpcConfig::timeout (whole HTTP transfer).
// Calls are serialised on one connection (rsp::http::Client holds a mutex), so
// one JsonRpc may be shared between threads; use several for parallel calls.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "rsp/bytes.hpp"
#include "rsp/eth/address.hpp"
#include "rsp/eth/u256.hpp"

namespace rsp::http {
class Client;
}

namespace rsp::eth {

// A JSON-RPC error object from the node. For reverts (eth_call,
// eth_estimateGas) `data` holds the revert data as the node sent it (hex
// text, usually) and `revert_reason` the decoded Error(string) when present.
struct RpcError : std::runtime_error {
  RpcError(int code, std::string message, std::string data);
  int code;
  std::string message;
  std::string data;  // error.data: a string as given, other JSON dumped; "" if absent
  std::optional<std::string> revert_reason;
  Bytes revert_data() const;  // `data` parsed as hex when it is hex, else empty
};

// The transport failed or the node answered something that is not JSON-RPC
// (HTTP status, bad JSON, missing fields).
struct RpcTransportError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Log {
  Address address{};
  std::vector<Bytes> topics;  // 32 bytes each; topics[0] is the event topic
  Bytes data;
  std::uint64_t block_number = 0;
  std::uint64_t log_index = 0;
  std::uint64_t tx_index = 0;
  Bytes tx_hash;
  Bytes block_hash;
  bool removed = false;
};

struct Receipt {
  Bytes tx_hash;
  bool status = false;  // true = success (status 0x1)
  std::uint64_t block_number = 0;
  Bytes block_hash;
  std::uint64_t gas_used = 0;
  U256 effective_gas_price;
  Address from{};
  std::optional<Address> to;
  std::optional<Address> contract_address;
  std::vector<Log> logs;
};

// eth_call / eth_estimateGas transaction object.
struct CallRequest {
  std::optional<Address> from;
  std::optional<Address> to;  // nullopt = simulate a contract creation
  Bytes data;
  U256 value;
  std::optional<std::uint64_t> gas;
};

// eth_getLogs filter. Topic position i matches any of topics[i]; an empty
// vector at a position (or no position) matches anything.
struct LogFilter {
  std::uint64_t from_block = 0;
  std::uint64_t to_block = 0;
  std::vector<Address> addresses;  // empty = any contract
  std::vector<std::vector<Bytes>> topics;
};

struct JsonRpcConfig {
  std::chrono::milliseconds connect_timeout{3'000};
  std::chrono::milliseconds timeout{15'000};  // per call, whole transfer
};

class JsonRpc {
 public:
  explicit JsonRpc(std::string url, JsonRpcConfig config = {});
  ~JsonRpc();
  JsonRpc(const JsonRpc&) = delete;
  JsonRpc& operator=(const JsonRpc&) = delete;

  const std::string& url() const { return url_; }

  // One request; returns "result". Throws RpcError (node error object) or
  // RpcTransportError / rsp::http::HttpError.
  nlohmann::json call(std::string_view method, nlohmann::json params = nlohmann::json::array());

  std::uint64_t chain_id();      // eth_chainId
  std::uint64_t block_number();  // eth_blockNumber
  // eth_getTransactionCount; block "pending" counts the node's pool too.
  std::uint64_t get_transaction_count(const Address& a, std::string_view block = "pending");
  U256 get_balance(const Address& a, std::string_view block = "latest");
  Bytes get_code(const Address& a, std::string_view block = "latest");
  // eth_sendRawTransaction; returns the transaction hash "0x..." as the node gives it.
  std::string send_raw_transaction(ByteView raw);
  // eth_getTransactionReceipt; nullopt while the transaction is not mined.
  std::optional<Receipt> get_transaction_receipt(std::string_view tx_hash_hex);
  std::optional<Receipt> get_transaction_receipt(ByteView tx_hash);
  // eth_call at `block` ("latest", "pending" or a number as "0x.."). A revert
  // throws RpcError with revert_reason set when the data is an Error(string).
  Bytes eth_call(const CallRequest& call, std::string_view block = "latest");
  Bytes eth_call(const CallRequest& call, std::uint64_t block);
  std::uint64_t estimate_gas(const CallRequest& call);  // reverts as eth_call
  std::vector<Log> get_logs(const LogFilter& filter);
  std::uint64_t get_block_timestamp(std::uint64_t number);  // seconds; RpcTransportError if no such block
  std::uint64_t get_latest_block_timestamp();

  // Fees. gas_price: eth_gasPrice. max_priority_fee_per_gas:
  // eth_maxPriorityFeePerGas (0 when the node does not have the method).
  // base_fee: the latest block's baseFeePerGas (nullopt before London).
  U256 gas_price();
  U256 max_priority_fee_per_gas();
  std::optional<U256> base_fee();
  struct Fees {
    U256 max_priority_fee_per_gas;
    U256 max_fee_per_gas;  // 2 * base fee + priority: survives 6 full blocks of +12.5%
  };
  Fees suggest_fees();

  // Conversions used by the parsers above, public for other backends.
  static std::uint64_t quantity_u64(const nlohmann::json& j);  // "0x1a" -> 26
  static U256 quantity(const nlohmann::json& j);
  static Bytes data(const nlohmann::json& j);  // "0x..." -> bytes
  static Log parse_log(const nlohmann::json& j);
  static Receipt parse_receipt(const nlohmann::json& j);
  static nlohmann::json call_object(const CallRequest& c);

 private:
  std::string url_;
  std::unique_ptr<http::Client> http_;
  std::atomic<std::uint64_t> next_id_{1};
};

}  // namespace rsp::eth
