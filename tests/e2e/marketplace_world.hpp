// The marketplace tests' world: agents::LocalStack (SM-DP+ with generated
// PPK-protected profiles over real HTTPS, HSS, eUICC with a Milenage USIM),
// the profiles generated from the SM-DP+'s built-in template (no GSMA
// material needed).
#pragma once
#include <filesystem>
#include <fstream>
#include <memory>

#include "rsp/agents/local_stack.hpp"
#include "rsp/smdp/profile_template.hpp"

namespace rsp::e2e {

struct MarketplaceWorld {
  std::filesystem::path dir;
  std::unique_ptr<agents::LocalStack> stack;


  explicit MarketplaceWorld(const std::string& name) {
    dir = std::filesystem::temp_directory_path() / ("rsp-market-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    agents::LocalStackOptions o;
    o.dir = dir;
    o.profile_template = smdp::minimal_profile_template();
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
