#include "site_records.hpp"

#include "logging.hpp"
#include "memory_return.hpp"

#include <sipsite/store/cdr_repository.hpp>
#include <sipsite/store/message_repository.hpp>
#include <sipsite/store/retention_settings.hpp>
#include <sipsite/store/signaling_log_repository.hpp>
#include <sipsite/store/unix_time.hpp>

#include <boost/asio/post.hpp>

#include <sipsite/common/thread_role.hpp>

#include <chrono>
#include <type_traits>
#include <unordered_map>

namespace sipsite::app {

using store::unix_now;

namespace {

constexpr auto kFlushInterval = std::chrono::milliseconds(200);
constexpr std::size_t kMaxOpenCalls = 200000;  // answered calls never hung up are forgotten beyond this
constexpr int kDeliveryBatch = 20;

store::CdrDirection direction_of(sip::CallStart::Direction d) {
  switch (d) {
    case sip::CallStart::Direction::local: return store::CdrDirection::local;
    case sip::CallStart::Direction::outgoing: return store::CdrDirection::outgoing;
    case sip::CallStart::Direction::incoming: return store::CdrDirection::incoming;
  }
  return store::CdrDirection::local;
}

}  // namespace

SiteRecords::SiteRecords(boost::asio::io_context& io, store::Database db)
    : io_(io), db_(std::move(db)), flush_timer_(io) {
  // Named, so that top -H and the benchmarks' per-thread CPU tell it apart;
  // at the process's priority: it writes what must not be lost.
  boost::asio::post(worker_, [] { common::name_this_thread("sipsite-records"); });
  schedule_flush();
}

SiteRecords::~SiteRecords() { stop(); }

void SiteRecords::attach(sip::Core& core) {
  core_ = &core;
  boost::asio::post(worker_, [this, alive = alive_] {
    auto recipients = store::MessageRepository(db_).recipients();
    if (!recipients) {
      // Unknown: every registration looks in the database, as it must.
      logger("store")->error("cannot read who has stored messages: {}", recipients.error().message);
      return;
    }
    boost::asio::post(io_, [this, alive, recipients = std::move(*recipients)] {
      if (!*alive) return;
      for (const auto& r : recipients) mail_.try_emplace(r, 0);
      mail_known_ = true;
    });
  });
}

void SiteRecords::stop() {
  if (stopped_) return;
  stopped_ = true;
  *alive_ = false;
  flush_timer_.cancel();
  if (!queued_.empty()) {
    boost::asio::post(worker_, [this, events = std::move(queued_)]() mutable { write(std::move(events)); });
  }
  worker_.join();
}

void SiteRecords::release_memory() {
  if (stopped_) return;
  boost::asio::post(worker_, [this] {
    if (auto shrunk = db_.execute("PRAGMA shrink_memory"); !shrunk) {
      logger("store")->warn("cannot shrink the call records' cache: {}", shrunk.error().message);
    }
    return_free_memory();
  });
}

void SiteRecords::schedule_flush() {
  flush_timer_.expires_after(kFlushInterval);
  flush_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    if (!queued_.empty()) {
      boost::asio::post(worker_, [this, events = std::move(queued_)]() mutable { write(std::move(events)); });
      queued_.clear();
    }
    schedule_flush();
  });
}

void SiteRecords::queue(Event event) {
  if (!stopped_) queued_.push_back(std::move(event));
}

void SiteRecords::call_started(const sip::CallStart& call) { queue(Event{unix_now(), Started{call}}); }

void SiteRecords::call_answered(std::string_view call_id) { queue(Event{unix_now(), Answered{std::string(call_id)}}); }

void SiteRecords::call_failed(std::string_view call_id, int status, std::string_view reason) {
  queue(Event{unix_now(), Ended{std::string(call_id), status, std::string(reason), {}}});
}

void SiteRecords::call_refused(const sip::CallStart& call, int status, std::string_view reason) {
  logger("app")->info("call refused: {} {} ({} call; call record {})", status, reason,
                      store::to_string(direction_of(call.direction)), store::call_ref_of(call.call_id));
  const auto now = unix_now();
  queue(Event{now, Started{call}});
  queue(Event{now, Ended{call.call_id, status, std::string(reason), {}}});
}

