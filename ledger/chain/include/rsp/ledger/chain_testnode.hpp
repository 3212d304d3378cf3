// A throwaway Ethereum node for tests: anvil (npm @foundry-rs/anvil) on
// 127.0.0.1, a free port, started and stopped by its pid.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace rsp::ledger {

class AnvilNode {
 public:
  // The anvil binary found at configure time ("" when npm could not install it).
  static std::string default_path();

  struct Options {
    std::string anvil_path = default_path();
    std::uint64_t chain_id = 31337;
    // Base fee and gas price 0, like a free-gas permissioned network: test
    // keys need no ether (send with fees 0).
    bool free_gas = true;
    std::optional<unsigned> block_time_seconds;  // nullopt = automine (a block per transaction)
    std::optional<std::uint64_t> gas_limit;      // block gas limit (nullopt: anvil's default, 30 M)
    std::string log_file = "/dev/null";          // anvil's stdout and stderr
  };

  // Why a test must skip, or nullopt when anvil is there and runs.
  static std::optional<std::string> unavailable_reason(const std::string& anvil_path = default_path());

  // Starts anvil and waits (bounded, ~15 s) until eth_chainId answers;
  // throws std::runtime_error if it does not.
  explicit AnvilNode(Options options);
  AnvilNode() : AnvilNode(Options{}) {}
  // SIGTERM to the pid, SIGKILL if it has not exited within 5 s.
  ~AnvilNode();
  AnvilNode(const AnvilNode&) = delete;
  AnvilNode& operator=(const AnvilNode&) = delete;

  const std::string& url() const { return url_; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::uint64_t chain_id() const { return options_.chain_id; }

 private:
  bool start_once();  // false: anvil exited early (port taken): try another port
  void stop();

  Options options_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string url_;
};

}  // namespace rsp::ledger
