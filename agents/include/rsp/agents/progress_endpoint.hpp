// The operator's side of ES2+ HandleDownloadProgressInfo (SGP.22 5.3.5, JSON
// binding 6.5.2): the SM-DP+ reports the progress of each order; the visited
// operator's agent takes notification point 4 (BPP installation) with status
// Executed-Success as the installation signal. Reports are queued by the
// HTTPS server's threads and taken by the agent in its own poll().
#pragma once
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rsp/http_server.hpp"

namespace rsp::agents {

struct ProgressReport {
  std::string iccid, profile_type;
  int notification_point_id = 0;  // 1 eligibility, 2 confirmation failure, 3 BPP download, 4 BPP installation
  bool success = false;
};

class ProgressInbox {
 public:
  void push(ProgressReport r);
  std::vector<ProgressReport> take();

 private:
  std::mutex mu_;
  std::deque<ProgressReport> q_;
};

class ProgressEndpoint {
 public:
  // HTTPS on 127.0.0.1 (ephemeral port) with `tls`; start() binds.
  ProgressEndpoint(http::ServerTlsConfig tls, ProgressInbox& inbox);
  ~ProgressEndpoint();
  void start();
  // "https://localhost:<port>/gsma/rsp2/es2plus/handleDownloadProgressInfo"
  std::string url() const;

 private:
  http::Response handle(const http::Request& r);
  ProgressInbox& inbox_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace rsp::agents
