# Install tests (label "install", plain tree only; scripts/test.sh runs them
# as root): cmake --install into a temporary prefix that is then moved, the
# Debian package built, installed, used from PATH and removed, man pages
# against each program's --help, bash completion. One python unittest file
# per group; the environment below names the trees (installlib.py).
if(WEFT_SANITIZE OR WEFT_FUZZ OR NOT TARGET weft OR NOT TARGET weftd)
  return()
endif()

find_program(WEFT_PYTHON3 NAMES python3 REQUIRED)

set(WEFT_INSTALL_TEST_ENV
  "WEFT_BUILD_DIR=${CMAKE_BINARY_DIR}"
  "WEFT_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
  "WEFT_CMAKE=${CMAKE_COMMAND}"
  "WEFT_VERSION=${PROJECT_VERSION}"
  "WEFT_BIN=$<TARGET_FILE:weft_tool>"
  "WEFTD=$<TARGET_FILE:weftd>"
  "PYTHONDONTWRITEBYTECODE=1")

foreach(group relocate manpages completion package)
  add_test(NAME install.${group}
           COMMAND ${WEFT_PYTHON3} -m unittest -v test_${group}
           WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
  set_tests_properties(install.${group} PROPERTIES
    LABELS install
    TIMEOUT 600
    ENVIRONMENT "${WEFT_INSTALL_TEST_ENV}")
endforeach()
# The package test installs into /usr (and removes what it installed): alone,
# and reported as skipped when not run as root.
set_tests_properties(install.package PROPERTIES
  RUN_SERIAL ON
  TIMEOUT 1200
  SKIP_REGULAR_EXPRESSION "skipped 'needs root")
