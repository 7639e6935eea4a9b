# cmake -DSCRIPT=scripts/gpu-racecheck -DBUILD=<build dir> -DOUT=<dir> -P gpu_racecheck.cmake
# scripts/gpu-racecheck's bookkeeping, with a stand-in for compute-sanitizer whose outcome
# depends on the test it is given: one test clean, one with hazards, the shards of the
# odd-shape GEMM test past the deadline, every other one skipped (no GPU: exit 77, as
# tests/gpu/main.cpp does). The real racecheck only runs on a lent GPU.
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
file(WRITE ${OUT}/fake-sanitizer.sh [=[#!/usr/bin/env bash
# fake compute-sanitizer: the last argument is the Catch2 test spec
spec=${!#}
echo "========= COMPUTE-SANITIZER"
case $spec in
  "a device is there and named")
    echo "All tests passed (2 assertions in 1 test case)"
    echo "========= RACECHECK SUMMARY: 0 hazards displayed (0 errors, 0 warnings)"; exit 0 ;;
  "gemm: the registry names"*)
    echo "All tests passed (9 assertions in 1 test case)"
    echo "========= RACECHECK SUMMARY: 2 hazards displayed (2 errors, 0 warnings)"; exit 1 ;;
  *"odd shapes"*) sleep 60 ;;
  *) echo "SKIPPED: no CUDA device"; exit 77 ;;
esac
]=])
file(CHMOD ${OUT}/fake-sanitizer.sh PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)

# run(<jobs> <seconds> <log>): the script's exit status in `rc`, its stdout in `text`,
# its log in `log`.
function(run jobs seconds logfile)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env KN_COMPUTE_SANITIZER=${OUT}/fake-sanitizer.sh KN_JOBS=${jobs}
                          bash ${SCRIPT} ${BUILD} ${logfile} ${seconds}
                  RESULT_VARIABLE r OUTPUT_VARIABLE t ERROR_VARIABLE e)
  file(READ ${logfile} l)
  set(rc "${r}" PARENT_SCOPE)
  set(text "${t}${e}" PARENT_SCOPE)
  set(log "${l}" PARENT_SCOPE)
endfunction()
function(expect what pattern)
  if(NOT "${${what}}" MATCHES "${pattern}")
    message(FATAL_ERROR "gpu-racecheck: ${what} does not match '${pattern}':\n${${what}}")
  endif()
endfunction()

# Sixteen at once, 8 s: the quick ones end, the twelve odd-shape shards are cut.
run(16 8 ${OUT}/a.log)
if(NOT rc EQUAL 1)  # a hazard and skipped tests: failure, whatever was cut
  message(FATAL_ERROR "gpu-racecheck: exit ${rc}, expected 1\n${text}")
endif()
expect(text "\nracecheck: 1 of [0-9]+ processes clean, 2 hazards, 12 cut or not run for time, [0-9]+ failed")
expect(text "\nclean hazards=0 exit=0 shard=0/1: a device is there and named\n")
expect(text "(^|\n)FAIL hazards=2 exit=1 shard=0/1: gemm: the registry names")
expect(text "\nFAIL hazards=\\? exit=77 shard=0/1: fill writes every element\n")  # skipped is not clean
expect(text "\ncut hazards=\\? exit=124 shard=11/12: gemm: every variant matches cuBLAS and the CPU on odd shapes, all transposes\n")
expect(log "SKIPPED: no CUDA device")  # the output of what was not clean follows the list

# One at a time, 12 s: the first odd-shape shard is cut, the other eleven never start.
run(1 12 ${OUT}/b.log)
expect(text "\nracecheck: 1 of [0-9]+ processes clean, 2 hazards, 12 cut or not run for time")
string(REGEX MATCHALL "\nnot-run hazards=- exit=- shard=[0-9]+/12: [^\n]*odd shapes" not_run "${text}")
string(REGEX MATCHALL "\ncut hazards=\\? exit=124 shard=0/12: [^\n]*odd shapes" cut "${text}")
list(LENGTH not_run n_not_run)
list(LENGTH cut n_cut)
if(NOT n_not_run EQUAL 11 OR NOT n_cut EQUAL 1)
  message(FATAL_ERROR "gpu-racecheck, one at a time: ${n_cut} cut and ${n_not_run} not run, expected 1 and 11\n${text}")
endif()
