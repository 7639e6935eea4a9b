# One self-check of the harness (tests/emu/CMakeLists.txt): runs `EXE CASE`, a planted
# defect only the sanitizers see, and passes if the process died with a sanitizer report
# whose stack names the planted line: the line of defects/*.cu marked `// planted: CASE`.
#
# Usage: cmake -DEXE=<kn-emu-crash> -DCASE=<case> -DSOURCES=<tests/emu/defects> -P expect_report.cmake
cmake_minimum_required(VERSION 3.25)
set(reports
  "global_overflow=AddressSanitizer: heap-buffer-overflow"
  # A __shared__ array has a C++ array type here, so UBSan's bounds check sees the bad
  # index first; past the end of its allocation ASan would.
  "shared_overflow=(runtime error: index [0-9]+ out of bounds for type 'float \\[8\\]\\[33\\]'|AddressSanitizer: heap-buffer-overflow)"
  "dynamic_shared_overflow=AddressSanitizer: heap-buffer-overflow"
  "misaligned_float4=misaligned address .* for type 'const (struct )?float4', which requires 16 byte alignment")
foreach(r IN LISTS reports)
  if(r MATCHES "^${CASE}=(.*)$")
    set(report "${CMAKE_MATCH_1}")
  endif()
endforeach()
if(NOT report)
  message(FATAL_ERROR "expect_report: no expected report for case '${CASE}'")
endif()

# The planted line.
file(GLOB sources ${SOURCES}/*.cu)
foreach(src IN LISTS sources)
  file(STRINGS ${src} lines)
  set(n 0)
  foreach(line IN LISTS lines)
    math(EXPR n "${n} + 1")
    if(line MATCHES "// planted: ${CASE}$")
      get_filename_component(name ${src} NAME)
      set(planted "${name}:${n}")
    endif()
  endforeach()
endforeach()
if(NOT planted)
  message(FATAL_ERROR "expect_report: no line of ${SOURCES}/*.cu is marked '// planted: ${CASE}'")
endif()

execute_process(COMMAND ${EXE} ${CASE} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(rc EQUAL 0)
  message(FATAL_ERROR "${CASE}: the process ran to the end; the sanitizers did not report the defect at ${planted}\n${out}")
endif()
if(NOT out MATCHES "${report}")
  message(FATAL_ERROR "${CASE}: exit ${rc}, but no report matching '${report}':\n${out}")
endif()
# The first frame of the report's stack that is in defects/ must be the planted line.
string(REGEX MATCH "defects/[a-z_]+\\.cu:[0-9]+" first_frame "${out}")
if(NOT first_frame MATCHES "/${planted}$" AND NOT first_frame STREQUAL "defects/${planted}")
  message(FATAL_ERROR "${CASE}: the report points at ${first_frame}, not at the planted line ${planted}:\n${out}")
endif()
message(STATUS "${CASE}: reported at ${first_frame} (${report})")
