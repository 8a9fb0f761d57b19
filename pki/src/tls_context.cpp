#include <sipsite/pki/tls_context.hpp>

#include "openssl_util.hpp"

#include <openssl/ssl.h>

namespace sipsite::pki {

using namespace detail;

void SslCtxFree::operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }

namespace {

// TLS 1.2 suites: ECDHE with AEAD only. TLS 1.3 suites are all acceptable.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256";

}  // namespace

Result<SslCtxPtr> make_lan_server_context(const Certificate& cert, const PrivateKey& key) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return openssl_error(Errc::openssl_failure, "cannot create a TLS context");
  SSL_CTX* c = ctx.get();
  if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1 || SSL_CTX_set_cipher_list(c, kTls12Ciphers) != 1 ||
      SSL_CTX_use_certificate(c, cert.native()) != 1 || SSL_CTX_use_PrivateKey(c, key.native()) != 1 ||
      SSL_CTX_check_private_key(c) != 1) {
    return openssl_error(Errc::openssl_failure, "cannot configure the TLS context with the site certificate");
  }
  SSL_CTX_set_options(
      c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
  SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
  return ctx;
}

}  // namespace sipsite::pki
