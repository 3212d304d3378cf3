// The card side of the push SMS that starts an SCP81 session (GlobalPlatform
// Amendment B 3.6-3.8): an application at the security domain's TAR (TS 102
// 225 routing, after the receiving entity's checks) whose secured data is
// the administration session triggering parameters ('81', scp81_trigger.hpp).
// It lays them over the card's stored admin parameters and hands the result
// to the card, which runs the AdminAgent (at once, or after the current
// proactive session: the card's business, so a callback).
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "rsp/admin_agent/admin_agent.hpp"
#include "rsp/ota/remote_management.hpp"

namespace rsp::admin_agent {

class AdminTriggerApplication : public ota::RemoteApplication {
 public:
  using OnTrigger = std::function<void(const AdminAgentConfig&)>;
  AdminTriggerApplication(AdminAgentConfig stored, OnTrigger on_trigger)
      : stored_(std::move(stored)), on_trigger_(std::move(on_trigger)) {}

  // Decodes the trigger and calls on_trigger. Returns no additional data for
  // the PoR: the session's result travels over HTTPS, not in the PoR. A
  // trigger that does not decode starts nothing (last_error() says why).
  Bytes execute(ByteView secured_data) override;

  const std::optional<std::string>& last_error() const { return last_error_; }

 private:
  AdminAgentConfig stored_;
  OnTrigger on_trigger_;
  std::optional<std::string> last_error_;
};

}  // namespace rsp::admin_agent
