// Java Card CAP files (Java Card Virtual Machine Specification 3.0.5
// chapter 6): the JAR/zip archive, its components, and the load file data
// block that GP 2.3.1 11.6 LOAD sends to the card (the components in the
// order of JCVM 6.2 / GP 2.3.1 C.1: Header, Directory, Import, Applet,
// Class, Method, StaticField, Export, ConstantPool, RefLocation; the
// Descriptor and Debug components stay off the card).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "rsp/bytes.hpp"

namespace rsp::gp {

// JCVM 3.0.5 Table 6-1: component tags.
namespace component {
inline constexpr std::uint8_t kHeader = 1, kDirectory = 2, kApplet = 3, kImport = 4, kConstantPool = 5, kClass = 6,
                              kMethod = 7, kStaticField = 8, kRefLocation = 9, kExport = 10, kDescriptor = 11,
                              kDebug = 12;
}
// The tags in load order, and which of them a load file must have.
const std::vector<std::uint8_t>& load_order();
bool component_required(std::uint8_t tag);
std::string component_name(std::uint8_t tag);  // "Header", "Directory"...

struct PackageRef {
  Bytes aid;
  std::uint8_t major = 0, minor = 0;
};

// What a load file data block says about itself (Header, Import and Applet components).
struct LoadFileInfo {
  PackageRef package;                  // Header package_info
  std::uint8_t cap_major = 0, cap_minor = 0, flags = 0;
  std::vector<Bytes> applets;          // Applet component: the module (applet class) AIDs
  std::vector<PackageRef> imports;     // Import component
  std::vector<std::uint8_t> components;  // tags in the order found
};

struct CapError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Checks a load file data block's structure: each component's tag and u2
// size fill it exactly, Header first with magic DECAFFED, the tags in
// load_order() without repeats, the required ones present (JCVM 6.2).
// Throws CapError naming what is wrong. This is also what the card checks.
LoadFileInfo parse_load_file(ByteView load_file_data_block);

class CapFile {
 public:
  // Reads the CAP (zip) archive; components are the entries whose name ends
  // in "javacard/<Component>.cap". Throws CapError.
  static CapFile read(const std::string& path);
  static CapFile from_zip(ByteView zip);

  const std::map<std::uint8_t, Bytes>& components() const { return components_; }
  // Load file data block: the components in load order (without Descriptor, Debug).
  Bytes load_file_data_block() const;
  const LoadFileInfo& info() const { return info_; }

 private:
  std::map<std::uint8_t, Bytes> components_;
  LoadFileInfo info_;
};

// The entries of a zip archive (APPNOTE 6.3: stored and deflated), name -> content.
std::map<std::string, Bytes> read_zip(ByteView zip);

}  // namespace rsp::gp
