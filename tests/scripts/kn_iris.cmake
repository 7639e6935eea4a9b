# cmake -DAPP=kn-iris -DOUT=dir -DFIXTURES=dir -P kn_iris.cmake
# Runs kn-iris the ways a user would and checks what it prints and writes.
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
include(${CMAKE_CURRENT_LIST_DIR}/kn_iris_expect.cmake)

# The lesson's run, from the PyTorch fixture's initial weights: PyTorch's final loss and accuracy.
expect(0 "result device=cpu epochs=20000 time_s=[0-9.]+ us_per_epoch=[0-9.]+ final_loss=0\\.06143[0-9] test_acc=0\\.9667"
       --device cpu --init-weights ${FIXTURES}/torch-iris-seed1/init.safetensors
       --loss-csv ${OUT}/loss.csv --plot ${OUT}/loss.svg --save-weights ${OUT}/w.safetensors)
if(NOT last MATCHES "Epoch \\[100/20000\\], Loss: [0-9.]+\n.*Epoch \\[20000/20000\\], Loss: 0\\.0614")
  message(FATAL_ERROR "missing the lesson's epoch lines:\n${last}")
endif()
file(STRINGS ${OUT}/loss.csv rows)
list(LENGTH rows n)
list(GET rows 0 header)
list(GET rows 1 first)
if(NOT n EQUAL 20001 OR NOT header STREQUAL "epoch,loss" OR NOT first MATCHES "^1,1\\.12126")
  message(FATAL_ERROR "loss.csv: ${n} rows, header '${header}', first '${first}'")
