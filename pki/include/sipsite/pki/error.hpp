#pragma once
// Errors returned by the pki library. Untrusted input (PEM from a peer, an
// invite pasted by an admin) never throws: it becomes an Error value whose
// message is one clear sentence fit to show an administrator.

#include <boost/system/result.hpp>

#include <string>

namespace sipsite::pki {

enum class Errc {
  openssl_failure,  // an OpenSSL call failed for a reason outside the input
  not_pem,          // no PEM block, or a block that does not decode
  private_key_not_certificate,
  multiple_certificates,  // a chain where one self-signed certificate is expected
  not_yet_valid,
  expired,
  no_domain,  // certificate names no usable DNS domain
  bad_key,    // private key unusable (wrong type, curve, encoding)
  bad_fingerprint,
  bad_invite,
  bad_domain,
  bad_address,         // not HOST:PORT
  bad_rotation_proof,  // a key-rotation proof that is absent, damaged or does not verify
};

struct Error {
  Errc code;
  std::string message;
};

// Lets Result<T>::value() throw for callers that choose exceptions (tests,
// start-up code); library code uses has_error()/error() instead.
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;

}  // namespace sipsite::pki
