#!/usr/bin/env python
"""Train the demo model (`TinyClassifier` on `planted_classification`) with DDP and record what each rank saw.

    python tools/ddp_check.py OUT_DIR                       # Lightning launches the 2 ranks (strategy="ddp")
    torchrun --nproc-per-node 2 tools/ddp_check.py OUT_DIR --as-kernel
                                                            # a launcher started the ranks; each acts as a
                                                            # notebook kernel would (as under srun + papermill)

Used by the test in nbs/04_training.ipynb. Each rank writes OUT_DIR/rank<r>.json (world size, global rank,
optimiser steps, a digest of its final weights) and OUT_DIR/rank<r>.weights.pt; rank 0's checkpoints land in
OUT_DIR/run/checkpoints/. CPU only (gloo), 2 devices, seed 0.
"""
import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("out", type=Path)
ap.add_argument("--epochs", type=int, default=3)
ap.add_argument("--as-kernel", action="store_true",
                help="mark the interpreter interactive (sys.ps1), as a Jupyter/papermill kernel is, before Lightning loads")
args = ap.parse_args()
if args.as_kernel:
    sys.ps1 = "In : "   # what IPython sets in a kernel; Lightning reads it at import to refuse script-launched DDP
os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402
from crossmodal.io import save_checkpoint  # noqa: E402
from crossmodal.training import TinyClassifier, fit, in_notebook_kernel, make_loader, planted_classification  # noqa: E402
from crossmodal.core import seed_everything, write_json_atomic  # noqa: E402

torch.set_num_threads(1)
seed_everything(0)
model = TinyClassifier()
train = make_loader(planted_classification(512, seed=0), 64, shuffle=True, seed=0)
val = make_loader(planted_classification(256, seed=1), 256)
trainer = fit(model, train, val, run_dir=args.out / "run", max_epochs=args.epochs, monitor="val/acc", mode="max",
              accelerator="cpu", devices=2, num_nodes=1, strategy="ddp", seed=0, progress=False)
weights = torch.cat([p.detach().flatten() for p in model.parameters()])
rank = trainer.global_rank
save_checkpoint({"weights": weights}, args.out / f"rank{rank}.weights.pt")
record = {"world_size": trainer.world_size, "global_rank": rank, "global_step": trainer.global_step,
          "strategy": type(trainer.strategy).__name__, "backend": torch.distributed.get_backend(),
          "kernel_like": in_notebook_kernel(),
          "val_acc": float(trainer.callback_metrics["val/acc"]),
          "weights_sha1": hashlib.sha1(weights.numpy().tobytes()).hexdigest()}
write_json_atomic(args.out / f"rank{rank}.json", record)
