# SIPSITE_SANITIZE=address,undefined instruments every target, tests included.
if(SIPSITE_SANITIZE)
  string(REPLACE "," ";" _sanitizers "${SIPSITE_SANITIZE}")
  foreach(_s IN LISTS _sanitizers)
    if(NOT _s MATCHES "^(address|undefined|leak|thread)$")
      message(FATAL_ERROR "SIPSITE_SANITIZE: unknown sanitizer '${_s}'")
    endif()
  endforeach()
  set(_flags "-fsanitize=${SIPSITE_SANITIZE}" -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_compile_options(${_flags})
  # GCC 12 reports false positives once sanitizer instrumentation is in:
  # "maybe-uninitialized" inside libstdc++ (std::regex, std::function), and
  # "mismatched-new-delete" for Asio's coroutine frames (awaitable_frame_base
  # pairs its own operator new/delete; GCC sees the inlined frame otherwise).
  # The normal build keeps both warnings.
  add_compile_options(-Wno-maybe-uninitialized -Wno-mismatched-new-delete)
  # ThreadSanitizer does not model std::atomic_thread_fence, which Asio's
  # handler invocation uses (std_fenced_block); GCC says so at every use.
  # Asio's queues hand handlers between threads under a mutex, which TSan
  # does see, so the fences add no edge the reports need.
  if("thread" IN_LIST _sanitizers AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-tsan)
  endif()
  add_link_options(${_flags})
endif()

# Instrumented builds (the sanitizers, the fuzzers) are made to find bugs,
# not to be profiled: -O1 and line tables only (what libFuzzer's docs and
# ASan's recommend; reports keep file:line). With GCC 12 and Asio/Beast this
# halves their compile time against RelWithDebInfo's -O2 -g (daemon.cpp:
# 51 s against 24 s of CPU), which is most of CI's time on a cold machine.
if((SIPSITE_SANITIZE OR SIPSITE_FUZZ) AND CMAKE_BUILD_TYPE STREQUAL "RelWithDebInfo")
  set(CMAKE_C_FLAGS_RELWITHDEBINFO "-O1 -g1 -DNDEBUG")
  set(CMAKE_CXX_FLAGS_RELWITHDEBINFO "-O1 -g1 -DNDEBUG")
endif()
