# cmake -DAPP=kn-iris -P kn_iris_trace.cmake
# kn-iris --trace-epochs 2: the first two epochs traced, op by op (CPU) or kernel by
# kernel (GPU), each attributed to its layer, each epoch ending in a summary; the third
# epoch untraced. Then the same on the CPU with KN_TRACE unset and no flag: silence.
function(expect_trace device)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=KN_TRACE ${APP} --device ${device} --epochs 3
                          --trace-epochs 2 --quiet
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "kn-iris --device ${device}: exit ${rc}\n${out}\n${err}")
  endif()
  if(device STREQUAL "cpu")
    set(fc1 "MLP\\.fc1 \\(Linear 4→10\\) forward → [^\n]+ µs  \\(gemm 120x10x4\\)")
    set(summary "epoch 1: 15 CPU ops, 0 launches, 0 syncs")
  else()
    # A kernel with its launch shape, e.g. sgemm_tiny<TA, TB><<<10,128>>>
    set(fc1 "MLP\\.fc1 \\(Linear 4→10\\) forward → [A-Za-z_0-9]+[^\n]*<<<[0-9(),]+,[0-9(),]+>>> [0-9.]+ µs  \\(gemm 120x10x4\\)")
    set(summary "epoch 1: [1-9][0-9]* launches, [0-9]+ syncs")
  endif()
  foreach(pattern "${fc1}" "MLP\\.relu \\(ReLU\\) forward → " "MLP\\.fc2 \\(Linear 10→3\\) backward → "
                  "MLP\\.fc1 \\(Linear 4→10\\) backward → [^\n]+\\(bias_grad 120x10\\)"
                  "CrossEntropyBackward backward → " "${summary}" "\\[kn-trace\\] epoch 2: ")
    if(NOT err MATCHES "${pattern}")
      message(FATAL_ERROR "kn-iris --device ${device} --trace-epochs 2: no '${pattern}' in the trace:\n${err}")
    endif()
  endforeach()
  if(err MATCHES "epoch 3:")
    message(FATAL_ERROR "kn-iris --trace-epochs 2 traced a third epoch:\n${err}")
  endif()
  if(NOT out MATCHES "result device=")
    message(FATAL_ERROR "kn-iris: no result line:\n${out}")
  endif()
  message(STATUS "${device} trace OK:\n${err}")
endfunction()

expect_trace(cpu)
execute_process(COMMAND ${APP} --device auto --epochs 1 --quiet OUTPUT_VARIABLE out)
if(out MATCHES "result device=cuda")
  expect_trace(cuda)
endif()

execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=KN_TRACE ${APP} --device cpu --epochs 3 --quiet
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT err STREQUAL "")
  message(FATAL_ERROR "kn-iris untraced: exit ${rc}, stderr should be empty:\n${err}")
endif()
