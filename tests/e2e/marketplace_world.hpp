// The marketplace tests' world: agents::LocalStack (SM-DP+ with generated
// PPK-protected profiles over real HTTPS, HSS, eUICC with a Milenage USIM)
// on a TS.48 template from ../shared/testdata.
#pragma once
#include <filesystem>
#include <fstream>
#include <memory>

#include "rsp/agents/local_stack.hpp"

namespace rsp::e2e {

inline const char* kMarketTemplate = "ts48/TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der";

struct MarketplaceWorld {
  std::filesystem::path dir;
  std::unique_ptr<agents::LocalStack> stack;

  static std::filesystem::path template_path() { return std::filesystem::path(RSP_SHARED_TESTDATA) / kMarketTemplate; }
  static bool available() { return std::filesystem::exists(template_path()); }

  explicit MarketplaceWorld(const std::string& name) {
    dir = std::filesystem::temp_directory_path() / ("rsp-market-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::ifstream f(template_path(), std::ios::binary);
    agents::LocalStackOptions o;
    o.dir = dir;
    o.profile_template = Bytes(std::istreambuf_iterator<char>(f), {});
    stack = std::make_unique<agents::LocalStack>(o);
  }
  ~MarketplaceWorld() {
    stack.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string eid() { return stack->eid(); }
};

}  // namespace rsp::e2e
