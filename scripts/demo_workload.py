#!/usr/bin/env python3
"""demo_workload.py - a steady insert/update/delete workload on fabric.user_data.

Each operation is its own transaction and touches exactly one row, and an
operation is counted only after its COMMIT returned, so the counts printed at
exit are exactly the number of change events a CDC pipeline must produce.

    python3 scripts/demo_workload.py --dsn "host=127.0.0.1 port=5433 user=postgres" \
        [--rate 200] [--seconds N] [--seed 1] [--mix 60,30,10]

Runs until SIGINT/SIGTERM (or --seconds), then prints the counts as JSON on
the last stdout line: {"c": .., "u": .., "d": .., "total": .., "seconds": ..}.
Progress goes to stderr every --report seconds (0 = never).
"""

import argparse
import json
import random
import signal
import string
import sys
import time
from datetime import datetime, timedelta, timezone

import psycopg2

FIRST = ["Emma", "Liam", "Olivia", "Noah", "Ava", "Elijah", "Sophia", "Lucas", "Mia", "Mateo",
         "Amelia", "Levi", "Harper", "Aiden", "Luna", "Leo", "Chloe", "Kai", "Zoë", "José",
         "Aleksandra", "Søren", "Yuki", "Priya", "Chen", "Fatima", "Oluwaseun", "Björn", "Anaïs"]
LAST = ["Smith", "Johnson", "Garcia", "Müller", "Rossi", "Nguyen", "Kowalski", "Silva", "Kim",
        "O'Brien", "Dubois", "Jansen", "Novak", "Hansen", "Tanaka", "Ivanova", "Okafor", "López",
        "Andersson", "Papadopoulos", "Yılmaz", "Brown", "Wilson", "Martin", "Lee"]
STREETS = ["Main St", "Oak Avenue", "Rue de la Paix", "Hauptstraße", "Calle Mayor", "High Street",
           "Maple Drive", "Via Roma", "Elm Road", "Station Road", "Baker Street", "Kingsway"]
CITIES = [("Berlin", "Europe/Berlin"), ("Paris", "Europe/Paris"), ("Madrid", "Europe/Madrid"),
          ("New York", "America/New_York"), ("Chicago", "America/Chicago"),
          ("Los Angeles", "America/Los_Angeles"), ("Tokyo", "Asia/Tokyo"),
          ("Sydney", "Australia/Sydney"), ("Lagos", "Africa/Lagos"), ("São Paulo", "America/Sao_Paulo"),
          ("Mumbai", "Asia/Kolkata"), ("Istanbul", "Europe/Istanbul")]
DOMAINS = ["example.com", "example.org", "example.net", "mail.test", "inbox.test"]
COLUMNS = ("name", "gender", "address", "latitude", "longitude", "timezone", "email", "phone",
           "cell", "date_of_birth", "registered_date", "picture_url")


def phone(rng):
    return f"({rng.randint(100, 999)})-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"


def random_user(rng):
    gender = rng.choice(["male", "female"])
    first, last = rng.choice(FIRST), rng.choice(LAST)
    city, tz = rng.choice(CITIES)
    handle = "".join(c for c in f"{first}.{last}".lower() if c in string.ascii_lowercase + ".")
    now = datetime.now(timezone.utc)
    dob = now - timedelta(days=rng.randint(18 * 365, 90 * 365), seconds=rng.randint(0, 86399))
    reg = now - timedelta(days=rng.randint(0, 20 * 365), seconds=rng.randint(0, 86399))
    kind = "men" if gender == "male" else "women"
    return (
        f"{first} {last}",
        gender,
        f"{rng.randint(1, 9999)} {rng.choice(STREETS)}, {city}",
        round(rng.uniform(-90, 90), 6),
        round(rng.uniform(-180, 180), 6),
        tz,
        f"{handle}{rng.randint(1, 999)}@{rng.choice(DOMAINS)}",
        phone(rng),
        phone(rng),
        dob,
        reg,
        f"https://pictures.example/{kind}/{rng.randint(1, 99)}.jpg",
    )


