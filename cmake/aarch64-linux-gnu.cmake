# Cross-compiling the host code for aarch64 (Grace-Hopper class servers) on
# Debian: gcc-aarch64-linux-gnu and the -dev:arm64 packages of
# scripts/bootstrap.sh's cross list (multiarch, /usr/lib/aarch64-linux-gnu).
#   cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
#         -DTG_WITH_CUDA=OFF -DTG_WITH_RUST=OFF -DCMAKE_DISABLE_FIND_PACKAGE_CUDAToolkit=ON
# With qemu-user installed, ctest runs the test programs under qemu-aarch64.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH / /usr/lib/aarch64-linux-gnu)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# pkg-config of the target's libraries
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
find_program(TG_QEMU_AARCH64 qemu-aarch64)
if(TG_QEMU_AARCH64)
  # the target's loader and libraries are the multiarch ones under /
  set(CMAKE_CROSSCOMPILING_EMULATOR ${TG_QEMU_AARCH64} -L /)
endif()
