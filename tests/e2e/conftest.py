"""pytest fixtures for pgcdc's end-to-end tests.

Fixtures:
  pg          session-wide rig cluster (tests/rig/pgrig.py); tests must use
              their own tables/slots (see `unique_name`), never restart it.
  make_pg     factory for a private cluster: make_pg(settings={...}) -> PgCluster,
              destroyed at the end of the test (for restart/crash/settings tests).
  pgcdc_bin   path of the binary: $PGCDC_BIN or <repo>/build/pgcdc; a missing
              binary FAILS the test (it is not a skip).
  unique_name short identifier unique to this test, usable in slot names.
  pgcdc       factory: pgcdc(pg=None, tables="s.t", **config) -> Pgcdc, with
              its own slot, publication, topic prefix and tmp dir; all stopped
              at teardown, and their logs printed if the test failed.
  kafka       session-wide Kafka broker (tests/rig/kafkarig.py): KRaft, one
              node, a PLAINTEXT listener (.bootstrap) and a SASL/PLAIN one
              (.sasl_bootstrap, .sasl_user, .sasl_password), topics
              auto-created.  Tests use their own topics (`unique_name`) and
              never stop it.  Its log since the start of a failed test is printed.
  make_kafka  factory for a private broker: make_kafka(sasl=False,
              auto_create=True, props={...}) -> KafkaBroker, started; destroyed
              at the end of the test (for stop/restart/kill tests); its log is
              printed if the test failed.
  The first Kafka fixture of a run resolves the broker's jars with mvn
  (cached in ~/.cache/pgcdc/kafka-<version>, see kafkarig.resolve_jars).
  s3          session-wide MinIO server (tests/rig/s3rig.py) with bucket
              "pgcdc": .endpoint, .access_key, .secret_key, .region, .bucket,
              .env() (AWS_* variables), .filesystem() (pyarrow),
              .delta_storage_options(), .list_objects("bucket/prefix/").
              Tests use their own prefixes (`unique_name`) and never stop it.
  make_s3     factory for a private server: make_s3(bucket="pgcdc") ->
              MinioServer, started; destroyed at the end of the test (for
              stop/kill/start tests); its log is printed if the test failed.
  The first S3 fixture of a run builds MinIO with go install (cached in
  ~/.cache/pgcdc/minio-<version>, see s3rig.build_minio).
  elasticsearch  session-wide Elasticsearch 7.17 node (tests/rig/esrig.py), one
              node, security off; .url, .request(), .count(index), .docs(index).
              Tests use their own indices (`unique_name`) and never stop it.
  make_elasticsearch  factory for a private node: make_elasticsearch(security=False,
              tls=False, kind="elasticsearch"|"opensearch") -> EsNode, started;
              destroyed at the end of the test (for stop/start tests); its log
              is printed if the test failed.  The first use fetches the server
              with mvn (cached in ~/.cache/pgcdc/<kind>-<version>).
  debezium    factory: debezium(cluster=None, tables="s.t", name=None, **props)
              -> DebeziumOracle (tests/rig/debeziumrig.py): real Debezium
              (embedded engine, PostgreSQL connector, pgoutput) against the
              `pg` cluster with its own slot and publication, started and
              streaming (its slot active); name is the topic prefix (pass
              the pgcdc helper's name to get the same topics).  Records:
              .records() / .wait_records(n, timeout) -> [{"topic","key","value"}]
              (key/value as JsonConverter writes them, null for a tombstone).
              .stop() / .start() (waits for the slot again) resume from its
              offsets.  Stopped at teardown, its log printed if the test failed.  The
              first use resolves its jars with mvn and compiles the oracle
              (cached in ~/.cache/pgcdc/debezium-<version>).

Kafka helpers (plain functions; bootstrap is "host:port" or a client config
dict such as kafka.client_config(sasl=True)):
  kafka_consume(bootstrap, topic, n=None, timeout) -> [KafkaRecord] read from
              the beginning, without a consumer group; n=None reads up to the
              end offsets.  KafkaRecord: topic, partition, offset, key, value
              (bytes or None), headers [(name, bytes)], timestamp, key_text,
              value_text, value_json(), header(name).
  kafka_topics(bootstrap) -> {topic: partition count} (internal topics left out)

Pgcdc (one pgcdc process and its files):
  .config (dict of flattened Debezium keys), .write_config(), .write_json_config()
  .start(wait=True) / .wait_ready() / .stop() -> exit code / .kill() / .interrupt()
  .events(topic) / .payloads(topic) / .wait_events(topic, n, timeout)
  .topic(schema, table) / .offsets() / .log_text() / .wait_log(regex)
  .run_cmd("check" | "slots" | ..., *args) -> CompletedProcess
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests" / "rig"))

from kafkarig import KafkaBroker, KafkaRecord, consume, jars_resolved, list_topics  # noqa: E402
from kafkarig import resolve_jars  # noqa: E402
import debeziumrig  # noqa: E402
from debeziumrig import DebeziumOracle  # noqa: E402
from pgrig import PgCluster  # noqa: E402
import s3rig  # noqa: E402
from s3rig import MinioServer  # noqa: E402
import esrig  # noqa: E402

DEFAULT_TIMEOUT = float(os.environ.get("PGCDC_E2E_TIMEOUT", "30"))
# The ASan binary is several times slower: let the suite scale its waits.
if os.environ.get("PGCDC_E2E_ASAN") == "1":
    DEFAULT_TIMEOUT *= 3


# --------------------------------------------------------------- reporting
def pytest_configure(config):
    config.addinivalue_line(
        "markers", "rig: tests of the test rig itself (its servers and readers), not of pgcdc; "
        "the sanitizer pass of scripts/test.sh leaves them out")
    config.addinivalue_line(
        "markers", "readers: third-party readers (Spark, DuckDB) checked on pgcdc's output; the "
        "sanitizer pass leaves them out (pgcdc's side runs there in the other tests)")


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Stores each phase's report on the item so fixtures can see failures."""
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _failed(request) -> bool:
    for when in ("setup", "call"):
        rep = getattr(request.node, "rep_" + when, None)
        if rep is not None and rep.failed:
            return True
    return False


