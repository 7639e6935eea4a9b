# Tests that run programs: the example, kn-iris's command line, and the example
# built as a separate project against an installed kernelnet.

# The lesson's program, built in the tree, from another working directory.
add_test(NAME "example: iris_minimal (build tree)" COMMAND iris_minimal WORKING_DIRECTORY /)

# kn-iris: the result line, its files, and its errors.
add_test(NAME "kn-iris: trains and prints the result line"
  COMMAND ${CMAKE_COMMAND} -DAPP=$<TARGET_FILE:kn-iris> -DOUT=${CMAKE_CURRENT_BINARY_DIR}/kn-iris-out
          -DFIXTURES=${CMAKE_CURRENT_SOURCE_DIR}/fixtures -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/kn_iris.cmake)
add_test(NAME "kn-iris: flags agree with each other and with --help; errors come before training"
  COMMAND ${CMAKE_COMMAND} -DAPP=$<TARGET_FILE:kn-iris> -DOUT=${CMAKE_CURRENT_BINARY_DIR}/kn-iris-cli-out
          -DREADME=${PROJECT_SOURCE_DIR}/README.md -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/kn_iris_cli.cmake)

# What a nested configure (the package test's) must see as this build did: where the
# dependencies are (on the lent GPU machine, only in the carried .deps), the prefixes to
# ignore (scripts/gpu-check --dry-run hides /usr), the compilers and the CUDA
# architectures. Written as an initial-cache script for `cmake -C`: lists stay lists.
set(KN_NESTED_CACHE ${CMAKE_CURRENT_BINARY_DIR}/nested-cache.cmake)
set(kn_nested "# Written by tests/scripted.cmake: settings for nested configures (cmake -C).\n")
set(kn_nested_vars CMAKE_PREFIX_PATH CMAKE_IGNORE_PREFIX_PATH CMAKE_FIND_USE_PACKAGE_REGISTRY CMAKE_MAKE_PROGRAM
                   CMAKE_CXX_COMPILER)
if(KN_WITH_CUDA)
  list(APPEND kn_nested_vars CMAKE_CUDA_COMPILER CMAKE_CUDA_HOST_COMPILER CMAKE_CUDA_ARCHITECTURES)
endif()
foreach(var IN LISTS kn_nested_vars)
  if(DEFINED ${var} AND NOT "${${var}}" STREQUAL "")
    string(APPEND kn_nested "set(${var} [==[${${var}}]==] CACHE STRING \"from kernelnet's build\")\n")
  endif()
endforeach()
file(WRITE ${KN_NESTED_CACHE} "${kn_nested}")

# Install into a scratch prefix, then configure, build and run examples/ against it.
# LABELS gpu: with a GPU the example trains on it (scripts/gpu-check runs `ctest -L gpu`).
add_test(NAME "package: install, find_package(kernelnet 0.1), build and run the example"
  COMMAND ${CMAKE_COMMAND} -DBUILD=${PROJECT_BINARY_DIR} -DSRC=${PROJECT_SOURCE_DIR}
          -DWORK=${CMAKE_CURRENT_BINARY_DIR}/package-test -DGENERATOR=${CMAKE_GENERATOR}
          -DNESTED_CACHE=${KN_NESTED_CACHE} -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/package.cmake)
# The longest test (70-80 s on 2 cores): COST starts it first in a fresh build's ctest,
# which has no timing history yet to order by, so the others run beside it.
set_tests_properties("package: install, find_package(kernelnet 0.1), build and run the example" PROPERTIES TIMEOUT 1200
                     LABELS gpu COST 20000)

# --- Seeing how layers map to kernels (issue 5): kn-info, the trace, the examples.
# The tests below labelled gpu check the GPU as well when one is there.
add_test(NAME "kn-info: text and --json agree with nproc, getconf and /proc/cpuinfo"
  COMMAND ${CMAKE_COMMAND} -DAPP=$<TARGET_FILE:kn-info> -DWITH_CUDA=${KN_WITH_CUDA}
          -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/kn_info.cmake)
add_test(NAME "kn-iris: --trace-epochs 2 traces two epochs layer by layer, each with a summary"
  COMMAND ${CMAKE_COMMAND} -DAPP=$<TARGET_FILE:kn-iris> -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/kn_iris_trace.cmake)
set_tests_properties("kn-info: text and --json agree with nproc, getconf and /proc/cpuinfo"
                     "kn-iris: --trace-epochs 2 traces two epochs layer by layer, each with a summary"
                     PROPERTIES LABELS gpu)
add_test(NAME "example: call_operator (Counter, Adder, the call operator and hooks)"
  COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:call_operator>
          "-DPATTERNS=Counter: called 3 times, returns 3, count = 3@@Adder: add5\\(10\\) = 15, add5\\(-2\\) = 3@@lambda: add_n\\(10\\) = 17@@std::function: 15 17 -10@@MiniModule: d\\(21\\) ran 1 hook, d.forward\\(21\\) ran none@@same as kn::relu\\(x\\): yes@@ran the hook 1 time"
          -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/expect_output.cmake)
