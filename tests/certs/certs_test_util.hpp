// Helpers shared by the certs tests.
#pragma once
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>

#include "rsp/certs.hpp"

namespace certs_test {

inline const std::filesystem::path kSgp26 = std::filesystem::path(RSP_SHARED_TESTDATA) / "sgp26";

inline std::time_t utc(int y, int mo, int d) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  return timegm(&tm);
}

// Runs f, which must throw ValidationError; returns it.
template <typename F>
rsp::certs::ValidationError expect_fail(F&& f) {
  try {
    f();
  } catch (const rsp::certs::ValidationError& e) {
    return e;
  }
  ADD_FAILURE() << "no ValidationError";
  return rsp::certs::ValidationError(rsp::certs::ValidationError::Kind::Malformed, rsp::certs::Role::Ci, "none");
}

}  // namespace certs_test
