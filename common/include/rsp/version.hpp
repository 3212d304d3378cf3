#pragma once
// What an operator asks a binary with --version (issue 13): the project
// version from the top-level CMake project() and the git revision the build
// was configured from. The values come from common/src/version.cpp.in, which
// CMake's configure_file turns into a source in the build directory: nothing
// generated is committed. The revision is taken at configure time, so a
// "-dirty" suffix reflects the tree when cmake last ran.
#include <string>
#include <string_view>

namespace rsp {

// "0.1.0": the version of project() in the top-level CMakeLists.txt.
std::string_view project_version();

// `git describe --always --dirty` at configure time; "unknown" outside git.
std::string_view git_revision();

// The one --version line every program prints:
// "<program> <project version> (<git revision>)".
std::string version_line(std::string_view program);

}  // namespace rsp
