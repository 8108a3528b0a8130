"""Read whole datasets the way users do, with pyarrow and DuckDB.

Reads a JSON list of datasets from standard input, each
{"name": ..., "format": "parquet"|"jsonl", "files": [...]}, and prints one
JSON object per dataset on a line of its own:
{"name": ..., "pyarrow_rows": n, "duckdb_rows": n, "columns": [...],
 "errors": [...]}: the rows each reader found over all the files, the
top-level column names pyarrow found, and every rejection.
"""

import json
import sys
import traceback

import duckdb
import pyarrow as pa
import pyarrow.json as pj
import pyarrow.parquet as pq


def describe(reader, exc):
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return f"{reader}: {last}"


def read_pyarrow(ds, result):
    if ds["format"] == "parquet":
        tables = [pq.read_table(f) for f in ds["files"]]
    else:
        tables = [pj.read_json(f, read_options=pj.ReadOptions(block_size=64 << 20)) for f in ds["files"] if open(f, "rb").read(1)]
    columns = []
    rows = 0
    for t in tables:
        t.validate(full=True)
        rows += t.num_rows
        for name in t.column_names:
            if name not in columns:
                columns.append(name)
    result["pyarrow_rows"] = rows
    result["columns"] = columns


def read_duckdb(ds, result):
    con = duckdb.connect()
    try:
        if ds["format"] == "parquet":
            q = "SELECT count(*) FROM read_parquet(?, union_by_name=true)"
            result["duckdb_rows"] = con.execute(q, [ds["files"]]).fetchall()[0][0]
        else:
            rows = 0
            for f in ds["files"]:
                if open(f, "rb").read(1):
                    rows += con.execute("SELECT count(*) FROM read_json(?, format='newline_delimited', maximum_object_size=134217728)", [f]).fetchall()[0][0]
            result["duckdb_rows"] = rows
    finally:
        con.close()


def main():
    for ds in json.load(sys.stdin):
        result = {"name": ds["name"], "errors": []}
        for reader, fn in (("pyarrow", read_pyarrow), ("duckdb", read_duckdb)):
            try:
                fn(ds, result)
            except Exception as exc:
                result["errors"].append(describe(reader, exc))
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
