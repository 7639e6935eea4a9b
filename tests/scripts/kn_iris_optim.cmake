# cmake -DAPP=kn-iris -DFIXTURE=tests/fixtures/torch-optim.json -DOUT=dir -P kn_iris_optim.cmake
# kn-iris --optimizer sgd|adam|adamw --momentum M --weight-decay W: from PyTorch's initial
# weights (--init-seed 1), 2000 epochs end at the loss PyTorch's run of the same optimiser
# ends at (tests/fixtures/torch-optim.json, the last of its per-step losses), within the
# 1e-5 the agreement tests allow plus the result line's rounding to 6 decimals.
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
include(${CMAKE_CURRENT_LIST_DIR}/kn_iris_expect.cmake)
file(READ ${FIXTURE} fixture)

# PyTorch's last loss of config `name`, in millionths (rounded as %.6f rounds).
function(torch_final_micro var name)
  string(JSON n LENGTH "${fixture}" configs ${name} losses)
  math(EXPR last_i "${n} - 1")
  string(JSON v GET "${fixture}" configs ${name} losses ${last_i})
  if(NOT v MATCHES "^0\\.([0-9][0-9][0-9][0-9][0-9][0-9])([0-9])")
    message(FATAL_ERROR "${name}: unexpected final loss ${v}")
  endif()
  math(EXPR micro "1${CMAKE_MATCH_1} - 1000000")
  if(CMAKE_MATCH_2 GREATER_EQUAL 5)
    math(EXPR micro "${micro} + 1")
  endif()
  set(${var} ${micro} PARENT_SCOPE)
endfunction()

# --help names the flags; the default is the lesson's plain SGD, and its result line says
# nothing of an optimiser.
expect(0 "--optimizer TEXT:\\{sgd,adam,adamw\\}=sgd" --help)
expect(0 "--momentum FLOAT:[^\n]*=0" --help)
expect(0 "result device=cpu epochs=3 [^\n]* mode=eager" --device cpu --epochs 3 --quiet)
if(last MATCHES "optimizer=")
  message(FATAL_ERROR "plain SGD printed an optimizer= field:\n${last}")
endif()

foreach(run "sgd_momentum;sgd momentum=0.9 weight_decay=0;--momentum;0.9;--lr;0.01"
            "adam;adam momentum=0 weight_decay=0;--optimizer;adam;--lr;0.001"
            "adamw;adamw momentum=0 weight_decay=0.01;--optimizer;adamw;--lr;0.001;--weight-decay;0.01")
  list(POP_FRONT run name fields)
  expect(0 "final_loss=[0-9.]+ test_acc=[0-9.]+ optimizer=${fields} mode=eager"
         --device cpu --init-seed 1 --epochs 2000 --quiet ${run})
  final_loss_micro(ours)
  torch_final_micro(theirs ${name})
  expect_close(${ours} ${theirs} 11 "kn-iris ${run} against PyTorch's ${name}")
  message(STATUS "${name}: kernelnet ${ours}e-6, PyTorch ${theirs}e-6")
endforeach()

# Usage errors (exit 2, before any work).
expect(2 "--momentum: is SGD's; --optimizer adam has betas \\(0.9, 0.999\\) instead" --optimizer adam --momentum 0.9)
expect(2 "--optimizer: adam trains with --mode eager only; --mode graph runs plain SGD" --optimizer adam --mode graph)
expect(2 "--optimizer: sgd with --momentum trains with --mode eager only; --mode fused runs plain SGD"
       --momentum 0.5 --mode fused)
expect(2 "--optimizer: rmsprop not in \\{sgd,adam,adamw\\}" --optimizer rmsprop)
expect(2 "--weight-decay: Value -1 not in range" --weight-decay -1)
if(last MATCHES "device:")
  message(FATAL_ERROR "a usage error started training:\n${last}")
endif()
