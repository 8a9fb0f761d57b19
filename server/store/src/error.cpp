#include <sipsite/store/error.hpp>

#include <boost/throw_exception.hpp>

#include <stdexcept>

namespace sipsite::store {

void throw_exception_from_error(const Error& e, const boost::source_location& loc) {
  boost::throw_with_location(std::runtime_error(e.message), loc);
}

}  // namespace sipsite::store
