// ledger-chain: deploys the marketplace contracts and administers them.
//
//   ledger-chain keygen   --out FILE                                  # secp256k1 key, mode 0600; prints the address
//   ledger-chain address  --key FILE
//   ledger-chain deploy   --rpc URL --admin-key FILE --out deployment.json [--chain-id N] [--free-gas] [--admin-id admin]
//   ledger-chain register --deployment F --admin-key FILE --id ID --role ROLE --address 0x.. [--arbiter 0x..]
//   ledger-chain fund     --deployment F --admin-key FILE --to ID --amount 12.5        # mint SDRt
//   ledger-chain balance  --deployment F --id ID
//
// Exit codes: 0 ok, 1 usage / I/O / node errors, 3 refused by the contract
// ("REFUSED (code): ..."). Private keys are only read from and written to
// files, never printed.
#include <CLI/CLI.hpp>
#include "rsp/cli.hpp"
#include <iostream>

#include "rsp/eth/address.hpp"
#include "rsp/ledger/chain_deploy.hpp"
#include "rsp/ledger/chain_market.hpp"

using namespace rsp;
using namespace rsp::ledger;

namespace {

ChainDeployment load_deployment(const std::string& file, const std::string& rpc_override) {
  auto d = ChainDeployment::load(file);
  if (!rpc_override.empty()) d.rpc_url = rpc_override;
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ledger-chain: the marketplace contracts on an Ethereum-compatible chain"};
  app.require_subcommand(1);

  std::string out, key_file, rpc, deployment_file, id, role, address_text, to, amount_text, admin_id = "admin";
  std::optional<std::uint64_t> chain_id;
  bool free_gas = false;

  auto* keygen = app.add_subcommand("keygen", "new secp256k1 key file (mode 0600); prints its address");
  keygen->add_option("--out", out, "key file to create (never overwritten)")->required();

  auto* address = app.add_subcommand("address", "print the address of a key file");
  address->add_option("--key", key_file, "key file")->required()->check(CLI::ExistingFile);

  auto* deploy = app.add_subcommand("deploy", "deploy SDRt and Marketplace; write the deployment description");
  deploy->add_option("--rpc", rpc, "JSON-RPC URL of the node")->required();
  deploy->add_option("--admin-key", key_file, "admin (deployer, SDRt issuer) key file")->required()->check(CLI::ExistingFile);
  deploy->add_option("--out", out, "deployment description (JSON) to write")->required();
  deploy->add_option("--chain-id", chain_id, "expected chain id (refuse another node)");
  deploy->add_flag("--free-gas", free_gas, "send with fees 0 (permissioned chain with no gas price)");
  deploy->add_option("--admin-id", admin_id, "participant id registered for the admin")->capture_default_str();

  auto* reg = app.add_subcommand("register", "register a participant (admin only)");
  reg->add_option("--deployment", deployment_file, "deployment description")->required()->check(CLI::ExistingFile);
  reg->add_option("--admin-key", key_file, "admin key file")->required()->check(CLI::ExistingFile);
  reg->add_option("--id", id, "participant id")->required();
  reg->add_option("--role", role, "visited-operator, home-operator, service-provider or arbiter")->required();
  reg->add_option("--address", address_text, "the participant's address 0x..")->required();
  std::string arbiter_text;
  reg->add_option("--arbiter", arbiter_text, "address 0x.. of the registered arbiter it accepts for disputes");
  reg->add_option("--rpc", rpc, "override the deployment's JSON-RPC URL");

  auto* fund = app.add_subcommand("fund", "mint SDRt to a participant (the issuer only)");
  fund->add_option("--deployment", deployment_file, "deployment description")->required()->check(CLI::ExistingFile);
  fund->add_option("--admin-key", key_file, "issuer (admin) key file")->required()->check(CLI::ExistingFile);
  fund->add_option("--to", to, "participant id")->required();
  fund->add_option("--amount", amount_text, "SDRt, up to 6 decimals (12.5)")->required();
  fund->add_option("--rpc", rpc, "override the deployment's JSON-RPC URL");

  auto* bal = app.add_subcommand("balance", "a participant's SDRt balance (available and escrowed)");
  bal->add_option("--deployment", deployment_file, "deployment description")->required()->check(CLI::ExistingFile);
  bal->add_option("--id", id, "participant id")->required();
  bal->add_option("--rpc", rpc, "override the deployment's JSON-RPC URL");

  if (auto rc = rsp::cli::parse(app, argc, argv, "ledger-chain")) return *rc;

  try {
    if (*keygen) {
      auto key = eth::Secp256k1Key::generate();
      write_key_file(out, key);
      std::cout << key.address_hex() << "\n";
    } else if (*address) {
      std::cout << read_key_file(key_file).address_hex() << "\n";
    } else if (*deploy) {
      ChainDeployment hint;
      hint.free_gas = free_gas;
      eth::JsonRpc node(rpc);
      eth::SenderConfig sc = sender_config(hint);
      sc.chain_id = chain_id;
      eth::Sender admin(node, read_key_file(key_file), sc);
      auto d = deploy_marketplace(admin, admin_id);
      d.free_gas = free_gas;
      d.save(out);
      std::cout << d.to_json().dump(2) << "\n";
    } else if (*reg) {
      auto d = load_deployment(deployment_file, rpc);
      eth::JsonRpc node(d.rpc_url);
      eth::Sender admin(node, read_key_file(key_file), sender_config(d));
      auto r = register_participant(admin, d, eth::parse_address(address_text), id, parse_chain_role(role),
                                    arbiter_text.empty() ? eth::Address{} : eth::parse_address(arbiter_text));
      std::cout << "registered " << id << " (" << role << ") at position " << r.position << " tx " << r.reference << "\n";
    } else if (*fund) {
      auto d = load_deployment(deployment_file, rpc);
      Amount amount = parse_sdrt(amount_text);
      ChainMarket market(d.config(), read_key_file(key_file));
      auto r = market.mint(to, amount);
      std::cout << "minted " << format_sdrt(amount) << " SDRt to " << to << " at position " << r.position << " tx "
                << r.reference << "\n";
    } else if (*bal) {
      auto d = load_deployment(deployment_file, rpc);
      // Reads need no particular key: a throwaway one.
      ChainMarket market(d.config(), eth::Secp256k1Key::generate());
      auto b = market.balance(id);
      std::cout << id << ": available " << format_sdrt(b.available) << " SDRt, escrowed " << format_sdrt(b.escrowed)
                << " SDRt\n";
    }
  } catch (const MarketError& e) {
    // what() is "<code>: <why>": print the code once, like ledger-tool.
    std::string why = e.what();
    if (why.rfind(e.code + ": ", 0) == 0) why.erase(0, e.code.size() + 2);
    std::cerr << "REFUSED (" << e.code << "): " << why << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
