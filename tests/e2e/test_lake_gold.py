"""Gold: seed 002's analytics answered straight from the silver table, with
the exact queries docs/LAKE.md shows, by DuckDB and by Spark SQL (delta-spark),
and checked against PostgreSQL running the same SQL on the source table.

The table is seed 002's e-commerce data set (Kaggle's "Online Retail": invoice
lines with InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice,
CustomerID, Country; invoices starting with C are cancellations), filled with
deterministic rows and then changed (price corrections, deleted lines), so that
silver must reflect updates and deletes.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

deltalake = pytest.importorskip("deltalake")

REPO_ROOT = Path(__file__).resolve().parents[2]

DDL = """CREATE TABLE {t} (line_id int PRIMARY KEY, invoice_no text NOT NULL,
  stock_code text NOT NULL, description text, quantity int NOT NULL,
  invoice_date timestamp NOT NULL, unit_price numeric(10,2) NOT NULL, customer_id int,
  country text)"""

FILL = """INSERT INTO {t}
SELECT g,
  CASE WHEN g % 50 = 0 THEN 'C' ELSE '' END || (536365 + g / 4)::text,
  'SKU' || (g % 37),
  'Product ' || (g % 37),
  CASE WHEN g % 50 = 0 THEN -(1 + g % 3) ELSE 1 + g % 12 END,
  timestamp '2010-12-01 08:00' + (g * interval '97 minutes'),
  (0.5 + (g % 37) * 0.35)::numeric(10,2),
  CASE WHEN g % 11 = 0 THEN NULL ELSE 12346 + g % 60 END,
  (ARRAY['United Kingdom','France','Germany','EIRE'])[1 + g % 4]
FROM generate_series(1, 1500) g"""


def gold_queries() -> dict[str, str]:
    """The queries of docs/LAKE.md's gold section, by name, as written there."""
    text = (REPO_ROOT / "docs" / "LAKE.md").read_text()
    found = dict(re.findall(r"<!-- gold: (\w+) -->\n```sql\n(.*?)```", text, re.S))
    assert set(found) == {"total_sales", "sales_over_time", "top_products",
                          "customer_summary", "returns"}, sorted(found)
    return found


def normalize(rows):
    out = []
    for r in rows:
        t = []
        for v in r:
            if hasattr(v, "quantize"):  # Decimal: compare at cent precision
                v = v.quantize(__import__("decimal").Decimal("0.01"))
            elif isinstance(v, float):
                v = round(v, 2)
            t.append(v)
        out.append(tuple(t))
    return out


@pytest.mark.readers
def test_seed_002_gold_queries_over_silver(pg, pgcdc, unique_name, tmp_path):
    import lakereaders
    t = f"public.{unique_name}"
    pg.execute(DDL.format(t=t))
    pg.execute(FILL.format(t=t))  # before pgcdc starts: the snapshot copies it
    root = tmp_path / "lake"
    p = pgcdc(tables=t)
    p.set(**{"snapshot.mode": "initial", "sink.type": "lake", "lake.root": str(root),
             "lake.flush.interval.ms": 200, "lake.silver.interval.ms": 0})
    p.start()
    pg.execute(f"UPDATE {t} SET unit_price = unit_price * 2 WHERE line_id % 7 = 0")
    pg.execute(f"DELETE FROM {t} WHERE line_id % 13 = 0")
    topic = p.topic("public", unique_name)
    bronze = tmp_path / "lake" / "bronze" / topic
    want = 1500 + pg.scalar(f"SELECT count(*) FROM {t} WHERE line_id % 7 = 0") + \
        1500 // 13
    deadline = time.time() + 120
    n = 0
    while time.time() < deadline:
        if (bronze / "_delta_log").is_dir():
            n = len(deltalake.DeltaTable(str(bronze)).to_pyarrow_table())
            if n >= want:
                break
        time.sleep(0.3)
    assert n >= want, f"{n} bronze rows, want {want}"
    r = p.run_cmd("lake", "compact")
    assert r.returncode == 0, r.stderr
    assert p.stop() == 0
    silver = str(tmp_path / "lake" / "silver" / topic)
    queries = gold_queries()

    # PostgreSQL on the source table: the expected answers
    expected = {}
    for name, sql in queries.items():
        expected[name] = normalize(pg.query(sql.replace("invoices", t)))
        assert expected[name], name

    # DuckDB over the silver table (through delta-rs's Arrow dataset)
    con = lakereaders.duckdb_connect()
    con.register("invoices", deltalake.DeltaTable(silver).to_pyarrow_dataset())
    for name, sql in queries.items():
        assert normalize(con.execute(sql).fetchall()) == expected[name], name

    # Spark SQL with delta-spark
    spark = lakereaders.spark_session()
    spark.read.format("delta").load(silver).createOrReplaceTempView("invoices")
    for name, sql in queries.items():
        got = [tuple(row) for row in spark.sql(sql).collect()]
        assert normalize(got) == expected[name], name
