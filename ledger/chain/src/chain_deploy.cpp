#include "rsp/ledger/chain_deploy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "chain_abi.hpp"
#include "contracts_bin.hpp"
#include "rsp/eth/abi.hpp"
#include "rsp/json.hpp"

namespace rsp::ledger {

namespace {

// "RSP:<code>" -> code; nullopt for any other text.
std::optional<std::string> rsp_code(const std::optional<std::string>& reason) {
  static constexpr std::string_view kPrefix = "RSP:";
  if (!reason || reason->rfind(kPrefix, 0) != 0 || reason->size() == kPrefix.size()) return std::nullopt;
  return reason->substr(kPrefix.size());
}

eth::Address created(const eth::Receipt& r, const char* what) {
  if (!r.contract_address) throw std::runtime_error(std::string("deploying ") + what + ": receipt has no contract address");
  return *r.contract_address;
}

}  // namespace

[[noreturn]] void rethrow_chain_failure(const std::string& what) {
  try {
    throw;
  } catch (const eth::TxReverted& e) {
    if (auto code = rsp_code(e.reason)) throw MarketError(*code, what + " refused by the contract");
    throw std::runtime_error(what + ": transaction reverted without an RSP code (" + e.what() + ")");
  } catch (const eth::RpcError& e) {
    // eth_estimateGas / eth_call report a revert as an RPC error.
    if (auto code = rsp_code(e.revert_reason)) throw MarketError(*code, what + " refused by the contract");
    throw std::runtime_error(what + ": node error " + std::to_string(e.code) + ": " + e.what());
  }
}

// ---- deployment file ----

nlohmann::json ChainDeployment::to_json() const {
  return {{"rpc_url", rpc_url},
          {"chain_id", chain_id},
          {"sdrt", eth::checksum_address(sdrt)},
          {"marketplace", eth::checksum_address(marketplace)},
          {"admin", eth::checksum_address(admin)},
          {"deployed_block", deployed_block},
          {"free_gas", free_gas}};
}

ChainDeployment ChainDeployment::from_json(const nlohmann::json& j) {
  try {
    ChainDeployment d;
    d.rpc_url = j.at("rpc_url").get<std::string>();
    d.chain_id = j.at("chain_id").get<std::uint64_t>();
    d.sdrt = eth::parse_address(j.at("sdrt").get<std::string>());
    d.marketplace = eth::parse_address(j.at("marketplace").get<std::string>());
    d.admin = eth::parse_address(j.at("admin").get<std::string>());
    d.deployed_block = j.value("deployed_block", std::uint64_t{0});
    d.free_gas = j.value("free_gas", false);
    return d;
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("bad deployment description: ") + e.what());
  }
}

void ChainDeployment::save(const std::filesystem::path& file) const {
  std::ofstream out(file, std::ios::trunc);
  out << to_json().dump(2) << "\n";
  if (!out.flush()) throw std::runtime_error("cannot write " + file.string());
}

ChainDeployment ChainDeployment::load(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  nlohmann::json j;
  try {
    j = parse_json(text, JsonLimits{64 * 1024, 4, 1000, 4096});  // a few flat members
  } catch (const JsonError& e) {
    throw std::runtime_error(file.string() + " is not JSON: " + e.what());
  }
  return from_json(j);
}

ChainConfig ChainDeployment::config() const {
  ChainConfig c;
  c.rpc_url = rpc_url;
  c.chain_id = chain_id;
  c.marketplace = marketplace;
  c.sdrt = sdrt;
  if (free_gas) c.max_fee_per_gas = c.max_priority_fee_per_gas = eth::U256(0);
  return c;
}

eth::SenderConfig sender_config(const ChainDeployment& d) {
  eth::SenderConfig c;
  c.chain_id = d.chain_id;
  if (d.free_gas) c.max_fee_per_gas = c.max_priority_fee_per_gas = eth::U256(0);
  return c;
}

// ---- roles ----

