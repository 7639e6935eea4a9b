// The trace: KN_TRACE=1 (or kn::trace::enable()) logs every op, kernel launch, copy and
// synchronisation with the Module call that caused it, its shape and its duration. On the
// CPU backend (kn-iris --trace-epochs 1):
//
//   [kn-trace] MLP.fc1 (Linear 4→10) forward → CPU register panel, 10 outputs a row 1.1 µs  (gemm 120x10x4)
//   [kn-trace] MLP.relu (ReLU) forward → CPU 0.32 µs  (relu_forward 1200)
//   [kn-trace] epoch 1: 15 CPU ops, 0 launches, 0 syncs, 0 B to device (0 copies), 0 B to host (0 copies); 37.7 µs in them
//
// After "CPU" comes the branch the op took, when it has several (trace::cpu_path(), called
// from inside the branch). On a GPU each launch is a line of the form
//   <module> forward → <kernel><<<grid,block>>> <device time> µs  (<dispatch> <sizes>)
// e.g. "MLP.fc1 (Linear 4→10) forward → sgemm_tiny<TA, TB><<<10,128>>> ... (gemm 120x10x4)".
//
// The trace in three headers, one job each:
//   trace/event.hpp  what an Event is, and how an event or a step's counters read as a line;
//   trace/sink.hpp   the switch, the sink, the step's counters, Step and Recorder;
//   trace/scope.hpp  where the calling thread is: ModuleScope, BackwardScope and Op.
//
// Where an event comes from:
//   - Module::operator() pushes a ModuleScope, so the ops its forward runs are labelled
//     "<path> (<type>) forward"; record() (autograd.hpp) copies that label into the
//     Node, and the backward pass runs each Node inside a BackwardScope, so the ops of
//     its backward are labelled "<path> (<type>) backward".
//   - Every dispatch in ops/*.hpp is an Op. On the CPU the Op itself is the event, timed
//     on the host. On a GPU it labels the launches it makes: kernels/common.cuh's launch
//     helper reports each launch, and kernels/runtime.cu each copy and synchronisation,
//     to kernels/trace.cu, which times them with CUDA events and emits them.
//
// Cost. Off, each op, Module call, recorded Node and kernel launch pays one relaxed
// load of a flag; nothing else runs (docs/layers-to-kernels.md has the measurement).
// Built with -DKN_NO_TRACE (every translation unit) the flag is a constant false and the
// trace compiles away: that build is the baseline the measurement compares against.
// On, the trace is slow on purpose: a CUDA launch or copy waits for the device so that
// it can be timed (so launches no longer overlap the host), and each event takes a lock
// and formats a line.
#pragma once
#include <kernelnet/trace/event.hpp>
#include <kernelnet/trace/scope.hpp>
#include <kernelnet/trace/sink.hpp>
