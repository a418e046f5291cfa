# weftd's unit tests (label "unit": run in the ASan+UBSan tree) and, with
# -DWEFT_FUZZ=ON under clang, its libFuzzer target (label "fuzz").
if(CMOCKA_FOUND AND TARGET weftd_core)
  foreach(name param json lod coarse sqlguard handshake gate skipped)
    add_executable(test_daemon_${name} ${CMAKE_CURRENT_LIST_DIR}/test_daemon_${name}.c)
    target_link_libraries(test_daemon_${name} PRIVATE weftd_core weft_format PkgConfig::CMOCKA)
    add_test(NAME unit.daemon.${name} COMMAND test_daemon_${name})
    if(name STREQUAL "coarse") # its traces carry an overview from the recorder's builder
      target_link_libraries(test_daemon_coarse PRIVATE weft_overview)
    endif()
    set_tests_properties(unit.daemon.${name} PROPERTIES LABELS "unit")
  endforeach()
endif()

if(WEFT_FUZZ AND TARGET weftd_core)
  # The sources under test are compiled into the target itself, with the
  # fuzzer's coverage instrumentation (the weftd_core library stays
  # uninstrumented so that weftd and weft link normally in this tree).
  set(d ${PROJECT_SOURCE_DIR}/daemon)
  add_executable(fuzz_daemon_request ${d}/fuzz/fuzz_request.c ${d}/param.c ${d}/sqlguard.c
                 ${PROJECT_SOURCE_DIR}/format/json.c)
  target_include_directories(fuzz_daemon_request PRIVATE ${d} ${PROJECT_SOURCE_DIR}/format)
  target_compile_options(fuzz_daemon_request PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_daemon_request PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_daemon_request PRIVATE weft_format PkgConfig::SQLITE3)
  add_test(NAME fuzz.daemon.request
           COMMAND fuzz_daemon_request -max_total_time=30 -timeout=10 -rss_limit_mb=1024
                   ${CMAKE_CURRENT_BINARY_DIR}/fuzz_daemon_corpus
                   ${PROJECT_SOURCE_DIR}/daemon/fuzz/corpus)
  set_tests_properties(fuzz.daemon.request PROPERTIES LABELS "fuzz" TIMEOUT 120)
  file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/fuzz_daemon_corpus)

  # A timeline window (start, end, px) and what the tracks and flow sums
  # do with it on hostile spans: UBSan stops at the first overflow.
  add_executable(fuzz_daemon_window ${d}/fuzz/fuzz_window.c ${d}/param.c ${d}/lod.c
                 ${d}/flowsum.c)
  target_include_directories(fuzz_daemon_window PRIVATE ${d})
  target_compile_options(fuzz_daemon_window PRIVATE -fsanitize=fuzzer,address,undefined
                         -fno-sanitize-recover=all)
  target_link_options(fuzz_daemon_window PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_daemon_window PRIVATE weft_overview PkgConfig::SQLITE3)
  add_test(NAME fuzz.daemon.window
           COMMAND fuzz_daemon_window -max_total_time=20 -timeout=10 -rss_limit_mb=1024
                   ${CMAKE_CURRENT_BINARY_DIR}/fuzz_window_corpus
                   ${PROJECT_SOURCE_DIR}/daemon/fuzz/corpus_window)
  set_tests_properties(fuzz.daemon.window PROPERTIES LABELS "fuzz" TIMEOUT 120)
  file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/fuzz_window_corpus)

  # The collector socket's request line (daemon/handshake.c).
  add_executable(fuzz_daemon_handshake ${d}/fuzz/fuzz_handshake.c ${d}/handshake.c)
  target_include_directories(fuzz_daemon_handshake PRIVATE ${d})
  target_compile_options(fuzz_daemon_handshake PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_daemon_handshake PRIVATE -fsanitize=fuzzer,address,undefined)
  add_test(NAME fuzz.daemon.handshake
           COMMAND fuzz_daemon_handshake -max_total_time=20 -timeout=10
                   ${CMAKE_CURRENT_BINARY_DIR}/fuzz_handshake_corpus
                   ${PROJECT_SOURCE_DIR}/daemon/fuzz/corpus_handshake)
  set_tests_properties(fuzz.daemon.handshake PROPERTIES LABELS "fuzz" TIMEOUT 120)
  file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/fuzz_handshake_corpus)
endif()
