#!/usr/bin/env python
"""Poly scoring cost: moments by GEMMs vs the seed's broadcast formulation, and vs PCME Monte-Carlo scoring.

All-pairs scoring of N = 1000 texts x 1000 videos, D = 1024, float32, on whatever device this runs on (CPU here):
  ours      crossmodal.prob.models.pair_moments (row norms + six GEMM-equivalents, row chunks) + the degree-6 polynomial
  baseline  the seed's `dist_stats_l2sq_broadcast`: [256, N, D] broadcast tensors per chunk of 256 rows + the same polynomial
  pcme      PCME's Monte-Carlo match probability with K = 15 samples per item (the seed's sweep setting), GEMM over samples
Writes outputs/bench/poly_scoring.json (crossmodal.bench.record_benchmark). Goals: >= 20x faster, >= 30x less peak memory.
"""
import argparse
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F

from crossmodal.bench import record_benchmark, time_call
from crossmodal.prob.models import mc_match_logprob, pair_moments, pair_moments_broadcast, sample_embeddings
from crossmodal.prob.poly import build_teacher, fit_poly
from crossmodal.prob.train import cpu_peak_bytes


def broadcast_moments(mu_t, var_t, mu_v, var_v, chunk=256):
    "The seed's formulation: literal [chunk, N, D] differences, chunk of 256 query rows."
    eds, vds = [], []
    for i in range(0, len(mu_t), chunk):
        e, v = pair_moments_broadcast(mu_t[i:i + chunk], var_t[i:i + chunk], mu_v, var_v)
        eds.append(e); vds.append(v)
    return torch.cat(eds), torch.cat(vds)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--dim", type=int, default=1024)
    ap.add_argument("--degree", type=int, default=6)
    ap.add_argument("--pcme-k", type=int, default=15)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=256)
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    n, d = args.n, args.dim
    g = torch.Generator().manual_seed(0)
    mu_t = F.normalize(torch.randn(n, d, generator=g), dim=1)
    mu_v = F.normalize(mu_t + 0.8 * torch.randn(n, d, generator=g) / math.sqrt(d) * 10, dim=1)
    lv_t = -12 + 6 * torch.rand(n, d, generator=g)
    lv_v = -12 + 6 * torch.rand(n, d, generator=g)
    var_t, var_v = lv_t.exp(), lv_v.exp()
    poly = fit_poly(build_teacher(n_pairs=4000, dim=d, K=10, n_repeat=500, seed=0), args.degree)

    ours = lambda: poly(*pair_moments(mu_t, var_t, mu_v, var_v, chunk=args.chunk))
    base = lambda: poly(*broadcast_moments(mu_t, var_t, mu_v, var_v, chunk=256))
    def pcme():
        gen = torch.Generator().manual_seed(1)
        z_t, z_v = sample_embeddings(mu_t, lv_t, args.pcme_k, gen), sample_embeddings(mu_v, lv_v, args.pcme_k, gen)
        return mc_match_logprob(z_t, z_v, 5.0, 5.0, chunk=max(1, args.chunk // args.pcme_k))[0]

    # exactness first: the two formulations agree (float64 to 1e-10 on a slice; float32 scores here)
    e64, v64 = pair_moments(mu_t[:64].double(), var_t[:64].double(), mu_v.double(), var_v.double())
    e_ref, v_ref = pair_moments_broadcast(mu_t[:64].double(), var_t[:64].double(), mu_v.double(), var_v.double())
    err64 = max(float((e64 - e_ref).abs().max()), float((v64 - v_ref).abs().max()))
    score_err = float((ours() - base()).abs().max())
    assert err64 < 1e-10, err64

    t_ours = time_call(ours, repeat=args.repeat, warmup=1).median_s
    t_base = time_call(base, repeat=args.repeat, warmup=1).median_s
    t_pcme = time_call(pcme, repeat=max(1, args.repeat - 1), warmup=1).median_s
    mem_ours, mem_base, mem_pcme = cpu_peak_bytes(ours), cpu_peak_bytes(base), cpu_peak_bytes(pcme)
    extra = dict(
        peak_mb_ours=mem_ours / 2**20, peak_mb_broadcast=mem_base / 2**20, memory_ratio=mem_base / mem_ours,
        pcme_mc_s=t_pcme, pcme_mc_peak_mb=mem_pcme / 2**20, pcme_over_ours=t_pcme / t_ours,
        max_abs_diff_float64_moments=err64, max_abs_diff_float32_scores=score_err,
        goal_speed_20x=t_base / t_ours >= 20, goal_memory_30x=mem_base / mem_ours >= 30,
        memory_method="torch profiler: CPU allocations/frees replayed in time order (live tensor bytes)",
        note="ours and baseline both include the degree-%d polynomial on the [N, N] moments" % args.degree)
    path = record_benchmark("poly_scoring", "seed broadcast (ed, vd) with [256, N, D] tensors + poly",
                            t_ours, t_base, dict(n=n, dim=d, degree=args.degree, pcme_k=args.pcme_k, chunk=args.chunk,
                                                 dtype="float32", threads=torch.get_num_threads()), extra)
    print(f"GEMM {1000 * t_ours:.1f} ms, {mem_ours / 2**20:.1f} MB | broadcast {1000 * t_base:.1f} ms, {mem_base / 2**20:.1f} MB"
          f" | speed x{t_base / t_ours:.1f}, memory x{mem_base / mem_ours:.1f} | PCME MC K={args.pcme_k}: {1000 * t_pcme:.0f} ms,"
          f" {mem_pcme / 2**20:.0f} MB (x{t_pcme / t_ours:.0f} slower) -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
