# Unit tests of the trace format library (format/) and of the layout it
# stands for. Label: unit (ASan+UBSan tree).
if(CMOCKA_FOUND)
  # names.h against the recorder (span.h, event.h), the overview and web/.
  add_executable(test_format_names ${CMAKE_CURRENT_LIST_DIR}/test_format_names.c)
  target_compile_definitions(test_format_names PRIVATE WEFT_WEB_DIR="${PROJECT_SOURCE_DIR}/web")
  target_link_libraries(test_format_names PRIVATE weft_collect weft_format PkgConfig::CMOCKA)
  add_test(NAME unit.format.names COMMAND test_format_names)
  set_tests_properties(unit.format.names PROPERTIES LABELS "unit")
endif()

# No include crosses from daemon/ into tracer/ or back, nor from format/
# into either (tests/layout/check_arrows.cmake).
add_test(NAME unit.layout.arrows
         COMMAND ${CMAKE_COMMAND} -DROOT=${PROJECT_SOURCE_DIR}
                 -P ${PROJECT_SOURCE_DIR}/tests/layout/check_arrows.cmake)
set_tests_properties(unit.layout.arrows PROPERTIES LABELS "unit")

# assert() is on in the trees the tests run in (RelWithDebInfo; Release
# compiles it out, and has no such test).
if(CMOCKA_FOUND AND NOT CMAKE_BUILD_TYPE STREQUAL "Release")
  add_executable(test_build_asserts ${CMAKE_CURRENT_LIST_DIR}/test_build_asserts.c)
  target_link_libraries(test_build_asserts PRIVATE PkgConfig::CMOCKA)
  add_test(NAME unit.build.asserts COMMAND test_build_asserts)
  set_tests_properties(unit.build.asserts PROPERTIES LABELS "unit;collector")
endif()

# docs/CODEMAP.md names only files that exist (tests/layout/check_codemap.cmake).
add_test(NAME unit.layout.codemap
         COMMAND ${CMAKE_COMMAND} -DROOT=${PROJECT_SOURCE_DIR}
                 -P ${PROJECT_SOURCE_DIR}/tests/layout/check_codemap.cmake)
set_tests_properties(unit.layout.codemap PROPERTIES LABELS "unit")
