#!/usr/bin/env python3
"""debeziumrig - real Debezium as the compatibility oracle of pgcdc's tests.

Debezium's PostgreSQL connector runs in its embedded engine inside a small
Java program, tests/rig/oracle/DebeziumOracle.java, that appends every record
the engine produces to a file as one JSON line::

    {"topic": "<prefix>.<schema>.<table>", "key": <key JSON or null>, "value": <value JSON or null>}

Keys and values are serialized by Kafka Connect's JsonConverter, as a Kafka
Connect worker would write them to Kafka (schemas included by default).  The
jars come from Maven Central: resolve_jars() runs ``mvn
dependency:copy-dependencies`` on a generated pom.xml naming
``io.debezium:debezium-embedded``, ``io.debezium:debezium-connector-postgres``,
``org.apache.kafka:connect-json`` and an slf4j binding, into a cache directory
reused by every later run; the program is compiled with javac into the same
directory (again only when its source changed).

Library use::

    from debeziumrig import DebeziumOracle
    o = DebeziumOracle("/tmp/d", {"connector.class": "io.debezium.connector.postgresql.PostgresConnector",
                                  "database.hostname": ..., "topic.prefix": "p", ...})
    o.start(ready=lambda: slot_is_active())   # resolves jars/compiles on first use
    o.wait_records(4, timeout=60)              # -> list of {"topic","key","value"}
    o.records(); o.log_text(); o.log_path
    o.stop()                                   # SIGTERM: the engine commits its offsets

Offsets are kept in <workdir>/offsets.dat (FileOffsetBackingStore), so a
stopped oracle started again resumes where it stopped.

The benchmark (bench/head_to_head.py) uses the program's other outputs, chosen
with "oracle.*" properties that the engine never sees (see the Java source):
``oracle.output=values`` writes only the values to the file, fsynced once per
batch; ``oracle.output=kafka`` sends the records to Kafka with a Kafka Connect
worker's producer settings (``oracle.producer.<key>`` on top);
``oracle.done.after``/``oracle.done.file`` mark when N records were written.
``jvm_opts=[]`` runs the JVM with its own defaults instead of the rig's.

Command line::

    python3 tests/rig/debeziumrig.py resolve   # fetch the jars, compile, print the cache dir

Environment: PGCDC_DEBEZIUM_VERSION picks another release (default
DEBEZIUM_VERSION; 3.x needs Java 17+), PGCDC_DEBEZIUM_JARS the cache directory
(default ~/.cache/pgcdc/debezium-<version>), JAVA_HOME or PATH the java and
javac binaries (Debian: default-jdk-headless, maven).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Callable

from kafkarig import (RigError, _file_lock, _java, cache_dir, manifest_complete,
                      mvn_resolve, pom_xml)
from rigutil import LogFile

# 3.0.8.Final: the newest release of the 3.0 line pgcdc's events follow
# (docs/COMPATIBILITY.md); 3.x runs on Java 17.  CONNECT_VERSION pins
# connect-json to the Kafka release a Debezium line is built against (the
# version of its own connect-api/connect-runtime dependencies); for a line not
# listed, connect-json comes with debezium-embedded's dependencies.
DEBEZIUM_VERSION = "3.0.8.Final"
CONNECT_VERSION = {"3.0": "3.9.0"}
SLF4J_BINDING = ("org.slf4j", "slf4j-simple", "1.7.36")
COMPLETE_FILE = ".complete"
MAIN_CLASS = "DebeziumOracle"
SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "oracle", "DebeziumOracle.java")

# Engine settings every oracle gets (the caller's props override them).
DEFAULT_PROPS = {
    "name": "pgcdc-oracle",
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "offset.storage": "org.apache.kafka.connect.storage.FileOffsetBackingStore",
    "offset.flush.interval.ms": 0,
    "plugin.name": "pgoutput",
}


def _log(msg: str) -> None:
    print(f"[debeziumrig] {msg}", file=sys.stderr, flush=True)


def debezium_version() -> str:
    return os.environ.get("PGCDC_DEBEZIUM_VERSION") or DEBEZIUM_VERSION


def jar_dir(version: str | None = None) -> str:
    """$PGCDC_DEBEZIUM_JARS or ~/.cache/pgcdc/debezium-<version>."""
    return cache_dir("PGCDC_DEBEZIUM_JARS", f"debezium-{version or debezium_version()}")


def _connect_version(version: str) -> str | None:
    return CONNECT_VERSION.get(".".join(version.split(".")[:2]))


def _pom(version: str) -> str:
    deps = [("io.debezium", "debezium-embedded", version),
            ("io.debezium", "debezium-connector-postgres", version)]
    if _connect_version(version):
        deps.append(("org.apache.kafka", "connect-json", _connect_version(version)))
    deps.append(SLF4J_BINDING)
    return pom_xml("the class path of Debezium's embedded engine", "debezium-oracle", version,
                   deps)


def jars_resolved(version: str | None = None, cache_dir: str | None = None) -> bool:
    version = version or debezium_version()
    d = cache_dir or jar_dir(version)
    try:
        return manifest_complete(d, version)
    except (OSError, ValueError):
        return False


def resolve_jars(version: str | None = None, cache_dir: str | None = None,
                 progress: Callable[[str], None] = _log, timeout: float = 1200) -> str:
    """Resolves the engine's jars with mvn into cache_dir; returns cache_dir.

    Idempotent and atomic: kafkarig.mvn_resolve does the work.
    """
    version = version or debezium_version()

    def check(jars: list[str]) -> str | None:
        for needed in (f"debezium-embedded-{version}.jar",
                       f"debezium-connector-postgres-{version}.jar"):
            if needed not in jars:
                return f"{needed} is missing"
        if not any(j.startswith("connect-json-") for j in jars):
            return "no connect-json jar is"
        return None

    return mvn_resolve(os.path.abspath(cache_dir or jar_dir(version)), _pom(version), version,
                       f"io.debezium:debezium-embedded:{version}", "PGCDC_DEBEZIUM",
                       lambda d: jars_resolved(version, d), check, progress, timeout)


def _javac() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and os.access(os.path.join(home, "bin", "javac"), os.X_OK):
        return os.path.join(home, "bin", "javac")
    j = shutil.which("javac")
    if j is None:
        raise RigError("javac not found: install default-jdk-headless "
                       "(bash scripts/install-deps.sh) or set JAVA_HOME")
    return j


def compile_oracle(version: str | None = None, cache_dir: str | None = None,
                   progress: Callable[[str], None] = _log) -> str:
    """Resolves the jars and compiles DebeziumOracle.java; returns the classes directory.

    Each version of the source gets its own directory, classes-<its hash>, so
    checkouts with different versions never recompile over each other's
    running programs; a version is compiled once.
    """
    d = resolve_jars(version, cache_dir, progress)
    with open(SOURCE, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    classes = os.path.join(d, f"classes-{digest[:12]}")
    stamp = os.path.join(classes, ".source-sha256")

    def current() -> bool:
        try:
            with open(stamp) as f:
                return f.read().strip() == digest and \
                    os.path.isfile(os.path.join(classes, MAIN_CLASS + ".class"))
        except OSError:
            return False

    if current():
        return classes
    with _file_lock(d + ".lock"):
        if current():
            return classes
        scratch = tempfile.mkdtemp(prefix="classes.tmp-", dir=d)
        try:
            r = subprocess.run([_javac(), "-nowarn", "-encoding", "UTF-8",
                                "-cp", os.path.join(d, "*"), "-d", scratch, SOURCE],
                               capture_output=True, text=True, stdin=subprocess.DEVNULL)
            if r.returncode != 0:
                raise RigError(f"javac failed on {SOURCE}:\n{r.stdout}{r.stderr}")
            with open(os.path.join(scratch, ".source-sha256"), "w") as f:
                f.write(digest + "\n")
            shutil.rmtree(classes, ignore_errors=True)
            os.rename(scratch, classes)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        progress(f"compiled {os.path.basename(SOURCE)} into {classes}")
    return classes


def _prop_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _escape_prop(s: str) -> str:
    """java.util.Properties escaping for keys and values."""
    out = []
    for c in s:
        if c in "\\:=#! ":
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif ord(c) > 0x7e or ord(c) < 0x20:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return "".join(out)


class DebeziumOracle(LogFile):
    """One embedded Debezium engine writing its records to <workdir>/records.jsonl.

    props: connector and engine settings (flattened keys, values converted
    with str(); a value of None removes a default).  heap: -Xmx.  ready: the
    default readiness check of start().  jvm_opts: None for the rig's quick
    JVM flags (-Xmx<heap>, serial GC, C1 only); a list replaces them (heap is
    then ignored), [] leaves the JVM to its own defaults.
    """

    def __init__(self, workdir: str, props: dict, version: str | None = None,
                 heap: str = "384m", ready: Callable[[], bool] | None = None,
                 jvm_opts: list[str] | None = None):
        self.ready = ready
        self.jvm_opts = jvm_opts
        self.workdir = os.path.abspath(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.version = version or debezium_version()
        self.heap = heap
        self.props_path = os.path.join(self.workdir, "connector.properties")
        self.records_path = os.path.join(self.workdir, "records.jsonl")
        self.offsets_path = os.path.join(self.workdir, "offsets.dat")
        self.log_path = os.path.join(self.workdir, "debezium.log")
        self.props = dict(DEFAULT_PROPS)
        self.props["offset.storage.file.filename"] = self.offsets_path
        for k, v in props.items():
            if v is None:
                self.props.pop(k, None)
            else:
                self.props[k] = v
        self.proc: subprocess.Popen | None = None
        self.returncodes: list[int] = []

    def write_props(self) -> str:
        with open(self.props_path, "w") as f:
            f.write("# generated by tests/rig/debeziumrig.py\n")
            for k, v in self.props.items():
                f.write(f"{_escape_prop(k)}={_escape_prop(_prop_value(v))}\n")
        return self.props_path

    @property
    def pid(self) -> int | None:
        """The java process's pid while it runs."""
        return self.proc.pid if self.alive else None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, ready: Callable[[], bool] | None = None, timeout: float = 120,
              progress: Callable[[str], None] = _log) -> "DebeziumOracle":
        """Starts the engine; with ready (or self.ready), waits until ready() is true
        (e.g. its slot is active)."""
        assert not self.alive, "oracle already running"
        ready = ready or self.ready
        classes = compile_oracle(self.version, progress=progress)
        jars = os.path.dirname(classes)
        self.write_props()
        flags = [f"-Xmx{self.heap}", "-Xss512k", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"] \
            if self.jvm_opts is None else list(self.jvm_opts)
        argv = [_java(), *flags, "-Dorg.slf4j.simpleLogger.showDateTime=true",
                "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
                "-cp", f"{classes}{os.pathsep}{os.path.join(jars, '*')}",
                MAIN_CLASS, self.props_path, self.records_path]
        log = open(self.log_path, "ab")
        log.write(f"\n===== {' '.join(argv)} ({time.strftime('%H:%M:%S')}) =====\n".encode())
        log.flush()
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.workdir)
        log.close()
        if ready is not None:
            deadline = time.time() + timeout
            while not ready():
                if not self.alive:
                    raise RigError(f"Debezium exited ({self.proc.returncode}) while starting\n"
                                   + self.log_tail(6000))
                if time.time() > deadline:
                    raise RigError(f"Debezium not ready after {timeout}s\n" + self.log_tail(6000))
                time.sleep(0.2)
        return self

    def stop(self, timeout: float = 60) -> int | None:
        """SIGTERM (a clean engine shutdown, offsets committed) and wait; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.returncodes.append(rc)
        self.proc = None
        return rc

    def records(self) -> list[dict]:
        """Every complete line of the records file, parsed."""
        try:
            with open(self.records_path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n")
        return [json.loads(line) for line in data[: end + 1].splitlines() if line.strip()]

    def wait_records(self, n: int, timeout: float = 60, topic: str | None = None) -> list[dict]:
        """Waits until >= n records (of topic, if given) were written; returns them."""
        deadline = time.time() + timeout
        recs: list[dict] = []
        while True:
            recs = [r for r in self.records() if topic is None or r["topic"] == topic]
            if len(recs) >= n:
                return recs
            if not self.alive:
                raise RigError(f"Debezium exited after {len(recs)} of {n} records\n"
                               + self.log_tail(6000))
            if time.time() > deadline:
                raise RigError(f"{len(recs)} of {n} Debezium records after {timeout}s\n"
                               + self.log_tail(6000))
            time.sleep(0.2)

    def __enter__(self) -> "DebeziumOracle":
        return self

    def __exit__(self, *exc) -> bool:
        self.stop()
        return False


def _main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("resolve", help="fetch the jars and compile the oracle; print the cache dir")
    args = ap.parse_args(argv)
    if args.cmd == "resolve":
        classes = compile_oracle()
        print(os.path.dirname(classes))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
