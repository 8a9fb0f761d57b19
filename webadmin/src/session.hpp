#pragma once
// One connection's HTTP/1.1 request/response loop, for any stream: the
// console runs it over TLS (beast::ssl_stream<beast::tcp_stream>), the unit
// tests over beast::test::stream with a fail count, to walk every failure
// point. State lives in the coroutine frame.
//
// The loop ends (co_return) on the first read or write error, after a
// response with keep-alive off, or after answering a request the parser
// refused (431, 413, 400); closing or shutting down the stream is the
// caller's part. It never throws for network input.

#include <sipsite/webadmin/console.hpp>
#include <sipsite/webadmin/http.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <tuple>

namespace sipsite::webadmin::detail {

// Arms the stream's timeout when its lowest layer has one (beast::tcp_stream);
// test streams have none.
template <class Stream>
void set_deadline(Stream& stream, std::chrono::steady_clock::duration d) {
  auto& lowest = boost::beast::get_lowest_layer(stream);
  if constexpr (requires { lowest.expires_after(d); }) lowest.expires_after(d);
}

// The answer to a request the parser refused; the connection closes after it.
inline std::optional<Response> parse_failure_response(const boost::beast::error_code& ec) {
  if (ec == http::error::header_limit) {
    return error_response(http::status::request_header_fields_too_large, "header_too_large",
                          "the request header is too large");
  }
  if (ec == http::error::body_limit) {
    return error_response(http::status::payload_too_large, "body_too_large", "the request body is too large");
  }
  if (ec.category() == http::make_error_code(http::error::bad_target).category() && ec != http::error::end_of_stream &&
      ec != http::error::partial_message) {
    return error_response(http::status::bad_request, "bad_request", "malformed HTTP request");
  }
  return std::nullopt;
}

// After a body was refused (413), reads and drops what the client is still
// sending, bounded in bytes and time, so that it can finish its send and
// read the answer instead of meeting a reset (a "lingering close").
template <class Stream>
boost::asio::awaitable<void> drain_refused_body(Stream& stream, std::chrono::steady_clock::duration timeout) {
  constexpr std::size_t kMaxDrained = std::size_t{1} << 20;
  std::array<char, 16384> scratch{};
  std::size_t drained = 0;
  set_deadline(stream, timeout);
  while (drained < kMaxDrained) {
    auto [ec, n] = co_await stream.async_read_some(boost::asio::buffer(scratch),
                                                   boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec) break;
    drained += n;
  }
}

// `handle(const Request&) -> Response` answers each request (Api::handle).
template <class Stream, class Handler>
boost::asio::awaitable<void> run_session(Stream& stream, ServerLimits limits, Handler handle) {
  constexpr auto kTuple = boost::asio::as_tuple(boost::asio::use_awaitable);
  boost::beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.header_limit));
    parser.body_limit(limits.body_limit);

    set_deadline(stream, limits.header_timeout);
    auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, kTuple);
    if (!ec && !parser.is_done()) {
      if (parser.get().method() == http::verb::post && parser.get().target() == "/api/v1/peers/bulk") {
        parser.body_limit(limits.bulk_body_limit);
      }
      set_deadline(stream, limits.body_timeout);
      std::tie(ec, n) = co_await http::async_read(stream, buffer, parser, kTuple);
    }
    if (ec) {
      if (auto res = parse_failure_response(ec)) {
        res->keep_alive(false);
        add_security_headers(*res);
        res->prepare_payload();
        set_deadline(stream, limits.write_timeout);
        const auto [wec, wn] = co_await http::async_write(stream, *res, kTuple);
        if (!wec && ec == http::error::body_limit) {
          co_await drain_refused_body(
              stream, std::min<std::chrono::steady_clock::duration>(limits.body_timeout, std::chrono::seconds(5)));
        }
      }
      co_return;
    }

    Response res = handle(parser.get());
    const bool keep_alive = res.keep_alive();
    set_deadline(stream, limits.write_timeout);
    auto [wec, wn] = co_await http::async_write(stream, res, kTuple);
    if (wec || !keep_alive) co_return;
  }
}

}  // namespace sipsite::webadmin::detail