ChainRole parse_chain_role(std::string_view t) {
  if (t == "admin" || t == "0") return ChainRole::Admin;
  if (t == "visited-operator" || t == "1") return ChainRole::VisitedOperator;
  if (t == "home-operator" || t == "2") return ChainRole::HomeOperator;
  if (t == "service-provider" || t == "3") return ChainRole::ServiceProvider;
  if (t == "arbiter" || t == "4") return ChainRole::Arbiter;
  throw std::invalid_argument("unknown role '" + std::string(t) +
                              "' (admin, visited-operator, home-operator, service-provider, arbiter)");
}

std::string_view to_string(ChainRole r) {
  switch (r) {
    case ChainRole::Admin: return "admin";
    case ChainRole::VisitedOperator: return "visited-operator";
    case ChainRole::HomeOperator: return "home-operator";
    case ChainRole::ServiceProvider: return "service-provider";
    case ChainRole::Arbiter: return "arbiter";
  }
  return "?";
}

// ---- deploy and register ----

ChainDeployment deploy_marketplace(eth::Sender& admin, const std::string& admin_id) {
  ChainDeployment d;
  d.rpc_url = admin.rpc().url();
  d.chain_id = admin.chain_id();
  d.admin = admin.address();
  try {
    auto sdrt = admin.send_and_wait(std::nullopt, from_hex(contracts::kSDRtBytecode));
    d.sdrt = created(sdrt, "SDRt");
    Bytes init = concat(from_hex(contracts::kMarketplaceBytecode), eth::encode("(address)", {d.sdrt}));
    auto market = admin.send_and_wait(std::nullopt, init);
    d.marketplace = created(market, "Marketplace");
    d.deployed_block = market.block_number;
    // SDRt moves only between the participants this Marketplace registers.
    admin.send_and_wait(d.sdrt, eth::encode_call(chain_abi::kSetRegistry, {d.marketplace}));
  } catch (const MarketError&) {
    throw;
  } catch (const std::exception&) {
    rethrow_chain_failure("deploying the marketplace contracts");
  }
  if (!admin_id.empty()) register_participant(admin, d, admin.address(), admin_id, ChainRole::Admin);
  return d;
}

Receipt register_participant(eth::Sender& admin, const ChainDeployment& d, const eth::Address& who,
                             const std::string& id, ChainRole role, const eth::Address& arbiter) {
  Bytes data = eth::encode_call(chain_abi::kRegister, {who, id, static_cast<unsigned>(role), arbiter});
  eth::Receipt r;
  try {
    r = admin.send_and_wait(d.marketplace, data);
  } catch (const std::exception&) {
    rethrow_chain_failure("register '" + id + "'");
  }
  Bytes topic = eth::event_topic(chain_abi::kRegisteredEvent);
  for (const auto& log : r.logs)
    if (log.address == d.marketplace && !log.topics.empty() && log.topics[0] == topic)
      return {static_cast<std::int64_t>(log.block_number) * kChainPositionsPerBlock + static_cast<std::int64_t>(log.log_index),
              eth::hex0x(r.tx_hash)};
  throw std::runtime_error("register '" + id + "': no Registered event in the receipt");
}

// ---- key files ----

eth::Secp256k1Key read_key_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read key file " + file.string());
  std::stringstream ss;
  ss << in.rdbuf();
  SecretBytes text(to_bytes(ss.str()));
  std::string_view v(reinterpret_cast<const char*>(text.data()), text.size());
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
  try {
    return eth::Secp256k1Key::from_hex(v);
  } catch (const std::exception&) {
    // The message never repeats the file's content: it is a secret.
    throw std::runtime_error("key file " + file.string() + " does not hold a secp256k1 private key (64 hex digits)");
  }
}

void write_key_file(const std::filesystem::path& file, const eth::Secp256k1Key& key) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + file.string() + ": " + std::strerror(errno));
  SecretBytes scalar = key.export_private();
  std::string hex = to_hex(scalar) + "\n";
  bool ok = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size());
  wipe(hex.data(), hex.size());
  ok = (::fsync(fd) == 0) && ok;
  ok = (::close(fd) == 0) && ok;
  if (!ok) throw std::runtime_error("cannot write " + file.string());
}

}  // namespace rsp::ledger
