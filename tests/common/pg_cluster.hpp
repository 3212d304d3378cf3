// A private PostgreSQL cluster for a test (issue 12): Debian 12's initdb and
// postgres (/usr/lib/postgresql/15/bin), a data folder under a fresh mkdtemp
// folder, listening on 127.0.0.1 at a free port with its socket in that
// folder; started and stopped by pid. As root the binaries run as the user
// `postgres` (initdb refuses root) through setpriv, which execs in place, so
// the pid we hold is the postmaster's.
//
// Absent binaries skip the test unless CI=true, where they are a failure.
#pragma once
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "rsp/http_server.hpp"
#include "rsp/store.hpp"

extern char** environ;

namespace rsp::test {

class PgCluster {
 public:
  static constexpr const char* kBin = "/usr/lib/postgresql/15/bin";

  PgCluster() {
    namespace fs = std::filesystem;
    if (!fs::exists(std::string(kBin) + "/postgres") || !fs::exists(std::string(kBin) + "/initdb")) {
      const char* ci = std::getenv("CI");
      if (ci && std::string(ci) == "true")
        throw std::runtime_error(std::string("CI=true and no PostgreSQL binaries in ") + kBin +
                                 " (scripts/deps.sh installs postgresql)");
      skip_reason_ = std::string("no PostgreSQL binaries in ") + kBin;
      return;
    }
    char tmpl[] = "/tmp/rsp-pg-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    if (::geteuid() == 0) {
      passwd* pw = ::getpwnam("postgres");
      if (!pw) throw std::runtime_error("running as root and there is no user postgres to run PostgreSQL as");
      as_user_ = {"/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"};
      if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("chown " + dir_ + " failed");
    }
    int rc = wait_for(spawn({std::string(kBin) + "/initdb", "-D", dir_ + "/data", "-U", "rsp", "--auth=trust",
                             "--encoding=UTF8", "--locale=C", "--no-sync"},
                            dir_ + "/initdb.log"));
    if (rc != 0) throw std::runtime_error("initdb failed (" + std::to_string(rc) + "), see " + dir_ + "/initdb.log");
    port_ = http::free_loopback_port();
    // fsync off: a test cluster, thrown away; the kill -9 tests kill smdpd,
    // not the database.
    pid_ = spawn({std::string(kBin) + "/postgres", "-D", dir_ + "/data", "-h", "127.0.0.1", "-p",
                  std::to_string(port_), "-k", dir_, "-c", "fsync=off", "-c", "max_connections=200"},
                 dir_ + "/postgres.log");
    // Ready when a connection succeeds (bounded: 30 s).
    for (int i = 0; i < 300; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        throw std::runtime_error("postgres exited at start, see " + dir_ + "/postgres.log");
      }
      try {
        store::Db probe(uri());
        return;
      } catch (const store::StoreError&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    stop();
    throw std::runtime_error("postgres not ready within 30 s, see " + dir_ + "/postgres.log");
  }
  ~PgCluster() {
    stop();
    std::error_code ec;
    if (!dir_.empty() && !std::getenv("RSP_KEEP_PG")) std::filesystem::remove_all(dir_, ec);
  }
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  bool available() const { return skip_reason_.empty(); }
  const std::string& skip_reason() const { return skip_reason_; }
  pid_t pid() const { return pid_; }
  std::string uri(const std::string& database = "postgres") const {
    return "postgresql://rsp@127.0.0.1:" + std::to_string(port_) + "/" + database;
  }
  // A fresh, empty database on this cluster; its URI.
  std::string create_database() {
    static std::atomic<int> n{0};
    std::string name = "t" + std::to_string(::getpid()) + "_" + std::to_string(++n);
    store::Db admin(uri());
    admin.exec("CREATE DATABASE " + name);
    return uri(name);
  }
  // SIGINT (fast shutdown), bounded wait, SIGKILL last.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGINT);
    for (int i = 0; i < 200; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = 0;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }

 private:
  pid_t spawn(const std::vector<std::string>& cmd, const std::string& log) {
    std::vector<std::string> args = as_user_;
    args.insert(args.end(), cmd.begin(), cmd.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error(std::string("cannot start ") + argv[0]);
    return pid;
  }
  static int wait_for(pid_t pid) {
    int status = 0;
    for (int i = 0; i < 1200; ++i) {  // 60 s
      if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return 124;
  }

  std::string skip_reason_, dir_;
  std::vector<std::string> as_user_;
  std::uint16_t port_ = 0;
  pid_t pid_ = 0;
};

// One cluster for the whole test process, started at first use and stopped
// at exit (a static's destructor).
inline PgCluster& shared_pg_cluster() {
  static PgCluster cluster;
  return cluster;
}

// Must-show 6: the store a test runs on. An SQLite path as given, or, with
// RSP_TEST_STORE=postgresql in the environment (CTest's *_pg entries), a fresh
// database on the shared cluster. Without the binaries (and CI unset) the
// process exits 77, which those entries report as skipped.
inline bool testing_on_postgres() {
  const char* e = std::getenv("RSP_TEST_STORE");
  return e && std::string(e) == "postgresql";
}
inline std::string test_store(const std::string& sqlite_path = ":memory:") {
  if (!testing_on_postgres()) return sqlite_path;
  auto& c = shared_pg_cluster();
  if (!c.available()) {
    std::cerr << "skipped: " << c.skip_reason() << "\n";
    std::exit(77);
  }
  return c.create_database();
}

}  // namespace rsp::test
