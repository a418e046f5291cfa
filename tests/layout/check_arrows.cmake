# The arrows between the project's parts point one way (DESIGN.md "The
# next layers", STYLE.md habit 12):
#   format/  (the trace format) includes nothing from tracer/ or daemon/;
#   tracer/  (the recorder) includes nothing from daemon/;
#   daemon/  includes nothing from tracer/ (it reads traces through format/
#            and starts collectors through include/weft/collector.h).
# An #include "X" is taken to cross the line when a file named X exists in
# the forbidden part and none exists in the including part, format/ or
# include/. Usage: cmake -DROOT=<source dir> -P check_arrows.cmake
# Fails (FATAL_ERROR) naming every crossing.
if(NOT ROOT)
  message(FATAL_ERROR "check_arrows.cmake: -DROOT=<source dir> is required")
endif()

function(headers_of part out)
  file(GLOB_RECURSE found RELATIVE ${ROOT}/${part} ${ROOT}/${part}/*.h)
  set(names "")
  foreach(path IN LISTS found)
    list(APPEND names ${path})
    get_filename_component(name ${path} NAME)
    list(APPEND names ${name})
  endforeach()
  set(${out} ${names} PARENT_SCOPE)
endfunction()

headers_of(tracer tracer_headers)
headers_of(daemon daemon_headers)
headers_of(format format_headers)
headers_of(include include_headers)

set(crossings "")
function(check part forbidden_list allowed_list)
  file(GLOB_RECURSE sources ${ROOT}/${part}/*.c ${ROOT}/${part}/*.h)
  foreach(source IN LISTS sources)
    file(STRINGS ${source} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
    foreach(line IN LISTS lines)
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\".*" "\\1" header "${line}")
      list(FIND ${forbidden_list} ${header} bad)
      if(bad EQUAL -1)
        continue()
      endif()
      set(ok FALSE)
      foreach(allowed IN LISTS ${allowed_list})
        list(FIND ${allowed} ${header} here)
        if(NOT here EQUAL -1)
          set(ok TRUE)
        endif()
      endforeach()
      if(NOT ok)
        file(RELATIVE_PATH rel ${ROOT} ${source})
        list(APPEND crossings "${rel} includes \"${header}\" (${forbidden_list})")
      endif()
    endforeach()
  endforeach()
  set(crossings ${crossings} PARENT_SCOPE)
endfunction()

set(own_tracer tracer_headers format_headers include_headers)
set(own_daemon daemon_headers format_headers include_headers)
set(own_format format_headers)
check(format tracer_headers own_format)
check(format daemon_headers own_format)
check(tracer daemon_headers own_tracer)
check(daemon tracer_headers own_daemon)

if(crossings)
  list(JOIN crossings "\n  " text)
  message(FATAL_ERROR "arrows point the wrong way:\n  ${text}")
endif()
message(STATUS "arrows: format <- tracer, format <- daemon; no crossing")
