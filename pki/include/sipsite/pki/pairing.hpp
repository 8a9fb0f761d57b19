#pragma once
// Pairing codes: a short code both admins read aloud on one phone call to
// confirm each other's fingerprints at once.

#include <sipsite/pki/fingerprint.hpp>

#include <string>

namespace sipsite::pki {

// Twelve decimal digits in three groups ("0421 7730 1958"), derived by
// SHA-256 from the two fingerprints in sorted order, so both sites compute
// the same code whichever is "local". About 40 bits: enough that a
// man-in-the-middle cannot find a colliding certificate during a call.
std::string pairing_code(const Fingerprint& a, const Fingerprint& b);

}  // namespace sipsite::pki
