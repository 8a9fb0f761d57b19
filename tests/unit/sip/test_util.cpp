#include "test_util.hpp"

#include <fstream>
#include <iterator>
#include <stdexcept>

namespace sipsite::sip::test {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string rfc4475_dir() { return std::string(SIPSITE_SHARED_DIR) + "/data/rfc4475"; }

std::string rfc4475(std::string_view name) { return read_file(rfc4475_dir() + "/" + std::string(name) + ".sip"); }

}  // namespace sipsite::sip::test
