#!/usr/bin/env python3
"""The PyTorch side of examples/pytorch-ddp-roundtrip.ts: train Axon's MNIST MLP with
DistributedDataParallel on 2 CPU processes, then hand the weights back to Axon.

Run by hand (not in CI), after the Axon side has written its files:

    node examples/run.mjs pytorch-ddp-roundtrip        # writes examples/data/ddp/{mlp-init,train,test}.safetensors
    /usr/bin/python3 examples/python/ddp_train.py      # trains, writes examples/data/ddp/mlp-trained.safetensors
    node examples/run.mjs pytorch-ddp-roundtrip        # loads it back into Axon and evaluates it

Needs only PyTorch (Debian's python3-torch, torch 1.13) and NumPy: the `safetensors` Python
package is not used — the format (u64 little-endian header length, a JSON header, raw
little-endian tensor bytes) is read and written by hand below.

What it does:
1. defines the PyTorch twin of Axon's `mnistMlp()`:
   nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10));
2. loads the initial weights Axon wrote (`mlp-init.safetensors`, PyTorch's names and layout) with
   `load_state_dict(strict=True)`;
3. spawns 2 processes (`torch.multiprocessing.spawn`), joins them in a `gloo` process group and
   trains the twin wrapped in `DistributedDataParallel`, each rank on its half of the training
   slice (`DistributedSampler`); gradients are averaged across ranks by DDP's all-reduce;
4. checks that both ranks hold identical weights at the end (an all-reduce of their difference);
5. rank 0 writes `mlp-trained.safetensors` in BF16 (half the bytes of F32), with the test
   accuracy of the BF16 weights in `__metadata__`, and reads the file back into a fresh twin
   with strict=True as a check.
"""
import argparse
import json
import os
import struct
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

HERE = Path(__file__).resolve().parent
DEFAULT_DIR = HERE.parent / "data" / "ddp"

# ---- safetensors, by hand -----------------------------------------------------------------------

_NP = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
       "I16": np.int16, "I8": np.int8, "U8": np.uint8, "U16": np.uint16, "U32": np.uint32, "U64": np.uint64,
       "BOOL": np.bool_}


def read_safetensors(path):
    """(tensors: dict name -> torch.Tensor, metadata: dict) of a safetensors file."""
    raw = Path(path).read_bytes()
    if len(raw) < 8:
        raise ValueError(f"{path}: shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError(f"{path}: header length {n} runs past the end of the file ({len(raw)} bytes)")
    header = json.loads(raw[8:8 + n])
    metadata = header.pop("__metadata__", {}) or {}
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        chunk = data[begin:end]
        shape = info["shape"]
        if info["dtype"] == "BF16":
            bits = np.frombuffer(chunk, dtype="<u2").astype(np.uint32) << 16
            t = torch.from_numpy(bits.view(np.float32).copy()).reshape(shape).to(torch.bfloat16)
        else:
            arr = np.frombuffer(chunk, dtype=np.dtype(_NP[info["dtype"]]).newbyteorder("<"))
            t = torch.from_numpy(arr.copy()).reshape(shape)
        out[name] = t
    return out, metadata


def write_safetensors(path, tensors, metadata=None, dtype="F32"):
    """Writes float tensors as F32 or BF16 (PyTorch's own rounding: .to(torch.bfloat16))."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        if dtype == "BF16":
            b = t.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()
        elif dtype == "F32":
            b = t.to(torch.float32).numpy().astype("<f4").tobytes()
        else:
            raise ValueError(f"unsupported dtype {dtype}")
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    tmp = Path(str(path) + ".tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


# ---- the model and the data -----------------------------------------------------------------------

def twin():
    """The PyTorch twin of Axon's mnistMlp() (Axon's final softmax is left to the loss)."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))


def load_split(d, name):
    t, md = read_safetensors(d / f"{name}.safetensors")
    return t["images"].float(), t["labels"].long(), md


@torch.no_grad()
def accuracy(model, images, labels):
    model.eval()
    return (model(images).argmax(-1) == labels).float().mean().item()


# ---- one DDP process ----------------------------------------------------------------------------

