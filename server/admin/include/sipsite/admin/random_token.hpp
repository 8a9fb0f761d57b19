#pragma once
// Unguessable tokens: console session ids and CSRF tokens (webadmin), API
// bearer tokens (issued by SiteOperations).

#include <cstddef>
#include <string>

namespace sipsite::admin {

// `bytes` random bytes (OpenSSL's CSPRNG) as unpadded base64url; empty on
// failure.
std::string random_token(std::size_t bytes);

}  // namespace sipsite::admin