def _tail(text: str, nbytes: int = 6000) -> str:
    return text if len(text) <= nbytes else "...\n" + text[-nbytes:]


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def pg(request, tmp_path_factory):
    cluster = PgCluster()
    cluster.start()
    yield cluster
    keep = None
    if request.session.testsfailed:
        keep = str(tmp_path_factory.getbasetemp() / "postgres-session.log")
        print(f"\n[e2e] PostgreSQL log kept at {keep}")
    cluster.destroy(keep_log_to=keep)


@pytest.fixture
def make_pg(request, tmp_path):
    clusters = []

    def factory(settings: dict | None = None) -> PgCluster:
        c = PgCluster(settings=settings)
        clusters.append(c)
        c.start()
        return c

    yield factory
    failed = _failed(request)
    for i, c in enumerate(clusters):
        keep = str(tmp_path / f"postgres-{i}.log") if failed else None
        if failed:
            print(f"\n===== PostgreSQL log (private cluster {i}, port {c.port}) =====")
            print(_tail(c.log_text()))
        c.destroy(keep_log_to=keep)


def _resolve_kafka_jars(request) -> None:
    """Fetches the broker's jars on first use, showing progress despite capturing."""
    if jars_resolved():
        return
    capman = request.config.pluginmanager.getplugin("capturemanager")
    shown = capman.global_and_fixture_disabled() if capman else contextlib.nullcontext()
    with shown:
        print()
        resolve_jars(progress=lambda msg: print(f"[e2e] {msg}", flush=True))


@pytest.fixture(scope="session")
def kafka(request, tmp_path_factory):
    _resolve_kafka_jars(request)
    broker = KafkaBroker(sasl=True)
    try:
        broker.start()
    except BaseException:
        broker.destroy(keep_log_to=str(tmp_path_factory.getbasetemp() / "kafka-session.log"))
        raise
    yield broker
    keep = None
    if request.session.testsfailed:
        keep = str(tmp_path_factory.getbasetemp() / "kafka-session.log")
        print(f"\n[e2e] Kafka log kept at {keep}")
    broker.destroy(keep_log_to=keep)


