// Every op, one header each under ops/: gemm, bias, relu, softmax_ce, dropout, mse, sgd,
// optim (SGD with momentum, Adam), clip, fill, argmax, and the tensor maths' pointwise,
// reduce and index. Each holds the op's contract, its CPU backend, its CUDA declaration and the
// dispatch kn::ops::<op>(Device, ...); ops/backend.hpp says how they fit together.
#pragma once
#include <kernelnet/ops/argmax.hpp>
#include <kernelnet/ops/bias.hpp>
#include <kernelnet/ops/clip.hpp>
#include <kernelnet/ops/dropout.hpp>
#include <kernelnet/ops/fill.hpp>
#include <kernelnet/ops/gemm.hpp>
#include <kernelnet/ops/index.hpp>
#include <kernelnet/ops/mse.hpp>
#include <kernelnet/ops/optim.hpp>
#include <kernelnet/ops/pointwise.hpp>
#include <kernelnet/ops/reduce.hpp>
#include <kernelnet/ops/relu.hpp>
#include <kernelnet/ops/sgd.hpp>
#include <kernelnet/ops/softmax_ce.hpp>
