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
  # GCC 12's flow analysis reports false "maybe-uninitialized" warnings inside
  # libstdc++ (std::regex, std::function) once sanitizer instrumentation is
  # in; the normal build keeps the warning.
  add_compile_options(-Wno-maybe-uninitialized)
  add_link_options(${_flags})
endif()
