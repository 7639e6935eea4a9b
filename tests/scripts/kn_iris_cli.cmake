# cmake -DAPP=kn-iris -DOUT=dir -DREADME=README.md -P kn_iris_cli.cmake
# kn-iris's command line as a newcomer meets it: flags that agree with each other and
# with --help, errors before any training, progress that reaches a file as it is
# printed, a warning when the loss runs away, and a README that shows what it prints.
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
include(${CMAKE_CURRENT_LIST_DIR}/kn_iris_expect.cmake)
function(refute text pattern what)
  if("${text}" MATCHES "${pattern}")
    message(FATAL_ERROR "${what}: '${pattern}' should not appear in:\n${text}")
  endif()
endfunction()

# --print-every 0 prints no epoch lines, as --record-every 0 records none.
expect(0 "result device=cpu epochs=300 " --device cpu --epochs 300 --print-every 0)
refute("${last}" "Epoch \\[" "--print-every 0")
expect(0 "print-every INT:INT in \\[0 - 100000000\\]=100" --help)

# --record-every 0 with an output of losses, or a readback that never comes, is a usage
# error at once (exit 2, nothing trained: no "device:" line), not an error after training.
foreach(flag --plot --loss-csv)
  expect(2 "${flag}: needs recorded losses, and --record-every 0 records none" --device cpu --record-every 0
         ${flag} ${OUT}/never)
  refute("${last}" "device:" "${flag} with --record-every 0")
  expect(2 "${flag}: needs recorded losses, and --record-every 500 records none in --epochs 100" --device cpu
         --epochs 100 --record-every 500 ${flag} ${OUT}/never)
endforeach()
if(EXISTS ${OUT}/never)
  message(FATAL_ERROR "a rejected run wrote ${OUT}/never")
endif()

# --test-size: --help and the error show the same open range.
expect(0 "--test-size FLOAT:FLOAT in \\(0 - 1\\)=0.2" --help)
foreach(bad 0 1 1.5 nan)
  expect(2 "--test-size: Value ${bad} not in range \\(0 - 1\\), both ends excluded" --test-size ${bad})
endforeach()
# A NaN learning rate is a usage error like any other bad value, not a library error.
foreach(bad nan -nan inf -1)
  expect(2 "--lr: Value ${bad} not in range \\[0 - 1e\\+06\\]" --device cpu --epochs 1 --lr ${bad})
endforeach()
expect(2 "--lr: Value x is not a number|--lr: Value x" --lr x)

# A loss that runs away: one warning naming the epoch and suggesting a smaller learning
# rate, and training goes on to the result line.
expect(0 "result device=cpu epochs=200 " --device cpu --epochs 200 --lr 2000 --print-every 0)
string(REGEX MATCHALL "warning: the loss grew" warnings "${last_err}")
list(LENGTH warnings n)
if(NOT n EQUAL 1 OR NOT last_err MATCHES
   "kn-iris: warning: the loss grew to [0-9.e+]+ at epoch [0-9]+, [0-9]+x its first recorded value [0-9.]+ \\(epoch 1\\); training goes on, but the learning rate \\(--lr 2000\\) is probably too large: try a smaller one")
  message(FATAL_ERROR "expected one loss-growth warning, got ${n}:\n${last_err}")
endif()
# The lesson's learning rate gives none.
expect(0 "result device=cpu" --device cpu --epochs 200 --quiet)
refute("${last_err}" "warning" "--lr 0.01")

# Output paths are checked before the first epoch: no epoch line is printed.
foreach(flag --loss-csv --plot --save-weights)
  expect(1 "kn-iris: error: ${flag} ${OUT}/no-such-dir/out: " --device cpu --epochs 1000 ${flag} ${OUT}/no-such-dir/out)
  refute("${last}" "Epoch \\[" "${flag} into a missing folder")
  expect(1 "kn-iris: error: ${flag} ${OUT}: " --device cpu --epochs 1000 ${flag} ${OUT})
  refute("${last}" "Epoch \\[" "${flag} naming a folder")
endforeach()

# Progress reaches a file as it is printed: a run killed mid-way (TIMEOUT kills it, and
# a killed process flushes nothing) has left its first lines in the file already.
execute_process(COMMAND ${APP} --device cpu --epochs 100000000 --print-every 100000000 TIMEOUT 3
                OUTPUT_FILE ${OUT}/progress.log ERROR_VARIABLE err RESULT_VARIABLE rc)
file(READ ${OUT}/progress.log log)
if(NOT log MATCHES "^device: cpu\n")
  message(FATAL_ERROR "an interrupted run left no progress in its log (exit ${rc}): '${log}'")
endif()

# The result line, then one line setting it beside the lesson; --quiet keeps the first only.
set(overheads "docs/overheads.md")
string(REPLACE "." "\\." overheads "${overheads}")
expect(0 "\nresult device=cpu epochs=400 [^\n]*\nlesson: PyTorch took 3 s on the CPU \\(150 us/epoch\\) and 22 s on a GPU for 20000 epochs; this run, [0-9.e+]+ us/epoch, is [0-9.e+]+x (faster|slower) than its CPU loop\\. Why its GPU lost: ${overheads}\n$"
       --device cpu --epochs 400)
set(real_result "${last}")
expect(0 "^result device=cpu epochs=400 [^\n]*\n$" --device cpu --epochs 400 --quiet)

# The README's kn-iris synopsis names every option --help lists, and its sample result
# line has the real one's fields, in order.
file(READ ${README} readme)
string(REGEX MATCH "```\nkn-iris [^`]*```" synopsis "${readme}")
if(NOT synopsis)
  message(FATAL_ERROR "README.md has no kn-iris synopsis block")
endif()
execute_process(COMMAND ${APP} --help OUTPUT_VARIABLE help)
string(REGEX MATCHALL "\n  --[a-z-]+" options "${help}")
foreach(opt IN LISTS options)
  string(STRIP "${opt}" opt)
  if(opt STREQUAL "--help")
    continue()
  endif()
  string(FIND "${synopsis}" "[${opt}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "README.md's kn-iris synopsis lacks ${opt}:\n${synopsis}")
  endif()
endforeach()
string(REGEX MATCH "\nresult [^\n]*" sample "${readme}")
string(REGEX MATCH "\nresult [^\n]*" real "${real_result}")
string(REGEX REPLACE "=[^ ]*" "=" sample_keys "${sample}")
string(REGEX REPLACE "=[^ ]*" "=" real_keys "${real}")
if(NOT sample_keys STREQUAL real_keys)
  message(FATAL_ERROR "README.md's sample result line has other fields than kn-iris prints:\n${sample}\n${real}")
endif()
if(NOT readme MATCHES "\nlesson: PyTorch took 3 s on the CPU")
  message(FATAL_ERROR "README.md does not show the line after the result line")
endif()
