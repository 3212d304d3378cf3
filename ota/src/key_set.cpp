#include "rsp/ota/key_set.hpp"

#include <string>

#include "rsp/ota/status.hpp"

namespace rsp::ota {

Algorithm resolve_algorithm(Algorithm named, Algorithm key_set_algorithm, const char* field) {
  if (named == Algorithm::Implicit) {
    if (key_set_algorithm == Algorithm::Implicit)
      throw PacketError(ResponseStatus::UnidentifiedSecurityError,
                        std::string(field) + " says 'implicit' but the key set names no algorithm");
    return key_set_algorithm;
  }
  if (named == Algorithm::Proprietary || named == Algorithm::Reserved)
    throw PacketError(ResponseStatus::UnidentifiedSecurityError,
                      std::string(field) + " names a " + std::string(algorithm_name(named)) + " algorithm");
  if (key_set_algorithm != Algorithm::Implicit && key_set_algorithm != named)
    throw PacketError(ResponseStatus::UnidentifiedSecurityError,
                      std::string(field) + " names " + std::string(algorithm_name(named)) + " but the key is for " +
                          std::string(algorithm_name(key_set_algorithm)));
  return named;
}

}  // namespace rsp::ota
