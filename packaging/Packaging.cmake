# Install rules and the Debian package (CPack DEB). `deploy/package.sh`
# builds a Release tree and runs cpack; the package test
# (tests/package/package_test.py) installs the result on this machine.
#
#   /usr/bin/sipsite                       the daemon and command line
#   /usr/sbin/sipsitectl                   sipsite on the installed site, as its user
#   /lib/systemd/system/sipsite.service    hardened unit (packaging/)
#   /etc/sipsite/sipsite.toml              example configuration (conffile)
#   /usr/share/doc/sipsite/                README, copyright, changelog.gz; docs/: ADMIN, ARCHITECTURE, CONFIG, PRIVACY, SECURITY
#   /usr/share/man/man1/sipsite.1.gz       made from the program's --help (packaging/man/make_man.py)
#   /usr/share/man/man8/sipsitectl.8.gz    points to sipsite(1)
#   maintainer scripts (packaging/debian/): the sipsite user, /var/lib/sipsite,
#   `sipsite init` with the FQDN, start/stop, purge

include(GNUInstallDirs)

install(TARGETS sipsite RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT sipsite)
install(PROGRAMS ${PROJECT_SOURCE_DIR}/packaging/sipsitectl
        DESTINATION ${CMAKE_INSTALL_SBINDIR} COMPONENT sipsite)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/sipsite.service
        DESTINATION /lib/systemd/system COMPONENT sipsite)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/sipsite.toml
        DESTINATION /etc/sipsite COMPONENT sipsite)
set(SIPSITE_DOC_DIR ${CMAKE_INSTALL_DATAROOTDIR}/doc/sipsite)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/packaging/copyright
        DESTINATION ${SIPSITE_DOC_DIR} COMPONENT sipsite)
# Every page the README links to (a missing one fails the install).
foreach(doc ADMIN.md ARCHITECTURE.md CONFIG.md PRIVACY.md SECURITY.md)
  install(FILES ${PROJECT_SOURCE_DIR}/docs/${doc} DESTINATION ${SIPSITE_DOC_DIR}/docs COMPONENT sipsite)
endforeach()
if(EXISTS ${PROJECT_SOURCE_DIR}/docs/images)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/images DESTINATION ${SIPSITE_DOC_DIR}/docs
          COMPONENT sipsite FILES_MATCHING PATTERN "*.png")
endif()

# The manual page, written at build time from the built program's own
# --help (so it cannot drift from what sipsite accepts) and a hand-written
# template; sipsitectl(8) is a pointer to it. The Debian changelog: a
# native package's is changelog.gz (Debian policy 12.7).
find_package(Python3 REQUIRED COMPONENTS Interpreter)
find_program(SIPSITE_GZIP gzip REQUIRED)
set(_man_dir ${CMAKE_BINARY_DIR}/man)
add_custom_command(
  OUTPUT ${_man_dir}/sipsite.1 ${_man_dir}/sipsite.1.gz ${_man_dir}/sipsitectl.8.gz ${_man_dir}/changelog.gz
  COMMAND ${CMAKE_COMMAND} -E make_directory ${_man_dir}
  COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/packaging/man/make_man.py $<TARGET_FILE:sipsite>
          ${PROJECT_SOURCE_DIR}/packaging/man/sipsite.1.in ${PROJECT_VERSION} ${_man_dir}/sipsite.1
  COMMAND ${SIPSITE_GZIP} -9 -n -f -k ${_man_dir}/sipsite.1
  COMMAND ${CMAKE_COMMAND} -E copy ${PROJECT_SOURCE_DIR}/packaging/man/sipsitectl.8
          ${PROJECT_SOURCE_DIR}/packaging/debian/changelog ${_man_dir}
  COMMAND ${SIPSITE_GZIP} -9 -n -f ${_man_dir}/sipsitectl.8 ${_man_dir}/changelog
  DEPENDS sipsite ${PROJECT_SOURCE_DIR}/packaging/man/make_man.py ${PROJECT_SOURCE_DIR}/packaging/man/sipsite.1.in
          ${PROJECT_SOURCE_DIR}/packaging/man/sipsitectl.8 ${PROJECT_SOURCE_DIR}/packaging/debian/changelog
  COMMENT "Manual page sipsite(1) from sipsite --help"
  VERBATIM)
add_custom_target(sipsite_man ALL DEPENDS ${_man_dir}/sipsite.1.gz ${_man_dir}/sipsitectl.8.gz ${_man_dir}/changelog.gz)
install(FILES ${_man_dir}/sipsite.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT sipsite)
install(FILES ${_man_dir}/sipsitectl.8.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8 COMPONENT sipsite)
install(FILES ${_man_dir}/changelog.gz DESTINATION ${SIPSITE_DOC_DIR} COMPONENT sipsite)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sipsite)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "sipsite maintainers <sipsite@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "SIP site server: private voice and messaging between trusted sites")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
       "One daemon per site: phones register on the LAN, sites pair by fingerprint\n"
       "and talk over pinned mutual TLS, an HTTPS console administers it, and all\n"
       "site data lives in an SQLCipher-encrypted database.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/sipsite/sipsite")
# Library dependencies from dpkg-shlibdeps; adduser for the maintainer scripts.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
    ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
