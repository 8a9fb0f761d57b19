# sipsite_library(NAME name SOURCES files... [PUBLIC deps...] [PRIVATE deps...])
# One of the project's libraries: sipsite_<name> (static), its alias
# sipsite::<name>, headers under include/ (public) and src/ (private), and
# the project's warnings. Every library folder is declared the same way, so
# a reader sees only what differs: its sources and its dependencies.
function(sipsite_library)
  cmake_parse_arguments(L "" "NAME" "SOURCES;PUBLIC;PRIVATE" ${ARGN})
  add_library(sipsite_${L_NAME} STATIC ${L_SOURCES})
  add_library(sipsite::${L_NAME} ALIAS sipsite_${L_NAME})
  target_include_directories(sipsite_${L_NAME} PUBLIC include PRIVATE src)
  target_link_libraries(sipsite_${L_NAME} PUBLIC ${L_PUBLIC} PRIVATE ${L_PRIVATE} sipsite_warnings)
endfunction()
