# Unit tests of the collector and the weft CLI (tracer/collector/).
# Labels: unit (ASan+UBSan tree) and collector (TSan tree).
if(CMOCKA_FOUND)
  foreach(name span decode channel tracedb overview model cli rings lockgraph)
    if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/test_collect_${name}.c)
      add_executable(test_collect_${name} ${CMAKE_CURRENT_LIST_DIR}/test_collect_${name}.c)
      target_link_libraries(test_collect_${name} PRIVATE weft_cli weft_collect
                            PkgConfig::CMOCKA Threads::Threads)
      add_test(NAME unit.collect.${name} COMMAND test_collect_${name})
      set_tests_properties(unit.collect.${name} PROPERTIES LABELS "unit;collector"
                           ENVIRONMENT "TMPDIR=${CMAKE_CURRENT_BINARY_DIR}")
    endif()
  endforeach()
  if(TARGET test_collect_cli) # weft export is always built (format/export_chrome.c)
    target_compile_definitions(test_collect_cli PRIVATE WEFT_HAVE_EXPORT=1)
  endif()
endif()