class Workload:
    def __init__(self, dsn, table, seed):
        self.rng = random.Random(seed)
        self.table = table
        self.conn = psycopg2.connect(dsn)
        self.conn.autocommit = False
        self.ids = []  # live ids we inserted (or found at start): update/delete targets
        self.counts = {"c": 0, "u": 0, "d": 0}
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT id FROM {table}")
            self.ids = [r[0] for r in cur.fetchall()]
        self.conn.commit()

    def _commit(self, op):
        self.conn.commit()
        self.counts[op] += 1

    def insert(self):
        cols = ", ".join(COLUMNS)
        ph = ", ".join(["%s"] * len(COLUMNS))
        with self.conn.cursor() as cur:
            cur.execute(f"INSERT INTO {self.table} ({cols}) VALUES ({ph}) RETURNING id",
                        random_user(self.rng))
            new_id = cur.fetchone()[0]
        self._commit("c")
        self.ids.append(new_id)

    def update(self):
        if not self.ids:
            return self.insert()
        i = self.rng.choice(self.ids)
        u = random_user(self.rng)
        choice = self.rng.random()
        with self.conn.cursor() as cur:
            if choice < 0.4:   # moved
                cur.execute(f"UPDATE {self.table} SET address = %s, latitude = %s, longitude = %s, "
                            f"timezone = %s WHERE id = %s", (u[2], u[3], u[4], u[5], i))
            elif choice < 0.7:  # new contact details
                cur.execute(f"UPDATE {self.table} SET email = %s, phone = %s, cell = %s "
                            f"WHERE id = %s", (u[6], u[7], u[8], i))
            else:               # new picture
                cur.execute(f"UPDATE {self.table} SET picture_url = %s WHERE id = %s", (u[11], i))
            n = cur.rowcount
        if n != 1:  # someone else deleted it: nothing changed, nothing to count
            self.conn.rollback()
            self.ids.remove(i)
            return
        self._commit("u")

    def delete(self):
        if not self.ids:
            return self.insert()
        k = self.rng.randrange(len(self.ids))
        i = self.ids[k]
        with self.conn.cursor() as cur:
            cur.execute(f"DELETE FROM {self.table} WHERE id = %s", (i,))
            n = cur.rowcount
        self.ids[k] = self.ids[-1]  # O(1) removal
        self.ids.pop()
        if n != 1:
            self.conn.rollback()
            return
        self._commit("d")

    def step(self, mix):
        r = self.rng.random() * sum(mix)
        if r < mix[0]:
            self.insert()
        elif r < mix[0] + mix[1]:
            self.update()
        else:
            self.delete()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=postgres")
    ap.add_argument("--table", default="fabric.user_data")
    ap.add_argument("--rate", type=float, default=200.0, help="operations per second")
    ap.add_argument("--seconds", type=float, default=0, help="stop after N seconds (0 = never)")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--mix", default="60,30,10", help="insert,update,delete weights")
    ap.add_argument("--report", type=float, default=0, help="progress to stderr every N s")
    a = ap.parse_args()
    mix = [float(x) for x in a.mix.split(",")]
    assert len(mix) == 3 and sum(mix) > 0, "--mix needs three weights"

    stop = {"flag": False}

    def on_signal(signum, frame):
        stop["flag"] = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    w = Workload(a.dsn, a.table, a.seed)
    start = time.monotonic()
    next_report = start + a.report if a.report else None
    interval = 1.0 / a.rate if a.rate > 0 else 0.0
    n = 0
    # Pace against the start time (not per-op sleeps) so the rate holds even
    # when individual commits are slow; if we fall behind we just run flat out.
    while not stop["flag"]:
        now = time.monotonic()
        if a.seconds and now - start >= a.seconds:
            break
        due = start + n * interval
        if due > now:
            time.sleep(min(due - now, 0.2))
            continue
        w.step(mix)
        n += 1
        if next_report and now >= next_report:
            c = w.counts
            print(f"[workload] c={c['c']} u={c['u']} d={c['d']}", file=sys.stderr, flush=True)
            next_report += a.report
    w.conn.close()
    c = dict(w.counts)
    c["total"] = c["c"] + c["u"] + c["d"]
    c["seconds"] = round(time.monotonic() - start, 3)
    print(json.dumps(c), flush=True)


if __name__ == "__main__":
    main()
