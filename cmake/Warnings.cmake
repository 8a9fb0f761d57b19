# sipsite_warnings: an interface target every sipsite target links, so the
# warning set is stated once.
add_library(sipsite_warnings INTERFACE)
target_compile_options(sipsite_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Wunused -Woverloaded-virtual
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
if(SIPSITE_WERROR)
  target_compile_options(sipsite_warnings INTERFACE -Werror)
endif()