@pytest.fixture(autouse=True)
def _kafka_log_on_failure(request):
    """Prints the session broker's log lines written during a failed test that used it."""
    if "kafka" not in request.fixturenames:
        yield
        return
    broker = request.getfixturevalue("kafka")
    start = broker.log_size()
    yield
    if _failed(request):
        print(f"\n===== Kafka log since the start of the test ({broker.log_path}) =====")
        print(broker.log_tail(6000, since=start))


@pytest.fixture
def make_kafka(request, tmp_path):
    brokers: list[KafkaBroker] = []

    def factory(sasl: bool = False, auto_create: bool = True, props: dict | None = None,
                **kw) -> KafkaBroker:
        _resolve_kafka_jars(request)
        b = KafkaBroker(sasl=sasl, auto_create=auto_create, props=props, **kw)
        brokers.append(b)
        b.start()
        return b

    yield factory
    failed = _failed(request)
    for i, b in enumerate(brokers):
        keep = str(tmp_path / f"kafka-{i}.log") if failed else None
        if failed:
            print(f"\n===== Kafka log (private broker {i}, {b.bootstrap}) =====")
            print(_tail(b.log_text()))
        b.destroy(keep_log_to=keep)


def _build_minio(request) -> None:
    """Builds MinIO on first use, showing progress despite capturing."""
    if s3rig.minio_built():
        return
    capman = request.config.pluginmanager.getplugin("capturemanager")
    shown = capman.global_and_fixture_disabled() if capman else contextlib.nullcontext()
    with shown:
        print()
        s3rig.build_minio(progress=lambda msg: print(f"[e2e] {msg}", flush=True))


@pytest.fixture(scope="session")
def s3(request, tmp_path_factory):
    _build_minio(request)
    server = MinioServer()
    try:
        server.start()
    except BaseException:
        server.destroy(keep_log_to=str(tmp_path_factory.getbasetemp() / "minio-session.log"))
        raise
    yield server
    keep = None
    if request.session.testsfailed:
        keep = str(tmp_path_factory.getbasetemp() / "minio-session.log")
        print(f"\n[e2e] MinIO log kept at {keep}")
    server.destroy(keep_log_to=keep)


@pytest.fixture
def make_s3(request, tmp_path):
    servers: list[MinioServer] = []

    def factory(bucket: str | None = s3rig.DEFAULT_BUCKET, **kw) -> MinioServer:
        _build_minio(request)
        srv = MinioServer(bucket=bucket, **kw)
        servers.append(srv)
        srv.start()
        return srv

    yield factory
    failed = _failed(request)
    for i, srv in enumerate(servers):
        keep = str(tmp_path / f"minio-{i}.log") if failed else None
        if failed:
            print(f"\n===== MinIO log (private server {i}, {srv.endpoint}) =====")
            print(_tail(srv.log_text()))
        srv.destroy(keep_log_to=keep)


def _resolve_es(request, kind: str = "elasticsearch") -> None:
    """Fetches and unpacks the server on first use, showing progress despite capturing."""
    capman = request.config.pluginmanager.getplugin("capturemanager")
    shown = capman.global_and_fixture_disabled() if capman else contextlib.nullcontext()
    with shown:
        esrig.resolve_home(kind, progress=lambda msg: print(f"\n[e2e] {msg}", flush=True))


@pytest.fixture(scope="session")
def elasticsearch(request, tmp_path_factory):
    _resolve_es(request)
    node = esrig.EsNode()
    try:
        node.start()
    except BaseException:
        node.destroy(keep_log_to=str(tmp_path_factory.getbasetemp() / "es-session.log"))
        raise
    yield node
    keep = None
    if request.session.testsfailed:
        keep = str(tmp_path_factory.getbasetemp() / "es-session.log")
        print(f"\n[e2e] Elasticsearch log kept at {keep}")
    node.destroy(keep_log_to=keep)


