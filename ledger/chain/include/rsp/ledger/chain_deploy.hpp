// Deploying the marketplace contracts and administering the registry:
// what `ledger-chain deploy|register|fund` run, usable from tests too.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "rsp/eth/address.hpp"
#include "rsp/eth/key.hpp"
#include "rsp/eth/sender.hpp"
#include "rsp/ledger/chain_market.hpp"

namespace rsp::ledger {

// Where the contracts are: written by `ledger-chain deploy --out`, read by
// the other subcommands (and by agents configuring a ChainMarket).
struct ChainDeployment {
  std::string rpc_url;
  std::uint64_t chain_id = 0;
  eth::Address sdrt{};
  eth::Address marketplace{};
  eth::Address admin{};              // deployer: registry admin and SDRt issuer
  std::uint64_t deployed_block = 0;  // the Marketplace's creation block
  bool free_gas = false;             // fees 0 (a permissioned chain with no gas price)

  nlohmann::json to_json() const;
  static ChainDeployment from_json(const nlohmann::json& j);  // throws std::runtime_error
  void save(const std::filesystem::path& file) const;
  static ChainDeployment load(const std::filesystem::path& file);
  // ChainConfig for a participant's handle on this deployment.
  ChainConfig config() const;
};

// Registry roles as the contract numbers them.
enum class ChainRole : std::uint8_t { Admin = 0, VisitedOperator = 1, HomeOperator = 2, ServiceProvider = 3, Arbiter = 4 };
// "admin", "visited-operator", "home-operator", "service-provider" (or 0..3);
// throws std::invalid_argument.
ChainRole parse_chain_role(std::string_view text);
std::string_view to_string(ChainRole r);

// Deploys SDRt, then Marketplace(SDRt), from `admin` (who becomes the
// registry admin and the SDRt issuer). `admin_id` non-empty: also registers
// the admin under that id (role admin) so its mints name an author.
ChainDeployment deploy_marketplace(eth::Sender& admin, const std::string& admin_id = "admin");

// Registers `who` as `id` with `role` (admin only). Refusals are
// MarketError: `forbidden` (not the admin), `bad-id`, `bad-terms` (role),
// `bad-participant` (address or id already registered).
Receipt register_participant(eth::Sender& admin, const ChainDeployment& d, const eth::Address& who,
                             const std::string& id, ChainRole role, const eth::Address& arbiter = {});

// A Sender for `key` on the deployment's chain, with its fee settings.
eth::SenderConfig sender_config(const ChainDeployment& d);

// Key files: the 32-byte private scalar as 64 hex digits and a newline.
// write_key_file creates the file with mode 0600 and refuses to overwrite.
eth::Secp256k1Key read_key_file(const std::filesystem::path& file);
void write_key_file(const std::filesystem::path& file, const eth::Secp256k1Key& key);

// Turns a revert into MarketError when it carries "RSP:<code>", rethrows
// anything else as std::runtime_error with the node's words.
[[noreturn]] void rethrow_chain_failure(const std::string& what);

}  // namespace rsp::ledger
