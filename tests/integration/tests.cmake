# Integration tests: real programs recorded with the real `weft record` (or
# libweft.so preloaded by hand), asserted with SQL on the trace. One python
# unittest file per behaviour group; each is one ctest test labelled
# "integration". They find the built tools through the environment:
#   WEFT_BIN      <build>/bin/weft
#   WEFT_LIBWEFT  <build>/lib/libweft.so
#   WEFT_BIN_DIR  <build>/bin (weft-demo-* from examples/, weft-itest-* below)
# A part that is not built yet makes its tests fail, not skip.
# Only the plain tree runs them (scripts/test.sh): sanitizer and fuzz trees
# skip this file (ASan cannot link the static test program).
if(WEFT_SANITIZE OR WEFT_FUZZ)
  return()
endif()

find_program(WEFT_PYTHON3 NAMES python3 REQUIRED)

set(WEFT_ITEST_DIR ${CMAKE_CURRENT_LIST_DIR})

# Small programs the tests record.
foreach(prog killself closefds forknoexec vfork rawclone deadlock noperf sockping pshared convoy chain
             spin futexlock forkinhandler scribble manythreads condqueue lockkinds lockorder
             filewaits retitle deadlock3)
  add_executable(weft-itest-${prog} ${WEFT_ITEST_DIR}/progs/${prog}.c)
  target_link_libraries(weft-itest-${prog} PRIVATE Threads::Threads)
endforeach()
# test_callsites: waits in a signal handler, a fork child and a dlopen'ed
# library (built with -g: their frames have file and line)
add_executable(weft-itest-stackwaits ${WEFT_ITEST_DIR}/progs/stackwaits.c)
target_link_libraries(weft-itest-stackwaits PRIVATE ${CMAKE_DL_LIBS})
target_compile_options(weft-itest-stackwaits PRIVATE -g -O1)
add_library(weft-itest-dlwait MODULE ${WEFT_ITEST_DIR}/progs/dlwait_lib.c)
target_link_libraries(weft-itest-dlwait PRIVATE Threads::Threads)
target_compile_options(weft-itest-dlwait PRIVATE -g -O1)
set_target_properties(weft-itest-dlwait PROPERTIES
  PREFIX "" SUFFIX ".so" LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
add_executable(weft-itest-static ${WEFT_ITEST_DIR}/progs/static_hello.c)
set_target_properties(weft-itest-static PROPERTIES POSITION_INDEPENDENT_CODE OFF)
target_link_options(weft-itest-static PRIVATE -static)
add_executable(weft-itest-static-threads ${WEFT_ITEST_DIR}/progs/static_threads.c)
set_target_properties(weft-itest-static-threads PROPERTIES POSITION_INDEPENDENT_CODE OFF)
target_link_options(weft-itest-static-threads PRIVATE -static)
target_link_libraries(weft-itest-static-threads PRIVATE Threads::Threads)

set(WEFT_ITEST_ENV
  "WEFT_BIN=${CMAKE_BINARY_DIR}/bin/weft"
  "WEFT_LIBWEFT=${CMAKE_BINARY_DIR}/lib/libweft.so"
  "WEFT_BIN_DIR=${CMAKE_BINARY_DIR}/bin"
  "PYTHONDONTWRITEBYTECODE=1")

foreach(group pipeline exit_status parallel_tools python_threads lockhold examples tiling
              preload_direct bad_input suspended many sched_truth deadlock schedstat sockets flows
              faults
              kernel_only critpath runtimes fork_anywhere locks locks_order waits_named
              titles locks_deadlock fleet long_recording jvm callsites servers)
  add_test(NAME integration.${group}
           COMMAND ${WEFT_PYTHON3} -m unittest -v test_${group}
           WORKING_DIRECTORY ${WEFT_ITEST_DIR})
  set_tests_properties(integration.${group} PROPERTIES
    LABELS integration
    TIMEOUT 600
    ENVIRONMENT "${WEFT_ITEST_ENV}")
endforeach()
