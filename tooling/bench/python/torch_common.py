"""What the PyTorch sides of the benchmarks share: one thread, the MNIST IDX reader, and the BLAS
probe.

Run as a script, it is the probe the bench runs before timing anything with PyTorch:

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 torch_common.py

prints one JSON line {"torch": version, "matmulGflops": x, "threads": 1}: the best of a few
1024x1024 float32 torch.matmul calls on one thread, in GFLOP/s (2n^3 / time). Debian's
python3-torch calls whatever libblas.so.3 is installed; without libopenblas0-pthread that is the
reference BLAS, ~17x slower, and torch.__config__.show() says BLAS_INFO=generic either way, so
only a measurement tells them apart.
"""
import ctypes
import json
import struct
import sys
import time

import torch


def one_thread():
    """Makes PyTorch use one thread (the caller also sets OMP/OPENBLAS_NUM_THREADS=1)."""
    use_threads(1)


def blas_threads():
    """The threads OpenBLAS runs on (openblas_get_num_threads of the libblas.so.3 torch loaded),
    or None when the BLAS is not OpenBLAS."""
    try:
        return int(ctypes.CDLL("libblas.so.3").openblas_get_num_threads())
    except (OSError, AttributeError):
        return None


def use_threads(n):
    """Makes PyTorch use n threads: torch.set_num_threads(n) for its own (OpenMP) kernels; the
    bench also sets OMP_NUM_THREADS and OPENBLAS_NUM_THREADS to n in the environment, which
    OpenBLAS reads when it loads. Returns what runs: {"threads": torch's, "blasThreads": OpenBLAS's}."""
    torch.set_num_threads(n)
    return {"threads": torch.get_num_threads(), "blasThreads": blas_threads()}


def idx(path):
    """An IDX file (MNIST's format: magic, big-endian dims, unsigned bytes) as a uint8 tensor."""
    with open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8).reshape(dims)


def mnist(d, split, n=None):
    """The first n digits of split ('train' or 't10k') from directory d: (x [n, 784] float32 in
    [0, 1] = byte / 255, y [n] int64), the pixels the bench's own loader gives the JS contenders."""
    x = idx(f"{d}/{split}-images-idx3-ubyte")
    y = idx(f"{d}/{split}-labels-idx1-ubyte")
    if n is not None:
        x, y = x[:n], y[:n]
    return x.reshape(x.shape[0], -1).float().div(255), y.long()


def matmul_gflops(n=1024, min_seconds=0.3, min_reps=3):
    """Best GFLOP/s of n x n float32 torch.matmul on the current thread setting (one warm-up call,
    then at least min_reps timed calls and min_seconds in all)."""
    g = torch.Generator().manual_seed(0)
    a = torch.rand(n, n, generator=g)
    b = torch.rand(n, n, generator=g)
    torch.matmul(a, b)
    best = float("inf")
    reps = 0
    start = time.perf_counter()
    while reps < min_reps or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - t0)
        reps += 1
    return 2 * n ** 3 / best / 1e9


if __name__ == "__main__":
    one_thread()
    print(json.dumps({"torch": torch.__version__, "matmulGflops": matmul_gflops(), "threads": torch.get_num_threads()}), flush=True)


def reply(obj):
    """One JSON line to the bench on stdout."""
    print(json.dumps(obj), flush=True)


def test_accuracy(model, d, shape):
    """Accuracy on the 10,000 MNIST test digits, each reshaped to `shape` (not timed)."""
    xt, yt = mnist(d, "t10k")
    xt = xt.reshape(-1, *shape)
    model.eval()
    ok = 0
    with torch.no_grad():
        for i in range(0, xt.shape[0], 1000):
            ok += (model(xt[i:i + 1000]).argmax(1) == yt[i:i + 1000]).sum().item()
    return {"testAccuracy": ok / xt.shape[0]}


def serve(ready, epoch, evaluate):
    """Announces `ready`, then answers the bench's requests (one per line) until `quit`."""
    reply(ready)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "epoch":
            reply(epoch())
        elif cmd == "evaluate":
            reply(evaluate())
        elif cmd == "quit":
            break
        elif cmd:
            raise ValueError(f"unknown command {cmd!r} (expected epoch, evaluate or quit)")
