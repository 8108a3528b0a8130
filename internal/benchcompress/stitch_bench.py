"""Runs Stitch (stitch-core) on one corpus split and reports its own time and
peak memory as JSON: used by `atlas-learn bench compress`."""
import json
import resource
import sys
import time

import stitch_core


def main():
    train_path, test_path, iterations, arity, out, threads = sys.argv[1:7]
    # optional: "rewritten" (also report the rewritten programs) and
    # "no-mismatch-check" (skip Stitch's internal consistency assertion)
    flags = set(sys.argv[7:])
    with open(train_path) as f:
        train = json.load(f)
    with open(test_path) as f:
        test = json.load(f)
    start = time.perf_counter()
    res = stitch_core.compress(train, iterations=int(iterations), max_arity=int(arity),
                               threads=int(threads), silent=True,
                               no_mismatch_check="no-mismatch-check" in flags)
    seconds = time.perf_counter() - start
    j = res.json
    report = {
        "compression_ratio": j["compression_ratio"],
        "final_cost": j["final_cost"],
        "seconds": seconds,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "holdout_compression_ratio": 0.0,
        "iterations": len(res.abstractions),
    }
    if "rewritten" in flags:
        report["rewritten"] = list(res.rewritten)
    if test and res.abstractions:
        rw = stitch_core.rewrite(test, res.abstractions, silent=True)
        report["holdout_compression_ratio"] = rw.json["original_cost"] / rw.json["final_cost"]
    with open(out, "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main()