@pytest.fixture
def make_elasticsearch(request, tmp_path):
    nodes: list[esrig.EsNode] = []

    def factory(**kw) -> esrig.EsNode:
        _resolve_es(request, kw.get("kind", "elasticsearch"))
        n = esrig.EsNode(**kw)
        nodes.append(n)
        n.start()
        return n

    yield factory
    failed = _failed(request)
    for i, n in enumerate(nodes):
        if failed:
            print(f"\n===== {n.kind} log (private node {i}, {n.url}) =====")
            print(_tail(n.log_text()))
        n.destroy(keep_log_to=str(tmp_path / f"es-{i}.log") if failed else None)


def _prepare_debezium(request) -> None:
    """Resolves Debezium's jars and compiles the oracle on first use, showing progress."""
    if debeziumrig.jars_resolved():
        debeziumrig.compile_oracle()
        return
    capman = request.config.pluginmanager.getplugin("capturemanager")
    shown = capman.global_and_fixture_disabled() if capman else contextlib.nullcontext()
    with shown:
        print()
        debeziumrig.compile_oracle(progress=lambda msg: print(f"[e2e] {msg}", flush=True))


@pytest.fixture
def debezium(request, pg, tmp_path):
    """Factory for real Debezium engines bound to this test (see the module docstring)."""
    made: list[tuple[DebeziumOracle, PgCluster, str, str]] = []

    def factory(cluster: PgCluster | None = None, tables: str | None = None,
                name: str | None = None, timeout: float = 120, **props) -> DebeziumOracle:
        _prepare_debezium(request)
        c = cluster or pg
        n = name or _unique(request.node.nodeid)
        # Its own slot and publication, never the ones of a pgcdc with the same name.
        slot, pub = f"{n}_dbz_slot", f"{n}_dbz_pub"
        config = {
            "name": f"{n}-oracle",
            "topic.prefix": n,
            "database.hostname": c.host,
            "database.port": c.port,
            "database.user": c.user,
            "database.password": "",
            "database.dbname": c.dbname,
            "slot.name": slot,
            "publication.name": pub,
            "publication.autocreate.mode": "filtered",
            "snapshot.mode": "no_data",
        }
        if tables:
            config["table.include.list"] = tables
        config.update(_dekwarg(props))
        o = DebeziumOracle(str(tmp_path / f"debezium-{len(made)}"), config,
                           ready=lambda: bool((c.slot(slot) or {}).get("active")))
        made.append((o, c, slot, pub))
        o.start(timeout=timeout)
        return o

    yield factory
    failed = _failed(request)
    for o, c, slot, pub in made:
        o.stop()
        if failed:
            print(f"\n===== Debezium {o.props.get('name')} ({o.props_path}) =====")
            print(_tail(o.log_text()))
        try:
            if c.is_running():
                c.drop_slot(slot)
                c.execute(f'DROP PUBLICATION IF EXISTS "{pub}"')
        except Exception as e:  # never mask the test's own outcome
            print(f"[e2e] cleanup of {slot}: {e}")


def kafka_consume(bootstrap: str | dict, topic: str, n: int | None = None,
                  timeout: float = DEFAULT_TIMEOUT,
                  config: dict | None = None) -> list[KafkaRecord]:
    """Records of topic from the beginning, sorted by (partition, offset).

    n: wait for at least n records (AssertionError after timeout); None: all
    records up to the end offsets.  config: extra consumer settings.
    """
    return consume(bootstrap, topic, n=n, timeout=timeout, config=config)


def kafka_topics(bootstrap: str | dict, internal: bool = False) -> dict[str, int]:
    """{topic: partition count} of the broker; __internal topics only if asked."""
    return list_topics(bootstrap, internal=internal)


# Load threads (writers, churn) a test started: stopped when the test ends,
# even when it failed half way, so they never write into the next test.
_BACKGROUND: list = []


