// kn::cuda::is_available() and friends, for user code: see cuda/runtime.hpp.
#pragma once
#include <kernelnet/cuda/runtime.hpp>
