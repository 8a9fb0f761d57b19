#pragma once
// Every coroutine a component spawns, tracked so that shutdown is: cancel
// them all, wait for them with a deadline, then close what is left.
//
// The one policy for an exception that escapes a task (failures are values
// in this code base, so an escape is a bug): it is reported with the
// component's name through the process-wide escape reporter (the daemon
// logs it; by default one line on stderr) and counted, the task's on_end
// runs (for a per-connection task it closes that connection), and every
// other task goes on. Nothing is swallowed silently and nothing stops the
// process.
//
// A task cancelled by cancel() may end by the operation_aborted exception
// Asio throws when a cancelled coroutine awaits again; that is the end
// cancel() asked for, not an escape.
//
// Threading: like the io_context it spawns on, run by one thread; all calls
// on that thread (or while it is not running).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace sipsite::async {

// Where escaped exceptions go: (component, what()).
using EscapeReporter = std::function<void(std::string_view component, std::string_view what)>;
// Replaces the process-wide reporter; an empty one restores the default
// (one line on stderr). Set it before spawning (the daemon does at start).
void set_escape_reporter(EscapeReporter reporter);
// Escapes reported by every task group of the process.
std::uint64_t escaped_total();

class TaskGroup {
 public:
  TaskGroup(boost::asio::any_io_executor executor, std::string component);
  // Does not wait and does not cancel: tasks still running keep the
  // group's bookkeeping alive and end as they would have.
  ~TaskGroup();
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  // Starts `task` on the group's executor. `on_end` runs once when the task
  // ends, however it ends (returned, cancelled, escaped), after an escape is
  // reported. After cancel(), nothing new starts: on_end runs at once.
  void spawn(boost::asio::awaitable<void> task, std::function<void()> on_end = {});

  // Terminal cancellation of every running task: the operation each awaits
  // completes with operation_aborted, and its next co_await throws.
  void cancel();
  bool cancelled() const;

  // Tasks started and not yet ended.
  std::size_t active() const;
  // Exceptions that escaped this group's tasks.
  std::uint64_t escaped() const;
  const std::string& component() const;

  // Waits until no task is active or `deadline` has passed; true when none
  // is active.
  boost::asio::awaitable<bool> join(std::chrono::steady_clock::duration deadline);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace sipsite::async
