#include "openssl_util.hpp"

#include <openssl/err.h>

#include <limits>

namespace sipsite::pki::detail {

BioPtr memory_bio(std::string_view data) {
  // BIO_new_mem_buf takes an int length; larger inputs are truncated to an
  // empty BIO, which then fails to parse rather than overflowing.
  const int len =
      data.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ? 0 : static_cast<int>(data.size());
  return BioPtr(BIO_new_mem_buf(data.data(), len));
}

std::string drain_bio(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

Error openssl_error(Errc code, std::string_view what) {
  std::string message(what);
  if (const unsigned long e = ERR_get_error(); e != 0) {
    if (const char* reason = ERR_reason_error_string(e)) {
      message += " (";
      message += reason;
      message += ")";
    }
  }
  ERR_clear_error();
  return Error{code, std::move(message)};
}

void clear_openssl_errors() { ERR_clear_error(); }

}  // namespace sipsite::pki::detail
