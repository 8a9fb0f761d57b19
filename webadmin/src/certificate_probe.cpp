#include <sipsite/webadmin/certificate_probe.hpp>

#include <sipsite/pki/pinning.hpp>
#include <sipsite/pki/tls_context.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <openssl/ssl.h>

#include <memory>

namespace sipsite::webadmin {

namespace asio = boost::asio;

CertificateProbe make_certificate_probe(const pki::Certificate& cert, const pki::PrivateKey& key,
                                        std::chrono::seconds timeout) {
  auto made = pki::make_probe_client_context(cert, key);
  if (!made) return {};
  std::shared_ptr<SSL_CTX> ctx(made->release(), [](SSL_CTX* c) { SSL_CTX_free(c); });
  return [ctx, timeout](const pki::HostPort& address) -> ProbeResult {
    asio::io_context io;
    SSL_CTX_up_ref(ctx.get());  // asio::ssl::context frees the handle it wraps
    asio::ssl::context ssl(ctx.get());
    asio::ssl::stream<asio::ip::tcp::socket> stream(io, ssl);
    asio::ip::tcp::resolver resolver(io);
    boost::system::error_code failure;
    resolver.async_resolve(address.host, std::to_string(address.port), [&](auto ec, auto results) {
      if (ec) {
        failure = ec;
        return;
      }
      asio::async_connect(stream.next_layer(), results, [&](auto cec, auto) {
        if (cec) {
          failure = cec;
          return;
        }
        stream.async_handshake(asio::ssl::stream_base::client, [&](auto) {
          boost::system::error_code ignored;
          stream.next_layer().close(ignored);
        });
      });
    });
    io.run_for(timeout);
    auto identity = pki::peer_identity(stream.native_handle());
    if (!identity.certificate) {
      // The address comes from the other site's invite, that is from its
      // site.public_address: name the setting its admin can fix.
      return {std::nullopt, "no certificate received from " + address.to_string() +
                                (failure ? " (" + failure.message() + ")" : " (no TLS answer in time)") +
                                "; an invite's address is the site.public_address of the site that made it, which "
                                "must be an address other sites can reach"};
    }
    return {std::move(identity.certificate), {}};
  };
}

}  // namespace sipsite::webadmin
