# "emu: every kernel of kernels/ runs on the harness": runs the harness's tests once (one
# order per launch: this is about reach, the tests themselves check the rest) with
# KN_KERNEL_LOG, which names every kernel launched (kernels/kernel_log.cu), and fails
# naming each __global__ function of kernels/ that no test launched. A new kernel comes
# with its harness test (docs/architecture.md).
#
# Usage: cmake -DEXE=<kn-emu-tests> -DKERNELS=<kernels/> -DLOG=<file> -P check_coverage.cmake
cmake_minimum_required(VERSION 3.25)
file(REMOVE ${LOG})
set(ENV{KN_KERNEL_LOG} ${LOG})
set(ENV{KN_EMU_ORDERS} 1)
execute_process(COMMAND ${EXE} "~[defects]" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the harness's tests failed (exit ${rc}):\n${out}")
endif()
file(STRINGS ${LOG} launched)

# The __global__ functions, as scripts/gpu-check finds them.
file(GLOB_RECURSE sources ${KERNELS}/*.cu ${KERNELS}/*.cuh)
set(missing)
set(count 0)
foreach(src IN LISTS sources)
  file(READ ${src} text)
  string(REGEX MATCHALL "__global__[ \t\n]+void[ \t\n]+(__launch_bounds__[ \t]*\\(([^()]|\\([^()]*\\))*\\)[ \t\n]*)?[A-Za-z_0-9]+[ \t\n]*\\("
         found "${text}")
  foreach(f IN LISTS found)
    string(REGEX REPLACE "^.*[^A-Za-z_0-9]([A-Za-z_0-9]+)[ \t\n]*\\($" "\\1" name "${f}")
    math(EXPR count "${count} + 1")
    if(NOT name IN_LIST launched)
      file(RELATIVE_PATH rel ${KERNELS}/.. ${src})
      list(APPEND missing "${name} (${rel})")
    endif()
  endforeach()
endforeach()
if(count EQUAL 0)
  message(FATAL_ERROR "no __global__ function found under ${KERNELS}")
endif()
if(missing)
  list(JOIN missing "\n  " missing)
  message(FATAL_ERROR "kernels that no test of tests/emu launched:\n  ${missing}\n"
                      "(launched: ${launched})")
endif()
message(STATUS "all ${count} kernels of kernels/ ran on the harness")
