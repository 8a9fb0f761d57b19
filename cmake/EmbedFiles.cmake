# sipsite_embed_files(TARGET name NAMESPACE ns HEADER path FILES f1 f2 ...)
# Generates a C++ source that holds each file's bytes and a table of
# {name, contents}, so data files (SQL migrations, UI assets) ship inside the
# binary. HEADER declares, in NAMESPACE, `struct EmbeddedFile { std::string_view
# name, contents; }` and `std::span<const EmbeddedFile> embedded_files();`.
function(sipsite_embed_files)
  cmake_parse_arguments(E "" "TARGET;NAMESPACE;HEADER" "FILES" ${ARGN})
  set(_out "${CMAKE_CURRENT_BINARY_DIR}/${E_TARGET}_embedded.cpp")
  add_custom_command(
    OUTPUT "${_out}"
    COMMAND ${CMAKE_COMMAND} -DOUT=${_out} -DNAMESPACE=${E_NAMESPACE} -DHEADER=${E_HEADER}
            "-DFILES=${E_FILES}" -P "${PROJECT_SOURCE_DIR}/cmake/EmbedFilesScript.cmake"
    DEPENDS ${E_FILES} ${E_HEADER} "${PROJECT_SOURCE_DIR}/cmake/EmbedFilesScript.cmake"
    COMMENT "Embedding files into ${E_TARGET}"
    VERBATIM)
  add_library(${E_TARGET} STATIC "${_out}")
  target_link_libraries(${E_TARGET} PRIVATE sipsite_warnings)
endfunction()
