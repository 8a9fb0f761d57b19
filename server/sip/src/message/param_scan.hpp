#pragma once
// Shared scanning step for generic parameters. Internal header.

#include "charset.hpp"
#include "sipsite/sip/message/param.hpp"

namespace sipsite::sip::detail {

// Consumes *( SEMI generic-param ) from the scanner, stopping (with the
// position restored to before any trailing whitespace) at the first thing
// that is not ';'. Returns false on a malformed parameter.
bool scan_generic_params(Scanner& in, Params& out);

}  // namespace sipsite::sip::detail