void SiteRecords::call_hung_up(std::string_view call_id, std::string_view by) {
  queue(Event{unix_now(), Ended{std::string(call_id), 200, {}, std::string(by)}});
}

void SiteRecords::call_media(std::string_view call_id, store::CdrMedia media) {
  queue(Event{unix_now(), Media{std::string(call_id), std::move(media)}});
}

// One batch in one transaction. A call that starts in this batch is written
// by one INSERT at the end, with whatever of its answer, media and end the
// batch also holds (at the maximum call rate most calls start and end within
// one batch); events of calls started in earlier batches update their rows.
// Statements are compiled once per connection (execute_cached).
void SiteRecords::write(std::vector<Event> events) {
  store::CdrRepository cdrs(db_);
  std::vector<store::CdrWrite> fresh;                       // in start order
  std::unordered_map<std::string, std::size_t> fresh_open;  // Call-ID -> index in `fresh`, until its end
  const auto reason_of = [](const Ended& x, const std::string& caller) {
    if (!x.reason.empty()) return x.reason;
    return std::string(x.by == caller ? "caller hung up" : "callee hung up");
  };
  auto written = db_.transaction([&]() -> store::Result<void> {
    for (auto& e : events) {
      if (auto* s = std::get_if<Started>(&e.what)) {
        store::CdrWrite w;
        w.start.call_ref = store::call_ref_of(s->call.call_id);
        w.start.caller_aor = s->call.caller;
        w.start.callee_aor = s->call.callee;
        w.start.direction = direction_of(s->call.direction);
        w.start.peer_domain = s->call.peer_domain;
        w.start.started_at = e.at;
        w.start.source_ip = s->call.source_ip;
        open_.erase(s->call.call_id);  // a new record for this Call-ID replaces the old one
        fresh_open[s->call.call_id] = fresh.size();
        fresh.push_back(std::move(w));
        continue;
      }
      const std::string& call_id = std::visit(
          [](const auto& v) -> const std::string& {
            if constexpr (std::is_same_v<std::decay_t<decltype(v)>, Started>) {
              return v.call.call_id;
            } else {
              return v.call_id;
            }
          },
          e.what);
      if (const auto f = fresh_open.find(call_id); f != fresh_open.end()) {
        store::CdrWrite& w = fresh[f->second];
        if (std::get_if<Answered>(&e.what) != nullptr) {
          if (!w.answered_at) w.answered_at = e.at;
        } else if (auto* m = std::get_if<Media>(&e.what)) {
          w.media = m->media;
        } else if (auto* x = std::get_if<Ended>(&e.what)) {
          w.end = store::CdrEnd{e.at, x->status, reason_of(*x, w.start.caller_aor)};
          fresh_open.erase(f);
        }
        continue;
      }
      const auto it = open_.find(call_id);
      if (it == open_.end()) continue;
      if (std::get_if<Answered>(&e.what) != nullptr) {
        if (auto r = cdrs.answered(it->second.id, e.at); !r) return r.error();
      } else if (auto* m = std::get_if<Media>(&e.what)) {
        if (auto r = cdrs.media_protection(it->second.id, m->media); !r) return r.error();
      } else if (auto* x = std::get_if<Ended>(&e.what)) {
        if (auto r = cdrs.ended(it->second.id, e.at, x->status, reason_of(*x, it->second.caller)); !r) {
          return r.error();
        }
        open_.erase(it);
      }
    }
    if (fresh.empty()) return {};
    auto store_ip = store::RetentionSettingsRepository(db_).flag(store::setting_key::kStoreIp);
    if (!store_ip) return store_ip.error();
    std::unordered_map<const store::CdrWrite*, std::string> still_open;  // record -> Call-ID
    for (const auto& [call_id, index] : fresh_open) still_open.emplace(&fresh[index], call_id);
    for (const auto& w : fresh) {
      auto id = cdrs.insert(w, *store_ip);
      if (!id) return id.error();
      if (const auto o = still_open.find(&w); o != still_open.end()) {
        if (open_.size() >= kMaxOpenCalls) open_.clear();
        open_[o->second] = Open{*id, w.start.caller_aor};
      }
    }
    return {};
  });
  if (!written) logger("store")->error("cannot write call records: {}", written.error().message);
}

