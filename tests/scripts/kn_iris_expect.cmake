# expect(<exit code> <regex> <kn-iris arguments>...): runs kn-iris (APP), checks its exit
# code and that stdout + stderr match; leaves stdout in `last`, stderr in `last_err`.
# Included by kn_iris.cmake and kn_iris_cli.cmake.
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
