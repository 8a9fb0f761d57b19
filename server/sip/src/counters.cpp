#include "sipsite/sip/counters.hpp"

#include "sipsite/metrics/exposition.hpp"

#include <tuple>

namespace sipsite::sip {

namespace {

using metrics::family;

std::size_t class_index(int status_code) {
  const int cls = status_code / 100;
  return cls >= 1 && cls <= 6 ? static_cast<std::size_t>(cls - 1) : 5;
}

// One sample of an atomic counter or gauge.
template <class T>
void sample(std::string& out, std::string_view name, std::string_view labels, const T& value) {
  metrics::sample(out, name, labels, std::to_string(value.load(std::memory_order_relaxed)));
}

}  // namespace

void Counters::request_received(std::string_view method) {
  for (std::size_t i = 0; i + 1 < kMethods.size(); ++i) {
    if (kMethods[i] == method) {
      inc(requests_[i]);
      return;
    }
  }
  inc(requests_.back());
}

void Counters::response_sent(int status_code) { inc(responses_sent_[class_index(status_code)]); }
void Counters::response_received(int status_code) { inc(responses_received_[class_index(status_code)]); }

std::string Counters::prometheus() const {
  std::string out;
  family(out, "sipsite_sip_requests_received_total", "counter", "SIP requests received, by method.");
  for (std::size_t i = 0; i < kMethods.size(); ++i) {
    sample(out, "sipsite_sip_requests_received_total", "method=\"" + std::string(kMethods[i]) + "\"", requests_[i]);
  }
  using ClassCounters = std::array<Counter, 6>;
  const std::tuple<std::string_view, const ClassCounters*, std::string_view> by_class[] = {
      {"sipsite_sip_responses_sent_total", &responses_sent_, "SIP responses sent, by class."},
      {"sipsite_sip_responses_received_total", &responses_received_, "SIP responses received, by class."},
  };
  for (const auto& [name, array, help] : by_class) {
    family(out, name, "counter", help);
    for (std::size_t i = 0; i < array->size(); ++i) {
      sample(out, name, "class=\"" + std::to_string(i + 1) + "xx\"", (*array)[i]);
    }
  }
  const std::tuple<std::string_view, const Counter*, std::string_view> counters[] = {
      {"sipsite_sip_parse_errors_total", &parse_errors_, "Messages that failed to parse."},
      {"sipsite_sip_registrations_added_total", &registrations_added_, "Contact bindings added."},
      {"sipsite_sip_registrations_removed_total", &registrations_removed_, "Contact bindings removed or expired."},
      {"sipsite_sip_auth_failures_total", &auth_failures_, "Failed digest authentications."},
      {"sipsite_sip_auth_rate_limited_total", &auth_rate_limited_,
       "Requests refused by the authentication rate limit."},
      {"sipsite_sip_client_transactions_total", &client_transactions_, "Client transactions started."},
      {"sipsite_sip_server_transactions_total", &server_transactions_, "Server transactions started."},
      {"sipsite_sip_transaction_timeouts_total", &transaction_timeouts_, "Client transactions that timed out."},
      {"sipsite_sip_transactions_refused_total", &transactions_refused_,
       "Requests answered 503 because the transaction cap (sip.max_transactions) was reached."},
      {"sipsite_sip_connections_opened_total", &connections_opened_, "TCP/TLS connections opened."},
      {"sipsite_sip_connections_closed_total", &connections_closed_, "TCP/TLS connections closed."},
      {"sipsite_sip_connections_refused_total", &connections_refused_, "Connections refused by limits."},
  };
  for (const auto& [name, counter, help] : counters) {
    family(out, name, "counter", help);
    sample(out, name, "", *counter);
  }
  const std::tuple<std::string_view, const std::atomic<std::int64_t>*, std::string_view> gauges[] = {
      {"sipsite_sip_registrations", &registrations_, "Contact bindings now registered."},
      {"sipsite_sip_connections", &connections_, "TCP/TLS connections now open."},
      {"sipsite_sip_transactions", &transactions_, "Transactions now alive."},
  };
  for (const auto& [name, gauge, help] : gauges) {
    family(out, name, "gauge", help);
    sample(out, name, "", *gauge);
  }
  constexpr std::string_view kDuration = "sipsite_sip_transaction_duration_seconds";
  family(out, kDuration, "histogram",
         "Time from a SIP transaction's start to its final response (sent by a server transaction, "
         "received by a client one), by role and method (invite includes the ringing).");
  client_invite_.render(out, kDuration, R"(role="client",method="invite")");
  client_other_.render(out, kDuration, R"(role="client",method="other")");
  server_invite_.render(out, kDuration, R"(role="server",method="invite")");
  server_other_.render(out, kDuration, R"(role="server",method="other")");
  return out;
}

}  // namespace sipsite::sip