def worker(rank, world, args):
    torch.set_num_threads(1)  # one core per process
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(args.port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    d = Path(args.dir)
    log = (lambda *a: print(*a, flush=True)) if rank == 0 else (lambda *a: None)

    model = twin()
    init, init_md = read_safetensors(d / "mlp-init.safetensors")
    model.load_state_dict(init, strict=True)  # Axon's names and layouts, exactly
    log(f"[rank 0] loaded {d / 'mlp-init.safetensors'} with strict=True: {', '.join(f'{k} {list(v.shape)}' for k, v in init.items())}; metadata {init_md}")

    ddp = DDP(model)  # CPU: no device_ids
    x, y, _ = load_split(d, "train")
    tx, ty, _ = load_split(d, "test")
    data = TensorDataset(x, y)
    sampler = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=True, seed=0)
    loader = DataLoader(data, batch_size=args.batch, sampler=sampler)
    log(f"[rank 0] world size {world} (backend {dist.get_backend()}), {len(data)} training images, {len(sampler)} per rank, batch {args.batch} per rank")
    print(f"[rank {rank}] pid {os.getpid()}: {len(loader)} steps per epoch", flush=True)
    torch.manual_seed(1000 + rank)  # dropout masks differ per rank, as in any data-parallel run
    opt = torch.optim.Adam(ddp.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        ddp.train()
        total, n, t0 = torch.zeros(2), 0, time.time()
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(ddp(xb), yb)
            loss.backward()  # DDP all-reduces (averages) the gradients over the 2 ranks here
            opt.step()
            total += torch.tensor([loss.item() * len(yb), len(yb)])
            n += 1
        dist.all_reduce(total)  # the epoch's mean loss over both ranks
        acc = accuracy(model, tx, ty)
        log(f"[rank 0] epoch {epoch + 1}/{args.epochs}: loss {total[0].item() / total[1].item():.4f}, test accuracy {acc * 100:.2f}% ({time.time() - t0:.1f} s)")

    # DDP keeps the replicas identical: the largest difference between the ranks' weights is 0.
    diff = torch.zeros(1)
    for p in model.parameters():
        mine = p.detach().clone()
        other = mine.clone()
        dist.broadcast(other, src=0)
        diff = torch.maximum(diff, (mine - other).abs().max().reshape(1))
    dist.all_reduce(diff, op=dist.ReduceOp.MAX)
    log(f"[rank 0] largest weight difference between the ranks: {diff.item()}")

    if rank == 0:
        state = {k: v for k, v in model.state_dict().items()}
        # the accuracy of the weights as written (BF16), which Axon must reproduce
        check = twin()
        check.load_state_dict({k: v.to(torch.bfloat16).float() for k, v in state.items()}, strict=True)
        acc16 = accuracy(check, tx, ty)
        out = d / "mlp-trained.safetensors"
        write_safetensors(out, state, dtype="BF16", metadata={
            "format": "pt",
            "producer": f"torch {torch.__version__} DistributedDataParallel (gloo, {world} processes)",
            "epochs": args.epochs,
            "train_images": len(data),
            "test_images": len(ty),
            "test_accuracy": f"{acc16:.6f}",
        })
        back, md = read_safetensors(out)
        again = twin()
        again.load_state_dict(back, strict=True)
        print(f"[rank 0] wrote {out} ({out.stat().st_size} bytes, BF16): {', '.join(f'{k} {list(v.shape)}' for k, v in back.items())}", flush=True)
        print(f"[rank 0] read back with strict=True: test accuracy {accuracy(again.float(), tx, ty) * 100:.2f}% on {len(ty)} images (metadata test_accuracy {md['test_accuracy']})", flush=True)
    dist.barrier()
    dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", default=str(DEFAULT_DIR), help="folder with the files the Axon side wrote")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=32, help="per process")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--world", type=int, default=2, help="processes")
    ap.add_argument("--port", type=int, default=29531)
    args = ap.parse_args()
    d = Path(args.dir)
    for f in ("mlp-init", "train", "test"):
        if not (d / f"{f}.safetensors").is_file():
            sys.exit(f"{d / f}.safetensors is missing: run `node examples/run.mjs pytorch-ddp-roundtrip` first")
    print(f"torch {torch.__version__}, gloo available: {dist.is_gloo_available()}, spawning {args.world} processes", flush=True)
    mp.spawn(worker, args=(args.world, args), nprocs=args.world, join=True)


if __name__ == "__main__":
    main()
