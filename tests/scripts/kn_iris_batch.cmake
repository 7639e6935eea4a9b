# cmake -DAPP=kn-iris -DOUT=dir -P kn_iris_batch.cmake
# kn-iris --batch-size: shuffled mini-batches through kn::data::DataLoader, one SGD step
# per batch, the epoch's loss the row-weighted mean of its batches' losses.
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
include(${CMAKE_CURRENT_LIST_DIR}/kn_iris_expect.cmake)

# --help: the default is the lesson's full batch.
expect(0 "--batch-size INT:INT in \\[0 - 1073741824\\]=0" --help)

# Batches of 16 for 200 epochs at lr 0.1: 8 steps an epoch, a loss that falls, and the
# result line says batch_size=16 before mode=.
expect(0 "\nresult device=cpu epochs=200 time_s=[0-9.]+ us_per_epoch=[0-9.]+ final_loss=[0-9.]+ test_acc=[0-9.]+ batch_size=16 mode=eager threads=[0-9]+\n"
       --device cpu --batch-size 16 --epochs 200 --lr 0.1 --print-every 50 --loss-csv ${OUT}/b16.csv)
set(b16 "${last}")
if(NOT b16 MATCHES "test_acc=([0-9.]+)" OR CMAKE_MATCH_1 LESS 0.9)
  message(FATAL_ERROR "--batch-size 16: test accuracy under 0.9:\n${b16}")
endif()
if(NOT b16 MATCHES "Epoch \\[50/200\\], Loss: [0-9.]+\n.*Epoch \\[200/200\\], Loss: [0-9.]+\n")
  message(FATAL_ERROR "--batch-size 16: missing epoch lines:\n${b16}")
endif()
file(STRINGS ${OUT}/b16.csv rows)
list(LENGTH rows n)
list(GET rows 1 first)
list(GET rows 200 lastrow)
string(REGEX REPLACE "^1," "" first "${first}")
string(REGEX REPLACE "^200," "" lastrow "${lastrow}")
if(NOT n EQUAL 201 OR NOT lastrow LESS first)
  message(FATAL_ERROR "b16.csv: ${n} rows, loss ${first} at epoch 1 and ${lastrow} at epoch 200")
endif()
final_loss_micro(mini)
# Reproducible: the same flags give the same orders, so the same losses.
expect(0 "batch_size=16 mode=eager" --device cpu --batch-size 16 --epochs 200 --lr 0.1 --quiet)
final_loss_micro(again)
if(NOT again EQUAL mini)
  message(FATAL_ERROR "two runs of --batch-size 16 ended at different losses: ${mini} and ${again} (millionths)")
endif()
# One step per batch: 8 steps an epoch get further in 200 epochs than the full batch's one.
expect(0 "result device=cpu epochs=200 .* mode=eager" --device cpu --epochs 200 --lr 0.1 --quiet)
final_loss_micro(full)
if(NOT mini LESS full)
  message(FATAL_ERROR "--batch-size 16 (final loss ${mini}e-6) should beat the full batch (${full}e-6) in 200 epochs")
endif()

# The epoch's loss is the row-weighted mean: with lr 0 nothing moves, so 7 batches of 16
# and one of 8 must average to the full batch's loss (a plain mean of the 8 would not).
expect(0 "batch_size=16 mode=eager" --device cpu --batch-size 16 --epochs 2 --lr 0 --quiet)
final_loss_micro(weighted)
expect(0 "final_loss" --device cpu --epochs 2 --lr 0 --quiet)
final_loss_micro(whole)
expect_close(${weighted} ${whole} 3 "--lr 0, batches of 16 against the full batch")
# A batch of all 120 rows (or more) is the full batch in another order: the same training.
expect(0 "batch_size=120 mode=eager" --device cpu --batch-size 120 --epochs 300 --quiet)
final_loss_micro(b120)
expect(0 "batch_size=500 mode=eager" --device cpu --batch-size 500 --epochs 300 --quiet)
final_loss_micro(b500)
expect(0 "final_loss" --device cpu --epochs 300 --quiet)
final_loss_micro(b0)
expect_close(${b120} ${b0} 20 "--batch-size 120 against the full batch")
expect_close(${b500} ${b0} 20 "--batch-size 500 against the full batch")
# The loss is read only when recorded; the result line still has the last epoch's.
expect(0 "final_loss=[0-9.]+ test_acc=[0-9.]+ batch_size=7 mode=eager" --device cpu --batch-size 7 --epochs 20
       --record-every 0 --quiet)

# Usage errors (exit 2, before any work): a negative size, and a mode that runs the full batch.
expect(2 "--batch-size: Value -1 not in range 0 to 1073741824" --device cpu --batch-size -1)
expect(2 "--batch-size: 16 trains with --mode eager only; --mode graph runs the full batch \\(--batch-size 0\\)"
       --batch-size 16 --mode graph)
if(last MATCHES "device:")
  message(FATAL_ERROR "--batch-size 16 --mode graph started training:\n${last}")
endif()

# On a GPU the same batches (the order is drawn on the host), so nearly the same losses.
execute_process(COMMAND ${APP} --device cuda --batch-size 16 --epochs 200 --lr 0.1 --quiet RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  set(last "${out}")
  if(NOT out MATCHES "result device=cuda .* batch_size=16 mode=eager")
    message(FATAL_ERROR "kn-iris --device cuda --batch-size 16:\n${out}")
  endif()
  final_loss_micro(gpu)
  expect_close(${gpu} ${mini} 5000 "--batch-size 16 on the GPU against the CPU")
  message(STATUS "GPU: ${out}")
elseif(NOT (rc EQUAL 1 AND err MATCHES "--device cuda: CUDA is not available: "))
  message(FATAL_ERROR "kn-iris --device cuda --batch-size 16: exit ${rc}\n${out}\n${err}")
else()
  message(STATUS "GPU part skipped: ${err}")
endif()
