// How the CPU backend sees a raw row-major float buffer: as an Eigen matrix or vector
// mapped in place (no copy). Row-major, as every tensor (see <kernelnet/tensor.hpp>).
#pragma once
#include <Eigen/Core>

namespace kn::cpu {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatMap = Eigen::Map<RowMat>;
using ConstMatMap = Eigen::Map<const RowMat>;
using VecMap = Eigen::Map<Eigen::VectorXf>;
using ConstVecMap = Eigen::Map<const Eigen::VectorXf>;
using ConstRowVecMap = Eigen::Map<const Eigen::RowVectorXf>;

}  // namespace kn::cpu
