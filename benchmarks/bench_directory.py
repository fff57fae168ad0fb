"""The national directory's import (PRO-2), in rows per second, against the
library doing the same job, measured in the same run (ADR-0015).

    .venv/bin/python benchmarks/bench_directory.py [--rows 200000]
        [--pg-rows N] [--repeat 1] [--no-postgres | --no-sqlite]

What is measured, per database kind:

* **espace**: ``store.directory.import_extract`` of an extract file of
  ``--rows`` rows ("PS_LibreAcces_Personne_activite" columns, `|`-separated,
  about 1.3 rows per professional), ``sync_views=False``: streamed decoding
  and parsing, the row schema (IdNatPS Luhn check, ID-3), grouping a
  professional's rows, one load per professional to tell new from changed
  from unchanged, one ``save()`` per batch of 500.
* **again**: the same file imported a second time: nothing changed, so
  nothing is written (every professional is loaded and compared).
* **library** (the baseline of the ratio): the same rows, read with the
  ``csv`` module, each through the same row schema, each professional
  registered with the same ``Professional.register`` and saved with
  eventsourcing's own ``save(*batch)`` in batches of 500, on a plain
  ``Application`` of the same kind (no load: it knows they are new).

Ratio = espace rows/s / library rows/s. The time for the national extract
(about 2 million rows) is worked out from the rate, as a figure on paper.
"""

from __future__ import annotations

import argparse
import csv
import random
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from stdnum import luhn

from common import (
    BaselineApp,
    add_run_options,
    baseline_env,
    database_kinds,
    fresh_database,
    new_master_key,
    quiet_logs,
    settle,
)
from espace import Store, init_store
from espace.application import schemas, service_schemas
from espace.domain.directory import ACTIVITY_FIELDS, PROFESSION_CODES, Professional
from espace.simulation import START

EXAMPLE = Path(__file__).resolve().parents[1] / "examples"
NATIONAL_ROWS = 2_000_000
BATCH = 500
CITIES = [("NANTES", "44000"), ("LYON", "69003"), ("MARSEILLE", "13001")]


def write_extract(path: Path, rows: int, seed: int) -> int:
    """An extract of ``rows`` rows; returns how many professionals it lists."""
    header = (EXAMPLE / "PS_LibreAcces_Personne_activite.txt").read_text("utf-8")
    columns = header.splitlines()[0].rstrip("|").split("|")
    rng = random.Random(seed)
    codes = list(PROFESSION_CODES)
    written = professionals = 0
    with path.open("w", encoding="utf-8") as out:
        out.write("|".join(columns) + "|\n")
        while written < rows:
            body = f"1{professionals + 1:09d}"  # distinct, Luhn-checked (ID-3)
            idnatps = "8" + body + luhn.calc_check_digit(body)
            code = rng.choice(codes)
            professionals += 1
            for _ in range(min(rng.choice([1, 1, 1, 2]), rows - written)):
                city, postal = rng.choice(CITIES)
                cells = dict.fromkeys(columns, "")
                cells.update(
                    {
                        "Type d'identifiant PP": "8",
                        "Identifiant PP": idnatps[1:],
                        "Identification nationale PP": idnatps,
                        "Nom d'exercice": f"NOM{professionals}",
                        "Prénom d'exercice": "Anne",
                        "Code profession": code,
                        "Libellé profession": PROFESSION_CODES[code],
                        "Code mode exercice": rng.choice("LS"),
                        "Raison sociale site": f"Cabinet {professionals}",
                        "Code postal (coord. structure)": postal,
                        "Libellé commune (coord. structure)": city,
                    }
                )
                out.write("|".join(cells[c] for c in columns) + "|\n")
                written += 1
    return professionals


def run_espace(url: str, env: dict[str, str], extract: Path) -> tuple[float, float]:
    init_store(url, simulation=True, environ=env)
    with Store.open(
        url, clock=lambda: START + timedelta(hours=1), environ=env, sync_views=False
    ) as store:
        settle(url)
        started = time.perf_counter()
        with extract.open("rb") as stream:
            first = store.directory.import_extract(stream)
        once = time.perf_counter() - started
        started = time.perf_counter()
        with extract.open("rb") as stream:
            again = store.directory.import_extract(stream)
        twice = time.perf_counter() - started
    if first.rejected or again.unchanged != first.created:
        raise SystemExit(f"the synthetic extract did not import cleanly: {again}")
    return once, twice


def run_library(url: str, extract: Path) -> float:
    """Seconds for the same job with the library's means, on its own fresh
    database: the csv module, the same row schema and aggregates, its own
    ``save(*batch)`` with its AES cipher."""
    app = BaselineApp(env=baseline_env(url, aes=True))
    try:
        settle(url)
        started = time.perf_counter()
        batch: list[Professional] = []
        group: dict[str, Any] | None = None
        with extract.open(encoding="utf-8", newline="") as stream:
            for row in csv.DictReader(stream, delimiter="|"):
                data = schemas.load(service_schemas.DirectoryRowSchema, row)
                activity = {k: data[k] for k in ACTIVITY_FIELDS}
                if group is not None and group["idnatps"] == data["idnatps"]:
                    group["activities"].append(activity)
                    continue
                if group is not None:
                    batch.append(Professional.register(at=START, entry=group))
                group = {
                    "idnatps": data["idnatps"],
                    "id_type": data["id_type"],
                    "last_name": data["last_name"],
                    "first_name": data["first_name"],
                    "profession": PROFESSION_CODES[data["profession_code"]],
                    "profession_code": data["profession_code"],
                    "profession_label": data["profession_label"],
                    "activities": [activity],
                }
                if len(batch) >= BATCH:
                    app.save(*batch)
                    batch = []
        if group is not None:
            batch.append(Professional.register(at=START, entry=group))
        app.save(*batch)
        return time.perf_counter() - started
    finally:
        app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--pg-rows", type=int, default=None)
    add_run_options(parser)
    args = parser.parse_args()
    quiet_logs(args.logs)
    ratios: dict[str, float] = {}
    for kind, rows in database_kinds(args, args.rows, args.pg_rows):
        with fresh_database(kind, args.postgres) as url:
            extract = Path(f"/tmp/bench-directory-{rows}.txt")
            professionals = write_extract(extract, rows, args.seed)
            env = {} if kind == "sqlite" else {"ESPACE_MASTER_KEY": new_master_key()[0]}
            once, twice = run_espace(url, env, extract)
        with fresh_database(kind, args.postgres) as url:
            library = run_library(url, extract)
        extract.unlink()
        rate, again, base = rows / once, rows / twice, rows / library
        ratios[kind] = rate / base
        print(
            f"{kind}: {rows} rows, {professionals} professionals: espace "
            f"{rate:,.0f} rows/s (again, unchanged: {again:,.0f} rows/s), library "
            f"{base:,.0f} rows/s; the national extract ({NATIONAL_ROWS:,} rows) "
            f"would take {NATIONAL_ROWS / rate / 60:.0f} min, "
            f"{NATIONAL_ROWS / again / 60:.0f} min unchanged"
        )
    print()
    figures = " ".join(f"{k}={r:.2f}" for k, r in ratios.items())
    print(f"RATIO directory-import {figures}  (espace rows/s / library rows/s)")


if __name__ == "__main__":
    main()
