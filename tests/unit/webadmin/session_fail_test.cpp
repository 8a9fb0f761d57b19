// The console's connection loop (detail::run_session, the same template the
// HTTPS server runs over TLS) driven over beast::test::stream with a
// fail_count, in the manner of Beast's own tests: for N = 1, 2, … the Nth
// read or write fails, until a run gets through with no failure. Every run
// must end the session (no hang), throw nothing, leave on the wire only a
// prefix of the failure-free answer (never other bytes) and close cleanly: the client then reads end-of-stream. Leaks
// show under the ASan build (LeakSanitizer).

#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/private_key.hpp>
#include <sipsite/store/admin_repository.hpp>
#include <sipsite/webadmin/api.hpp>
#include <sipsite/webadmin/password.hpp>

#include "session.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/fail_count.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/parser.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <string>
#include <vector>

namespace sipsite::webadmin {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using namespace std::chrono_literals;
using test::TempDir;

class NoLive final : public LiveState {
 public:
  std::string metrics() override { return {}; }
  std::optional<std::vector<Registration>> registrations() override { return std::vector<Registration>{}; }
  std::optional<std::vector<PeerLinkStatus>> peer_links() override { return std::vector<PeerLinkStatus>{}; }
};

struct Outcome {
  bool finished = false;     // the session coroutine returned
  bool threw = false;        // it ended by an exception
  std::string wire;          // what the client received
  beast::error_code end;     // how the client's last read ended
  std::size_t consumed = 0;  // bytes of the client's input the session read
};

class SessionFailTest : public ::testing::Test {
 protected:
  SessionFailTest()
      : db_(store::Database::open(dir_ / "s.db", store::DbKey::generate().value(), store::OpenMode::create).value()) {
    auto key = pki::PrivateKey::generate_p256().value();
    auto cert =
        pki::Certificate::self_signed(key, pki::CertificateOptions::valid_for_days("alpha.example", 30)).value();
    store::AdminRepository(db_).put({"admin", hash_password("one-time-password").value(), true, 0}).value();
    ApiSettings s;
    s.domain = "alpha.example";
    s.certificate_pem = cert.to_pem();
    api_.emplace(s, db_, live_);
    // Small reads and writes: more operations, more points of failure.
    limits_.header_limit = 2048;
    limits_.body_limit = 1024;
  }

  // One session over a test stream whose `fail_after`th operation fails
  // (0: none does). The client sends `input` and then ends its half.
  Outcome run(std::string_view input, std::size_t fail_after) {
    asio::io_context io;
    beast::test::fail_count fc(fail_after == 0 ? std::size_t(-1) : fail_after);
    beast::test::stream server(io, fc);
    beast::test::stream client(io);
    server.connect(client);
    server.read_size(97);
    server.write_size(1500);
    server.append(input);
    server.close_remote();  // end of the client's requests, after `input`

    Outcome r;
    asio::co_spawn(
        io,
        detail::run_session(server, limits_,
                            [this](const Request& req) { return api_->handle(req, RequestContext{"192.0.2.1"}); }),
        [&r](const std::exception_ptr& e) {
          r.finished = true;
          r.threw = e != nullptr;
        });
    // Nothing here waits on a clock: a session that does not return when its
    // input is used up would leave the loop idle, so run() would return with
    // r.finished false (a bounded run either way).
    io.run_for(20s);
    r.consumed = server.nread_bytes();
    // The caller's part after the session: close the connection.
    server.close();
    beast::flat_buffer buf;
    for (int i = 0; i < 10000; ++i) {
      const auto n = client.read_some(buf.prepare(4096), r.end);
      buf.commit(n);
      if (r.end) break;
    }
    r.wire = beast::buffers_to_string(buf.data());
    return r;
  }

