#!/usr/bin/env python
"""Classifier feature cache: one training epoch of the fusion head over cached frozen features vs recomputing the
frozen encoders in every batch.

Both epochs train the same GMU classifier head (mean pooling, focal loss, AdamW; the head widths of the experiment's
CPU scale, --fusion-dim) on the same rows of the generated ad dataset (crossmodal.classifier.data.default_ad_dataset),
batch 64, in the same order, with the frozen encoders of the experiment's default (random-small ViT-L/16 family,
real MiniLM text encoder), 1 torch thread:
  ours      batches from the feature cache (crossmodal.classifier.train.cache_features + FeatureDataset)
  baseline  each batch decodes the JPEGs, resizes/pads/normalises them, runs the frozen vision encoder and the frozen
            text encoder, then the same head step (what an ablation over heads / fusion / pooling pays without a cache)
The one-off cost of building the cache is recorded too (it is paid once per dataset, not per ablation or epoch), and
so is how much of the cached epoch is the data loader alone (indexing the cache and collating batches).
Before timing, the two paths are checked to give the same logits on one batch. Goal: >= 10x faster per epoch.
Writes outputs/bench/classifier_cache.json (crossmodal.bench.record_benchmark).
"""
import argparse
import time

import torch

from crossmodal.bench import record_benchmark, time_call
from crossmodal.classifier.data import AdImageDataset, build_transform, default_ad_dataset, read_ad_csv
from crossmodal.classifier.encoders import build_text_encoder, build_vision_encoder
from crossmodal.classifier.model import ClassifierConfig, MultimodalClassifier
from crossmodal.classifier.train import FeatureDataset, cache_features, classification_loss


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vision", default="vit", help="vision encoder (registry name)")
    ap.add_argument("--text", default="minilm", help="text encoder (registry name)")
    ap.add_argument("--weights", default="random-small", help="pretrained | random-small")
    ap.add_argument("--n-train", type=int, default=320, help="training rows in one epoch (default 320)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--fusion-dim", type=int, default=128, help="fusion / head width (the experiment's CPU scale: 128)")
    ap.add_argument("--repeat", type=int, default=3, help="timed epochs per path (median)")
    ap.add_argument("--threads", type=int, default=1)
    return ap.parse_args()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    csvs = default_ad_dataset("xor", seed=0)
    records = read_ad_csv(csvs["train"])[: args.n_train]
    venc = build_vision_encoder(args.vision, weights=args.weights)
    tenc = build_text_encoder(args.text, weights=args.weights)
    dataset = AdImageDataset(records, build_transform(venc.image_size, venc.mean, venc.std, "none"))
    t0 = time.perf_counter()
    cache = cache_features(dataset, venc, tenc, batch_size=args.batch)
    build_s = time.perf_counter() - t0
    features = FeatureDataset(cache)
    model = MultimodalClassifier(ClassifierConfig("multimodal", "mean", "gated", fusion_dim=args.fusion_dim,
                                                  projection_dim=args.fusion_dim, head_hidden=args.fusion_dim), venc.dim, tenc.dim,
                                 vision_encoder=venc, text_encoder=tenc)
    for p in venc.parameters():
        p.requires_grad_(False)
    head_params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(head_params, lr=1e-3)

    def cached_batches():
        return torch.utils.data.DataLoader(features, batch_size=args.batch, shuffle=False)

    def raw_batches():
        return torch.utils.data.DataLoader(dataset, batch_size=args.batch, shuffle=False)

    def epoch(batches) -> None:
        model.train(); venc.eval()
        for b in batches():
            loss = classification_loss(model(b), b["label"].float(), "focal", 0.05)
            opt.zero_grad(); loss.backward(); opt.step()

    # same logits from both paths (eval mode: dropout off)
    model.eval()
    with torch.no_grad():
        raw = next(iter(raw_batches())); cached = next(iter(cached_batches()))
        diff = float((model(raw) - model(cached)).abs().max())
    if diff > 1e-3:
        raise SystemExit(f"cached and recomputed features disagree: max |logit difference| {diff:.2e}")

    ours = time_call(lambda: epoch(cached_batches), repeat=args.repeat, warmup=1)
    loader_only = time_call(lambda: [None for _ in cached_batches()], repeat=args.repeat, warmup=1)
    base = time_call(lambda: epoch(raw_batches), repeat=args.repeat, warmup=1)
    path = record_benchmark(
        "classifier_cache", baseline="recomputing the frozen encoders in every batch", ours_s=ours.median_s,
        baseline_s=base.median_s,
        params=dict(vision=args.vision, text=args.text, weights=args.weights, n_train=len(records), batch=args.batch,
                    fusion_dim=args.fusion_dim, repeat=args.repeat, threads=args.threads),
        extra=dict(cache_build_s=build_s, ours_all_s=ours.times_s, cached_loader_only_s=loader_only.median_s, baseline_all_s=base.times_s, max_logit_diff=diff,
                   tokens_shape=list(cache["tokens"].shape), text_shape=list(cache["text_emb"].shape),
                   goal_ratio=10.0))
    print(f"epoch over {len(records)} rows: cached {ours.median_s:.3f} s, recomputed {base.median_s:.3f} s, "
          f"ratio {base.median_s / ours.median_s:.1f}x (cache built once in {build_s:.1f} s) -> {path}")


if __name__ == "__main__":
    main()
