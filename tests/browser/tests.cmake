# Browser tests (label "browser"): weftd on 127.0.0.1:0 serving a synthetic
# trace (make_trace.py) and, when the build has them, traces recorded with
# `weft record` from the demos; Debian's chromium driven by playwright-core
# (pinned in package.json, installed by `scripts/deps.sh --test`) through
# node's built-in test runner. Screenshots: <build>/test-artifacts/.
# Registered only once the daemon target exists.
find_program(WEFT_NODE node)
if(TARGET weftd AND WEFT_NODE)
  set(weft_browser_env
    "WEFTD=$<TARGET_FILE:weftd>"
    "WEFT_ARTIFACTS=${CMAKE_BINARY_DIR}/test-artifacts")
  if(TARGET weft_gen_trace)
    list(APPEND weft_browser_env "WEFT_GEN_TRACE=$<TARGET_FILE:weft_gen_trace>")
  endif()
  if(TARGET weft_tool AND TARGET weft-demo-prodcons)
    list(APPEND weft_browser_env
      "WEFT=$<TARGET_FILE:weft_tool>"
      "WEFT_DEMO_DIR=$<TARGET_FILE_DIR:weft-demo-prodcons>")
  endif()
  if(TARGET weft_tool AND TARGET weft-itest-convoy)
    list(APPEND weft_browser_env "WEFT_CONVOY=$<TARGET_FILE:weft-itest-convoy>")
  endif()
  if(TARGET weft_tool AND TARGET weft-itest-lockorder)
    list(APPEND weft_browser_env "WEFT_LOCKORDER=$<TARGET_FILE:weft-itest-lockorder>")
  endif()
  # dashboard: the views a person uses; trust: hostile names and the CSP;
  # scale: 2,000-process traces at device pixel ratio 1 and 2, navigation;
  # critpath: the critical path overlay and breakdown on a recorded convoy;
  # compare: two recorded convoys side by side (the compare view);
  # locks: deadlocks and lock-order inversions in the summary and details;
  # stacks: the stacks of waits, the flame graph (make_stacks.py).
  foreach(name dashboard trust scale critpath compare locks stacks)
    add_test(NAME browser.${name}
      COMMAND ${WEFT_NODE} --test --test-reporter=spec
              ${CMAKE_CURRENT_LIST_DIR}/${name}.test.mjs
      WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
    set_tests_properties(browser.${name} PROPERTIES
      LABELS browser
      TIMEOUT 300
      ENVIRONMENT "${weft_browser_env}")
  endforeach()
endif()
