# The harness's one seam (docs/kernels-on-cpu.md): copies a file of kernels/ to the build
# tree as C++ that g++ compiles against tests/emu/include/cuda_runtime.h. Everything else
# in CUDA C++ is C++ with some extra words, which that header defines; three constructs
# are not, and only they are rewritten, each within its own line:
#
#   __shared__ [__align__(A)] T name[N]...;   a variable per block: C++ has no such storage
#     -> static char kn_emu_site_name; auto& name = ::kn_emu::shared<T[N]...>(&kn_emu_site_name[, A]);
#   extern __shared__ T name[];               the launch's dynamic shared memory
#     -> T* const name = ::kn_emu::dynamic_shared<T>();
#   kernel<<<grid, block[, bytes[, stream]]>>>(args...)   the launch syntax
#     -> ::kn_emu::launch(grid, block[, bytes[, stream]])(kernel, args...)
#
# Lines keep their numbers and a #line names the original file, so compiler errors,
# sanitizer reports and gdb all point into kernels/. A `__shared__` or `<<<` left over
# after the rewrite (a form the patterns do not know) stops the build here, by name.
#
# Usage: cmake -DIN=<kernels/x.cu> -DOUT=<build/.../x.cu.cpp> -P cuda2cpp.cmake
cmake_minimum_required(VERSION 3.25)
file(READ "${IN}" text)

set(id "[A-Za-z_][A-Za-z0-9_]*")
# A type: anything up to the name, on one line, without ; = or brackets.
set(type "[^][;=\n]*[^][A-Za-z0-9_;=\n]")
set(dims "(\\[[^]\n;]*\\])*")

# Dynamic shared memory (the alignment of its base is the harness's: 16 bytes).
string(REGEX REPLACE "extern[ \t]+__shared__[ \t]+(__align__\\([0-9]+\\)[ \t]+)?(${type})(${id})[ \t]*\\[[ \t]*\\][ \t]*;"
       "\\2* const \\3 = ::kn_emu::dynamic_shared<\\2>();" text "${text}")
# Static shared memory, with and without __align__.
string(REGEX REPLACE "__shared__[ \t]+__align__\\(([0-9]+)\\)[ \t]+(${type})(${id})[ \t]*(${dims})[ \t]*;"
       "static char kn_emu_site_\\3; auto& \\3 = ::kn_emu::shared<\\2\\4>(&kn_emu_site_\\3, \\1);" text "${text}")
string(REGEX REPLACE "__shared__[ \t]+(${type})(${id})[ \t]*(${dims})[ \t]*;"
       "static char kn_emu_site_\\2; auto& \\2 = ::kn_emu::shared<\\1\\3>(&kn_emu_site_\\2);" text "${text}")
# Launches: with no arguments, then with some.
string(REGEX REPLACE "(${id})<<<([^;\n]*)>>>\\([ \t]*\\)" "::kn_emu::launch(\\2)(\\1)" text "${text}")
string(REGEX REPLACE "(${id})<<<([^;\n]*)>>>\\(" "::kn_emu::launch(\\2)(\\1, " text "${text}")

# What is left must be in comments or strings only.
string(REGEX REPLACE "//[^\n]*" "" code "${text}")
string(REGEX REPLACE "\"([^\"\\\n]|\\\\.)*\"" "\"\"" code "${code}")
string(REGEX MATCH "[^\n]*(__shared__|<<<)[^\n]*" left "${code}")
if(left)
  message(FATAL_ERROR "cuda2cpp: ${IN}: a form of __shared__ or <<<>>> the harness cannot rewrite:\n  ${left}\n"
                      "(see tests/emu/cuda2cpp.cmake for the forms it knows)")
endif()

file(WRITE "${OUT}.tmp" "#line 1 \"${IN}\"\n${text}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
