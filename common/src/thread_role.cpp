#include <sipsite/common/thread_role.hpp>

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace sipsite::common {

namespace {
// Linux's default nice is 0; +10 weighs a thread about a tenth of one at 0
// when both want the same core.
constexpr int kBackgroundNice = 10;
}  // namespace

void name_this_thread(const char* name) {
  const std::string cut(name, strnlen(name, 15));
  pthread_setname_np(pthread_self(), cut.c_str());
}

void make_this_a_background_thread(const char* name) {
  name_this_thread(name);
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  (void)::setpriority(PRIO_PROCESS, tid, kBackgroundNice);
}

}  // namespace sipsite::common
