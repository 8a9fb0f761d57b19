#pragma once
// Errors returned by the store. Messages are one sentence, fit for an admin,
// and never contain key material.

#include <boost/system/result.hpp>

#include <string>

namespace sipsite::store {

enum class Errc {
  not_initialised,  // no database file where one is expected
  already_exists,   // a database file where a new one would be created
  wrong_key,        // the key does not decrypt the file (or it is not a database)
  bad_key_file,     // missing, malformed or too widely readable key file
  schema_too_new,   // written by a newer sipsite
  corrupt,
  busy,  // another process holds the write lock past the timeout
  duplicate,
  not_found,
  invalid,  // a value the schema refuses
  full,     // a size or count cap is reached (stored messages)
  io,
};

struct Error {
  Errc code;
  std::string message;
};

[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;

}  // namespace sipsite::store
