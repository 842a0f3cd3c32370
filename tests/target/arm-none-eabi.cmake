# arm-none-eabi.cmake - a CMake toolchain file for a bare-metal Cortex-M
# with GCC and newlib, as a firmware project has one:
#   cmake -DCMAKE_TOOLCHAIN_FILE=arm-none-eabi.cmake -DMCU_CPU=cortex-m4 ...
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
# No operating system to link a test executable against while configuring.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_TRY_COMPILE_PLATFORM_VARIABLES MCU_CPU)
if(NOT MCU_CPU)
    set(MCU_CPU cortex-m4)
endif()
set(CMAKE_C_FLAGS_INIT "-mcpu=${MCU_CPU} -mthumb -mfloat-abi=soft")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-mcpu=${MCU_CPU} -mthumb -mfloat-abi=soft")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
