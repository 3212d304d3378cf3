#include "rsp/ledger/chain_testnode.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "rsp/eth/json_rpc.hpp"
#include "rsp/http_server.hpp"

namespace rsp::ledger {


std::string AnvilNode::default_path() { return RSP_ANVIL_PATH; }

std::optional<std::string> AnvilNode::unavailable_reason(const std::string& path) {
  if (path.empty())
    return "anvil was not found at configure time (npm package @foundry-rs/anvil: run scripts/deps.sh, then "
           "re-run cmake)";
  if (::access(path.c_str(), X_OK) != 0) return "anvil at " + path + " is not executable (run scripts/deps.sh)";
  return std::nullopt;
}

AnvilNode::AnvilNode(Options options) : options_(std::move(options)) {
  if (auto why = unavailable_reason(options_.anvil_path)) throw std::runtime_error(*why);
  for (int attempt = 0; attempt < 3; ++attempt)
    if (start_once()) return;
  throw std::runtime_error("anvil did not start (3 attempts); see " + options_.log_file);
}

AnvilNode::~AnvilNode() { stop(); }

bool AnvilNode::start_once() {
  port_ = http::free_loopback_port();  // another process may take it first: start() then retries
  url_ = "http://127.0.0.1:" + std::to_string(port_);
  std::vector<std::string> args{options_.anvil_path, "--host", "127.0.0.1", "--port", std::to_string(port_),
                                "--chain-id", std::to_string(options_.chain_id)};
  if (options_.free_gas) args.insert(args.end(), {"--block-base-fee-per-gas", "0", "--gas-price", "0"});
  if (options_.block_time_seconds) args.insert(args.end(), {"--block-time", std::to_string(*options_.block_time_seconds)});
  if (options_.gas_limit) args.insert(args.end(), {"--gas-limit", std::to_string(*options_.gas_limit)});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork() failed");
  if (pid == 0) {
    // Child: dies with the test process even if that one is killed, so no
    // node outlives its test.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    int out = ::open(options_.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int in = ::open("/dev/null", O_RDONLY);
    if (out >= 0) {
      ::dup2(out, STDOUT_FILENO);
      ::dup2(out, STDERR_FILENO);
    }
    if (in >= 0) ::dup2(in, STDIN_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;

  // Bounded wait: 150 x 100 ms for eth_chainId to answer.
  eth::JsonRpcConfig rc;
  rc.connect_timeout = std::chrono::milliseconds(500);
  rc.timeout = std::chrono::milliseconds(1'000);
  eth::JsonRpc rpc(url_, rc);
  for (int i = 0; i < 150; ++i) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;  // exited: most likely the port was taken meanwhile
      return false;
    }
    try {
      if (rpc.chain_id() != options_.chain_id) {
        stop();
        throw std::runtime_error("anvil answers with an unexpected chain id");
      }
      return true;
    } catch (const std::runtime_error&) {
      if (pid_ < 0) throw;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  stop();
  throw std::runtime_error("anvil did not answer eth_chainId within 15 s on " + url_);
}

void AnvilNode::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 50; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace rsp::ledger
