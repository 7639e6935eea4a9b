// kn::cuda::is_available() and friends, for user code: see cuda/runtime.hpp; CUDA graphs
// (kn::cuda::Capture, Graph): see cuda/graph.hpp.
#pragma once
#include <kernelnet/cuda/graph.hpp>
#include <kernelnet/cuda/runtime.hpp>
