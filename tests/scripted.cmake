# Tests that run programs: the example, kn-iris's command line, and the example
# built as a separate project against an installed kernelnet.

# The lesson's program, built in the tree, from another working directory.
add_test(NAME "example: iris_minimal (build tree)" COMMAND iris_minimal WORKING_DIRECTORY /)

# kn-iris: the result line, its files, and its errors.
add_test(NAME "kn-iris: trains and prints the result line"
  COMMAND ${CMAKE_COMMAND} -DAPP=$<TARGET_FILE:kn-iris> -DOUT=${CMAKE_CURRENT_BINARY_DIR}/kn-iris-out
          -DFIXTURES=${CMAKE_CURRENT_SOURCE_DIR}/fixtures -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/kn_iris.cmake)

# Install into a scratch prefix, then configure, build and run examples/ against it.
add_test(NAME "package: install, find_package(kernelnet 0.1), build and run the example"
  COMMAND ${CMAKE_COMMAND} -DBUILD=${PROJECT_BINARY_DIR} -DSRC=${PROJECT_SOURCE_DIR}
          -DWORK=${CMAKE_CURRENT_BINARY_DIR}/package-test -DGENERATOR=${CMAKE_GENERATOR}
          -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/package.cmake)
set_tests_properties("package: install, find_package(kernelnet 0.1), build and run the example" PROPERTIES TIMEOUT 1200)