  // Walks N = 1, 2, … until a run sees no failure; checks every run. The
  // run without a failure answers with `statuses`, in order. Returns the
  // number of runs that failed somewhere.
  std::size_t walk(std::string_view input, const std::vector<unsigned>& statuses) {
    const std::size_t expected_responses = statuses.size();
    const Outcome clean = run(input, 0);
    EXPECT_TRUE(clean.finished);
    EXPECT_FALSE(clean.threw);
    EXPECT_EQ(clean.end, boost::asio::error::eof) << clean.end.message();
    const auto answers = responses(clean.wire);
    EXPECT_EQ(answers.size(), expected_responses) << clean.wire;
    for (std::size_t i = 0; i < answers.size() && i < statuses.size(); ++i) {
      EXPECT_TRUE(answers[i].starts_with("HTTP/1.1 " + std::to_string(statuses[i]) + " ")) << answers[i];
    }

    constexpr std::size_t kMaxRuns = 500;
    for (std::size_t n = 1; n <= kMaxRuns; ++n) {
      const Outcome r = run(input, n);
      SCOPED_TRACE("failing operation " + std::to_string(n));
      EXPECT_TRUE(r.finished);
      EXPECT_FALSE(r.threw);
      EXPECT_EQ(r.end, boost::asio::error::eof) << r.end.message();
      // Whatever reached the client is the start of the clean answer (a
      // write that failed part way leaves its response cut short, as a
      // reset TCP connection would; never other bytes).
      EXPECT_TRUE(clean.wire.starts_with(r.wire)) << r.wire;
      EXPECT_LE(responses(r.wire).size(), expected_responses);
      if (r.wire == clean.wire) return n - 1;
    }
    ADD_FAILURE() << "still failing after " << kMaxRuns << " operations";
    return kMaxRuns;
  }

  // Splits the bytes into complete HTTP responses (as raw text); stops at
  // the first incomplete or malformed one.
  static std::vector<std::string> responses(std::string_view wire) {
    std::vector<std::string> out;
    while (!wire.empty()) {
      http::response_parser<http::string_body> p;
      p.body_limit(1 << 20);
      beast::error_code ec;
      std::size_t used = 0;
      while (!ec && !p.is_done() && used < wire.size()) {
        used += p.put(boost::asio::buffer(wire.data() + used, wire.size() - used), ec);
        if (ec == http::error::need_more) break;
      }
      if (!p.is_done()) break;
      out.emplace_back(wire.substr(0, used));
      wire.remove_prefix(used);
    }
    return out;
  }

  TempDir dir_;
  store::Database db_;
  NoLive live_;
  std::optional<Api> api_;
  ServerLimits limits_;
};

TEST_F(SessionFailTest, PipelinedKeepAliveRequestsSurviveAFailureAtEveryOperation) {
  const std::string input =
      "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
      "GET /app.js HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\n"
      "POST /api/v1/session HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{bad}"
      "GET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  const std::size_t failed = walk(input, {200, 200, 400, 404});
  // Reads of 97 bytes and writes of 1500: dozens of operations to fail.
  EXPECT_GT(failed, 10u);
}

TEST_F(SessionFailTest, AMalformedRequestIsAnswered400AtEveryFailurePoint) {
  walk("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nNOT HTTP AT ALL\r\n\r\n", {200, 400});
}

TEST_F(SessionFailTest, AnOversizedHeaderIsAnswered431AtEveryFailurePoint) {
  walk("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(3000, 'x') + "\r\n\r\n", {431});
}

TEST_F(SessionFailTest, AnOversizedBodyIsAnswered413AtEveryFailurePoint) {
  walk("POST /api/v1/session HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n" +
           std::string(5000, 'x'),
       {413});
}

TEST_F(SessionFailTest, AfterA413TheRestOfTheBodyIsReadSoTheClientCanFinishSending) {
  // A client that sends its whole body before reading would otherwise meet
  // a reset and never see the 413 (a lingering close).
  const std::string input =
      "POST /api/v1/session HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 50000\r\n\r\n" +
      std::string(50000, 'x');
  const Outcome r = run(input, 0);
  EXPECT_TRUE(r.finished);
  ASSERT_EQ(responses(r.wire).size(), 1U);
  EXPECT_TRUE(r.wire.starts_with("HTTP/1.1 413 ")) << r.wire;
  EXPECT_EQ(r.consumed, input.size());
}

TEST_F(SessionFailTest, ARequestCutShortEndsTheSessionWithoutAnAnswer) {
  walk("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /app.js HTTP/1.1\r\nHo", {200});
}

}  // namespace
}  // namespace sipsite::webadmin
