# Tests of libweft.so (tracer/preload). The parts that interpose nothing
# are compiled from their sources here, so the sanitizer trees (which do
# not build libweft.so) run them too. The capture test preloads the real
# libweft.so into a real program, so it exists only where the library is
# built; it is labelled "integration" (the plain tree runs it).
set(WEFT_PRELOAD_DIR ${PROJECT_SOURCE_DIR}/tracer/preload)

if(CMOCKA_FOUND)
  add_executable(test_preload_parts ${CMAKE_CURRENT_LIST_DIR}/test_preload_parts.c
    ${WEFT_PRELOAD_DIR}/cmdline.c ${WEFT_PRELOAD_DIR}/waitstatus.c ${WEFT_PRELOAD_DIR}/threadtid.c)
  target_include_directories(test_preload_parts PRIVATE ${WEFT_PRELOAD_DIR})
  target_link_libraries(test_preload_parts PRIVATE weft_ring PkgConfig::CMOCKA Threads::Threads)
  add_test(NAME unit.preload_parts COMMAND test_preload_parts)
  set_tests_properties(unit.preload_parts PROPERTIES LABELS unit)

  add_executable(test_preload_elfsym ${CMAKE_CURRENT_LIST_DIR}/test_preload_elfsym.c
    ${WEFT_PRELOAD_DIR}/elfsym.c)
  target_include_directories(test_preload_elfsym PRIVATE ${WEFT_PRELOAD_DIR})
  target_link_libraries(test_preload_elfsym PRIVATE PkgConfig::CMOCKA ${CMAKE_DL_LIBS})
  add_test(NAME unit.preload_elfsym COMMAND test_preload_elfsym)
  set_tests_properties(unit.preload_elfsym PROPERTIES LABELS unit)

  add_executable(test_preload_emit ${CMAKE_CURRENT_LIST_DIR}/test_preload_emit.c)
  target_include_directories(test_preload_emit PRIVATE ${WEFT_PRELOAD_DIR})
  target_link_libraries(test_preload_emit PRIVATE weft_ring PkgConfig::CMOCKA)
  add_test(NAME unit.preload_emit COMMAND test_preload_emit)
  set_tests_properties(unit.preload_emit PROPERTIES LABELS unit)

  add_executable(test_preload_fd ${CMAKE_CURRENT_LIST_DIR}/test_preload_fd.c
    ${WEFT_PRELOAD_DIR}/fdchan.c ${WEFT_PRELOAD_DIR}/fdnb.c ${WEFT_PRELOAD_DIR}/fdscan.c)
  target_include_directories(test_preload_fd PRIVATE ${WEFT_PRELOAD_DIR})
  target_link_libraries(test_preload_fd PRIVATE weft_ring PkgConfig::CMOCKA)
  add_test(NAME unit.preload_fd COMMAND test_preload_fd)
  set_tests_properties(unit.preload_fd PROPERTIES LABELS unit)

  if(TARGET weft)
    add_executable(test_preload_workload ${CMAKE_CURRENT_LIST_DIR}/test_preload_workload.c)
    target_link_libraries(test_preload_workload PRIVATE Threads::Threads)
    add_executable(test_preload_capture ${CMAKE_CURRENT_LIST_DIR}/test_preload_capture.c)
    target_link_libraries(test_preload_capture PRIVATE weft_ring PkgConfig::CMOCKA)
    target_compile_definitions(test_preload_capture PRIVATE
      WEFT_TEST_LIBWEFT="$<TARGET_FILE:weft>"
      WEFT_TEST_WORKLOAD="$<TARGET_FILE:test_preload_workload>")
    add_dependencies(test_preload_capture weft test_preload_workload)
    add_test(NAME integration.preload_capture COMMAND test_preload_capture)
    set_tests_properties(integration.preload_capture PROPERTIES LABELS integration)

    # Every wrapper's results and errno, with and without libweft.so.
    add_executable(test_preload_calls_prog ${CMAKE_CURRENT_LIST_DIR}/test_preload_calls_prog.c)
    target_link_libraries(test_preload_calls_prog PRIVATE Threads::Threads)
    add_executable(test_preload_calls ${CMAKE_CURRENT_LIST_DIR}/test_preload_calls.c)
    target_link_libraries(test_preload_calls PRIVATE weft_ring PkgConfig::CMOCKA)
    target_compile_definitions(test_preload_calls PRIVATE
      WEFT_TEST_LIBWEFT="$<TARGET_FILE:weft>"
      WEFT_TEST_CALLS_PROG="$<TARGET_FILE:test_preload_calls_prog>")
    add_dependencies(test_preload_calls weft test_preload_calls_prog)
    add_test(NAME integration.preload_calls COMMAND test_preload_calls)
    set_tests_properties(integration.preload_calls PROPERTIES LABELS integration)

    # Every way a thread ends: return, pthread_exit, cancellation, main's
    # pthread_exit.
    add_executable(test_preload_threads_prog ${CMAKE_CURRENT_LIST_DIR}/test_preload_threads_prog.c)
    target_link_libraries(test_preload_threads_prog PRIVATE Threads::Threads)
    add_executable(test_preload_threads ${CMAKE_CURRENT_LIST_DIR}/test_preload_threads.c)
    target_link_libraries(test_preload_threads PRIVATE weft_ring PkgConfig::CMOCKA)
    target_compile_definitions(test_preload_threads PRIVATE
      WEFT_TEST_LIBWEFT="$<TARGET_FILE:weft>"
      WEFT_TEST_THREADS_PROG="$<TARGET_FILE:test_preload_threads_prog>")
    add_dependencies(test_preload_threads weft test_preload_threads_prog)
    add_test(NAME integration.preload_threads COMMAND test_preload_threads)
    set_tests_properties(integration.preload_threads PROPERTIES LABELS integration)

    # A set-group-ID image records nothing.
    add_executable(test_preload_secure_prog ${CMAKE_CURRENT_LIST_DIR}/test_preload_secure_prog.c)
    target_link_libraries(test_preload_secure_prog PRIVATE weft)
    add_executable(test_preload_secure ${CMAKE_CURRENT_LIST_DIR}/test_preload_secure.c)
    target_link_libraries(test_preload_secure PRIVATE weft_ring PkgConfig::CMOCKA)
    target_compile_definitions(test_preload_secure PRIVATE
      WEFT_TEST_SECURE_PROG="$<TARGET_FILE:test_preload_secure_prog>")
    add_dependencies(test_preload_secure test_preload_secure_prog)
    add_test(NAME integration.preload_secure COMMAND test_preload_secure)
    set_tests_properties(integration.preload_secure PROPERTIES LABELS integration)

    # A library constructor that runs threads before libweft.so's own.
    add_library(test_preload_early_lib SHARED ${CMAKE_CURRENT_LIST_DIR}/test_preload_early_lib.c)
    target_link_libraries(test_preload_early_lib PRIVATE Threads::Threads)
    add_executable(test_preload_early_prog ${CMAKE_CURRENT_LIST_DIR}/test_preload_early_prog.c)
    target_link_libraries(test_preload_early_prog PRIVATE test_preload_early_lib)
    add_executable(test_preload_early ${CMAKE_CURRENT_LIST_DIR}/test_preload_early.c)
    target_link_libraries(test_preload_early PRIVATE weft_ring PkgConfig::CMOCKA)
    target_compile_definitions(test_preload_early PRIVATE
      WEFT_TEST_LIBWEFT="$<TARGET_FILE:weft>"
      WEFT_TEST_EARLY_PROG="$<TARGET_FILE:test_preload_early_prog>")
    add_dependencies(test_preload_early weft test_preload_early_prog)
    add_test(NAME integration.preload_early COMMAND test_preload_early)
    set_tests_properties(integration.preload_early PROPERTIES LABELS integration)
  endif()
endif()
