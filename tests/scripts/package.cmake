# cmake -DBUILD=... -DSRC=... -DWORK=... -DGENERATOR=... [-DNESTED_CACHE=...] -P package.cmake
# Installs kernelnet from BUILD into WORK/prefix, moves the prefix (the package must be
# relocatable), builds SRC/examples against it as a separate project, and runs the
# example from a directory that has no data/ beside it.
#
# NESTED_CACHE (tests/scripted.cmake writes it) holds the outer build's prefix path,
# ignored prefixes, compilers and CUDA architectures: each nested configure starts from
# it (cmake -C), so it finds the dependencies where the outer build found them (the
# carried .deps on the lent GPU machine) and builds for the same GPU.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
if(NESTED_CACHE)
  include(${NESTED_CACHE})  # sets CMAKE_PREFIX_PATH and the rest, when the build had them
endif()
# nested_cache(<file> <prefix>...): an initial cache of NESTED_CACHE's settings with
# these prefixes searched first.
function(nested_cache file)
  set(text "")
  if(NESTED_CACHE)
    set(text "include([==[${NESTED_CACHE}]==])\n")
  endif()
  set(prefixes ${ARGN} ${CMAKE_PREFIX_PATH})
  string(APPEND text "set(CMAKE_PREFIX_PATH [==[${prefixes}]==] CACHE STRING \"\" FORCE)\n")
  file(WRITE ${file} "${text}")
endfunction()
function(run)
  cmake_parse_arguments(R "" "DIR" "" ${ARGN})
  if(NOT R_DIR)
    set(R_DIR ${WORK})
  endif()
  execute_process(COMMAND ${R_UNPARSED_ARGUMENTS} WORKING_DIRECTORY ${R_DIR} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()
run(${CMAKE_COMMAND} --install ${BUILD} --prefix ${WORK}/staging)
file(RENAME ${WORK}/staging ${WORK}/prefix)
foreach(f include/kernelnet/kernelnet.hpp share/kernelnet/data/iris.csv lib/cmake/kernelnet/kernelnetConfig.cmake
          lib/cmake/kernelnet/kernelnetConfigVersion.cmake bin/kn-iris)
  if(NOT EXISTS ${WORK}/prefix/${f})
    message(FATAL_ERROR "the install is missing ${f}")
  endif()
endforeach()
nested_cache(${WORK}/examples-cache.cmake ${WORK}/prefix)
run(${CMAKE_COMMAND} -C ${WORK}/examples-cache.cmake -S ${SRC}/examples -B ${WORK}/build -G ${GENERATOR}
    -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK}/build)
run(${WORK}/build/iris_minimal DIR ${WORK})
if(NOT last_output MATCHES "test accuracy: 0\\.9[0-9]+|test accuracy: 1\\.0")
  message(FATAL_ERROR "unexpected output:\n${last_output}")
endif()
message(STATUS "installed package OK:\n${last_output}")
# The mini-batch example (kn::data::DataLoader from the installed headers), on the CPU.
run(${WORK}/build/minibatch --device cpu DIR ${WORK})
if(NOT last_output MATCHES "8 SGD steps per epoch\n.*test accuracy: (0\\.9[0-9]+|1\\.0)")
  message(FATAL_ERROR "unexpected output (minibatch):\n${last_output}")
endif()
message(STATUS "installed package, minibatch OK:\n${last_output}")

# Once more through add_subdirectory: a consumer project that builds kernelnet from its
# source tree (only the library: apps and tests are off when kernelnet is not the top
# project; CUDA off here to keep CI quick, the installed package above has it when built).
file(MAKE_DIRECTORY ${WORK}/consumer)
file(WRITE ${WORK}/consumer/CMakeLists.txt "cmake_minimum_required(VERSION 3.25)
project(consumer LANGUAGES CXX)
add_subdirectory(\"${SRC}\" kernelnet)
add_executable(iris_minimal \"${SRC}/examples/iris_minimal.cpp\")
target_link_libraries(iris_minimal PRIVATE kernelnet::kernelnet)
")
nested_cache(${WORK}/consumer-cache.cmake)
run(${CMAKE_COMMAND} -C ${WORK}/consumer-cache.cmake -S ${WORK}/consumer -B ${WORK}/consumer-build -G ${GENERATOR}
    -DCMAKE_BUILD_TYPE=Release -DKN_CUDA=OFF)
if(EXISTS ${WORK}/consumer-build/kernelnet/apps OR EXISTS ${WORK}/consumer-build/kernelnet/tests)
  message(FATAL_ERROR "add_subdirectory(kernelnet) should build the library only")
endif()
run(${CMAKE_COMMAND} --build ${WORK}/consumer-build)
run(${WORK}/consumer-build/iris_minimal DIR ${WORK})
if(NOT last_output MATCHES "test accuracy: 0\\.9[0-9]+|test accuracy: 1\\.0")
  message(FATAL_ERROR "unexpected output (add_subdirectory):\n${last_output}")
endif()
message(STATUS "add_subdirectory build OK")
