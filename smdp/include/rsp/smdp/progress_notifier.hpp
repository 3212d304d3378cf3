// ES2+.HandleDownloadProgressInfo to operators (SGP.22 5.3.5): events go to
// an outbox table in the SM-DP+ store first and a background thread delivers
// them with retries and exponential backoff, so none is lost when an operator
// is down or the SM-DP+ restarts.
#pragma once
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "rsp/http_client.hpp"
#include "rsp/smdp/es2plus.hpp"
#include "rsp/store.hpp"

namespace rsp::smdp {

class ProgressNotifier {
 public:
  // `endpoints`: operator id -> URL of its HandleDownloadProgressInfo.
  ProgressNotifier(store::Db& db, std::map<std::string, std::string> endpoints, http::ClientConfig client,
                   std::string smdp_id);
  ~ProgressNotifier();

  void enqueue(const ProgressEvent& e);  // durable once it returns
  void start();
  void stop();
  // Test hooks: first retry delay (doubles each attempt) and attempt limit.
  void set_backoff(std::chrono::milliseconds first, int max_attempts);
  std::size_t pending() const;
  // The outbox's polled statements (every 200 ms and per download): a test
  // checks with EXPLAIN QUERY PLAN that they are served by an index.
  static std::vector<std::string> request_path_queries();

 private:
  void run();
  bool deliver_due();
  store::Db& db_;
  std::map<std::string, std::string> endpoints_;
  http::ClientConfig client_config_;
  std::string smdp_id_;
  std::chrono::milliseconds first_backoff_{1000};
  int max_attempts_ = 12;
  std::thread worker_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

}  // namespace rsp::smdp
