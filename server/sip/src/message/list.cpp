#include "sipsite/sip/message/list.hpp"

#include "charset.hpp"

namespace sipsite::sip {

std::vector<std::string_view> split_list(std::string_view value) {
  std::vector<std::string_view> out;
  bool quoted = false;
  bool angle = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (quoted) {
      if (c == '\\') {
        ++i;  // the escaped octet cannot end the quoted string
      } else if (c == '"') {
        quoted = false;
      }
    } else if (angle) {
      // URIs inside <> may hold commas (user part, header values)
      if (c == '>') angle = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == '<') {
      angle = true;
    } else if (c == ',') {
      out.push_back(detail::trim(value.substr(start, i - start)));
      start = i + 1;
    }
  }
  out.push_back(detail::trim(value.substr(start)));
  return out;
}

}  // namespace sipsite::sip
