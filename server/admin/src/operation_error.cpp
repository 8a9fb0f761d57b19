#include <sipsite/admin/operation_error.hpp>

#include <boost/throw_exception.hpp>

#include <stdexcept>

namespace sipsite::admin {

std::string_view to_string(OpErrc code) {
  switch (code) {
    case OpErrc::bad_aor: return "bad_aor";
    case OpErrc::bad_password: return "bad_password";
    case OpErrc::bad_fingerprint: return "bad_fingerprint";
    case OpErrc::bad_address: return "bad_address";
    case OpErrc::bad_certificate: return "bad_certificate";
    case OpErrc::fingerprint_mismatch: return "fingerprint_mismatch";
    case OpErrc::domain_mismatch: return "domain_mismatch";
    case OpErrc::own_certificate: return "own_certificate";
    case OpErrc::own_domain: return "own_domain";
    case OpErrc::bad_name: return "bad_name";
    // The console's name for a bad setting since before SiteOperations.
    case OpErrc::bad_setting: return "invalid_field";
    case OpErrc::invalid: return "invalid";
    case OpErrc::not_found: return "not_found";
    case OpErrc::conflict: return "conflict";
    case OpErrc::peer_trusted: return "peer_trusted";
    case OpErrc::certificate_not_valid: return "certificate_not_valid";
    case OpErrc::busy: return "busy";
    case OpErrc::failed: return "store_error";
  }
  return "store_error";
}

bool is_bad_input(OpErrc code) { return code <= OpErrc::invalid; }

OpError from_store(const store::Error& e) {
  switch (e.code) {
    case store::Errc::duplicate: return {OpErrc::conflict, e.message};
    case store::Errc::not_found: return {OpErrc::not_found, e.message};
    case store::Errc::invalid: return {OpErrc::invalid, e.message};
    case store::Errc::busy: return {OpErrc::busy, "the database is busy; try again"};
    default: return {OpErrc::failed, e.message};
  }
}

void throw_exception_from_error(const OpError& e, const boost::source_location& loc) {
  boost::throw_with_location(std::runtime_error(e.message), loc);
}

}  // namespace sipsite::admin
