#pragma once

#include <string>
#include <string_view>

namespace sipsite::sip::test {

// Bytes of a file, byte-exact.
std::string read_file(const std::string& path);

// The RFC 4475 corpus shipped in the shared data directory.
std::string rfc4475_dir();
std::string rfc4475(std::string_view name);  // "wsinv" -> bytes of wsinv.sip

}  // namespace sipsite::sip::test
