"""Smoke check of an atlas-learn run's sft exports with Hugging Face datasets.

Not run by the Go tests. Usage:

    python sft/testdata/trl_smoke.py out/runs/<run-id>/sft

Loads every config the dataset card (README.md) declares with
datasets.load_dataset(<sft dir>, <config>) -- which checks that the card's
YAML header and data_files resolve -- and checks each config's columns and
the TRL formats' fields. With --train MODEL (needs trl, transformers and
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


def check(sft_dir):
    names = datasets.get_dataset_config_names(sft_dir)
    missing = {"parquet", "openai", "trl_prompt_completion", "trl_conversational", "trl_replicated"} - set(names)
    if missing:
        sys.exit(f"card lacks configs {sorted(missing)} (has {names})")
    for name in names:
        ds = datasets.load_dataset(sft_dir, name)
        for split, d in ds.items():
            cols = set(d.column_names)
            if not COLUMNS[name] <= cols:
                sys.exit(f"{name}/{split}: columns {sorted(cols)}, want {sorted(COLUMNS[name])}")
            if name in ("openai", "trl_conversational"):
                for row in d:
                    roles = [m["role"] for m in row["messages"]]
                    if roles[-2:] != ["user", "assistant"]:
                        sys.exit(f"{name}/{split}: roles {roles}")
            print(f"{name}/{split}: {len(d)} rows")


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
