# Installing weft like a Linux tool: every install() rule and the CPack
# (Debian package) settings, in one place. Included once, from the top-level
# CMakeLists.txt, after every target is defined.
#
# Layout under the prefix (cmake --install BUILD --prefix P, DESTDIR
# honoured; the Debian package uses P = /usr):
#   bin/weft, bin/weftd                      the programs
#   lib/weft/libweft.so                      the preload library, private:
#                                            weft finds it as
#                                            <dir of weft>/../lib/weft/
#                                            (so P can be moved as a whole)
#   share/man/man1/*.1.gz                    weft(1), weft-CMD(1), weftd(1)
#   share/bash-completion/completions/       weft, weftd
#   share/doc/weft/                          README.md, API.md, schema/*.sql
# The dashboard is inside weftd (embedded at build time), nothing to install.
# The programs link only system libraries: no RPATH/RUNPATH is installed
# (CMake drops the build tree's when it installs).

# The preload library's directory is fixed at lib/weft (not
# CMAKE_INSTALL_LIBDIR, which is lib/x86_64-linux-gnu under /usr on Debian):
# weft computes it from its own location.
set(WEFT_INSTALL_PRIVATE_LIBDIR lib/weft)
include(GNUInstallDirs)

# weft_tool is bin/weft; weft is libweft.so (not built in sanitizer trees).
foreach(program weft_tool weftd)
  if(TARGET ${program})
    install(TARGETS ${program} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()
if(TARGET weft)
  install(TARGETS weft LIBRARY DESTINATION ${WEFT_INSTALL_PRIVATE_LIBDIR})
endif()

# Man pages: written in roff under docs/man/, installed gzipped as Debian
# does (man -w finds either).
file(GLOB WEFT_MAN_PAGES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/man/*.1)
find_program(WEFT_GZIP gzip REQUIRED)
set(WEFT_MAN_GZ "")
foreach(page ${WEFT_MAN_PAGES})
  get_filename_component(name ${page} NAME)
  set(gz ${CMAKE_BINARY_DIR}/man/${name}.gz)
  add_custom_command(
    OUTPUT ${gz}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
    COMMAND ${WEFT_GZIP} -n -9 -c ${page} > ${gz}
    DEPENDS ${page}
    COMMENT "Compressing man page ${name}")
  list(APPEND WEFT_MAN_GZ ${gz})
endforeach()
add_custom_target(weft_man ALL DEPENDS ${WEFT_MAN_GZ})
install(FILES ${WEFT_MAN_GZ} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

# bash completion: one file for both programs; bash-completion loads a
# command's completion from a file named after it.
set(WEFT_COMPLETION ${PROJECT_SOURCE_DIR}/completions/weft.bash)
set(WEFT_COMPLETION_DIR ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(FILES ${WEFT_COMPLETION} DESTINATION ${WEFT_COMPLETION_DIR} RENAME weft)
install(FILES ${WEFT_COMPLETION} DESTINATION ${WEFT_COMPLETION_DIR} RENAME weftd)

file(GLOB WEFT_SCHEMA_DOCS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/schema/*.sql)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/API.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${WEFT_SCHEMA_DOCS} DESTINATION ${CMAKE_INSTALL_DOCDIR}/schema)

# --- the Debian package (scripts/package.sh runs cpack) -------------------
# weft_<version>_amd64.deb under /usr; Depends computed by dpkg-shlibdeps
# (package dpkg-dev) from the libraries the installed files link.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME weft)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "weft developers <weft@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "shows what the threads and processes of a program do, moment by moment")
set(CPACK_PACKAGE_DESCRIPTION
    "weft preloads a small library into an unmodified program and records every\n\
thread and process state transition (Running, Ready, Blocked on what and held\n\
by whom, Suspended, Terminated) into a SQLite trace: weft record, weft query,\n\
weft export, and weftd, which serves a timeline dashboard over HTTP.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Only the install rules above go into the package.
set(CPACK_INSTALL_CMAKE_PROJECTS "${CMAKE_BINARY_DIR};${PROJECT_NAME};ALL;/")
include(CPack)
