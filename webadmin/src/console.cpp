#include <sipsite/webadmin/console.hpp>

#include <sipsite/asio/task_group.hpp>
#include <sipsite/common/thread_role.hpp>
#include <sipsite/pki/tls_context.hpp>

#include "session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <future>
#include <algorithm>
#include <list>
#include <map>
#include <string>
#include <thread>

namespace sipsite::webadmin {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr auto kShutdownTimeout = std::chrono::seconds(3);
constexpr auto kStopDeadline = std::chrono::seconds(5);

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

}  // namespace

struct Console::Impl {
  Impl(ConsoleSettings s, store::Database d, LiveState& l) : settings(std::move(s)), db(std::move(d)), live(l) {}

  // Declared so that the io_context goes first: destroying it destroys any
  // unfinished connection frames, which still use the TLS context, the API
  // and the connection list.
  ConsoleSettings settings;
  store::Database db;
  LiveState& live;
  std::unique_ptr<asio::ssl::context> tls;
  std::optional<Api> api;
  // Every live connection, so stop() can close them, and how many each
  // client address holds (touched on io's thread only).
  std::list<beast::tcp_stream*> connections;
  std::map<std::string, std::size_t, std::less<>> per_address;
  pki::HostPort bound;
  std::thread thread;
  std::future<void> done;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  // Every coroutine of the console (sipsite/asio/task_group.hpp).
  async::TaskGroup tasks{io.get_executor(), "console"};

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(tcp::socket socket, std::string client);
  // Whether one more connection from `client` fits the caps.
  [[nodiscard]] bool admits(const std::string& client) const;
  void close_all();
};

bool Console::Impl::admits(const std::string& client) const {
  const auto& limits = settings.limits;
  if (connections.size() >= limits.max_connections) return false;
  const auto held = per_address.find(client);
  if (held != per_address.end() && held->second >= limits.max_connections_per_address) return false;
  const std::size_t open_share = limits.max_connections - std::min(limits.reserved_for_known, limits.max_connections);
  return connections.size() < open_share || api->known_client(client);
}

asio::awaitable<void> Console::Impl::serve(tcp::socket socket, std::string client) {
  RequestContext ctx;
  ctx.client = std::move(client);
  TlsStream stream(std::move(socket), *tls);
  beast::tcp_stream& lowest = beast::get_lowest_layer(stream);
  connections.push_front(&lowest);
  ++per_address[ctx.client];
  struct Unregister {
    Impl& impl;
    std::list<beast::tcp_stream*>::iterator it;
    std::string client;
    ~Unregister() {
      impl.connections.erase(it);
      if (auto held = impl.per_address.find(client); held != impl.per_address.end() && --held->second == 0)
        impl.per_address.erase(held);
    }
  } unregister{*this, connections.begin(), ctx.client};

  lowest.expires_after(settings.limits.handshake_timeout);
  auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kTuple);
  if (hec) co_return;
  co_await detail::run_session(stream, settings.limits,
                               [this, &ctx](const Request& req) { return api->handle(req, ctx); });
  if (!lowest.socket().is_open()) co_return;
  lowest.expires_after(kShutdownTimeout);
  co_await stream.async_shutdown(kTuple);
}

asio::awaitable<void> Console::Impl::accept_loop() {
  asio::steady_timer backoff(io);
  while (acceptor.is_open()) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors or similar: wait a little rather than spin.
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(kTuple);
      continue;
    }
    beast::error_code ec_endpoint;
    std::string client = socket.remote_endpoint(ec_endpoint).address().to_string();
    if (ec_endpoint || !admits(client)) {
      beast::error_code ignored;
      socket.close(ignored);
      continue;
    }
    // Tracked in `connections` until it ends; stop() closes them all. An
    // exception can only be a bug in Beast or an allocation failure: the
    // task group reports it, the connection is dropped (its frame closes
    // the socket), the console goes on.
    tasks.spawn(serve(std::move(socket), std::move(client)));
  }
}

void Console::Impl::close_all() {
  beast::error_code ec;
  acceptor.close(ec);
  for (beast::tcp_stream* s : connections) {
    s->socket().shutdown(tcp::socket::shutdown_both, ec);
    s->close();
  }
}

Console::Console(ConsoleSettings settings, store::Database db, LiveState& live)
    : impl_(std::make_unique<Impl>(std::move(settings), std::move(db), live)) {}

Console::~Console() { stop(); }

std::optional<std::string> Console::start(const pki::Certificate& cert, const pki::PrivateKey& key,
                                          std::string invite) {
  Impl& m = *impl_;
  if (!invite.empty()) m.settings.api.invite = std::move(invite);
  const std::string where = "admin/https " + m.settings.listen.to_string();
  auto ctx = pki::make_lan_server_context(cert, key);
  if (!ctx) return "cannot set up TLS for " + where + ": " + ctx.error().message;
  m.tls = std::make_unique<asio::ssl::context>(ctx->release());  // takes ownership

  beast::error_code ec;
  tcp::resolver resolver(m.io);
  const auto results = resolver.resolve(m.settings.listen.host, std::to_string(m.settings.listen.port),
                                        tcp::resolver::numeric_service | tcp::resolver::passive, ec);
  if (ec || results.empty()) return "cannot resolve " + where + ": " + ec.message();
  const tcp::endpoint endpoint = results.begin()->endpoint();
  m.acceptor.open(endpoint.protocol(), ec);
  if (!ec) m.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) m.acceptor.bind(endpoint, ec);
  if (!ec) m.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    m.acceptor.close();
    return "cannot listen on " + where + ": " + ec.message();
  }
  const tcp::endpoint local = m.acceptor.local_endpoint(ec);
  m.bound = pki::HostPort{local.address().to_string(), local.port()};

  if (!m.settings.api.probe) m.settings.api.probe = make_certificate_probe(cert, key);
  m.api.emplace(m.settings.api, m.db, m.live);
  m.tasks.spawn(m.accept_loop());
  std::promise<void> finished;
  m.done = finished.get_future();
  m.thread = std::thread([&m, finished = std::move(finished)]() mutable {
    common::make_this_a_background_thread("sipsite-console");
    m.io.run();
    finished.set_value();
  });
  return std::nullopt;
}

pki::HostPort Console::local_address() const { return impl_->bound; }

void Console::stop() {
  Impl& m = *impl_;
  if (!m.thread.joinable()) return;
  // Shutdown: close the sockets and cancel every task, wait for them with
  // a deadline, then stop whatever is left.
  asio::post(m.io, [&m] {
    m.close_all();
    m.tasks.cancel();
  });
  if (m.done.wait_for(kStopDeadline) != std::future_status::ready) m.io.stop();
  m.thread.join();
}

}  // namespace sipsite::webadmin
