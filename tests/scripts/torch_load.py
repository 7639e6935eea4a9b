#!/usr/bin/env python3
"""A safetensors file written by kernelnet loads into PyTorch.

Usage: torch_load.py WEIGHTS.safetensors EXPECTED_TEST_ACC
Reads the file by the format's spec (json + raw little-endian data, as
safetensors.torch.load_file does), loads it into the lesson's nn.Module with
load_state_dict(strict=True), and checks the test accuracy kernelnet reported.
Exits 77 (CTest: skipped) when PyTorch is not installed.
"""
import json
import os
import struct
import sys

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError:
    print("SKIPPED: PyTorch/numpy not installed")
    sys.exit(77)

path, expected_acc = sys.argv[1], float(sys.argv[2])
with open(path, "rb") as f:
    raw = f.read()
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]
dtypes = {"F32": torch.float32, "I64": torch.int64}
state = {}
for name, info in header.items():
    if name == "__metadata__":
        continue
    b, e = info["data_offsets"]
    t = torch.frombuffer(bytearray(data[b:e]), dtype=dtypes[info["dtype"]]).reshape(info["shape"])
    state[name] = t


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 10)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(10, 3)

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(x)))


model = MLP()
model.load_state_dict(state, strict=True)

here = os.path.dirname(os.path.abspath(__file__))
csv = os.path.join(here, "..", "..", "data", "iris.csv")
X = np.genfromtxt(csv, delimiter=",", skip_header=1, usecols=(0, 1, 2, 3))
names = np.genfromtxt(csv, delimiter=",", skip_header=1, usecols=(4,), dtype=str)
y = np.array([{"setosa": 0, "versicolor": 1, "virginica": 2}[s] for s in names])
ref = json.load(open(os.path.join(here, "..", "fixtures", "sklearn-iris-split42.json")))
X_test = torch.tensor(ref["X_test"], dtype=torch.float32)
y_test = torch.tensor(y[ref["test_index"]])
with torch.no_grad():
    acc = (model(X_test).argmax(1) == y_test).float().mean().item()
print(f"PyTorch loaded {len(state)} tensors from {path}; test accuracy {acc:.4f} (kernelnet: {expected_acc:.4f})")
sys.exit(0 if abs(acc - expected_acc) < 5e-4 else 1)  # kernelnet prints 4 decimals
