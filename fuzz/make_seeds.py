#!/usr/bin/env python3
"""Writes the small hand-made seeds in fuzz/corpus/ (the real files beside them are
copies: tests/fixtures/torch-iris-seed1/*.safetensors and data/iris.csv). Each seed
reaches one check of the reader; the fuzzer mutates from there. Run from anywhere."""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(kind, name, data):
    with open(os.path.join(HERE, "corpus", kind, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def st(header, data=b"", length=None):
    text = header if isinstance(header, str) else json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text) if length is None else length) + text.encode() + data


f32 = struct.pack("<3f", 1.0, -2.5, 3.25)
i64 = struct.pack("<2q", 7, -1)
seeds = {
    "ok-empty": st({}),
    "ok-f32": st({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}}, f32),
    "ok-two-tensors": st({"a": {"dtype": "I64", "shape": [2], "data_offsets": [12, 28]},
                          "b": {"dtype": "F32", "shape": [1, 3], "data_offsets": [0, 12]},
                          "__metadata__": {"format": "pt"}}, f32 + i64),
    "ok-scalar-and-empty": st({"s": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]},
                               "e": {"dtype": "F32", "shape": [0, 5], "data_offsets": [4, 4]}}, f32[:4]),
    "bad-truncated": b"\x10\x00\x00",
    "bad-length-past-end": st({}, length=1000),
    "bad-length-huge": b"\xff" * 8 + b"{}",
    "bad-json": st('{"w":{"dtype":"F32",'),
    "bad-not-object": st("[1,2]"),
    "bad-dtype-f16": st({"w": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4),
    "bad-dtype-unknown": st({"w": {"dtype": "Q7", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4),
    "bad-shape-size": st({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 12]}}, f32),
    "bad-shape-negative": st({"w": {"dtype": "F32", "shape": [-3], "data_offsets": [0, 12]}}, f32),
    "bad-shape-nested": st('{"w":{"dtype":"F32","shape":[' + "[" * 64 + "]" * 64 + '],"data_offsets":[0,0]}}'),
    "bad-shape-huge": st({"w": {"dtype": "I64", "shape": [1 << 39, 1 << 39], "data_offsets": [0, 8]}}, b"\0" * 8),
    "bad-offsets-range": st({"w": {"dtype": "F32", "shape": [3], "data_offsets": [4, 16]}}, f32),
    "bad-offsets-missing": st({"w": {"dtype": "F32", "shape": [3]}}, f32),
    "bad-overlap": st({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                       "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, f32),
    "bad-hole": st({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, f32),
    "bad-entry-not-object": st({"a": 5}),
}
for name, data in seeds.items():
    write("safetensors", name + ".safetensors", data)

head = "sepal_length,sepal_width,petal_length,petal_width,species\n"
csv = {
    "ok-small": head + "5.1,3.5,1.4,0.2,setosa\n7.0,3.2,4.7,1.4,versicolor\n6.3,3.3,6.0,2.5,virginica\n",
    "ok-iris-prefix-crlf": "a,b,class\r\n1,2,Iris-setosa\r\n\r\n 3 , 4e-2 ,Iris-virginica \r\n",
    "ok-two-columns": "x,species\n-0.5,versicolor\n0x1p3,setosa",
    "bad-empty": "",
    "bad-header-only": head,
    "bad-one-column": "species\nsetosa\n",
    "bad-columns": head + "5.1,3.5,1.4,setosa\n",
    "bad-trailing-comma": "a,species\n1,setosa,\n",
    "bad-not-number": head + "5.1,x3,1.4,0.2,setosa\n",
    "bad-empty-field": head + "5.1,,1.4,0.2,setosa\n",
    "bad-nan": head + "nan,3.5,1.4,0.2,setosa\n",
    "bad-inf": head + "5.1,-inf,1.4,0.2,setosa\n",
    "bad-range-double": head + "5.1,1e999,1.4,0.2,setosa\n",
    "bad-range-float": head + "5.1,3.5,1e39,0.2,setosa\n",
    "bad-class": head + "5.1,3.5,1.4,0.2,rose\n",
}
for name, text in csv.items():
    write("csv", name + ".csv", text)
