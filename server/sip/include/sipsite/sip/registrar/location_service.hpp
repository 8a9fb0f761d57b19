#pragma once
// Where registered users are: the contacts of each local username, kept in
// memory only (a privacy choice: no REGISTER data ever reaches the store,
// and a restart forgets every binding — phones re-register).
//
// Expired bindings are never returned; they are removed lazily when a
// user's bindings are read for update, by purge_expired(), and, when
// start_sweeping() was called, by a periodic sweep on the Timers. Counters
// registration_added / registration_removed and the registrations gauge
// follow every change.
//
// Memory: one binding costs its Binding (~180 bytes with short strings
// inline) plus the heap text of its contact and Call-ID, plus ~100 bytes of
// per-user map node; a flow index entry for TCP/TLS bindings. The unit test
// estimates it at 100,000 bindings; the benchmark measures the process.
//
// Thread safety: one thread (the SIP strand).

#include "sipsite/sip/counters.hpp"
#include "sipsite/sip/io.hpp"
#include "sipsite/sip/services.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sipsite::sip {

class LocationService final : public Location {
 public:
  // Keeps references to clock and counters; they must outlive it.
  LocationService(const Clock& clock, Counters& counters);
  ~LocationService() override;
  LocationService(const LocationService&) = delete;
  LocationService& operator=(const LocationService&) = delete;

  // Unexpired bindings of username, highest q first, then the one expiring
  // last first.
  [[nodiscard]] std::vector<Binding> lookup(std::string_view username) const override;

  // --- for the registrar

  // Removes username's expired bindings and returns the rest, in the order
  // they were stored (the registrar's update order).
  [[nodiscard]] std::vector<Binding> bindings(std::string_view username);

  // Replaces username's bindings with `bindings` (empty: forgets the user).
  // Counts a contact absent before as added and one absent after as
  // removed (contacts compare as stored strings).
  void replace(std::string_view username, std::vector<Binding> bindings);

  // Removes one binding by its contact string; false when there was none.
  bool remove(std::string_view username, std::string_view contact);
  // Removes every binding of username; returns how many.
  std::size_t remove_all(std::string_view username);

  // --- for the transport and the app

  // A TCP/TLS connection closed: removes every binding registered over it
  // (the phone re-registers on a new connection). Returns how many.
  std::size_t remove_flow(FlowId flow);

  // Removes every expired binding; returns how many.
  std::size_t purge_expired();

  // Calls purge_expired() every `interval` on timers until stop_sweeping()
  // or destruction. timers must outlive the sweep.
  void start_sweeping(Timers& timers, Duration interval = std::chrono::seconds(30));
  void stop_sweeping();

  // Every unexpired binding, with its username (for the console).
  [[nodiscard]] std::vector<std::pair<std::string, Binding>> snapshot() const;

  [[nodiscard]] std::size_t size() const noexcept { return total_; }  // bindings, expired included
  [[nodiscard]] std::size_t user_count() const noexcept { return users_.size(); }

 private:
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  using Users = std::unordered_map<std::string, std::vector<Binding>, StringHash, std::equal_to<>>;

  // Installs `next` as it->second (erasing the user when empty), keeping the
  // flow index, the total and the counters right. Invalidates it.
  void update(Users::iterator it, std::vector<Binding> next);
  void index_flow(FlowId flow, const std::string& username);
  void unindex_flow(FlowId flow, const std::string& username);
  void schedule_sweep();

  const Clock& clock_;
  Counters& counters_;
  Users users_;
  // flow -> username -> number of that user's bindings on the flow. A map
  // per flow (not a multimap of flow -> username): thousands of bindings can
  // share one connection (a gateway, a load test), and each update must
  // stay O(1) rather than scan them.
  std::unordered_map<FlowId, std::unordered_map<std::string, std::uint32_t>> flows_;
  std::size_t total_ = 0;
  Timers* timers_ = nullptr;
  TimerId sweep_timer_ = 0;
  Duration sweep_interval_{0};
};

}  // namespace sipsite::sip
