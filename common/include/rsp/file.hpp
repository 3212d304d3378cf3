// Whole-file reads and private writes for the command-line tools.
#pragma once
#include <cstddef>
#include <string>

#include "rsp/bytes.hpp"

namespace rsp {

// The most any tool reads from one file unless it asks for more (issue 9:
// every file a tool reads is bounded). The largest real inputs are SIM-vendor
// batches and profile packages (a million-profile batch is ~200 MB; tools
// reading those pass their own bound); configurations, certificates and keys
// are a few KB.
inline constexpr std::size_t kMaxFileBytes = 64u << 20;
// What read_private_file accepts: a key, a PIN or a password is far smaller.
inline constexpr std::size_t kMaxPrivateFileBytes = 64u << 10;

// The file's bytes; throws std::runtime_error naming the path when it cannot
// be read, is a directory, or holds more than `max_bytes` (checked while
// reading, so /dev/zero or a growing file stops there too).
Bytes read_file(const std::string& path, std::size_t max_bytes = kMaxFileBytes);
// Creates or truncates `path` with mode 0600 before writing (keys, secrets).
void write_private_file(const std::string& path, ByteView data);
// Like write_private_file, but only creates: when `path` exists (a file, a
// dangling symlink, anything) nothing is written and std::runtime_error
// "<path> exists" is thrown (O_EXCL, so no race between check and write).
// For the tools that must never replace a key without --force (issue 13).
void create_private_file(const std::string& path, ByteView data);
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
