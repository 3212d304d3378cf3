// Whole-file reads and private writes for the command-line tools.
#pragma once
#include <string>

#include "rsp/bytes.hpp"

namespace rsp {

// The file's bytes; throws std::runtime_error naming the path.
Bytes read_file(const std::string& path);
// Creates or truncates `path` with mode 0600 before writing (keys, secrets).
void write_private_file(const std::string& path, ByteView data);
// Replaces `path` atomically with `data`, mode 0600: written to `path`.tmp,
// fsync'd, renamed over it, so a failure at any step leaves the previous file
// as it was (a state file that must survive a crash). Throws
// std::runtime_error "cannot write <what> <tmp>: <reason>" or "cannot
// replace <what> <path>: <reason>".
void replace_private_file(const std::string& path, ByteView data, const std::string& what);
// The bytes of a file that only its owner may access (a key, a PIN): throws
// std::runtime_error naming the path and its mode when the group or others
// have any access (the mode bits are checked, not access(), which says yes
// to root).
SecretBytes read_private_file(const std::string& path);

}  // namespace rsp
