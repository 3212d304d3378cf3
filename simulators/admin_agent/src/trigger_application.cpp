// The push SMS's triggering parameters on the card; see trigger_application.hpp.
#include "rsp/admin_agent/trigger_application.hpp"

namespace rsp::admin_agent {

Bytes AdminTriggerApplication::execute(ByteView secured_data) {
  last_error_.reset();
  AdminAgentConfig cfg;
  try {
    cfg = agent_config_from_trigger(ota::scp81::decode_triggering_parameters(secured_data), stored_);
  } catch (const std::exception& e) {
    last_error_ = e.what();
    return {};
  }
  if (on_trigger_) on_trigger_(cfg);
  return {};
}

}  // namespace rsp::admin_agent
