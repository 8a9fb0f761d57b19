#pragma once
// Private helpers shared by the transport's sources.

#include <sipsite/sip/io.hpp>

#include "tls_socket.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sipsite::transport::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using TlsStream = TlsSocket;  // tls_socket.hpp: OpenSSL on the socket itself

// Expected failures come back as values (error_code first), not exceptions.
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// IPv4 peers of a dual-stack IPv6 socket appear as ::ffff:a.b.c.d; the core
// sees them as the IPv4 addresses they are.
inline asio::ip::address unmapped(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  return a;
}

inline sip::Endpoint endpoint_of(sip::Protocol p, const asio::ip::address& a, std::uint16_t port) {
  return sip::Endpoint{p, unmapped(a).to_string(), port};
}

}  // namespace sipsite::transport::detail