endif()
file(READ ${OUT}/loss.svg svg)
foreach(part "<svg" "<polyline" ">epoch<" ">cross-entropy loss<" "training loss")
  string(FIND "${svg}" "${part}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "loss.svg lacks ${part}")
  endif()
endforeach()
# The saved weights start a second run that carries on from them.
expect(0 "final_loss=0\\.0[0-9]+" --device cpu --epochs 10 --quiet --init-weights ${OUT}/w.safetensors)

# Readback every 200 epochs: rows 200, 400, ...; never: no rows, still a result line.
expect(0 "result device=cpu epochs=400 " --device cpu --epochs 400 --record-every 200 --loss-csv ${OUT}/l200.csv --quiet)
file(STRINGS ${OUT}/l200.csv rows)
if(NOT rows MATCHES "^epoch,loss;200,[0-9.]+;400,[0-9.]+$")
  message(FATAL_ERROR "l200.csv: ${rows}")
endif()
expect(0 "^result device=cpu epochs=50 " --device cpu --epochs 50 --record-every 0 --quiet)

# --help shows every default; bad values are usage errors (exit 2); bad files are errors (exit 1).
expect(0 "--epochs INT:INT in \\[1 - 100000000\\]=20000" --help)
expect(0 "--lr FLOAT:FLOAT in \\[0 - 1e\\+06\\]=0.01" --help)
expect(0 "--record-every INT:INT in \\[0 - 100000000\\]=1" --help)
expect(0 "--mode TEXT:{eager,graph,fused}=eager" --help)
expect(0 "--readback-every INT:INT in \\[0 - 100000000\\]=1000" --help)
expect(0 " mode=eager threads=[0-9]+\n" --device cpu --epochs 5 --quiet)
# --threads: kn::set_num_threads, said in the result line; a bad count is a usage error.
expect(0 " mode=eager threads=1\n" --device cpu --epochs 5 --quiet --threads 1)
expect(0 " mode=eager threads=3\n" --device cpu --epochs 5 --quiet --threads 3)
expect(0 "--threads INT:INT in \\[1 - 1024\\]=[0-9]+" --help)
foreach(bad 0 -1 1025)
  expect(2 "--threads: Value ${bad} not in range 1 to 1024" --device cpu --epochs 1 --threads ${bad})
endforeach()
expect(2 "--threads" --device cpu --epochs 1 --threads two)
expect(2 "mode" --mode turbo)
# Graph mode needs a GPU: on the CPU it is an error that says so.
expect(1 "kn-iris: error: --mode graph needs a CUDA device; on cpu only --mode eager and --mode fused exist" --device cpu
       --mode graph)
# Fused mode runs on the CPU too (support/fused_mlp_cpu.hpp): PyTorch's final loss, as eager mode.
expect(0 "result device=cpu epochs=20000 time_s=[0-9.]+ us_per_epoch=[0-9.]+ final_loss=0\\.06143[0-9] test_acc=0\\.9667 mode=fused"
       --device cpu --mode fused --quiet --init-weights ${FIXTURES}/torch-iris-seed1/init.safetensors)
if(last_err MATCHES "falling back")
  message(FATAL_ERROR "--mode fused fell back on Iris:\n${last_err}")
endif()
# A model too big for the fused CPU loop trains in eager mode, with a one-line note saying why.
expect(0 " mode=eager[ \n]" --device cpu --mode fused --hidden 9000 --epochs 2 --quiet)
if(NOT last_err MATCHES "kn-iris: --mode fused: a 4-9000-3 MLP on 120 rows needs [0-9]+ bytes of working set[^\n]*; falling back to --mode eager\n")
  message(FATAL_ERROR "no fallback note for --hidden 9000 --mode fused:\n${last_err}")
endif()
expect(2 "epochs" --epochs 0)
expect(2 "device" --device tpu)
expect(2 "The following argument was not expected" --bogus)
expect(2 "init-weights" --init-weights ${OUT}/missing.safetensors)
expect(1 "kn-iris: error: .*loss.svg: " --device cpu --epochs 1 --init-weights ${OUT}/loss.svg)
file(WRITE ${OUT}/bad.csv "a,b,c,d,species\n1,2,3,4,tulip\n")
expect(1 "bad.csv:2:5: unknown class 'tulip'" --device cpu --data ${OUT}/bad.csv)
expect(1 "tensor 'fc1.weight' has shape \\[10, 4\\], the model expects \\[20, 4\\]" --device cpu --epochs 1
       --init-weights ${FIXTURES}/torch-iris-seed1/init.safetensors --hidden 20)

# The weights kernelnet saved load into PyTorch's nn.Module with the same accuracy
# (skipped where PyTorch is not installed).
find_program(PY3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(PY3)
  execute_process(COMMAND ${APP} --device cpu --init-weights ${FIXTURES}/torch-iris-seed1/init.safetensors --quiet
                          --save-weights ${OUT}/torch.safetensors OUTPUT_VARIABLE out RESULT_VARIABLE rc)
  string(REGEX MATCH "test_acc=([0-9.]+)" _ "${out}")
  execute_process(COMMAND ${PY3} ${CMAKE_CURRENT_LIST_DIR}/torch_load.py ${OUT}/torch.safetensors ${CMAKE_MATCH_1}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 77)
    message(STATUS "PyTorch interop skipped: ${out}")
  elseif(NOT rc EQUAL 0)
    message(FATAL_ERROR "PyTorch could not load kernelnet's weights (${rc}):\n${out}\n${err}")
  else()
    message(STATUS "${out}")
  endif()
endif()

# Output paths that cannot be written: one clear error, exit 1, before training, and no
# partial file (kn_iris_cli.cmake checks that no epoch ran).
foreach(flag --loss-csv --plot --save-weights)
  expect(1 "kn-iris: error: ${flag} ${OUT}/no-such-dir/out: " --device cpu --epochs 2 --quiet ${flag}
         ${OUT}/no-such-dir/out)
endforeach()
# An existing output is replaced only by a complete one: a failed run leaves it whole.
file(WRITE ${OUT}/keep.csv "epoch,loss\n1,0.5\n")
expect(2 "epochs" --epochs 0 --loss-csv ${OUT}/keep.csv)
file(READ ${OUT}/keep.csv kept)
if(NOT kept STREQUAL "epoch,loss\n1,0.5\n")
  message(FATAL_ERROR "keep.csv was changed by a failed run")
endif()
file(GLOB leftovers ${OUT}/*.tmp-*)
if(leftovers)
  message(FATAL_ERROR "temporary files left behind: ${leftovers}")
endif()
# --device cuda without a device (or without CUDA in the build) is a clear error.
execute_process(COMMAND ${APP} --device cuda --epochs 2 --quiet RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 AND NOT (rc EQUAL 1 AND err MATCHES "--device cuda: CUDA is not available: "))
  message(FATAL_ERROR "kn-iris --device cuda: exit ${rc}\n${out}\n${err}")
endif()
