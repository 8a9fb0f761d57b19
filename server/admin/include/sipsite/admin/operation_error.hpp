#pragma once
// What an admin operation (site_operations.hpp) can answer instead of doing
// it. One enum for every front end: the command line maps it to an exit
// code, the REST API to an HTTP status; to_string() is the stable name the
// API shows as its error code. Messages are one sentence for the admin,
// without the front end's option names.

#include <sipsite/store/error.hpp>

#include <boost/system/result.hpp>

#include <string>
#include <string_view>

namespace sipsite::admin {

enum class OpErrc {
  // What the admin gave is wrong (the CLI's exit 2, HTTP 400).
  bad_aor,               // not USER@DOMAIN, or not a user of this site
  bad_password,          // outside the SIP password rules
  bad_fingerprint,       // not a SHA-256 fingerprint
  bad_address,           // not HOST:PORT
  bad_certificate,       // unreadable, or outside its validity dates
  fingerprint_mismatch,  // the certificate is not the one the invite names
  domain_mismatch,       // the certificate names another domain than the invite
  own_certificate,       // this site's own certificate
  own_domain,            // this site's own domain
  bad_name,              // a name outside its rules (an API token's)
  bad_setting,           // a setting's value outside its rules
  invalid,               // a value the database refuses
  // The state of the site does not allow it (the CLI's exit 1).
  not_found,
  conflict,               // it exists already
  peer_trusted,           // a trusted peer cannot be removed: revoke it first
  certificate_not_valid,  // a stored certificate is unreadable or outside its dates
  busy,                   // another process holds the database
  failed,                 // the database failed
};

// The stable snake_case name, e.g. "bad_aor".
std::string_view to_string(OpErrc code);

// True for the first group above: the input, not the site, is wrong.
bool is_bad_input(OpErrc code);

struct OpError {
  OpErrc code;
  std::string message;
};

// A store error as an operation error (duplicate -> conflict, ...).
OpError from_store(const store::Error& e);

[[noreturn]] void throw_exception_from_error(const OpError& e, const boost::source_location& loc);

template <class T>
using OpResult = boost::system::result<T, OpError>;

}  // namespace sipsite::admin
