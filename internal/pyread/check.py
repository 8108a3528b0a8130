"""Read Parquet files the way users do, with pyarrow and DuckDB.

Usage: python check.py FILE...

For each file, prints one JSON object on a line of its own:
{"file": ..., "pyarrow_rows": n, "duckdb_count": n, "duckdb_rows": n,
 "errors": ["pyarrow: ...", "duckdb: ..."]}. A reader that rejects the file
adds an error; the script itself exits 0 unless it cannot run at all.
"""

import json
import sys
import traceback

import duckdb
import pyarrow.parquet as pq


def describe(reader, exc):
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return f"{reader}: {last}"


def check_pyarrow(path, result):
    schema = pq.ParquetFile(path).schema
    json_columns = {
        c.path
        for c in (schema.column(i) for i in range(len(schema)))
        if c.logical_type.type == "JSON" and "." not in c.path
    }
    table = pq.read_table(path)
    table.validate(full=True)
    # Decoding every value to Python catches what validation lets through
    # (a string that is not UTF-8 raises UnicodeDecodeError here), and a
    # JSON column must hold JSON.
    for name, column in zip(table.column_names, table.itercolumns()):
        values = column.to_pylist()
        if name in json_columns:
            for v in values:
                if v is not None:
                    json.loads(v)
    result["pyarrow_rows"] = table.num_rows


def check_duckdb(path, result):
    con = duckdb.connect()
    try:
        result["duckdb_count"] = con.execute(
            "SELECT count(*) FROM read_parquet(?)", [path]
        ).fetchall()[0][0]
        rows = 0
        reader = con.read_parquet(path).to_arrow_reader(4096)
        for batch in reader:
            rows += batch.num_rows
        result["duckdb_rows"] = rows
    finally:
        con.close()


def main(paths):
    for path in paths:
        result = {"file": path, "errors": []}
        for reader, fn in (("pyarrow", check_pyarrow), ("duckdb", check_duckdb)):
            try:
                fn(path, result)
            except Exception as exc:  # every rejection is reported
                result["errors"].append(describe(reader, exc))
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