def background(thread):
    """Registers a thread with a stop_flag Event; returns it."""
    _BACKGROUND.append(thread)
    return thread


@pytest.fixture(autouse=True)
def _stop_background_threads():
    yield
    while _BACKGROUND:
        t = _BACKGROUND.pop()
        t.stop_flag.set()
        t.join(timeout=30)


@pytest.fixture(scope="session")
def pgcdc_bin() -> str:
    path = os.environ.get("PGCDC_BIN") or str(REPO_ROOT / "build" / "pgcdc")
    path = os.path.abspath(path)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(
            f"pgcdc binary not found at {path}: build it with "
            f"`cmake -S . -B build && cmake --build build -j2` or set PGCDC_BIN",
            pytrace=False,
        )
    return path


@pytest.fixture
def unique_name(request) -> str:
    return _unique(request.node.nodeid)


_counter = [0]


def _unique(seed: str) -> str:
    """[a-z0-9_], starts with a letter, <= 40 chars, unique in the session."""
    _counter[0] += 1
    base = re.sub(r"[^a-z0-9]+", "_", seed.split("::")[-1].lower()).strip("_")[:24]
    h = hashlib.sha1(f"{seed}{_counter[0]}{os.getpid()}".encode()).hexdigest()[:6]
    return f"t_{base}_{h}"


@pytest.fixture
def pgcdc(request, pg, pgcdc_bin, tmp_path):
    """Factory for Pgcdc helpers bound to this test."""
    made: list[Pgcdc] = []

    def factory(cluster: PgCluster | None = None, tables: str | None = None, name: str | None = None,
                **config) -> Pgcdc:
        n = name or _unique(request.node.nodeid)
        workdir = tmp_path / f"pgcdc-{len(made)}"
        p = Pgcdc(pgcdc_bin, cluster or pg, workdir, n, tables=tables, **config)
        made.append(p)
        return p

    yield factory
    failed = _failed(request)
    for p in made:
        p.close()
        if failed:
            p.dump_logs()
        p.cleanup_slot()


# ------------------------------------------------------------------ Pgcdc
def _yaml_scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    # JSON strings are valid YAML double-quoted scalars.
    return json.dumps(str(v))


def to_yaml(config: dict) -> str:
    """Writes flattened keys as YAML; `database.*` nested like the README example."""
    lines, db = [], {}
    for k, v in config.items():
        if v is None:
            continue
        if k.startswith("database.") and k.count(".") == 1:
            db[k.split(".", 1)[1]] = v
        else:
            lines.append(f"{k}: {_yaml_scalar(v)}")
    if db:
        lines.insert(0, "database:")
        for i, (k, v) in enumerate(db.items()):
            lines.insert(1 + i, f"  {k}: {_yaml_scalar(v)}")
    return "\n".join(lines) + "\n"


