"""Exact Hamming top-k: crossmodal's CPU paths (compiled numba kernel, and pure numpy) against faiss `IndexBinaryFlat`.

Both search the same random codes (default 10^6 database codes of 3008 bits, 1,000 queries, k = 100) with the same
number of threads (default 2, the setting the record is compared at; faiss gets it through OpenMP, our numba kernel
through numba's thread pool, our numpy path through its database shards). "ours" in the record is the default CPU backend
(`backend="auto"`, the numba kernel); the numpy path is recorded in `extra`. Results are checked first: distances must be identical, and our answer must equal the faiss
backend of `crossmodal.hashing` (faiss re-asked until the (distance, index) tie rule is resolved). Then both are
timed over the same query batches, and the single-query throughput of our path (GB/s of code bytes scanned) is put
next to the read bandwidth measured on the database array itself (a numpy streaming read, `np.bitwise_xor.reduce`
and `.sum()` over the uint64 codes with the same threads, best of 5: `crossmodal.bench.measure_read_bandwidth`). The three searches (ours, raw faiss, faiss + tie rule) run on
each query batch in turn, so that a shared machine's changing load hits them alike. Writes `outputs/bench/hamming_topk.json`.

Run small with e.g. `python benchmarks/hamming_topk.py --n-db 20000 --n-queries 50 --k 10`.
"""

import argparse
import os
import time

import faiss
import numpy as np
from tqdm.auto import tqdm

from crossmodal.bench import machine_info, measure_memory_bandwidth, measure_read_bandwidth, record_benchmark, time_call
from crossmodal.core import usable_cpus
from crossmodal.hashing import HammingIndex, faiss_bytes, n_words


def parse_args() -> argparse.Namespace:
    usable = usable_cpus()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-db", type=int, default=1_000_000, help="database codes (default 10^6)")
    parser.add_argument("--n-queries", type=int, default=1000, help="queries (default 1000)")
    parser.add_argument("--k", type=int, default=100, help="neighbours per query (default 100)")
    parser.add_argument("--nbits", type=int, default=3008, help="bits per code (default 3008 = 47 words)")
    parser.add_argument("--threads", type=int, default=2, help=f"threads for both backends (default 2; this machine has {usable})")
    parser.add_argument("--batch", type=int, default=100, help="queries per timed batch (progress granularity)")
    parser.add_argument("--single-repeat", type=int, default=5, help="timed runs of the single-query scan")
    parser.add_argument("--bandwidth-bytes", type=int, default=2**30, help="array size of the bandwidth test")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default="hamming_topk", help="record name: outputs/bench/<name>.json")
    return parser.parse_args()


def random_codes(rng: np.random.Generator, n: int, nbits: int, desc: str, chunk: int = 100_000) -> np.ndarray:
    "Uniform random packed codes [n, n_words(nbits)] with zero padding bits, generated in chunks."
    words = n_words(nbits)
    codes = np.empty((n, words), dtype=np.uint64)
    pad = words * 64 - nbits
    for start in tqdm(range(0, n, chunk), desc=desc, unit="chunk", leave=False):
        block = rng.integers(0, 2**64, size=(min(chunk, n - start), words), dtype=np.uint64, endpoint=False)
        if pad:
            block[:, -1] &= np.uint64((1 << (64 - pad)) - 1)
        codes[start : start + len(block)] = block
    return codes


def timed_batches(searches: dict, queries: np.ndarray, k: int, batch: int) -> dict:
    """Run every search on the same query batches, interleaved batch by batch so that all of them see the same
    machine load (the machine may be shared); returns {name: (seconds in search, distances, indices)}."""
    seconds = {name: 0.0 for name in searches}
    results = {name: ([], []) for name in searches}
    for start in tqdm(range(0, len(queries), batch), desc=" / ".join(searches), unit="batch"):
        for name, search in searches.items():
            t0 = time.perf_counter()
            dist, idx = search(queries[start : start + batch], k)
            seconds[name] += time.perf_counter() - t0
            results[name][0].append(dist)
            results[name][1].append(idx)
    return {name: (seconds[name], np.concatenate(results[name][0]), np.concatenate(results[name][1])) for name in searches}


