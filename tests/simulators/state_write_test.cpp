// The eUICC simulator's persistent state (issue 9): a state file that cannot
// be written is an error, at start and at any later change, never a silent
// loss; euicc-sim exits non-zero. The failures are made in ways that hold
// for root too (a path under a regular file; a directory where the
// temporary file goes), since the tests may run as root.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "rsp/tlv.hpp"
#include "sim_test_util.hpp"

extern char** environ;

using namespace rsp;
using namespace rsp::sim;
using namespace rsp::sim::test;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("rsp-sim-state-" + name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

Bytes set_default_dp(const std::string& address) { return tlv::make(0xBF3F, tlv::make(0x80, to_bytes(address))); }

// euicc-sim --stdio with the test PKI in `dir` and --state `state`; stdin
// from /dev/null, or from a pipe the test writes to (`feed`); stderr to
// dir/stderr.
struct Tool {
  pid_t pid = 0;
  int feed = -1;  // writing end of stdin, when piped
  Tool(const fs::path& dir, const fs::path& state, bool piped = false) {
    certs::write_pki(pki(), dir / "pki");
    auto f = [&](const char* name) { return (dir / "pki" / name).string(); };
    std::vector<std::string> args = {RSP_EUICC_SIM,
                                     "--cert", f("CERT_EUICC_ECDSA_NIST.der"),
                                     "--key", f("SK_EUICC_ECDSA_NIST.pem"),
                                     "--eum", f("CERT_EUM_ECDSA_NIST.der"),
                                     "--ci", f("CERT_CI_ECDSA_NIST.der"),
                                     "--state", state.string(),
                                     "--stdio", "--log-level", "error"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    int p[2] = {-1, -1};
    if (piped && ::pipe2(p, O_CLOEXEC) == 0) {
      posix_spawn_file_actions_adddup2(&fa, p[0], 0);
      feed = p[1];
    } else {
      posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    }
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, (dir / "stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (posix_spawn(&pid, RSP_EUICC_SIM, &fa, nullptr, argv.data(), environ) != 0) pid = 0;
    posix_spawn_file_actions_destroy(&fa);
    if (p[0] >= 0) ::close(p[0]);
  }
  void write_line(const std::string& line) {
    std::string l = line + "\n";
    if (::write(feed, l.data(), l.size()) != static_cast<ssize_t>(l.size())) ADD_FAILURE() << "cannot feed euicc-sim";
  }
  // Waits at most 10 s, then kills it. Returns the exit status (-1: no
  // normal exit).
  int wait() {
    if (pid <= 0) return -1;
    int status = 0;
    for (int i = 0; i < 200; ++i) {
      if (waitpid(pid, &status, WNOHANG) == pid) {
        pid = 0;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    pid = 0;
    return -1;
  }
  ~Tool() {
    wait();
    if (feed >= 0) ::close(feed);
  }
};

}  // namespace

TEST(EuiccState, UnwritableStatePathIsRefusedAtConstruction) {
  TempDir dir("ctor");
  std::ofstream(dir.path / "a-file") << "x";
  try {
    Euicc card(config_for(pki(), (dir.path / "a-file" / "state.json").string()));
    FAIL() << "an eUICC whose state cannot be written was built";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot write eUICC state"), std::string::npos) << e.what();
  }
  // A writable place gets the state file at once.
  Euicc card(config_for(pki(), (dir.path / "state.json").string()));
  EXPECT_TRUE(fs::exists(dir.path / "state.json"));
}

TEST(EuiccState, FailedWriteAnswers6F00KeepsTheFileAndIsReported) {
  TempDir dir("save");
  fs::path state = dir.path / "state.json";
  std::string reported;
  auto cfg = config_for(pki(), state.string());
  cfg.on_state_write_error = [&](const std::string& why) { reported = why; };
  Euicc card(std::move(cfg));
  select_isdr(card);
  std::uint16_t sw = 0;
  es10(card, set_default_dp("before.example.com"), &sw);
  ASSERT_EQ(sw, 0x9000);
  std::string before = slurp(state);
  ASSERT_NE(before.find("before.example.com"), std::string::npos);

  fs::create_directories(dir.path / "state.json.tmp");  // the next write cannot create its temporary file
  es10(card, set_default_dp("after.example.com"), &sw);
  EXPECT_EQ(sw, 0x6F00);
  EXPECT_NE(reported.find("cannot write eUICC state"), std::string::npos) << reported;
  EXPECT_EQ(slurp(state), before) << "the state file changed although the write failed";
}

TEST(EuiccSimTool, UnwritableStateFileExitsNonZeroAtStart) {
  TempDir dir("tool-start");
  std::ofstream(dir.path / "a-file") << "x";
  Tool tool(dir.path, dir.path / "a-file" / "state.json");
  ASSERT_GT(tool.pid, 0);
  EXPECT_EQ(tool.wait(), 1);
  std::string err = slurp(dir.path / "stderr");
  EXPECT_NE(err.find("cannot write eUICC state"), std::string::npos) << err;

  TempDir dir2("tool-dir");
  Tool on_dir(dir2.path, dir2.path);  // --state names a folder
  EXPECT_EQ(on_dir.wait(), 1);
}

TEST(EuiccSimTool, StateWriteFailureWhileRunningExitsNonZero) {
  TempDir dir("tool-run");
  fs::path state = dir.path / "state.json";
  // Commands on stdin: SELECT ISD-R, then ES10c SetDefaultDpAddress, whose
  // state write fails.
  apdu::Command select{0x00, 0xA4, 0x04, 0x00, kIsdrAid, 256};
  Bytes req = set_default_dp("after.example.com");
  apdu::Command store{0x80, 0xE2, 0x91, 0x00, req, 256};
  Tool tool(dir.path, state, true);
  ASSERT_GT(tool.pid, 0);
  for (int i = 0; i < 100 && !fs::exists(state); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  fs::create_directories(dir.path / "state.json.tmp");
  tool.write_line(to_hex(select.encode(), true));
  tool.write_line(to_hex(store.encode(), true));
  EXPECT_EQ(tool.wait(), 1);  // its stdin still open: it stopped on its own
  std::string err = slurp(dir.path / "stderr");
  EXPECT_NE(err.find("cannot write eUICC state"), std::string::npos) << err;
}

// Issue 13: the simulator checks its own set-up at start. A --key that is not
// the eUICC certificate's (here the EUM's) would otherwise pass every local
// step and fail only at the SM-DP+'s check of euiccSignature1.
TEST(EuiccSetup, KeyThatIsNotTheCertificatesIsRefusedAtStart) {
  auto cfg = config_for(pki());
  auto pem = pki().eum.key.private_pem();
  cfg.euicc_key = Bytes(pem.begin(), pem.end());
  try {
    Euicc card(std::move(cfg));
    FAIL() << "an eUICC whose key is not its certificate's was built";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("is not the key of the eUICC certificate"), std::string::npos) << e.what();
  }
}
