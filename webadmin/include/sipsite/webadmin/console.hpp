#pragma once
// The admin console: an HTTPS server (TLS 1.2+, the site certificate) for the
// UI and the REST API (see api.hpp), on a thread of its own with its own
// io_context and its own database connection, so that Argon2 hashing and
// database work never stall the SIP thread.
//
// HTTP/1.1 with keep-alive; requests are bounded in size (header and body
// limits: 431 / 413) and in time (TLS handshake, header, body and write
// timeouts; an idle keep-alive connection closes after the header timeout).

#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/host_port.hpp>
#include <sipsite/pki/private_key.hpp>
#include <sipsite/store/database.hpp>
#include <sipsite/webadmin/api.hpp>
#include <sipsite/webadmin/live_state.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace sipsite::webadmin {

struct ServerLimits {
  std::chrono::seconds handshake_timeout{10};
  std::chrono::seconds header_timeout{30};  // also the keep-alive idle time
  std::chrono::seconds body_timeout{30};
  std::chrono::seconds write_timeout{30};
  std::size_t header_limit = 16 * 1024;
  std::size_t body_limit = 64 * 1024;
  // POST /api/v1/peers/bulk only: a federation's certificates in one
  // request (10,000 PEM certificates are about 7 MiB).
  std::size_t bulk_body_limit = 12 * 1024 * 1024;
  std::size_t max_connections = 64;  // beyond: new connections are closed at once
  // One client address may hold at most this many; and the last
  // `reserved_for_known` of max_connections go only to addresses that
  // authenticated before (a login, a session, an API token), so that
  // clients that never did cannot crowd the admin out.
  std::size_t max_connections_per_address = 16;
  std::size_t reserved_for_known = 16;
};

struct ConsoleSettings {
  pki::HostPort listen{"127.0.0.1", 8443};
  ServerLimits limits;
  ApiSettings api;
};

class Console {
 public:
  // `live` must outlive the Console. The console takes the database
  // connection and uses it only from its own thread.
  Console(ConsoleSettings settings, store::Database db, LiveState& live);
  ~Console();  // stop()
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;

  // Sets up TLS with the site's certificate, binds the listener and starts
  // the console's thread. `invite` replaces settings.api.invite when not
  // empty (the federation port may be known only once it is bound).
  // Returns what failed, or nullopt.
  std::optional<std::string> start(const pki::Certificate& cert, const pki::PrivateKey& key, std::string invite = {});

  // The bound address, "127.0.0.1:8443" (after start()).
  pki::HostPort local_address() const;

  // Stops accepting, closes every connection and joins the thread (bounded:
  // after a few seconds the loop is stopped outright). Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sipsite::webadmin
