// kn::Device: where a tensor's memory lives.
#pragma once
#include <string>

#include <kernelnet/error.hpp>

namespace kn {

enum class DeviceType { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {DeviceType::CPU, 0}; }
  static Device cuda(int index = 0) {
    KN_CHECK(index >= 0, "Device::cuda(", index, "): the device index must be >= 0");
    return {DeviceType::CUDA, index};
  }
  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  std::string str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }
  bool operator==(const Device& o) const { return type == o.type && (is_cpu() || index == o.index); }
  bool operator!=(const Device& o) const { return !(*this == o); }
};

}  // namespace kn
