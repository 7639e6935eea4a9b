# cmake --install: headers, the CUDA kernels library (when built), the apps,
# data/iris.csv, and a relocatable package config for find_package(kernelnet 0.1).
include(CMakePackageConfigHelpers)

set(KN_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/kernelnet)
install(DIRECTORY lib/kernelnet DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
install(FILES data/iris.csv DESTINATION ${CMAKE_INSTALL_DATADIR}/kernelnet/data)

set(KN_EXPORT_TARGETS kernelnet)
if(KN_WITH_CUDA)
  list(APPEND KN_EXPORT_TARGETS kernelnet_cuda)
endif()
install(TARGETS ${KN_EXPORT_TARGETS} EXPORT kernelnetTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT kernelnetTargets NAMESPACE kernelnet:: DESTINATION ${KN_CMAKE_DIR})

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/kernelnetConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/kernelnetConfig.cmake INSTALL_DESTINATION ${KN_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_DATADIR)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/kernelnetConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/kernelnetConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/kernelnetConfigVersion.cmake
        DESTINATION ${KN_CMAKE_DIR})
