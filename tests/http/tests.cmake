# HTTP tests: the built weftd on 127.0.0.1:0 against real trace files,
# checked with python3's urllib and sqlite3 (label "http").
find_program(WEFT_PYTHON3 NAMES python3 REQUIRED)
if(TARGET weftd AND TARGET weft_gen_trace)
  set(WEFT_HTTP_ENV
    "WEFTD=$<TARGET_FILE:weftd>"
    "WEFT_GEN_TRACE=$<TARGET_FILE:weft_gen_trace>"
    "WEFT_BIN=${CMAKE_BINARY_DIR}/bin/weft"
    "WEFT_WEB_DIR=${PROJECT_SOURCE_DIR}/web"
    "WEFT_WEB_MANIFEST=${CMAKE_BINARY_DIR}/daemon/web_assets.manifest"
    "PYTHONDONTWRITEBYTECODE=1")
  set(groups api errors live export cli recorded coarse security scan stacks)
  if(TARGET weft)
    # weftd recording preloaded programs needs libweft.so (not built in
    # sanitizer trees)
    list(APPEND groups tracing_daemon critpath compare)
    list(APPEND WEFT_HTTP_ENV "WEFT_LIBWEFT=$<TARGET_FILE:weft>")
  endif()
  foreach(group ${groups})
    add_test(NAME http.${group}
             COMMAND ${WEFT_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/test_${group}.py
             WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
    set_tests_properties(http.${group} PROPERTIES LABELS "http" TIMEOUT 300
                         ENVIRONMENT "${WEFT_HTTP_ENV}")
  endforeach()
endif()
