#include <sipsite/asio/task_group.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <optional>
#include <vector>

namespace sipsite::async {

namespace asio = boost::asio;

namespace {

std::mutex reporter_mutex;
EscapeReporter& reporter() {
  static EscapeReporter r;
  return r;
}
std::atomic<std::uint64_t> total_escaped{0};

void report(std::string_view component, std::string_view what) {
  total_escaped.fetch_add(1, std::memory_order_relaxed);
  EscapeReporter r;
  {
    std::lock_guard lock(reporter_mutex);
    r = reporter();
  }
  if (r) {
    r(component, what);
  } else {
    std::cerr << "sipsite: " << component << ": a task ended by an exception: " << what << std::endl;
  }
}

// The text of an escaped exception, or nothing when it is the ending that
// cancel() asked for.
std::optional<std::string> escape_text(const std::exception_ptr& e, bool cancelled) {
  try {
    std::rethrow_exception(e);
  } catch (const boost::system::system_error& error) {
    if (cancelled && error.code() == asio::error::operation_aborted) return std::nullopt;
    return std::string(error.what());
  } catch (const std::exception& error) {
    return std::string(error.what());
  } catch (...) {
    return std::string("an exception not derived from std::exception");
  }
}

}  // namespace

void set_escape_reporter(EscapeReporter r) {
  std::lock_guard lock(reporter_mutex);
  reporter() = std::move(r);
}

std::uint64_t escaped_total() { return total_escaped.load(std::memory_order_relaxed); }

struct TaskGroup::State : std::enable_shared_from_this<TaskGroup::State> {
  State(asio::any_io_executor ex, std::string name) : executor(std::move(ex)), component(std::move(name)) {}

  void ended(std::uint64_t id) {
    // Not cancelled any more. The signal's slot still holds co_spawn's
    // cancellation handler, which the ending coroutine (until it has
    // unwound) and an emit that cancel() posted from another thread may
    // still use: drop it, and keep this state alive, until a later turn.
    live.erase(id);
    asio::post(executor, [self = shared_from_this(), id] { self->signals.erase(id); });
    if (live.empty()) {
      for (auto* t : joiners) t->cancel();
    }
  }

  asio::any_io_executor executor;
  std::string component;
  std::map<std::uint64_t, asio::cancellation_signal> signals;
  std::set<std::uint64_t> live;  // started, not ended
  std::vector<asio::steady_timer*> joiners;
  std::uint64_t next_id = 0;
  std::uint64_t escaped = 0;
  bool cancelled = false;
};

TaskGroup::TaskGroup(asio::any_io_executor executor, std::string component)
    : state_(std::make_shared<State>(std::move(executor), std::move(component))) {}

TaskGroup::~TaskGroup() = default;

void TaskGroup::spawn(asio::awaitable<void> task, std::function<void()> on_end) {
  State& s = *state_;
  if (s.cancelled) {
    if (on_end) on_end();
    return;
  }
  const std::uint64_t id = ++s.next_id;
  auto& signal = s.signals[id];
  s.live.insert(id);
  asio::co_spawn(s.executor, std::move(task),
                 asio::bind_cancellation_slot(
                     signal.slot(), [state = state_, id, on_end = std::move(on_end)](const std::exception_ptr& e) {
                       if (e) {
                         if (auto what = escape_text(e, state->cancelled)) {
                           ++state->escaped;
                           report(state->component, *what);
                         }
                       }
                       if (on_end) on_end();
                       state->ended(id);
                     }));
}

void TaskGroup::cancel() {
  State& s = *state_;
  s.cancelled = true;
  const std::vector<std::uint64_t> ids(s.live.begin(), s.live.end());
  for (const auto id : ids) {
    if (s.live.count(id) != 0) s.signals[id].emit(asio::cancellation_type::terminal);
  }
}

bool TaskGroup::cancelled() const { return state_->cancelled; }

std::size_t TaskGroup::active() const { return state_->live.size(); }

std::uint64_t TaskGroup::escaped() const { return state_->escaped; }

const std::string& TaskGroup::component() const { return state_->component; }

asio::awaitable<bool> TaskGroup::join(std::chrono::steady_clock::duration deadline) {
  const auto state = state_;
  const auto until = std::chrono::steady_clock::now() + deadline;
  asio::steady_timer timer(state->executor);
  while (!state->live.empty() && std::chrono::steady_clock::now() < until) {
    timer.expires_at(until);
    state->joiners.push_back(&timer);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    std::erase(state->joiners, &timer);
  }
  co_return state->live.empty();
}

}  // namespace sipsite::async
