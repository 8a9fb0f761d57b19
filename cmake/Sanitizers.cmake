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
  add_link_options(${_flags})
endif()