add_test(NAME "example: mlp_hooks (two hidden layers, activation statistics from forward hooks)"
  COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:mlp_hooks>
          "-DPATTERNS=epoch 1 activations:\n  act1  \\[120, 16\\]: mean [0-9.]+  std [0-9.]+  max [0-9.]+  zeros [0-9.]+%\n  act2  \\[120, 8\\]: mean @@epoch 3000 activations:@@test accuracy: (0\\.9[0-9]*|1\\.0+)"
          -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/expect_output.cmake)
add_test(NAME "example: custom_op (SiLU with its own forward and backward kernels)"
  COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:custom_op>
          "-DPATTERNS=gradcheck \\(cpu\\): max [^\n]*: ok@@cuda vs cpu: (skipped|[^\n]*: ok)@@trace: Net.act \\(SiLU\\) forward → [^\n]*\\(silu_forward 1200\\)@@trace: Net.act \\(SiLU\\) backward → [^\n]*\\(silu_backward 1200\\)@@test accuracy (0\\.9|1\\.0)"
          -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/expect_output.cmake)
set_tests_properties("example: custom_op (SiLU with its own forward and backward kernels)" PROPERTIES LABELS gpu)

# --- Mini-batches (kn::data::DataLoader, docs/minibatch.md): kn-iris --batch-size, and the
# example on the CPU and, labelled gpu, on a GPU (exit 77 without one: reported skipped).
add_test(NAME "kn-iris: --batch-size 16 trains on shuffled mini-batches, the loss row-weighted"
  COMMAND ${CMAKE_COMMAND} -DAPP=$<TARGET_FILE:kn-iris> -DOUT=${CMAKE_CURRENT_BINARY_DIR}/kn-iris-batch-out
          -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/kn_iris_batch.cmake)
set_tests_properties("kn-iris: --batch-size 16 trains on shuffled mini-batches, the loss row-weighted" PROPERTIES
                     LABELS gpu)
# --- Optimisers (docs/optim.md): kn-iris --optimizer, --momentum, --weight-decay against PyTorch.
add_test(NAME "kn-iris: --optimizer sgd|adam|adamw, --momentum, --weight-decay end where PyTorch does"
  COMMAND ${CMAKE_COMMAND} -DAPP=$<TARGET_FILE:kn-iris> -DFIXTURE=${CMAKE_CURRENT_SOURCE_DIR}/fixtures/torch-optim.json
          -DOUT=${CMAKE_CURRENT_BINARY_DIR}/kn-iris-optim-out -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/kn_iris_optim.cmake)
add_test(NAME "example: minibatch (DataLoader, batches of 16, CPU)"
  COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:minibatch> "-DARGS=--device;cpu"
          -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/minibatch.cmake)
add_test(NAME "example: minibatch --device cuda (skipped without a GPU)"
  COMMAND minibatch --device cuda WORKING_DIRECTORY /)
set_tests_properties("example: minibatch --device cuda (skipped without a GPU)" PROPERTIES LABELS gpu
                     SKIP_RETURN_CODE 77 PASS_REGULAR_EXPRESSION "device: cuda:0\n.*test accuracy: (0\\.9|1\\.0)")

# kn-bench: every subcommand in its smallest size (tests/scripts/bench.cmake).
if(TARGET kn-bench)
  add_test(NAME "kn-bench: every subcommand, smallest size" COMMAND ${CMAKE_COMMAND} -DAPP=$<TARGET_FILE:kn-bench> -DOUT=${CMAKE_CURRENT_BINARY_DIR}/kn-bench-out -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/bench.cmake)
  set_tests_properties("kn-bench: every subcommand, smallest size" PROPERTIES LABELS gpu)
endif()

# scripts/gpu-racecheck's bookkeeping (deadline, cut, not run, skipped never clean), with a
# stand-in sanitizer; the real racecheck needs a lent GPU (docs/gpu-check.md).
if(TARGET kn-tests-gpu)
  add_test(NAME "gpu-racecheck: a skipped test is never clean, and the deadline cuts and says so"
    COMMAND ${CMAKE_COMMAND} -DSCRIPT=${PROJECT_SOURCE_DIR}/scripts/gpu-racecheck -DBUILD=${PROJECT_BINARY_DIR}
            -DOUT=${CMAKE_CURRENT_BINARY_DIR}/gpu-racecheck-out -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/gpu_racecheck.cmake)
endif()

# --- Charts (issue 13): kn-iris's and kn-bench's SVG charts rendered to PNG with
# rsvg-convert (librsvg2-bin), their tick labels round (tests/scripts/charts.cmake).
add_test(NAME "charts: kn-iris --plot renders to PNG, round ticks (2000 epochs, one epoch)"
  COMMAND ${CMAKE_COMMAND} -DIRIS=$<TARGET_FILE:kn-iris> -DOUT=${CMAKE_CURRENT_BINARY_DIR}/charts-iris
          -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/charts.cmake)
if(TARGET kn-bench)
  add_test(NAME "charts: kn-bench transfer and sweep --quick --plot render to PNG, round log ticks"
    COMMAND ${CMAKE_COMMAND} -DBENCH=$<TARGET_FILE:kn-bench> -DOUT=${CMAKE_CURRENT_BINARY_DIR}/charts-bench
            -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/charts.cmake)
endif()