def main() -> None:
    args = parse_args()
    rng = np.random.default_rng(args.seed)
    threads = args.threads
    database = random_codes(rng, args.n_db, args.nbits, "database codes")
    queries = random_codes(rng, args.n_queries, args.nbits, "query codes")
    code_bytes = database.shape[1] * 8
    print(f"{args.n_db:,} x {args.nbits}-bit codes ({database.nbytes / 1e9:.2f} GB), {args.n_queries:,} queries, "
          f"k={args.k}, {threads} threads for both; load average {os.getloadavg()}")
    load_before = os.getloadavg()

    t0 = time.perf_counter()
    ours = HammingIndex(database, "auto", n_threads=threads)
    ours_build_s = time.perf_counter() - t0
    ours_numpy = HammingIndex(database, "numpy", n_threads=threads)
    ours.search(queries[:2], args.k)  # compile (or load the cached kernel) outside the timing
    faiss.omp_set_num_threads(threads)
    t0 = time.perf_counter()
    raw = faiss.IndexBinaryFlat(database.shape[1] * 64)
    raw.add(faiss_bytes(database))
    faiss_build_s = time.perf_counter() - t0
    faiss_rule = HammingIndex(database, "faiss", n_threads=threads)  # faiss, re-asked until the tie rule is resolved

    def faiss_search(q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return raw.search(faiss_bytes(q), k)

    # correctness first, on one batch: identical to the tie-rule faiss backend, same distances as raw faiss
    probe = queries[: args.batch]
    ours_probe = ours.search(probe, args.k)
    rule_probe = faiss_rule.search(probe, args.k)
    assert np.array_equal(ours_probe[0], rule_probe[0]) and np.array_equal(ours_probe[1], rule_probe[1]), "ours != faiss (tie rule)"
    assert np.array_equal(ours_probe[0], faiss_search(probe, args.k)[0]), "distances differ from raw faiss"
    numpy_probe = ours_numpy.search(probe, args.k)
    assert np.array_equal(numpy_probe[0], ours_probe[0]) and np.array_equal(numpy_probe[1], ours_probe[1]), "numpy != numba"
    print(f"check on {len(probe)} queries: numba == numpy == faiss (tie rule); same distances as raw faiss")

    timed = timed_batches(
        {f"ours ({ours.backend})": ours.search, "ours (numpy)": ours_numpy.search, "faiss": faiss_search,
         "faiss + tie rule": faiss_rule.search}, queries, args.k, args.batch
    )
    ((ours_s, ours_dist, ours_idx), (numpy_s, numpy_dist, numpy_idx), (faiss_s, faiss_dist, faiss_idx),
     (rule_s, rule_dist, rule_idx)) = timed.values()
    assert np.array_equal(numpy_dist, ours_dist) and np.array_equal(numpy_idx, ours_idx), "numpy != numba"
    assert np.array_equal(ours_dist, faiss_dist), "distances differ from raw faiss"
    assert np.array_equal(ours_dist, rule_dist) and np.array_equal(ours_idx, rule_idx), "ours != faiss (tie rule)"
    tie_order_differences = int((ours_idx != faiss_idx).any(axis=1).sum())
    load_after = os.getloadavg()

    single = queries[:1]
    ours_single = time_call(lambda: ours.search(single, args.k), repeat=args.single_repeat, warmup=1)
    numpy_single = time_call(lambda: ours_numpy.search(single, args.k), repeat=args.single_repeat, warmup=1)
    faiss_single = time_call(lambda: faiss_search(single, args.k), repeat=args.single_repeat, warmup=1)
    scanned = args.n_db * code_bytes
    ours_single_gb_s = scanned / ours_single.median_s / 1e9
    faiss_single_gb_s = scanned / faiss_single.median_s / 1e9
    db_read = measure_read_bandwidth(database, repeat=5, n_threads=threads)   # the bytes the scan reads
    db_read_1 = db_read if threads == 1 else measure_read_bandwidth(database, repeat=5, n_threads=1)
    bandwidth = measure_memory_bandwidth(args.bandwidth_bytes, repeat=5, n_threads=threads)
    bandwidth_1 = bandwidth if threads == 1 else measure_memory_bandwidth(args.bandwidth_bytes, repeat=5, n_threads=1)

    pairs = args.n_db * args.n_queries
    params = {
        "n_db": args.n_db, "n_queries": args.n_queries, "k": args.k, "nbits": args.nbits, "n_words": database.shape[1],
        "threads": threads, "batch": args.batch, "seed": args.seed,
        "backend": ours.backend, "ours_backend": ours.backend, "numba_query_block": ours._impl.query_block,
        "numpy_query_chunk": ours_numpy._impl.query_chunk,
        "numpy_db_chunk": ours_numpy._impl.db_chunk or "auto (2**17 // queries per block)",
    }
    extra = {
        "ours_ns_per_pair_thread": ours_s / pairs * 1e9 * threads,
        "faiss_ns_per_pair_thread": faiss_s / pairs * 1e9 * threads,
        "numpy_path_s": numpy_s,
        "numpy_path_ratio_faiss_over_numpy": faiss_s / numpy_s,
        "single_query_numpy_s": numpy_single.median_s,
        "single_query_numpy_gb_s": scanned / numpy_single.median_s / 1e9,
        "faiss_tie_rule_s": rule_s,
        "queries_with_other_tie_order_in_raw_faiss": tie_order_differences,
        "ours_build_s": ours_build_s,
        "faiss_build_s": faiss_build_s,
        "single_query_ours_s": ours_single.median_s,
        "single_query_ours_gb_s": ours_single_gb_s,
        "single_query_faiss_s": faiss_single.median_s,
        "single_query_faiss_gb_s": faiss_single_gb_s,
        "database_read_bandwidth": db_read,
        "database_read_bandwidth_1_thread": db_read_1,
        "single_query_fraction_of_read_bandwidth": ours_single_gb_s / db_read["read_gb_s_best"],
        "single_query_faiss_fraction_of_read_bandwidth": faiss_single_gb_s / db_read["read_gb_s_best"],
        "memory_bandwidth": bandwidth,
        "memory_bandwidth_1_thread": bandwidth_1,
        "single_query_fraction_of_memory_bandwidth_1gib": ours_single_gb_s / bandwidth["read_gb_s_best"],
        "load_average_before": load_before,
        "load_average_after": load_after,
    }
    path = record_benchmark(
        args.name, f"faiss.IndexBinaryFlat (faiss {faiss.__version__}, {threads} OpenMP threads)", ours_s, faiss_s, params, extra
    )
    print(f"ours ({ours.backend}) {ours_s:8.2f} s ({extra['ours_ns_per_pair_thread']:.1f} ns per pair per thread); "
          f"ours (numpy) {numpy_s:.2f} s")
    print(f"faiss {faiss_s:8.2f} s ({extra['faiss_ns_per_pair_thread']:.1f} ns per pair per thread); "
          f"ratio faiss/ours = {faiss_s / ours_s:.2f}; faiss + tie rule {rule_s:.2f} s; "
          f"raw faiss tie order differs in {tie_order_differences}/{args.n_queries} queries")
    print(f"single query: ours {ours_single.median_s * 1e3:.1f} ms = {ours_single_gb_s:.2f} GB/s, "
          f"numpy {numpy_single.median_s * 1e3:.1f} ms, faiss {faiss_single.median_s * 1e3:.1f} ms = {faiss_single_gb_s:.2f} GB/s")
    print(f"read bandwidth of the database array (best of xor-reduce / sum): {db_read['read_gb_s_best']:.2f} GB/s with "
          f"{threads} threads, {db_read_1['read_gb_s_best']:.2f} GB/s with 1; single query = "
          f"{extra['single_query_fraction_of_read_bandwidth']:.2f} of it; 1 GiB read {bandwidth['read_gb_s_best']:.2f} GB/s")
    print(f"load average before {load_before}, after {load_after}; machine {machine_info()['cpu_model']}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