void SiteRecords::log_signaling(std::string direction, std::string summary, std::string call_ref, std::string message) {
  if (stopped_) return;
  boost::asio::post(worker_, [this, at = unix_now(), direction = std::move(direction), summary = std::move(summary),
                              call_ref = std::move(call_ref), message = std::move(message)] {
    if (auto r = store::SignalingLogRepository(db_).append(at, direction, summary, call_ref, message); !r) {
      logger("store")->error("cannot write the signaling log: {}", r.error().message);
    }
  });
}

void SiteRecords::store(sip::OfflineMessage message, std::function<void(int, std::string)> done) {
  if (stopped_) {
    done(480, "Temporarily Unavailable");
    return;
  }
  ++mail_[message.recipient];  // before it is written: a registration meanwhile looks
  boost::asio::post(worker_, [this, message = std::move(message), done = std::move(done), alive = alive_]() mutable {
    store::NewMessage m;
    m.recipient = message.recipient;
    m.sender_aor = message.sender;
    m.content_type = message.content_type;
    m.body = std::move(message.body);
    m.created_at = unix_now();
    const auto stored = store::MessageRepository(db_).store(m);
    int code = 202;
    std::string reason = "Accepted (stored for delivery)";
    if (!stored) {
      const auto errc = stored.error().code;
      code = errc == store::Errc::full ? 480 : errc == store::Errc::invalid ? 513 : 500;
      reason = errc == store::Errc::full      ? "Temporarily Unavailable (message store full)"
               : errc == store::Errc::invalid ? "Message Too Large"
                                              : "Server Internal Error";
      if (code == 500) logger("store")->error("cannot store a message: {}", stored.error().message);
    }
    boost::asio::post(io_, [alive, done = std::move(done), code, reason = std::move(reason)] {
      if (*alive) done(code, reason);
    });
  });
}

void SiteRecords::registered(const std::string& user) {
  if (stopped_ || core_ == nullptr) return;
  if (mail_known_ && mail_.count(user) == 0) return;
  if (!delivering_.insert(user).second) return;
  deliver_next(user);
}

// One message at a time, oldest first: order is kept, and a phone that
// refuses one stops the run (the rest wait for its next registration).
void SiteRecords::deliver_next(const std::string& user) {
  const auto known = mail_.find(user);
  const std::uint64_t stored_before = known == mail_.end() ? 0 : known->second;
  boost::asio::post(worker_, [this, user, alive = alive_, stored_before] {
    auto waiting = store::MessageRepository(db_).queued_for(user, kDeliveryBatch);
    if (!waiting) logger("store")->error("cannot read stored messages: {}", waiting.error().message);
    const bool read = waiting.has_value();
    std::vector<store::StoredMessage> messages = read ? std::move(*waiting) : std::vector<store::StoredMessage>{};
    boost::asio::post(io_, [this, user, alive, read, stored_before, messages = std::move(messages)]() mutable {
      if (!*alive) return;
      if (messages.empty()) {
        delivering_.erase(user);
        // Nothing waits, unless a message was stored after the look.
        const auto it = mail_.find(user);
        if (read && it != mail_.end() && it->second == stored_before) mail_.erase(it);
        return;
      }
      auto queue = std::make_shared<std::vector<store::StoredMessage>>(std::move(messages));
      // The step holds itself only weakly; each pending delivery holds it
      // strongly, so it lives exactly as long as the run.
      auto step = std::make_shared<std::function<void(std::size_t)>>();
      *step = [this, user, alive, queue, weak = std::weak_ptr(step)](std::size_t i) {
        const auto self = weak.lock();
        if (!*alive || !self) return;
        if (i == queue->size()) {
          deliver_next(user);  // the next batch, if any
          return;
        }
        const auto& m = (*queue)[i];
        sip::OfflineMessage out{m.recipient, m.sender_aor, m.content_type, m.body};
        core_->deliver(user, out, [this, user, alive, self, id = m.id, i](bool accepted) {
          if (!*alive) return;
          if (!accepted) {
            delivering_.erase(user);
            return;
          }
          boost::asio::post(worker_, [this, id] { (void)store::MessageRepository(db_).delivered(id); });
          (*self)(i + 1);
        });
      };
      (*step)(0);
    });
  });
}

}  // namespace sipsite::app
