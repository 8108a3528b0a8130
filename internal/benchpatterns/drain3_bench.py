"""Drain3 side of `atlas-learn bench patterns`.

Usage: drain3_bench.py INPUT.json OUTPUT.json

INPUT is [{"name": ..., "messages": [...]}, ...]; OUTPUT gets, per dataset,
Drain3's cluster id of each message, its number of clusters and its time.
Drain3 runs with its default settings (depth 4, similarity 0.4, 100
children) and generic masks only: IPv4 addresses, hexadecimal, numbers.
"""
import json
import sys
import time
from importlib.metadata import version

from drain3 import TemplateMiner
from drain3.masking import MaskingInstruction
from drain3.template_miner_config import TemplateMinerConfig

B = r"((?<=[^A-Za-z0-9])|^)"
A = r"((?=[^A-Za-z0-9])|$)"
MASKS = [
    (B + r"(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})" + A, "IP"),
    (B + r"(0x[a-f0-9A-F]+)" + A, "HEX"),
    (B + r"([\-\+]?\d+)" + A, "NUM"),
]


def mine(messages):
    cfg = TemplateMinerConfig()
    cfg.masking_instructions = [MaskingInstruction(p, m) for p, m in MASKS]
    cfg.profiling_enabled = False
    tm = TemplateMiner(config=cfg)
    start = time.perf_counter()
    ids = [tm.add_log_message(m)["cluster_id"] for m in messages]
    return ids, len(tm.drain.clusters), time.perf_counter() - start


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        datasets = json.load(f)
    out = {"version": version("drain3"), "results": []}
    for d in datasets:
        ids, n, secs = mine(d["messages"])
        out["results"].append({"name": d["name"], "ids": ids, "templates": n, "seconds": secs})
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
