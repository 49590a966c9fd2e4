#!/usr/bin/env python3
"""Reads back what `etuner bench` writes, with tools a user would pick.

A tiny generated data set is benched twice (one run with ekya, whose round reasons hold
commas; one --seeds sweep). Every CSV under the outputs is read with Python's csv module
(RFC 4180): each row must have exactly the header's fields and numbers where numbers go.
Every results.json and stream spec is validated against docs/schema/ with jsonschema,
`etuner report` on the --seeds folder must give the per-seed and interval tables, and the
first run's stderr (--log-format json, not a terminal) must be JSON lines with progress.

usage: outputs_check.py ETUNER_BINARY SOURCE_DIR
"""
import csv
import glob
import gzip
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

import jsonschema

ETUNER, SOURCE = sys.argv[1], sys.argv[2]
TEXT_COLUMNS = {"policy", "reason", "freeze_reason", "frozen_mask"}


def write_idx(path_prefix, n, size, seed):
    """Class c: a bright square in quadrant c % 4 and a stripe at row c // 4 + 1, over noise."""
    rng = random.Random(seed)
    pixels, labels, half = bytearray(), bytearray(), size // 2
    for i in range(n):
        c = i % 10
        labels.append(c)
        for y in range(size):
            for x in range(size):
                v = (160 if (y // half) * 2 + x // half == c % 4 else 0)
                v += (80 if y == c // 4 + 1 else 0) + rng.randrange(40)
                pixels.append(min(v, 255))
    with gzip.open(path_prefix + "-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, size, size) + bytes(pixels))
    with gzip.open(path_prefix + "-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + bytes(labels))


def tiny_spec(root):
    scenario = {"labeled_batches": 3, "batch_size": 16, "requests_per_batch": 5}
    return {
        "name": "tiny", "seed": 3, "model": "tiny",
        "data": {"source": "fashion-mnist", "root": root},
        "pretrain": {"samples": 200, "epochs": 1, "lr": 0.05, "batch_size": 32},
        "train": {"lr": 0.01, "batch_size": 16, "epochs_per_round": 1,
                  "replay_samples": 16, "replay_buffer": 64},
        "scenarios": [dict(name="clean", **scenario),
                      dict(name="dark", shift="darken", severity=3, **scenario)],
    }


def run(*args, stderr_lines=None):
    done = subprocess.run([ETUNER, *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"etuner {' '.join(args)}: exit {done.returncode}\n{done.stderr}")
    if stderr_lines is not None:
        stderr_lines.extend(done.stderr.splitlines())
    return done.stdout


def check_json_log(lines):
    """--log-format json: every stderr line an object; progress lines carry a rate."""
    records = [json.loads(line) for line in lines]
    assert records, "no log lines"
    for r in records:
        assert set(r) == {"time", "level", "msg"}, r
    progress = [r["msg"] for r in records if "events/s" in r["msg"]]
    assert any(m.startswith("ekya: ") for m in progress), records


def read_csv(path):
    """Every row as a dict; fails on a row with more or fewer fields than the header."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, strict=True))
    for n, row in enumerate(rows, start=2):
        assert None not in row, f"{path}:{n}: more fields than the header: {row[None]}"
        assert None not in row.values(), f"{path}:{n}: fewer fields than the header"
        for column, text in row.items():
            if column not in TEXT_COLUMNS:
                float(text)  # ValueError names the text that is not a number
    return rows


def load_schema(name):
    with open(os.path.join(SOURCE, "docs", "schema", name)) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def check_results(results_path, stream_schema, results_schema):
    with open(results_path) as f:
        results = json.load(f)
    jsonschema.validate(results, results_schema)
    jsonschema.validate(results["spec"], stream_schema)
    folder = os.path.dirname(results_path)
    rounds = read_csv(os.path.join(folder, "rounds.csv"))
    requests = read_csv(os.path.join(folder, "requests.csv"))
    for name, summary in results["policies"].items():
        assert sum(r["policy"] == name for r in rounds) == summary["rounds"], name
        assert sum(r["policy"] == name for r in requests) == 30, name  # 6 gaps x 5 requests
    return rounds


def main():
    stream_schema = load_schema("stream.schema.json")
    results_schema = load_schema("results.schema.json")
    for spec in glob.glob(os.path.join(SOURCE, "bench", "streams", "*.json")):
        with open(spec) as f:
            jsonschema.validate(json.load(f), stream_schema)
    with tempfile.TemporaryDirectory(prefix="etuner-outputs-") as tmp:
        write_idx(os.path.join(tmp, "train"), 600, 12, 1)
        write_idx(os.path.join(tmp, "t10k"), 200, 12, 2)
        spec_path = os.path.join(tmp, "tiny.json")
        with open(spec_path, "w") as f:
            json.dump(tiny_spec(tmp), f)
        jsonschema.validate(tiny_spec(tmp), stream_schema)

        one = os.path.join(tmp, "one")
        log = []
        run("bench", "--stream", spec_path, "--out", one, "--log-format", "json", "--policies",
            "immediate,ekya", "--params", '{"ekya":{"window_batches":2,"min_gain":-1}}',
            stderr_lines=log)
        check_json_log(log)
        rounds = check_results(os.path.join(one, "results.json"), stream_schema, results_schema)
        reasons = [r["reason"] for r in rounds if r["policy"] == "ekya"]
        assert any("," in r for r in reasons), f"no ekya reason with a comma: {reasons}"

        sweep = os.path.join(tmp, "sweep")
        run("bench", "--stream", spec_path, "--out", sweep, "--quiet", "--policies",
            "immediate,never", "--seeds", "4,5")
        for results in glob.glob(os.path.join(sweep, "seed-*", "results.json")):
            check_results(results, stream_schema, results_schema)
        with open(os.path.join(sweep, "seeds.json")) as f:
            assert json.load(f)["schema_version"] == 1
        page_path = run("report", sweep).strip()
        with open(page_path) as f:
            page = f.read()
        assert 'id="table-intervals"' in page and 'id="table-per-seed"' in page, page_path
        per_seed = page.split('id="table-per-seed"')[1]
        assert per_seed.count('<th scope="row">') == 2, "one line per seed"
        csvs = glob.glob(os.path.join(tmp, "**", "*.csv"), recursive=True)
        for path in csvs:
            read_csv(path)
        assert len(csvs) == 6, csvs  # one run and two seeds, requests.csv and rounds.csv each
    print("ok: CSVs, schemas, the seeds page and JSON logs")


if __name__ == "__main__":
    main()
