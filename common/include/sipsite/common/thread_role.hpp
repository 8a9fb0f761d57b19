#pragma once
// Names the calling thread (as `top -H` and `perf` show it) and, for a
// background thread, lowers its scheduling weight. The SIP and media path
// runs on the main thread at the process's priority; the console, the
// live-state watcher and the retention purge do admin work that can wait a
// few milliseconds. On a machine whose cores are all busy (two cores, a
// burst of a thousand trust changes while calls flow) the scheduler then
// gives the main thread the CPU first instead of slicing it evenly with
// them: trust changes do not pause SIP. When the cores are idle the
// background threads run at full speed as before.

namespace sipsite::common {

// `name`: at most 15 characters (the kernel's limit); longer is cut.
void name_this_thread(const char* name);

// name_this_thread, then nice +10 for this thread only (Linux schedules
// threads, and a thread may always lower its own priority). Errors are
// ignored: the thread works the same at the process's priority.
void make_this_a_background_thread(const char* name);

}  // namespace sipsite::common
