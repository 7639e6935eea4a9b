# expect(<exit code> <regex> <kn-iris arguments>...): runs kn-iris (APP), checks its exit
# code and that stdout + stderr match; leaves stdout in `last`, stderr in `last_err`.
# Included by kn_iris.cmake, kn_iris_cli.cmake, kn_iris_batch.cmake and kn_iris_optim.cmake,
# with final_loss_micro and expect_close below.
function(expect rc_want pattern)
  execute_process(COMMAND ${APP} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT "${rc}" STREQUAL "${rc_want}")
    message(FATAL_ERROR "kn-iris ${ARGN}: exit ${rc}, expected ${rc_want}\n${out}\n${err}")
  endif()
  if(NOT "${out}${err}" MATCHES "${pattern}")
    message(FATAL_ERROR "kn-iris ${ARGN}: output does not match '${pattern}':\n${out}\n${err}")
  endif()
  set(last "${out}" PARENT_SCOPE)
  set(last_err "${err}" PARENT_SCOPE)
endfunction()

# final_loss (printed with 6 decimals) of the last run, in millionths: CMake's maths is integer.
function(final_loss_micro var)
  if(NOT last MATCHES "final_loss=([0-9]+)\\.([0-9]+) ")
    message(FATAL_ERROR "no final_loss in:\n${last}")
  endif()
  math(EXPR v "${CMAKE_MATCH_1} * 1000000 + 1${CMAKE_MATCH_2} - 1000000")  # the leading 1 keeps zeros decimal
  set(${var} ${v} PARENT_SCOPE)
endfunction()
function(expect_close a b tolerance what)
  math(EXPR d "${a} - ${b}")
  if(d LESS 0)
    math(EXPR d "-${d}")
  endif()
  if(d GREATER tolerance)
    message(FATAL_ERROR "${what}: final losses ${a} and ${b} (millionths) differ by more than ${tolerance}")
  endif()
endfunction()
