#pragma once
// What the SIP core asks the site to keep: call detail records and MESSAGEs
// for users with no phone registered (delivered when one registers). All
// database work runs on a worker thread of its own with its own connection;
// the SIP strand only queues (CDR events are written in batches, one
// transaction every 200 ms), so a slow disk never holds a call.
//
// Threading: the CallObserver/MessageStore methods, attach(), registered()
// and stop() on the SIP strand (the io_context's thread); results come back
// to it by post().

#include <sipsite/sip/call_events.hpp>
#include <sipsite/sip/core.hpp>
#include <sipsite/store/cdr_repository.hpp>
#include <sipsite/store/database.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace sipsite::app {

class SiteRecords final : public sip::CallObserver, public sip::MessageStore {
 public:
  // `db` is this service's own connection.
  SiteRecords(boost::asio::io_context& io, store::Database db);
  ~SiteRecords() override;
  SiteRecords(const SiteRecords&) = delete;
  SiteRecords& operator=(const SiteRecords&) = delete;

  // Stored messages are delivered through `core` from now on. (The CDR
  // flushes run from construction, on the io_context.)
  void attach(sip::Core& core);
  // Local user `user` registered a phone: deliver what waits for them (no
  // database work for a user with nothing stored).
  void registered(const std::string& user);
  // Appends to the signaling log (store::SignalingLogRepository redacts it
  // and stores nothing while the log is off), on the worker.
  void log_signaling(std::string direction, std::string summary, std::string call_ref, std::string message);
  // Writes what is queued and stops the worker. Idempotent.
  void stop();
  // After a burst (MemoryReturn): the worker's connection drops its page
  // cache (it grew with the burst's records, up to SQLite's cache size) and
  // the worker's arena gives its free pages back, on the worker.
  void release_memory();

  // sip::CallObserver
  void call_started(const sip::CallStart& call) override;
  void call_answered(std::string_view call_id) override;
  void call_failed(std::string_view call_id, int status, std::string_view reason) override;
  void call_hung_up(std::string_view call_id, std::string_view by) override;
  // Also one info line (status, reason, direction and the call reference
  // of the record; no AOR, address or credential).
  void call_refused(const sip::CallStart& call, int status, std::string_view reason) override;
  // sip::MessageStore
  void store(sip::OfflineMessage message, std::function<void(int, std::string)> done) override;

  // Who could hear call `call_id` (the core's Call-ID), as the relay saw it
  // once both parties' SDP had passed (store::CdrMedia). The latest wins.
  void call_media(std::string_view call_id, store::CdrMedia media);

 private:
  struct Started {
    sip::CallStart call;
  };
  struct Answered {
    std::string call_id;
  };
  struct Ended {
    std::string call_id;
    int status = 0;
    std::string reason;  // empty: a BYE by `by`
    std::string by;
  };
  struct Media {
    std::string call_id;
    store::CdrMedia media;
  };
  struct Event {
    std::int64_t at = 0;
    std::variant<Started, Answered, Ended, Media> what;
  };

  void queue(Event event);
  void schedule_flush();
  void write(std::vector<Event> events);  // on the worker
  void deliver_next(const std::string& user);

  boost::asio::io_context& io_;
  store::Database db_;  // used on the worker only
  boost::asio::thread_pool worker_{1};
  boost::asio::steady_timer flush_timer_;
  sip::Core* core_ = nullptr;
  bool stopped_ = false;
  std::vector<Event> queued_;  // SIP strand only
  // Worker only: the record of each call in progress, by Call-ID.
  struct Open {
    std::int64_t id = 0;
    std::string caller;
  };
  std::map<std::string, Open> open_;
  std::set<std::string> delivering_;  // SIP strand: users whose messages are on their way
  // SIP strand: the users who may have stored messages, each with the count
  // of messages stored for them since it was learnt, once the database's
  // list is read (mail_known_). A REGISTER of anyone else costs no query:
  // phones refresh their registrations far more often than mail arrives.
  std::map<std::string, std::uint64_t> mail_;
  bool mail_known_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sipsite::app