class Pgcdc:
    """One `pgcdc run` process with its own config, data dir and logs."""

    def __init__(self, binary: str, pg: PgCluster, workdir: Path, name: str,
                 tables: str | None = None, **config):
        self.bin = binary
        self.pg = pg
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.slot = f"{name}_slot"
        self.publication = f"{name}_pub"
        self.topic_prefix = name
        self.data_dir = self.workdir / "data"
        self.config_path = self.workdir / "pgcdc.yaml"
        self.stderr_path = self.workdir / "pgcdc.stderr.log"
        self.stdout_path = self.workdir / "pgcdc.stdout.log"
        self.proc: subprocess.Popen | None = None
        self.returncodes: list[int] = []
        self._pg_log_start = pg.log_size()
        self.config = {
            "topic.prefix": self.topic_prefix,
            "database.hostname": pg.host,
            "database.port": pg.port,
            "database.user": pg.user,
            "database.password": "",
            "database.dbname": pg.dbname,
            "slot.name": self.slot,
            "publication.name": self.publication,
            "snapshot.mode": "no_data",
            "sink.type": "file",
        }
        if tables:
            self.config["table.include.list"] = tables
        self.config.update(_dekwarg(config))

    # ------------------------------------------------------------ config
    def set(self, **config) -> "Pgcdc":
        """Updates config keys; pass dotted keys with '__' for '.' or via dict(**{..})."""
        self.config.update(_dekwarg(config))
        return self

    def write_config(self, path: Path | None = None) -> Path:
        path = Path(path or self.config_path)
        path.write_text(to_yaml(self.config))
        return path

    def write_json_config(self, path: Path | None = None) -> Path:
        """Debezium connector JSON as posted to Kafka Connect (values as strings)."""
        path = Path(path or self.workdir / "connector.json")
        cfg = {"connector.class": "io.debezium.connector.postgresql.PostgresConnector"}
        for k, v in self.config.items():
            if v is None:
                continue
            cfg[k] = ("true" if v else "false") if isinstance(v, bool) else str(v)
        path.write_text(json.dumps({"name": self.name, "config": cfg}, indent=2))
        return path

    # ----------------------------------------------------------- process
    def start(self, wait: bool = True, config_path: Path | None = None, extra_args=(),
              timeout: float = DEFAULT_TIMEOUT, env: dict | None = None) -> "Pgcdc":
        assert self.proc is None or self.proc.poll() is not None, "pgcdc already running"
        if config_path is None:
            config_path = self.write_config()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = [self.bin, "run", "--config", str(config_path), "--data-dir", str(self.data_dir),
                *extra_args]
        # Append: a restarted process keeps the earlier runs' logs in one file.
        err = open(self.stderr_path, "ab")
        err.write(f"\n===== {' '.join(argv)} ({time.strftime('%H:%M:%S')}) =====\n".encode())
        err.flush()
        out = open(self.stdout_path, "ab")
        e = dict(os.environ)
        e.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        e.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        e.update(env or {})
        self.proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                     cwd=self.workdir, env=e)
        err.close()
        out.close()
        if wait:
            self.wait_ready(timeout)
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Waits until our slot exists and is active (pgcdc is streaming)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self._check_alive("while waiting for the slot to become active")
            s = self.pg.slot(self.slot)
            if s and s["active"]:
                return
            time.sleep(0.1)
        raise AssertionError(f"pgcdc slot {self.slot} not active after {timeout}s\n"
                             + self.log_summary())

    def wait_log(self, pattern: str, timeout: float = DEFAULT_TIMEOUT) -> re.Match:
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        while True:
            m = rx.search(self.log_text())
            if m:
                return m
            if time.time() >= deadline:
                raise AssertionError(f"log line /{pattern}/ not seen in {timeout}s\n"
                                     + self.log_summary())
            if not self.alive:
                m = rx.search(self.log_text())
                if m:
                    return m
                raise AssertionError(f"pgcdc exited ({self.proc.returncode if self.proc else None})"
                                     f" before logging /{pattern}/\n" + self.log_summary())
            time.sleep(0.1)

    def _signal(self, sig, timeout: float) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"pgcdc did not exit {timeout}s after signal {sig}\n"
                                     + self.log_summary())
        rc = self.proc.returncode
        self.returncodes.append(rc)
        self.proc = None
        return rc

    def stop(self, timeout: float = DEFAULT_TIMEOUT) -> int | None:
        """SIGTERM and wait; returns the exit code (0 expected)."""
        return self._signal(signal.SIGTERM, timeout)

    def interrupt(self, timeout: float = DEFAULT_TIMEOUT) -> int | None:
        return self._signal(signal.SIGINT, timeout)

    def kill(self) -> int | None:
        """kill -9: a crash, no chance to flush."""
        return self._signal(signal.SIGKILL, 10)

    def wait_exit(self, timeout: float = DEFAULT_TIMEOUT) -> int:
        assert self.proc is not None
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"pgcdc still running after {timeout}s\n" + self.log_summary())
        self.returncodes.append(rc)
        self.proc = None
        return rc

    def _check_alive(self, what: str) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"pgcdc exited with {self.proc.returncode} {what}\n"
                                 + self.log_summary())

    def run_cmd(self, subcommand: str, *args, timeout: float = DEFAULT_TIMEOUT,
                config: bool = True) -> subprocess.CompletedProcess:
        """Runs `pgcdc <subcommand> [--config FILE] args...` to completion."""
        argv = [self.bin, subcommand]
        if config:
            argv += ["--config", str(self.write_config())]
        argv += list(args)
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, cwd=self.workdir)

    # ------------------------------------------------------------- output
    def topic(self, schema: str, table: str) -> str:
        return f"{self.topic_prefix}.{schema}.{table}"

    def topic_path(self, topic: str) -> Path:
        if not topic.startswith(self.topic_prefix + "."):
            topic = f"{self.topic_prefix}.{topic}"  # "schema.table" shorthand
        return self.data_dir / f"{topic}.jsonl"

    def events(self, topic: str) -> list:
        """Every complete line of the topic's file, parsed (None for a `null` tombstone)."""
        p = self.topic_path(topic)
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n")
        if end < 0:
            return []
        out = []
        for i, line in enumerate(data[: end + 1].splitlines()):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise AssertionError(f"{p}:{i + 1}: not JSON ({e}): {line[:300]!r}") from None
        return out

    def line_count(self, topic: str) -> int:
        """Complete lines in the topic's file, without parsing (cheap enough to poll)."""
        try:
            return self.topic_path(topic).read_bytes().count(b"\n")
        except FileNotFoundError:
            return 0

    def payloads(self, topic: str) -> list:
        """Events with the JsonConverter envelope removed ({"schema","payload"} -> payload)."""
        return [unwrap(e) for e in self.events(topic)]

    def wait_events(self, topic: str, n: int, timeout: float = DEFAULT_TIMEOUT,
                    exact: bool = False) -> list:
        """Waits until the topic has >= n events (== n after a short settle if exact)."""
        deadline = time.time() + timeout
        ev = []
        while time.time() < deadline:
            ev = self.events(topic)
            if len(ev) >= n:
                if exact:
                    time.sleep(0.5)
                    ev = self.events(topic)
                    assert len(ev) == n, f"expected exactly {n} events on {topic}, got {len(ev)}"
                return ev
            self._check_alive(f"while waiting for {n} events on {topic} (have {len(ev)})")
            time.sleep(0.1)
        raise AssertionError(f"{topic}: {len(ev)} events after {timeout}s, wanted {n}\n"
                             + self.log_summary())

    def offsets(self) -> dict | None:
        p = self.data_dir / "offsets.json"
        try:
            return json.loads(p.read_text())
        except FileNotFoundError:
            return None

    # --------------------------------------------------------------- logs
    def log_text(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_summary(self) -> str:
        return (f"--- pgcdc stderr ({self.stderr_path}) ---\n{_tail(self.log_text())}\n"
                f"--- PostgreSQL log since start of test ---\n"
                f"{self.pg.log_tail(6000, since=self._pg_log_start)}")

    def dump_logs(self) -> None:
        print(f"\n===== pgcdc {self.name} (config {self.config_path}) =====")
        try:
            print(self.config_path.read_text())
        except FileNotFoundError:
            pass
        print(self.log_summary())

    def close(self) -> None:
        if self.alive:
            try:
                self.stop(timeout=10)
            except AssertionError:
                pass

    def cleanup_slot(self) -> None:
        """Drops our slot and publication so the session cluster does not retain WAL."""
        try:
            if self.pg.is_running():
                self.pg.drop_slot(self.slot)
                self.pg.execute(f'DROP PUBLICATION IF EXISTS "{self.publication}"')
        except Exception as e:  # never mask the test's own outcome
            print(f"[e2e] cleanup of {self.slot}: {e}")


def unwrap(event):
    if isinstance(event, dict) and set(event.keys()) == {"schema", "payload"}:
        return event["payload"]
    return event


def _dekwarg(config: dict) -> dict:
    """Allows Python kwargs for dotted keys: slot__name=... -> slot.name."""
    return {k.replace("__", "."): v for k, v in config.items()}
