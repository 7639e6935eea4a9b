#!/usr/bin/env python3
"""The lesson's Iris training in PyTorch, timed as kn-iris times itself.

Full batch, 4-hidden-3 MLP, CrossEntropyLoss, SGD(lr), the same split and scaling.
Prints one line in kn-iris's format:
  result device=cpu epochs=20000 time_s=... us_per_epoch=... final_loss=... test_acc=...
time_s covers the training loop only. Usage:
  python3 bench/torch_iris.py [--epochs N] [--record-every N] [--threads N] [--device cpu|cuda]
                              [--mode eager|graph]
--mode graph (cuda only) is the same step captured once in a CUDA graph and replayed each
epoch, as PyTorch's CUDA-graph docs show for a whole network: warm-up steps on a side
stream (they train, and count as epochs), the step captured with static input, loss and
gradients, then g.replay(); time_s covers the replays, us_per_epoch divides by them.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
from torch import nn

here = os.path.dirname(os.path.abspath(__file__))

ap = argparse.ArgumentParser()
ap.add_argument("--data", default=os.path.join(here, "..", "data", "iris.csv"))
ap.add_argument("--epochs", type=int, default=20000)
ap.add_argument("--lr", type=float, default=0.01)
ap.add_argument("--hidden", type=int, default=10)
ap.add_argument("--record-every", type=int, default=0, help="read loss.item() every N epochs (0: never)")
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--device", default="cpu")
ap.add_argument("--init-seed", type=int, default=0)
ap.add_argument("--mode", choices=["eager", "graph"], default="eager")
args = ap.parse_args()
if args.mode == "graph" and not args.device.startswith("cuda"):
    sys.exit("torch_iris.py: --mode graph needs --device cuda")

torch.set_num_threads(args.threads)
device = torch.device(args.device)

raw = np.genfromtxt(args.data, delimiter=",", skip_header=1, usecols=(0, 1, 2, 3))
names = np.genfromtxt(args.data, delimiter=",", skip_header=1, usecols=(4,), dtype=str)
classes = {"setosa": 0, "versicolor": 1, "virginica": 2}
y = np.array([classes[n.replace("Iris-", "")] for n in names])
try:  # scikit-learn when present; else the same split and scaling by hand
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import MinMaxScaler
    X_train, X_test, y_train, y_test = train_test_split(raw, y, test_size=0.2, random_state=42)
    scaler = MinMaxScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
except ImportError:
    perm = np.random.RandomState(42).permutation(len(raw))
    test, train = perm[:30], perm[30:]
    lo, hi = raw[train].min(0), raw[train].max(0)
    X_train, X_test = (raw[train] - lo) / (hi - lo), (raw[test] - lo) / (hi - lo)
    y_train, y_test = y[train], y[test]

X_train = torch.tensor(X_train, dtype=torch.float32, device=device)
X_test = torch.tensor(X_test, dtype=torch.float32, device=device)
y_train = torch.tensor(y_train, dtype=torch.long, device=device)
y_test = torch.tensor(y_test, dtype=torch.long, device=device)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, args.hidden)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(args.hidden, 3)

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(x)))


torch.manual_seed(args.init_seed)
model = MLP().to(device)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)


def step():
    outputs = model(X_train)
    loss = criterion(outputs, y_train)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


timed_epochs = args.epochs
if args.mode == "graph":
    # PyTorch's recipe for capturing a whole training step: warm up on a side stream (the
    # autograd engine and the optimizer allocate there), drop the gradients so that
    # capture allocates them from the graph's pool, capture, then replay.
    warmup = min(3, args.epochs)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(warmup):
            step()  # the loss is dropped: it would keep the autograd graph of a side-stream step alive
    torch.cuda.current_stream().wait_stream(side)
    optimizer.zero_grad(set_to_none=True)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        static_loss = criterion(model(X_train), y_train)
        static_loss.backward()
        optimizer.step()
    timed_epochs = args.epochs - warmup
    torch.cuda.synchronize()
    start = time.perf_counter()
    for epoch in range(warmup + 1, args.epochs + 1):
        # zero_grad is not in the graph: backward inside the capture writes the gradients
        # (they were None when it began), so each replay starts from fresh ones.
        graph.replay()
        if args.record_every and epoch % args.record_every == 0:
            static_loss.item()
    loss = static_loss
else:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        loss = step()
        if args.record_every and epoch % args.record_every == 0:
            loss.item()
if device.type == "cuda":
    torch.cuda.synchronize()
elapsed = time.perf_counter() - start
with torch.no_grad():
    acc = (model(X_test).argmax(1) == y_test).float().mean().item()
print(f"result device={device.type} mode={args.mode} epochs={args.epochs} time_s={elapsed:.4f} "
      f"us_per_epoch={elapsed * 1e6 / max(timed_epochs, 1):.2f} final_loss={loss.item():.6f} test_acc={acc:.4f} "
      f"torch={torch.__version__} threads={torch.get_num_threads()}")
