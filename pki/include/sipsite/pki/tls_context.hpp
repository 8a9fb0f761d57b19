#pragma once
// SSL_CTX factories. The site always presents its own self-signed
// certificate; what differs is what it asks of the other side.

#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/private_key.hpp>

#include <memory>

using SSL_CTX = struct ssl_ctx_st;

namespace sipsite::pki {

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const;
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

// For phones on the LAN (SIP over TLS, the console): TLS 1.2 or later,
// server authentication only, forward-secret AEAD ciphers, no
// renegotiation, no compression, no session tickets.
Result<SslCtxPtr> make_lan_server_context(const Certificate& cert, const PrivateKey& key);

}  // namespace sipsite::pki
