"""Smoke check of an atlas-learn run's sft exports with Hugging Face datasets.

Not run by the Go tests. Usage:

    python sft/testdata/trl_smoke.py out/runs/<run-id>/sft

Loads every config the dataset card (README.md) declares with
datasets.load_dataset(<sft dir>, <config>) -- which checks that the card's
YAML header and data_files resolve -- and the Parquet dataset with
datasets.load_dataset(<sft dir>/parquet), which has a card of its own
(datasets reads all of one card's configs with one builder, so Parquet
cannot be a config of the JSON card), and checks each config's columns, the
TRL formats' fields, that every split's dataset_info (rows and num_bytes)
is read and agrees with what loads, and that the Parquet rows are the
JSONL formats' train and validation rows. With --train MODEL (needs trl, transformers and
torch, best on a GPU) it also runs a few SFTTrainer steps on the
prompt-completion train split and checks that the loss falls.
"""

import argparse
import sys

import datasets

COLUMNS = {
    "parquet": {"id", "trajectory_id", "task_id", "step", "kind", "subkind", "weight", "prompt", "completion", "split"},
    "openai": {"messages"},
    "trl_conversational": {"messages"},
    "trl_prompt_completion": {"prompt", "completion"},
    "trl_replicated": {"prompt", "completion"},
}


JSONL_CONFIGS = {"openai", "trl_prompt_completion", "trl_conversational", "trl_replicated"}


def load(path, name):
    """Loads one config, checking that its card's split info is read (a
    splits list without num_bytes is ignored) and matches the rows."""
    info = datasets.load_dataset_builder(path, name).info.splits
    ds = datasets.load_dataset(path, name)
    if not info or set(info) != set(ds):
        sys.exit(f"{path} {name}: dataset_info splits {info}, loaded {list(ds)}")
    for split, d in ds.items():
        if info[split].num_examples != len(d) or info[split].num_bytes <= 0:
            sys.exit(f"{path} {name}/{split}: dataset_info {info[split]}, {len(d)} rows")
    return ds


def check(sft_dir):
    names = datasets.get_dataset_config_names(sft_dir)
    if set(names) != JSONL_CONFIGS:
        sys.exit(f"card configs {names}, want {sorted(JSONL_CONFIGS)}")
    rows = {}
    loaded = {name: load(sft_dir, name) for name in names}
    parquet_dir = sft_dir.rstrip("/") + "/parquet"
    pnames = datasets.get_dataset_config_names(parquet_dir)
    if pnames != ["parquet"]:
        sys.exit(f"parquet card configs {pnames}, want ['parquet']")
    loaded["parquet"] = load(parquet_dir, "parquet")
    for name, ds in loaded.items():
        for split, d in ds.items():
            cols = set(d.column_names)
            if not COLUMNS[name] <= cols:
                sys.exit(f"{name}/{split}: columns {sorted(cols)}, want {sorted(COLUMNS[name])}")
            if name in ("openai", "trl_conversational"):
                for row in d:
                    roles = [m["role"] for m in row["messages"]]
                    if roles[-2:] != ["user", "assistant"]:
                        sys.exit(f"{name}/{split}: roles {roles}")
            rows[(name, split)] = len(d)
            print(f"{name}/{split}: {len(d)} rows")
    full = loaded["parquet"]["full"]
    by_split = {s: full["split"].count(s) for s in ("train", "validation")}
    for split, n in by_split.items():
        if rows.get(("openai", split), 0) != n:
            sys.exit(f"parquet: {n} {split} rows, openai {rows.get(('openai', split), 0)}")
    if sum(by_split.values()) != len(full):
        sys.exit(f"parquet: split column {by_split}, {len(full)} rows")


def train(sft_dir, model):
    from trl import SFTConfig, SFTTrainer

    ds = datasets.load_dataset(sft_dir, "trl_prompt_completion")["train"]
    cfg = SFTConfig(output_dir="/tmp/atlas-sft-smoke", max_steps=30, per_device_train_batch_size=4,
                    logging_steps=5, learning_rate=1e-4, report_to=[], save_strategy="no")
    tr = SFTTrainer(model=model, train_dataset=ds, args=cfg)
    tr.train()
    losses = [h["loss"] for h in tr.state.log_history if "loss" in h]
    print("losses", losses)
    if len(losses) < 2 or not losses[-1] < losses[0]:
        sys.exit(f"loss did not fall: {losses}")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("sft_dir")
    p.add_argument("--train", metavar="MODEL")
    a = p.parse_args()
    check(a.sft_dir)
    if a.train:
        train(a.sft_dir, a.train)
