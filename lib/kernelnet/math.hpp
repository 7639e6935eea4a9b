// The tensor maths a libtorch user reaches for, in one include: factories, arithmetic with
// broadcasting, unary maths, comparisons, reductions, matmul, indexing and printing
// (<kernelnet/factories.hpp>, <kernelnet/math/*.hpp>, <kernelnet/print.hpp>).
// docs/tensor.md lists each op with the kernels it launches.
#pragma once
#include <kernelnet/factories.hpp>
#include <kernelnet/math/indexing.hpp>
#include <kernelnet/math/pointwise.hpp>
#include <kernelnet/math/reduction.hpp>
#include <kernelnet/print.hpp>
