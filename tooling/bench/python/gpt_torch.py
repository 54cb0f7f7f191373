"""PyTorch side of the GPT training benchmark: the small pre-norm GPT of Axon's `gpt()` (the
architecture of packages/layers/test/fixtures/gen_torch_gpt.py: Embedding + learned positional
Embedding + nn.TransformerEncoderLayer(norm_first, gelu, batch_first, dropout 0) with a causal
additive mask + LayerNorm + Linear without bias), trained with cross-entropy of the next-token
logits, clip_grad_norm_(1.0) and AdamW, on the bench's own batches (the same token windows Axon
trains on), S steps at a time on request, on T threads, so that the bench can time it in rounds
with Axon (at the same thread count).

Usage: OPENBLAS_NUM_THREADS=T OMP_NUM_THREADS=T /usr/bin/python3 gpt_torch.py \
           <batches.i32> <V> <ctx> <width> <heads> <layers> <B> <S> [T=1] [init.safetensors]

<batches.i32>: int32 little-endian token ids, [nBatches, B, ctx + 1] (each row a window and its
next token); step k trains on batch k mod nBatches (inputs row[:-1], targets row[1:]).
With init.safetensors, the initial weights (torch.manual_seed(0), PyTorch's own initialisation;
the state-dict names Axon's gpt() uses) are written there before the ready line, so that Axon
can start from the very same weights.

Protocol (one JSON object per line on stdout; commands one per line on stdin):
  on start            {"ready": true, "torch": version, "n": nBatches, "batch": B, "parameters": P,
                       "threads": torch.get_num_threads(), "blasThreads": OpenBLAS's threads or null}
  "epoch"             S training steps -> {"seconds": s, "losses": [...]} (perf_counter around the
                      S steps, each step ending with its loss read back as a float)
  "evaluate"          {"losses": every step's loss so far} (not timed)
  "quit" or EOF       exit 0
A failure prints {"error": message} and exits 1.
"""
import json
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_common import reply, serve, use_threads

LR, BETAS, EPS, WD, CLIP = 1e-3, (0.9, 0.95), 1e-8, 0.1, 1.0


class GPT(nn.Module):
    """gen_torch_gpt.py's model, sized by the arguments."""

    def __init__(self, v, t, d, h, n_layers):
        super().__init__()
        self.tok = nn.Embedding(v, d)
        self.pos = nn.Embedding(t, d)
        self.blocks = nn.ModuleList(
            [nn.TransformerEncoderLayer(d, h, 4 * d, dropout=0.0, activation="gelu", batch_first=True, norm_first=True) for _ in range(n_layers)]
        )
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, v, bias=False)

    def forward(self, idx):
        t = idx.shape[1]
        x = self.tok(idx) + self.pos(torch.arange(t))
        mask = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
        for b in self.blocks:
            x = b(x, src_mask=mask)
        return self.head(self.norm(x))


def write_safetensors(path, tensors):
    """A safetensors file of float32 tensors (what gen_torch_gpt.py writes)."""
    header = {}
    offset = 0
    blobs = []
    for name, t in tensors.items():
        data = t.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    path = sys.argv[1]
    v, ctx, d, h, n_layers, b, s = (int(a) for a in sys.argv[2:9])
    threads = use_threads(int(sys.argv[9]) if len(sys.argv) > 9 else 1)
    init_path = sys.argv[10] if len(sys.argv) > 10 else None
    with open(path, "rb") as f:
        data = bytearray(f.read())
    row = b * (ctx + 1)
    if len(data) == 0 or len(data) % (4 * row) != 0:
        raise ValueError(f"{path}: {len(data)} bytes is not a whole number of [{b}, {ctx + 1}] int32 batches")
    batches = torch.frombuffer(data, dtype=torch.int32).reshape(-1, b, ctx + 1).long()
    if int(batches.min()) < 0 or int(batches.max()) >= v:
        raise ValueError(f"{path}: token ids outside [0, {v})")

    torch.manual_seed(0)
    model = GPT(v, ctx, d, h, n_layers)
    model.train()
    if init_path:
        write_safetensors(init_path, model.state_dict())
    opt = torch.optim.AdamW(model.parameters(), lr=LR, betas=BETAS, eps=EPS, weight_decay=WD)
    losses = []

    def epoch():
        t0 = time.perf_counter()
        mine = []
        for _ in range(s):
            ids = batches[len(losses) % batches.shape[0]]
            x, y = ids[:, :-1], ids[:, 1:]
            loss = F.cross_entropy(model(x).reshape(-1, v), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
            opt.step()
            losses.append(float(loss))
            mine.append(losses[-1])
        return {"seconds": time.perf_counter() - t0, "losses": mine}

    def evaluate():
        return {"losses": losses}

    serve(
        {
            "ready": True,
            "torch": torch.__version__,
            "n": batches.shape[0],
            "batch": b,
            "parameters": sum(p.numel() for p in model.parameters()),
            **threads,
        },
        epoch,
        evaluate,
    )


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # reported to the bench, which names it in the table's warnings
        reply({"error": f"{type(e).__name__}: {e}"})
        sys.exit(1)
