#include "rsp/ota/status.hpp"

#include "rsp/bytes.hpp"

namespace rsp::ota {

std::string status_name(std::uint8_t code) {
  for (const auto& row : kStatusTable)
    if (row.code == code) return std::string(row.name);
  std::string hex = to_hex(Bytes{code}, true);
  return (code >= 0xC0 && code <= 0xFE ? "proprietary (" : "reserved (") + hex + ")";
}

}  // namespace rsp::ota
