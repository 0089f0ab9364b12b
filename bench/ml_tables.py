"""Every table of the `ml` and `forecasts` schemas, dumped sorted to parquet, and two dumps compared.

    .venv/bin/python bench/ml_tables.py dump --warehouse /tmp/x/cbi.duckdb --out /tmp/x/before
    .venv/bin/python bench/ml_tables.py compare /tmp/x/before /tmp/y/after

The check behind "numbers identical before and after" of a change to the ML layer: build (or re-score, `retrain:
never`) the same warehouse and saved models with the old and the new code, dump both, compare. Every column must be
equal exactly (NaN equal to NaN), with one exception that is not a number: the wall-clock time of the scoring run.
A member without saved predictors (the baselines) stamps `trained_at` and the time part of `model_run_id`
(`<member>-<YYYYmmddTHHMMSS>-<fingerprint>`) with the moment it runs, so two runs minutes apart differ there; those
columns, and `member_run_ids` (the members' run ids behind a final row), are compared with the time masked, and the
final layer's `model_run_id` (`final-<sha256 of those run ids>`) with the hash masked. A table present on one side
only is reported; a per-member table `ml_l0_<member>` of the old layout (before) is compared with the rows of
`l0_predictions` for that member on the other side (after; as_of_date as a date, as `l0_predictions` casts it), not
with the stale copy a warehouse built before keeps. Exit code 1 on any difference.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

SCHEMAS = ("ml", "forecasts")
RUN_TIME = re.compile(r"-\d{8}T\d{6}-")
FINAL_RUN = re.compile(r"^final-[0-9a-f]{12}$")
RUN_ID_COLUMNS = ("model_run_id", "member_run_ids")
TIME_COLUMNS = ("trained_at",)


def dump(warehouse: Path, out: Path) -> list[str]:
    """Write `<schema>.<table>.parquet` per table/view of SCHEMAS, rows sorted by every column."""
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse), read_only=True)
    names = con.execute(
        "select table_schema, table_name from information_schema.tables where table_schema in ? order by all",
        [list(SCHEMAS)],
    ).fetchall()
    written = []
    for schema, table in names:
        frame = con.execute(f'select * from "{schema}"."{table}" order by all').df()
        frame.to_parquet(out / f"{schema}.{table}.parquet", index=False)
        written.append(f"{schema}.{table}")
    con.close()
    return written


def _masked(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for column in TIME_COLUMNS:
        if column in frame:
            frame[column] = frame[column].notna()
    for column in RUN_ID_COLUMNS:
        if column in frame:
            ids = frame[column].astype("string").str.replace(RUN_TIME, "-<time>-", regex=True)
            frame[column] = ids.str.replace(FINAL_RUN, "final-<hash>", regex=True)
    return frame


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns), kind="mergesort", na_position="last").reset_index(drop=True)


def differences(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    """What differs between two tables (empty: identical up to the run-time columns)."""
    if list(a.columns) != list(b.columns):
        return [f"columns {list(a.columns)} != {list(b.columns)}"]
    if len(a) != len(b):
        return [f"{len(a)} rows != {len(b)} rows"]
    a, b = _sorted(_masked(a)), _sorted(_masked(b))
    found = []
    for column in a.columns:
        x, y = a[column], b[column]
        if x.dtype != y.dtype:
            found.append(f"{column}: dtype {x.dtype} != {y.dtype}")
            continue
        if pd.api.types.is_float_dtype(x):
            xs, ys = x.to_numpy(dtype=float), y.to_numpy(dtype=float)
            same = (xs == ys) | (np.isnan(xs) & np.isnan(ys))
        else:
            same = (x == y).fillna(False).to_numpy() | (x.isna() & y.isna()).to_numpy()
        if not same.all():
            first = int(np.flatnonzero(~same)[0])
            found.append(f"{column}: {int((~same).sum())} rows differ (first: {x.iloc[first]!r} != {y.iloc[first]!r})")
    return found


def _member_rows(folder: Path, member: str) -> pd.DataFrame | None:
    file = folder / "ml.l0_predictions.parquet"
    if not file.exists():
        return None
    rows = pd.read_parquet(file)
    return rows[rows["member"] == member].reset_index(drop=True)


def compare(before: Path, after: Path) -> int:
    a_files = {p.name.removesuffix(".parquet"): p for p in before.glob("*.parquet")}
    b_files = {p.name.removesuffix(".parquet"): p for p in after.glob("*.parquet")}
    failures = 0
    for name in sorted(a_files | b_files):
        if name.startswith("ml.ml_l0_"):
            # the old layout's per-member table (a warehouse built before keeps it, stale, after the change): its
            # rows against that member's rows of l0_predictions on the other side
            member = name.removeprefix("ml.ml_l0_")
            folder, own = (after, a_files.get(name)) if name in a_files else (before, b_files[name])
            table, rows = pd.read_parquet(own), _member_rows(folder, member)
            table = table.assign(as_of_date=pd.to_datetime(table["as_of_date"]).dt.date)
            rows = None if rows is None else rows.assign(as_of_date=pd.to_datetime(rows["as_of_date"]).dt.date)
            found = ["no l0_predictions on the other side"] if rows is None else differences(table, rows[table.columns])
            side = "after" if folder == after else "before"
            note = f"{len(table)} rows, against l0_predictions where member = '{member}' ({side})"
        elif name in a_files and name in b_files:
            a, b = pd.read_parquet(a_files[name]), pd.read_parquet(b_files[name])
            found, note = differences(a, b), f"{len(a)} rows"
        else:
            found, note = [f"only in {'before' if name in a_files else 'after'}"], ""
        failures += bool(found)
        print(f"{'DIFF' if found else 'same'}  {name}  {note}")
        for line in found:
            print(f"      {line}")
    print(f"{failures} table(s) differ" if failures else "every table identical (run-time stamps masked)")
    return 1 if failures else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("--warehouse", type=Path, required=True)
    d.add_argument("--out", type=Path, required=True)
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        print("\n".join(dump(args.warehouse, args.out)))
    else:
        sys.exit(compare(args.before, args.after))


if __name__ == "__main__":
    main()
