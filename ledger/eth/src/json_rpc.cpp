#include "rsp/eth/json_rpc.hpp"

#include "rsp/eth/abi.hpp"
#include "rsp/http_client.hpp"
#include "rsp/json.hpp"

namespace rsp::eth {

using nlohmann::json;

namespace {

std::string error_data_text(const json& e) {
  if (!e.contains("data") || e["data"].is_null()) return {};
  const json& d = e["data"];
  if (d.is_string()) return d.get<std::string>();
  // Some nodes nest it: {"data": {"data": "0x..."}} or {"result": "0x..."}.
  if (d.is_object()) {
    for (const char* k : {"data", "result"})
      if (d.contains(k) && d[k].is_string()) return d[k].get<std::string>();
  }
  return d.dump();
}

std::string hex_quantity(std::uint64_t v) { return U256(v).to_hex(); }

json block_tag(std::uint64_t n) { return hex_quantity(n); }

}  // namespace

RpcError::RpcError(int c, std::string m, std::string d)
    : std::runtime_error("JSON-RPC error " + std::to_string(c) + ": " + m), code(c), message(std::move(m)),
      data(std::move(d)) {
  revert_reason = decode_revert_reason(revert_data());
  // Without data, anvil and geth still put the reason in the message.
  static constexpr std::string_view kPrefix = "execution reverted: ";
  if (!revert_reason && message.starts_with(kPrefix)) revert_reason = message.substr(kPrefix.size());
}

Bytes RpcError::revert_data() const {
  if (!data.starts_with("0x")) return {};
  try {
    return parse_hex(data);
  } catch (const DecodeError&) {
    return {};
  }
}

JsonRpc::JsonRpc(std::string url, JsonRpcConfig config) : url_(std::move(url)) {
  http::ClientConfig hc;
  hc.connect_timeout = config.connect_timeout;
  hc.timeout = config.timeout;
  hc.user_agent = "rsp-eth";
  http_ = std::make_unique<http::Client>(std::move(hc));
}

JsonRpc::~JsonRpc() = default;

json JsonRpc::call(std::string_view method, json params) {
  json req = {{"jsonrpc", "2.0"}, {"id", next_id_.fetch_add(1)}, {"method", method}, {"params", std::move(params)}};
  http::Headers h;
  h.set("Content-Type", "application/json");
  http::Response resp = http_->post(url_, req.dump(), h);
  json body;
  try {
    // eth_getLogs answers and blocks with their transactions are the large
    // ones (an Accept's calldata carries a sealed profile of up to 1 MiB);
    // no answer nests deeper than a block's transactions' access lists.
    body = parse_json(resp.body, JsonLimits{64 * 1024 * 1024, 16, 4'000'000, 8 * 1024 * 1024});
  } catch (const JsonError&) {
    body = nullptr;
  }
  if (!body.is_object()) {
    throw RpcTransportError(std::string(method) + ": HTTP " + std::to_string(resp.status) + ", not a JSON-RPC answer: " +
                            resp.body.substr(0, 200));
  }
  if (body.contains("error") && !body["error"].is_null()) {
    const json& e = body["error"];
    int code = e.contains("code") && e["code"].is_number_integer() ? e["code"].get<int>() : 0;
    std::string msg = e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : e.dump();
    throw RpcError(code, msg, error_data_text(e));
  }
  if (!body.contains("result"))
    throw RpcTransportError(std::string(method) + ": HTTP " + std::to_string(resp.status) + ", no result");
  return body["result"];
}

std::uint64_t JsonRpc::quantity_u64(const json& j) {
  U256 v = quantity(j);
  if (!v.fits_u64()) throw RpcTransportError("quantity does not fit 64 bits: " + j.dump());
  return v.as_u64();
}

U256 JsonRpc::quantity(const json& j) {
  if (j.is_number_unsigned()) return U256(j.get<std::uint64_t>());
  if (!j.is_string()) throw RpcTransportError("expected a quantity, got " + j.dump());
  try {
    return U256::parse(j.get<std::string>());
  } catch (const DecodeError& e) {
    throw RpcTransportError(std::string("bad quantity: ") + e.what());
  }
}

Bytes JsonRpc::data(const json& j) {
  if (j.is_null()) return {};
  if (!j.is_string()) throw RpcTransportError("expected hex data, got " + j.dump());
  try {
    return parse_hex(j.get<std::string>());
  } catch (const DecodeError& e) {
    throw RpcTransportError(std::string("bad hex data: ") + e.what());
  }
}

Log JsonRpc::parse_log(const json& j) {
  Log l;
  try {
    l.address = parse_address(j.at("address").get<std::string>());
  } catch (const DecodeError& e) {
    throw RpcTransportError(std::string("log address: ") + e.what());
  }
  for (const auto& t : j.at("topics")) l.topics.push_back(data(t));
  l.data = data(j.at("data"));
  // Pending logs have null positions.
  auto opt_u64 = [&](const char* k) -> std::uint64_t {
    return j.contains(k) && !j[k].is_null() ? quantity_u64(j[k]) : 0;
  };
  l.block_number = opt_u64("blockNumber");
  l.log_index = opt_u64("logIndex");
  l.tx_index = opt_u64("transactionIndex");
  if (j.contains("transactionHash")) l.tx_hash = data(j["transactionHash"]);
  if (j.contains("blockHash")) l.block_hash = data(j["blockHash"]);
  l.removed = j.contains("removed") && j["removed"].is_boolean() && j["removed"].get<bool>();
  return l;
}

Receipt JsonRpc::parse_receipt(const json& j) {
  Receipt r;
  auto addr = [](const json& v) -> std::optional<Address> {
    if (v.is_null()) return std::nullopt;
    try {
      return parse_address(v.get<std::string>());
    } catch (const DecodeError& e) {
      throw RpcTransportError(std::string("receipt address: ") + e.what());
    }
  };
  try {
    r.tx_hash = data(j.at("transactionHash"));
    // "status" exists since Byzantium (EIP-658); both anvil and Besu send it.
    r.status = quantity_u64(j.at("status")) == 1;
    r.block_number = quantity_u64(j.at("blockNumber"));
    r.block_hash = data(j.value("blockHash", json()));
    r.gas_used = quantity_u64(j.at("gasUsed"));
    if (j.contains("effectiveGasPrice") && !j["effectiveGasPrice"].is_null())
      r.effective_gas_price = quantity(j["effectiveGasPrice"]);
    if (auto f = addr(j.value("from", json()))) r.from = *f;
    r.to = addr(j.value("to", json()));
    r.contract_address = addr(j.value("contractAddress", json()));
    for (const auto& l : j.at("logs")) r.logs.push_back(parse_log(l));
  } catch (const json::exception& e) {
    throw RpcTransportError(std::string("malformed receipt: ") + e.what());
  }
  return r;
}

json JsonRpc::call_object(const CallRequest& c) {
  json o = json::object();
  if (c.from) o["from"] = hex0x(*c.from);
  if (c.to) o["to"] = hex0x(*c.to);
  // "input" is the current name, "data" the older one; Besu and anvil read both,
  // sending both (equal) keeps older nodes working.
  o["data"] = hex0x(c.data);
  o["input"] = hex0x(c.data);
  if (!c.value.is_zero()) o["value"] = c.value.to_hex();
  if (c.gas) o["gas"] = hex_quantity(*c.gas);
  return o;
}

std::uint64_t JsonRpc::chain_id() { return quantity_u64(call("eth_chainId")); }

std::uint64_t JsonRpc::block_number() { return quantity_u64(call("eth_blockNumber")); }

std::uint64_t JsonRpc::get_transaction_count(const Address& a, std::string_view block) {
  return quantity_u64(call("eth_getTransactionCount", json::array({hex0x(a), block})));
}

U256 JsonRpc::get_balance(const Address& a, std::string_view block) {
  return quantity(call("eth_getBalance", json::array({hex0x(a), block})));
}

Bytes JsonRpc::get_code(const Address& a, std::string_view block) {
  return data(call("eth_getCode", json::array({hex0x(a), block})));
}

std::string JsonRpc::send_raw_transaction(ByteView raw) {
  json r = call("eth_sendRawTransaction", json::array({hex0x(raw)}));
  if (!r.is_string()) throw RpcTransportError("eth_sendRawTransaction: expected a hash, got " + r.dump());
  return r.get<std::string>();
}

std::optional<Receipt> JsonRpc::get_transaction_receipt(std::string_view tx_hash_hex) {
  json r = call("eth_getTransactionReceipt", json::array({tx_hash_hex}));
  if (r.is_null()) return std::nullopt;
  // Some nodes return a receipt without a block for pending transactions.
  if (!r.contains("blockNumber") || r["blockNumber"].is_null()) return std::nullopt;
  return parse_receipt(r);
}

std::optional<Receipt> JsonRpc::get_transaction_receipt(ByteView tx_hash) {
  return get_transaction_receipt(hex0x(tx_hash));
}

Bytes JsonRpc::eth_call(const CallRequest& c, std::string_view block) {
  return data(call("eth_call", json::array({call_object(c), block})));
}

Bytes JsonRpc::eth_call(const CallRequest& c, std::uint64_t block) {
  return data(call("eth_call", json::array({call_object(c), block_tag(block)})));
}

std::uint64_t JsonRpc::estimate_gas(const CallRequest& c) {
  return quantity_u64(call("eth_estimateGas", json::array({call_object(c)})));
}

std::vector<Log> JsonRpc::get_logs(const LogFilter& f) {
  json filter = {{"fromBlock", block_tag(f.from_block)}, {"toBlock", block_tag(f.to_block)}};
  if (f.addresses.size() == 1) {
    filter["address"] = hex0x(f.addresses[0]);
  } else if (!f.addresses.empty()) {
    json a = json::array();
    for (const auto& x : f.addresses) a.push_back(hex0x(x));
    filter["address"] = a;
  }
  if (!f.topics.empty()) {
    json topics = json::array();
    for (const auto& pos : f.topics) {
      if (pos.empty()) {
        topics.push_back(nullptr);  // wildcard
      } else if (pos.size() == 1) {
        topics.push_back(hex0x(pos[0]));
      } else {
        json any = json::array();
        for (const auto& t : pos) any.push_back(hex0x(t));
        topics.push_back(any);
      }
    }
    filter["topics"] = topics;
  }
  json r = call("eth_getLogs", json::array({filter}));
  if (!r.is_array()) throw RpcTransportError("eth_getLogs: expected an array");
  std::vector<Log> out;
  out.reserve(r.size());
  try {
    for (const auto& l : r) out.push_back(parse_log(l));
  } catch (const json::exception& e) {
    throw RpcTransportError(std::string("malformed log: ") + e.what());
  }
  return out;
}

std::uint64_t JsonRpc::get_block_timestamp(std::uint64_t number) {
  json b = call("eth_getBlockByNumber", json::array({block_tag(number), false}));
  if (!b.is_object() || !b.contains("timestamp")) throw RpcTransportError("no block " + std::to_string(number));
  return quantity_u64(b["timestamp"]);
}

std::uint64_t JsonRpc::get_latest_block_timestamp() {
  json b = call("eth_getBlockByNumber", json::array({"latest", false}));
  if (!b.is_object() || !b.contains("timestamp")) throw RpcTransportError("no latest block");
  return quantity_u64(b["timestamp"]);
}

U256 JsonRpc::gas_price() { return quantity(call("eth_gasPrice")); }

U256 JsonRpc::max_priority_fee_per_gas() {
  try {
    return quantity(call("eth_maxPriorityFeePerGas"));
  } catch (const RpcError& e) {
    if (e.code == -32601) return U256(0);  // method not found: a node without it
    throw;
  }
}

std::optional<U256> JsonRpc::base_fee() {
  json b = call("eth_getBlockByNumber", json::array({"latest", false}));
  if (!b.is_object() || !b.contains("baseFeePerGas") || b["baseFeePerGas"].is_null()) return std::nullopt;
  return quantity(b["baseFeePerGas"]);
}

JsonRpc::Fees JsonRpc::suggest_fees() {
  Fees f;
  f.max_priority_fee_per_gas = max_priority_fee_per_gas();
  std::optional<U256> base = base_fee();
  // EIP-1559: the base fee rises at most 12.5% per block; twice the current
  // base fee covers six full blocks in a row.
  f.max_fee_per_gas = (base ? *base * 2 : gas_price()) + f.max_priority_fee_per_gas;
  return f;
}

}  // namespace rsp::eth
