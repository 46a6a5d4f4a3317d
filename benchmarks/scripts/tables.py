#!/usr/bin/env python3
"""Turns JMH JSON results (-rf json) into the Markdown tables of docs/benchmarks.md.

Usage: tables.py THROUGHPUT.json [GC.json [MORE.json ...]]
When the first file has CPU time per operation (-prof dev.fernetjca.benchmarks.CpuTimeProfiler), a table of it
follows the throughput: on a shared machine, the cost of an operation moves far less than its throughput.
The second file, from a run with -prof gc, adds allocation per operation and per token byte; with two files or
more, a table gives the ratios of every file's run side by side, to show how much they move between runs, and a
last one the fastest measurement iteration of each benchmark over all the runs: on a shared machine, interference
only ever slows an iteration down, so the best iteration is the least disturbed estimate.
"""
import json
import sys

IMPLS = ["fernetJca", "rawJdk", "fernetJava8"]
OVERHEAD = 1 + 8 + 16 + 32  # version, timestamp, IV, HMAC tag


def token_length(size):
    raw = OVERHEAD + (size // 16 + 1) * 16
    return (raw + 2) // 3 * 4


def load(path):
    results = {}
    for r in json.load(open(path)):
        op, impl = r["benchmark"].split(".")[-2:]
        size = int(r["params"]["size"])
        results[(op, impl, size)] = r
    return results


def fmt(x):
    # JMH writes "NaN" (a string) for the error of a run with a single iteration, as a smoke run has
    x = float(x)
    if x != x:
        return "n/a"
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def throughput(results):
    for op in ["EncryptBenchmark", "DecryptBenchmark"]:
        print(f"\n### {op.replace('Benchmark', '').lower()}\n")
        print("| size | fernet-jca ops/s | raw JDK ops/s | fernet-java8 ops/s | ours / fernet-java8 | ours / raw JDK |")
        print("|---:|---:|---:|---:|---:|---:|")
        for size in sorted({k[2] for k in results if k[0] == op}):
            m = {i: results[(op, i, size)]["primaryMetric"] for i in IMPLS}
            cells = [f"{fmt(m[i]['score'])} ± {fmt(m[i]['scoreError'])}" for i in IMPLS]
            ours = m["fernetJca"]["score"]
            print(f"| {size:,} | " + " | ".join(cells)
                  + f" | {ours / m['fernetJava8']['score']:.2f}x | {ours / m['rawJdk']['score']:.2f}x |")


def allocation(results):
    print("\n### allocation per operation (gc.alloc.rate.norm)\n")
    print("| operation | size | token bytes | fernet-jca B/op | ÷ token | raw JDK B/op | ÷ token | fernet-java8 B/op | ÷ token |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for op in ["EncryptBenchmark", "DecryptBenchmark"]:
        for size in sorted({k[2] for k in results if k[0] == op}):
            t = token_length(size)
            cells = []
            for i in IMPLS:
                secondary = results[(op, i, size)]["secondaryMetrics"]
                if "gc.alloc.rate.norm" not in secondary:
                    sys.exit("the second file has no allocation figures: make it with JMH's -prof gc")
                norm = secondary["gc.alloc.rate.norm"]["score"]
                cells += [f"{norm:,.0f}", f"{norm / t:.2f}"]
            print(f"| {op.replace('Benchmark', '').lower()} | {size:,} | {t:,} | " + " | ".join(cells) + " |")


def cpu_time(results):
    """CPU time per operation (-prof dev.fernetjca.benchmarks.CpuTimeProfiler): what an operation costs, whatever
    share of the machine the fork got; the ratios are of costs, so above 1 still means this project is faster."""
    print("\n### CPU time per operation, µs (whole fork: benchmark thread, GC, compiler)\n")
    print("| operation | size | fernet-jca | raw JDK | fernet-java8 | ours / fernet-java8 | ours / raw JDK |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for op in ["EncryptBenchmark", "DecryptBenchmark"]:
        for size in sorted({k[2] for k in results if k[0] == op}):
            cpu = {i: results[(op, i, size)]["secondaryMetrics"]["cpu.process.norm"]["score"] / 1000 for i in IMPLS}
            print(f"| {op.replace('Benchmark', '').lower()} | {size:,} | "
                  + " | ".join(fmt(cpu[i]) for i in IMPLS)
                  + f" | {cpu['fernetJava8'] / cpu['fernetJca']:.2f}x | {cpu['rawJdk'] / cpu['fernetJca']:.2f}x |")


def ratios(runs):
    print("\n### ratios in each run (" + ", ".join(f"run {n + 1}" for n in range(len(runs))) + ")\n")
    print("| operation | size | ours / fernet-java8 | ours / raw JDK |")
    print("|---|---:|---|---|")
    for op in ["EncryptBenchmark", "DecryptBenchmark"]:
        for size in sorted({k[2] for k in runs[0] if k[0] == op}):
            java8, raw = [], []
            for results in runs:
                ours = results[(op, "fernetJca", size)]["primaryMetric"]["score"]
                java8.append(f"{ours / results[(op, 'fernetJava8', size)]['primaryMetric']['score']:.2f}")
                raw.append(f"{ours / results[(op, 'rawJdk', size)]['primaryMetric']['score']:.2f}")
            print(f"| {op.replace('Benchmark', '').lower()} | {size:,} | {', '.join(java8)} | {', '.join(raw)} |")


def best_iterations(runs):
    print("\n### fastest iteration over all runs\n")
    print("| operation | size | fernet-jca ops/s | raw JDK ops/s | fernet-java8 ops/s | raw JDK / fernet-java8 "
          "| ours / fernet-java8 | ours / raw JDK |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for op in ["EncryptBenchmark", "DecryptBenchmark"]:
        for size in sorted({k[2] for k in runs[0] if k[0] == op}):
            best = {i: max(x for results in runs for fork in results[(op, i, size)]["primaryMetric"]["rawData"]
                           for x in fork) for i in IMPLS}
            print(f"| {op.replace('Benchmark', '').lower()} | {size:,} | "
                  + " | ".join(fmt(best[i]) for i in IMPLS)
                  + f" | {best['rawJdk'] / best['fernetJava8']:.2f}x"
                  + f" | {best['fernetJca'] / best['fernetJava8']:.2f}x | {best['fernetJca'] / best['rawJdk']:.2f}x |")


if __name__ == "__main__":
    throughput(load(sys.argv[1]))
    first = load(sys.argv[1])
    if all("cpu.process.norm" in r["secondaryMetrics"] for r in first.values()):
        cpu_time(first)
    if len(sys.argv) > 2:
        allocation(load(sys.argv[2]))
        runs = [load(path) for path in sys.argv[1:]]
        ratios(runs)
        best_iterations(runs)
