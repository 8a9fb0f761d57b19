#pragma once
// Counters of the SIP core, for the console's /metrics. Incremented on the
// SIP strand, read from any thread (relaxed atomics: each value is exact,
// a snapshot across values need not be).

#include "sipsite/metrics/histogram.hpp"

#include <array>
#include <chrono>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace sipsite::sip {

class Counters {
 public:
  // Methods counted by name; anything else is "other".
  static constexpr std::array<std::string_view, 14> kMethods = {"INVITE",   "ACK",     "BYE",       "CANCEL", "OPTIONS",
                                                                "REGISTER", "MESSAGE", "PRACK",     "UPDATE", "INFO",
                                                                "REFER",    "NOTIFY",  "SUBSCRIBE", "other"};

  void request_received(std::string_view method);
  void response_sent(int status_code);
  void response_received(int status_code);
  void parse_error() { inc(parse_errors_); }
  void registration_added() { inc(registrations_added_); }
  void registration_removed() { inc(registrations_removed_); }
  void auth_failure() { inc(auth_failures_); }
  void auth_rate_limited() { inc(auth_rate_limited_); }
  void transaction_started(bool client) { inc(client ? client_transactions_ : server_transactions_); }
  void transaction_timed_out() { inc(transaction_timeouts_); }
  void transaction_refused() { inc(transactions_refused_); }
  // A transaction got (client) or gave (server) its final response this
  // long after it started: a server INVITE's time includes the ringing.
  void transaction_completed(bool client, bool invite, std::chrono::nanoseconds elapsed) {
    (client ? (invite ? client_invite_ : client_other_) : (invite ? server_invite_ : server_other_)).observe(elapsed);
  }
  void connection_opened() { inc(connections_opened_); }
  void connection_closed() { inc(connections_closed_); }
  void connection_refused() { inc(connections_refused_); }

  // Gauges set by their owners.
  void set_registrations(std::int64_t n) { registrations_.store(n, std::memory_order_relaxed); }
  void set_connections(std::int64_t n) { connections_.store(n, std::memory_order_relaxed); }
  void set_transactions(std::int64_t n) { transactions_.store(n, std::memory_order_relaxed); }

  // Prometheus text exposition format (sipsite_sip_* metric families).
  std::string prometheus() const;

 private:
  using Counter = std::atomic<std::uint64_t>;
  static void inc(Counter& c) { c.fetch_add(1, std::memory_order_relaxed); }

  std::array<Counter, kMethods.size()> requests_{};
  std::array<Counter, 6> responses_sent_{};  // index = class 1..6 minus 1
  std::array<Counter, 6> responses_received_{};
  Counter parse_errors_{0}, registrations_added_{0}, registrations_removed_{0}, auth_failures_{0},
      auth_rate_limited_{0}, client_transactions_{0}, server_transactions_{0}, transaction_timeouts_{0},
      transactions_refused_{0}, connections_opened_{0}, connections_closed_{0}, connections_refused_{0};
  std::atomic<std::int64_t> registrations_{0}, connections_{0}, transactions_{0};
  metrics::Histogram client_invite_{metrics::kLatencyBuckets}, client_other_{metrics::kLatencyBuckets},
      server_invite_{metrics::kLatencyBuckets}, server_other_{metrics::kLatencyBuckets};
};

}  // namespace sipsite::sip
