#!/usr/bin/env python3
"""kafkarig - a throwaway Apache Kafka broker for pgcdc's tests.

One KRaft node in combined mode (broker and controller in one JVM) on free
loopback ports, its data and logs in one directory.  The broker's jars come
from Maven Central: resolve_jars() runs ``mvn dependency:copy-dependencies``
on a generated pom.xml naming ``org.apache.kafka:kafka_2.13`` and a logging
backend, into a cache directory reused by every later run.

Library use::

    from kafkarig import KafkaBroker
    with KafkaBroker("/tmp/k", sasl=True) as kb:     # resolves jars on first use
        kb.bootstrap, kb.sasl_bootstrap               # "127.0.0.1:PORT"
        kb.sasl_user, kb.sasl_password, kb.sasl_mechanism
        kb.client_config(sasl=True)                   # librdkafka settings for a client
        kb.create_topic("t", partitions=6)
        kb.topics()                                   # {name: partition count}
        kb.stop(); kb.start()                         # same ports, same data
        kb.restart(); kb.kill()                       # kill = SIGKILL, no clean shutdown
        kb.log_text(), kb.log_path

    consume("127.0.0.1:PORT", "t", n=10)              # KafkaRecord list, from the beginning

Command line::

    python3 tests/rig/kafkarig.py resolve             # fetch the jars, print the cache dir
    python3 tests/rig/kafkarig.py start --dir D [--sasl] [--no-auto-create] [--fresh]
        -> prints shell assignments KAFKARIG_DIR, KAFKARIG_BOOTSTRAP, KAFKARIG_LOG
           (and KAFKARIG_SASL_BOOTSTRAP/_USER/_PASSWORD with --sasl) and leaves it running
    python3 tests/rig/kafkarig.py stop --dir D [--kill] [--rm]
    python3 tests/rig/kafkarig.py status --dir D

Environment: PGCDC_KAFKA_VERSION picks another release (default KAFKA_VERSION;
3.x and 4.x both work), PGCDC_KAFKA_JARS the jar directory (default
~/.cache/pgcdc/kafka-<version>), JAVA_HOME or PATH the java binary.  The rig
needs java (17+) and mvn (Debian: default-jre-headless, maven); clients use
confluent-kafka, imported lazily.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import fcntl
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from typing import Callable, Iterator

from rigutil import ServerProcess, add_stop_status_commands, cli_status, cli_stop, load_state

# 4.3.1: the newest 4.x line whose artifacts all resolve from Maven Central.
KAFKA_VERSION = "4.3.1"
SCALA_VERSION = "2.13"
DEPENDENCY_PLUGIN = "3.8.1"
# Logging backends the kafka_2.13 artifact does not pull in itself: without an
# slf4j binding the broker would log nothing.  3.x logs through log4j 1
# (reload4j), 4.x through log4j 2.
LOG_DEPS = {
    3: [("org.slf4j", "slf4j-reload4j", "1.7.36"), ("ch.qos.reload4j", "reload4j", "1.2.25")],
    4: [("org.apache.logging.log4j", "log4j-slf4j-impl", "2.25.4")],
}
STATE_FILE = "kafkarig.json"
COMPLETE_FILE = ".complete"
MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
NODE_ID = 1

# Broker settings every rig broker gets; callers override or add with
# props={...} (a value of None removes a default).  Replication factors are 1
# (one node) and internal topics small so that first use is quick.
DEFAULT_PROPS = {
    "num.partitions": 1,
    "default.replication.factor": 1,
    "offsets.topic.replication.factor": 1,
    "offsets.topic.num.partitions": 5,
    "transaction.state.log.replication.factor": 1,
    "transaction.state.log.min.isr": 1,
    "transaction.state.log.num.partitions": 5,
    "share.coordinator.state.topic.replication.factor": 1,
    "share.coordinator.state.topic.min.isr": 1,
    "group.initial.rebalance.delay.ms": 0,
    "num.network.threads": 2,
    "num.io.threads": 2,
    "background.threads": 2,
    "num.recovery.threads.per.data.dir": 1,
    "log.cleaner.threads": 1,
    # After a kill the restarted broker must wait out its previous incarnation's
    # session before it may register again: 4 s instead of 9 s.
    "broker.session.timeout.ms": 4000,
    "broker.heartbeat.interval.ms": 1000,
}
# Serial GC and C1 only: fewer threads and a quicker start on a small machine.
TEST_JVM_OPTS = ["-Xms64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]
# What bin/kafka-run-class.sh gives the broker (KAFKA_JVM_PERFORMANCE_OPTS): G1
# and the C2 compiler.  kafka-server-start.sh also sets -Xms to -Xmx (1G).
KAFKA_SCRIPT_JVM_OPTS = ["-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
                         "-XX:InitiatingHeapOccupancyPercent=35",
                         "-XX:+ExplicitGCInvokesConcurrent"]
DEFAULT_SASL_USER = "pgcdc"
DEFAULT_SASL_PASSWORD = "pgcdc-secret"


class RigError(RuntimeError):
    pass


def _log(msg: str) -> None:
    print(f"[kafkarig] {msg}", file=sys.stderr, flush=True)


def kafka_version() -> str:
    return os.environ.get("PGCDC_KAFKA_VERSION") or KAFKA_VERSION


def cache_dir(env_var: str, name: str) -> str:
    """$<env_var> if set, else ~/.cache/pgcdc/<name> (honouring $XDG_CACHE_HOME)."""
    if os.environ.get(env_var):
        return os.path.abspath(os.environ[env_var])
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "pgcdc", name)


def jar_dir(version: str | None = None) -> str:
    """Where the jars of `version` live: $PGCDC_KAFKA_JARS or ~/.cache/pgcdc/kafka-<version>."""
    return cache_dir("PGCDC_KAFKA_JARS", f"kafka-{version or kafka_version()}")


def _major(version: str) -> int:
    return int(version.split(".", 1)[0])


def pom_xml(what: str, artifact_id: str, version: str, deps: list[tuple[str, ...]]) -> str:
    """A pom.xml whose dependencies (groupId, artifactId, version[, type]) are
    the class path (or distribution archives) to resolve; `what` says whose,
    in its comment."""
    dep_xml = "\n".join(
        f"    <dependency><groupId>{d[0]}</groupId><artifactId>{d[1]}</artifactId>"
        f"<version>{d[2]}</version>" + (f"<type>{d[3]}</type>" if len(d) > 3 else "") +
        "</dependency>" for d in deps)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- generated by tests/rig: {what} -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>pgcdc.rig</groupId>
  <artifactId>{artifact_id}</artifactId>
  <version>{version}</version>
  <packaging>pom</packaging>
  <dependencies>
{dep_xml}
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>{DEPENDENCY_PLUGIN}</version>
      </plugin>
    </plugins>
  </build>
</project>
"""


def _pom(version: str) -> str:
    deps = [("org.apache.kafka", f"kafka_{SCALA_VERSION}", version)]
    deps += LOG_DEPS.get(_major(version), LOG_DEPS[4])
    return pom_xml("the runtime class path of a Kafka broker", "kafka-broker", version, deps)


def manifest_complete(d: str, version: str, key: str = "jars") -> bool:
    """Whether d holds a finished resolution of `version`: a .complete manifest
    whose list `key` names files that are all there (see mvn_resolve; s3rig
    lists its binary under "files"). Raises OSError or ValueError when there
    is no readable manifest."""
    with open(os.path.join(d, COMPLETE_FILE)) as f:
        manifest = json.load(f)
    jars = manifest.get(key) or []
    return manifest.get("version") == version and bool(jars) and \
        all(os.path.isfile(os.path.join(d, j)) for j in jars)


def jars_resolved(version: str | None = None, cache_dir: str | None = None) -> bool:
    """Whether the directory holds the broker's jars.

    Either a complete resolution (a .complete manifest whose jars are all
    there) or a directory filled by hand, such as a Kafka distribution's libs/,
    that has kafka_2.13-<version>.jar.
    """
    version = version or kafka_version()
    d = cache_dir or jar_dir(version)
    try:
        return manifest_complete(d, version)
    except (OSError, ValueError):
        return os.path.isfile(os.path.join(d, f"kafka_{SCALA_VERSION}-{version}.jar"))


@contextlib.contextmanager
def _file_lock(path: str) -> Iterator[None]:
    """An exclusive flock on path (created if missing), so two test runs resolve once."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def resolve_jars(version: str | None = None, cache_dir: str | None = None,
                 progress: Callable[[str], None] = _log, timeout: float = 1200) -> str:
    """Resolves the broker's runtime jars with mvn into cache_dir; returns cache_dir.

    Idempotent: does nothing when the cache is complete.  The first run
    downloads about 50 MB; progress is reported through `progress`.
    """
    version = version or kafka_version()
    main_jar = f"kafka_{SCALA_VERSION}-{version}.jar"

    def check(jars: list[str]) -> str | None:
        return None if main_jar in jars else f"{main_jar} is missing"

    return mvn_resolve(os.path.abspath(cache_dir or jar_dir(version)), _pom(version), version,
                       f"org.apache.kafka:kafka_{SCALA_VERSION}:{version}", "PGCDC_KAFKA",
                       lambda d: jars_resolved(version, d), check, progress, timeout)


def mvn_resolve(d: str, pom_xml: str, version: str, what: str, env_prefix: str,
                resolved: Callable[[str], bool], check: Callable[[list[str]], str | None],
                progress: Callable[[str], None], timeout: float) -> str:
    """Copies pom_xml's runtime dependencies into directory d with mvn; returns d.

    Shared by the rig's Maven-resolved servers.  resolved(d) says whether d is
    already complete (then nothing happens); check(jars) names what a
    finished download lacks, or None.  mvn fills a scratch directory that
    replaces d only when it succeeded, under a file lock, so an interrupted or
    concurrent run leaves nothing half-made behind.  env_prefix names the
    settings in messages (<prefix>_VERSION, <prefix>_JARS).
    """
    if resolved(d):
        return d
    with _file_lock(d + ".lock"):
        if resolved(d):  # another process finished while we waited
            return d
        if os.path.isdir(d) and os.listdir(d):
            # Never ours to delete: a resolution only ever renames a finished directory here.
            raise RigError(f"{d} holds no complete set of {what} jars: remove it, or "
                           f"set {env_prefix}_VERSION to the version it holds")
        mvn = shutil.which("mvn")
        if mvn is None:
            raise RigError("mvn not found: install maven (bash scripts/install-deps.sh) "
                           f"or point {env_prefix}_JARS at a directory with the jars")
        scratch = tempfile.mkdtemp(prefix=os.path.basename(d) + ".tmp-", dir=os.path.dirname(d))
        try:
            with open(os.path.join(scratch, "pom.xml"), "w") as f:
                f.write(pom_xml)
            out = os.path.join(scratch, "jars")
            mvn_log = os.path.join(scratch, "mvn.log")
            progress(f"resolving {what} with mvn into {d} (first use only; this can take a few "
                     "minutes)")
            argv = [mvn, "-B", "-f", os.path.join(scratch, "pom.xml"),
                    f"org.apache.maven.plugins:maven-dependency-plugin:{DEPENDENCY_PLUGIN}"
                    ":copy-dependencies", "-DincludeScope=runtime", f"-DoutputDirectory={out}"]
            rc = _run_with_progress(argv, mvn_log, progress, timeout)
            if rc != 0:
                with open(mvn_log, errors="replace") as f:
                    tail = f.read()[-6000:]
                raise RigError(f"mvn failed ({rc}) resolving {what}:\n{tail}")
            jars = sorted(n for n in os.listdir(out) if n.endswith((".jar", ".zip")))
            missing = check(jars)
            if missing:
                raise RigError(f"mvn succeeded but {missing} in {out}")
            shutil.copyfile(os.path.join(scratch, "pom.xml"), os.path.join(out, "pom.xml"))
            with open(os.path.join(out, COMPLETE_FILE), "w") as f:
                json.dump({"version": version, "jars": jars,
                           "resolved": time.strftime("%Y-%m-%dT%H:%M:%S")}, f, indent=1)
            if os.path.isdir(d):
                os.rmdir(d)  # empty (checked above)
            os.rename(out, d)
            size = sum(os.path.getsize(os.path.join(d, j)) for j in jars)
            progress(f"resolved {len(jars)} jars ({size // (1 << 20)} MB) into {d}")
            return d
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def _run_with_progress(argv: list[str], log_path: str, progress: Callable[[str], None],
                       timeout: float,
                       counts: Callable[[str], bool] = lambda line: "Downloaded from" in line,
                       status: str = "mvn still resolving, {n} files downloaded so far",
                       env: dict | None = None) -> int:
    """Runs argv with its output in log_path, reporting every ~15 s: status
    formatted with n, the output lines so far for which counts() holds."""
    downloads = [0]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, text=True, errors="replace", env=env)

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                log.write(line)
                if counts(line):
                    downloads[0] += 1

        t = threading.Thread(target=pump, daemon=True)
        t.start()
        deadline = time.time() + timeout
        next_report = time.time() + 15
        try:
            while proc.poll() is None:
                if time.time() > deadline:
                    raise RigError(f"{os.path.basename(argv[0])} still running after "
                                   f"{timeout:.0f}s; its output: {log_path}")
                if time.time() >= next_report:
                    progress("... " + status.format(n=downloads[0]))
                    next_report = time.time() + 15
                time.sleep(0.2)
        except BaseException:  # the timeout, or an interrupt: the child must not outlive us
            proc.kill()
            proc.wait()
            t.join(5)
            raise
        t.join(10)
    return proc.returncode


def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and os.access(os.path.join(home, "bin", "java"), os.X_OK):
        return os.path.join(home, "bin", "java")
    j = shutil.which("java")
    if j is None:
        raise RigError("java not found: install default-jre-headless "
                       "(bash scripts/install-deps.sh) or set JAVA_HOME")
    return j


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _prop_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _cluster_id() -> str:
    """A random cluster id in Kafka's format (url-safe base64 of 16 bytes, unpadded).

    Never one starting with '-': kafka-storage's argument parser would take it
    for an option (about one start in 64 failed that way).
    """
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


def _jaas_quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclasses.dataclass
class KafkaRecord:
    """One record read back from a topic."""
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]]
    timestamp: int  # ms since the epoch (create or log-append time)

    @property
    def key_text(self) -> str | None:
        return None if self.key is None else self.key.decode()

    @property
    def value_text(self) -> str | None:
        return None if self.value is None else self.value.decode()

    def value_json(self):
        """The value parsed as JSON (None for a tombstone)."""
        return None if self.value is None else json.loads(self.value)

    def key_json(self):
        return None if self.key is None else json.loads(self.key)

    def header(self, name: str) -> bytes | None:
        """The last header called name, or None."""
        found = None
        for k, v in self.headers:
            if k == name:
                found = v
        return found


class KafkaBroker(ServerProcess):
    """A single-node KRaft Kafka broker in its own directory.

    workdir: directory for data/, server.properties and the logs (created if
    missing; default a fresh temp dir that destroy() removes).  sasl: also
    listen with SASL_PLAINTEXT (mechanism PLAIN) on a second port for
    sasl_user/sasl_password.  auto_create: auto.create.topics.enable.
    props: extra/overriding server.properties settings.  heap: -Xmx.
    jvm_opts: the JVM's tuning flags; None: TEST_JVM_OPTS (quick start, few
    threads), KAFKA_SCRIPT_JVM_OPTS: what kafka-server-start.sh uses.
    Life cycle (stop, kill, restart, destroy) from rigutil.ServerProcess.
    """

    what = "Kafka broker"

    def __init__(self, workdir: str | None = None, sasl: bool = False, auto_create: bool = True,
                 props: dict | None = None, version: str | None = None, heap: str = "512m",
                 sasl_user: str = DEFAULT_SASL_USER, sasl_password: str = DEFAULT_SASL_PASSWORD,
                 keep: bool = False, jvm_opts: list[str] | None = None):
        self._own_dir = workdir is None
        if workdir is None:
            workdir = tempfile.mkdtemp(prefix="kafkarig-")
        os.makedirs(workdir, exist_ok=True)
        self.workdir = os.path.abspath(workdir)
        state = _load_state(self.workdir)
        self.version = version or state.get("version") or kafka_version()
        self.sasl = sasl
        self.auto_create = auto_create
        self.props = dict(DEFAULT_PROPS)
        self._merge(props)
        self.heap = heap
        self.jvm_opts = list(jvm_opts if jvm_opts is not None
                             else state.get("jvm_opts") or TEST_JVM_OPTS)
        self.keep = keep
        self.host = "127.0.0.1"
        self.sasl_user = sasl_user
        self.sasl_password = sasl_password
        self.sasl_mechanism = "PLAIN"
        # Ports and cluster id survive restarts (and a re-attach from the CLI).
        self.port: int = state.get("port") or 0
        self.sasl_port: int = state.get("sasl_port") or 0
        self.controller_port: int = state.get("controller_port") or 0
        self.cluster_id: str = state.get("cluster_id") or ""
        self.pid: int | None = state.get("pid")
        self.data_dir = os.path.join(self.workdir, "data")
        self.config_path = os.path.join(self.workdir, "server.properties")
        self.log4j_path = os.path.join(self.workdir, "log4j.properties")
        self.log_path = os.path.join(self.workdir, "server.log")
        self.stdout_path = os.path.join(self.workdir, "stdout.log")
        self.jars: str | None = None
        self._proc: subprocess.Popen | None = None

    # ------------------------------------------------------------------ setup
    def _merge(self, props: dict | None) -> None:
        for k, v in (props or {}).items():
            if v is None:
                self.props.pop(k, None)
            else:
                self.props[k] = v

    @property
    def bootstrap(self) -> str:
        """The PLAINTEXT listener, "127.0.0.1:port"."""
        return f"{self.host}:{self.port}"

    @property
    def sasl_bootstrap(self) -> str:
        """The SASL_PLAINTEXT listener (mechanism PLAIN), "127.0.0.1:port"."""
        if not self.sasl:
            raise RigError("this broker has no SASL listener (KafkaBroker(sasl=True))")
        return f"{self.host}:{self.sasl_port}"

    def client_config(self, sasl: bool = False, **extra) -> dict:
        """librdkafka/confluent-kafka settings to reach this broker."""
        if sasl:
            cfg = {"bootstrap.servers": self.sasl_bootstrap, "security.protocol": "SASL_PLAINTEXT",
                   "sasl.mechanism": self.sasl_mechanism, "sasl.username": self.sasl_user,
                   "sasl.password": self.sasl_password}
        else:
            cfg = {"bootstrap.servers": self.bootstrap}
        cfg.update(extra)
        return cfg

    def formatted(self) -> bool:
        return os.path.isfile(os.path.join(self.data_dir, "meta.properties"))

    def _server_props(self) -> dict:
        listeners = [f"PLAINTEXT://{self.host}:{self.port}"]
        protocols = ["PLAINTEXT:PLAINTEXT", "CONTROLLER:PLAINTEXT"]
        if self.sasl:
            listeners.append(f"SASL_PLAINTEXT://{self.host}:{self.sasl_port}")
            protocols.append("SASL_PLAINTEXT:SASL_PLAINTEXT")
        p = {
            "process.roles": "broker,controller",
            "node.id": NODE_ID,
            "controller.quorum.voters": f"{NODE_ID}@{self.host}:{self.controller_port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listeners": ",".join(listeners + [f"CONTROLLER://{self.host}:{self.controller_port}"]),
            "advertised.listeners": ",".join(listeners),
            "listener.security.protocol.map": ",".join(protocols),
            "log.dirs": self.data_dir,
            "auto.create.topics.enable": self.auto_create,
        }
        if self.sasl:
            jaas = (f"org.apache.kafka.common.security.plain.PlainLoginModule required "
                    f"username={_jaas_quote(self.sasl_user)} "
                    f"password={_jaas_quote(self.sasl_password)} "
                    f"user_{self.sasl_user}={_jaas_quote(self.sasl_password)};")
            p["sasl.enabled.mechanisms"] = "PLAIN"
            p["listener.name.sasl_plaintext.sasl.enabled.mechanisms"] = "PLAIN"
            p["listener.name.sasl_plaintext.plain.sasl.jaas.config"] = jaas
        p.update(self.props)
        return p

    def _write_config(self) -> None:
        lines = ["# written by kafkarig.py before every start; edits are lost"]
        for k, v in self._server_props().items():
            # Properties files treat backslashes as escapes.
            lines.append(f"{k}={_prop_value(v).replace(chr(92), chr(92) * 2)}")
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines) + "\n")
        if _major(self.version) >= 4:
            log4j = [
                "appender.file.type = File",
                "appender.file.name = FILE",
                f"appender.file.fileName = {self.log_path}",
                "appender.file.append = true",
                "appender.file.layout.type = PatternLayout",
                "appender.file.layout.pattern = [%d] %p %m (%c)%n",
                "rootLogger.level = INFO",
                "rootLogger.appenderRef.file.ref = FILE",
            ]
        else:
            log4j = [
                "log4j.rootLogger=INFO, file",
                "log4j.appender.file=org.apache.log4j.FileAppender",
                f"log4j.appender.file.File={self.log_path}",
                "log4j.appender.file.Append=true",
                "log4j.appender.file.layout=org.apache.log4j.PatternLayout",
                "log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n",
            ]
        with open(self.log4j_path, "w") as f:
            f.write("\n".join(log4j) + "\n")

    def _save_state(self) -> None:
        state = {"version": self.version, "port": self.port, "sasl_port": self.sasl_port,
                 "controller_port": self.controller_port, "cluster_id": self.cluster_id,
                 "pid": self.pid, "sasl": self.sasl, "auto_create": self.auto_create,
                 "props": self.props, "heap": self.heap, "jvm_opts": self.jvm_opts, "sasl_user": self.sasl_user,
                 "sasl_password": self.sasl_password, "bootstrap": self.bootstrap,
                 "log": self.log_path}
        with open(os.path.join(self.workdir, STATE_FILE), "w") as f:
            json.dump(state, f, indent=1, default=str)

    def _java_argv(self, main: str, *args: str) -> list[str]:
        assert self.jars is not None
        log_opt = (f"-Dlog4j2.configurationFile=file:{self.log4j_path}" if _major(self.version) >= 4
                   else f"-Dlog4j.configuration=file:{self.log4j_path}")
        return [_java(), f"-Xmx{self.heap}", *self.jvm_opts, "-Djava.awt.headless=true",
                f"-Dkafka.logs.dir={self.workdir}", log_opt,
                "-cp", os.path.join(self.jars, "*"), main, *args]

    def _format(self) -> None:
        if not self.cluster_id:
            self.cluster_id = _cluster_id()
        os.makedirs(self.data_dir, exist_ok=True)
        argv = self._java_argv(STORAGE_TOOL, "format", "-t", self.cluster_id,
                               "-c", self.config_path)
        r = subprocess.run(argv, capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL, cwd=self.workdir)
        if r.returncode != 0 or not self.formatted():
            raise RigError(f"kafka storage format failed ({r.returncode}):\n{r.stdout}{r.stderr}")

    # -------------------------------------------------------------- lifecycle
    def start(self, timeout: float = 120) -> "KafkaBroker":
        """Formats storage on first start, starts the JVM, waits until it serves metadata."""
        if self.is_running():
            return self
        self.jars = resolve_jars(self.version)
        first = not self.formatted()
        for attempt in range(3):  # a free port can be taken between probe and bind
            if not self.port:
                self.port = _free_port()
            if self.sasl and not self.sasl_port:
                self.sasl_port = _free_port()
            if not self.controller_port:
                self.controller_port = _free_port()
            self._write_config()
            if not self.formatted():
                self._format()
            self._save_state()
            log_start = self.log_size()
            self._spawn()
            try:
                self.wait_ready(timeout)
                return self
            except RigError:
                in_use = "Address already in use" in self.log_tail(20000, since=log_start) or \
                    "Address already in use" in self._stdout_tail()
                self.kill()
                if not (first and in_use and attempt < 2):
                    raise
                # Only a broker that never ran may move: clients know a restarted one's ports.
                self.port = self.sasl_port = self.controller_port = 0
        raise RigError("unreachable")

    def _spawn(self) -> None:
        with open(self.stdout_path, "ab") as out:
            out.write(f"\n===== start {time.strftime('%Y-%m-%d %H:%M:%S')} "
                      f"Kafka {self.version} =====\n".encode())
            out.flush()
            # A session of its own: a Ctrl-C meant for pytest does not reach the
            # JVM (teardown stops it), and the CLI can leave it running.
            self._proc = subprocess.Popen(self._java_argv(MAIN_CLASS, self.config_path),
                                          stdout=out, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, cwd=self.workdir,
                                          start_new_session=True)
        self.pid = self._proc.pid
        self._save_state()

    def wait_ready(self, timeout: float = 120) -> None:
        """Waits until the broker answers metadata and every partition has a leader."""
        _ck()
        # Quiet: connection refused until the JVM listens is expected here.
        probe = self.client_config(log_level=0)
        deadline = time.time() + timeout
        last = ""
        while time.time() < deadline:
            if not self.is_running():
                raise RigError(f"Kafka exited during start-up\n--- stdout ---\n"
                               f"{self._stdout_tail()}\n--- server log tail ---\n{self.log_tail()}")
            try:
                if not _listening(self.host, self.port):
                    last = "not listening yet"
                    time.sleep(0.2)
                    continue
                md = _admin(probe).list_topics(timeout=2)
                if NODE_ID in md.brokers and all(
                        p.leader >= 0 and p.error is None
                        for t in md.topics.values() for p in t.partitions.values()):
                    return
                last = "metadata without a leader for every partition"
            except Exception as e:  # not listening yet
                last = str(e)
            time.sleep(0.2)
        raise RigError(f"Kafka not ready after {timeout}s ({last})\n--- stdout ---\n"
                       f"{self._stdout_tail()}\n--- server log tail ---\n{self.log_tail()}")

    def _cmdline_mark(self) -> str:
        return self.config_path

    # ---------------------------------------------------------------- topics
    def create_topic(self, name: str, partitions: int = 1, rf: int = 1,
                     config: dict | None = None, timeout: float = 30) -> None:
        """Creates a topic and waits until every partition has a leader."""
        create_topic(self.client_config(), name, partitions, rf, config, timeout)

    def delete_topic(self, name: str, timeout: float = 30) -> None:
        admin = _admin(self.client_config())
        admin.delete_topics([name], operation_timeout=timeout)[name].result(timeout)

    def topics(self) -> dict[str, int]:
        """{topic: partition count}, internal topics (__*) left out."""
        return list_topics(self.bootstrap)



def _load_state(workdir: str) -> dict:
    return load_state(os.path.join(workdir, STATE_FILE))


def attach(workdir: str) -> KafkaBroker:
    """A KafkaBroker object for an existing rig directory (from the CLI)."""
    workdir = os.path.abspath(workdir)
    s = _load_state(workdir)
    return KafkaBroker(workdir, sasl=s.get("sasl", False), auto_create=s.get("auto_create", True),
                       props=s.get("props"), version=s.get("version"), heap=s.get("heap", "512m"),
                       sasl_user=s.get("sasl_user", DEFAULT_SASL_USER),
                       sasl_password=s.get("sasl_password", DEFAULT_SASL_PASSWORD), keep=True)


# ---------------------------------------------------------------- clients
def _ck():
    try:
        import confluent_kafka  # type: ignore
    except ImportError:
        raise RigError("confluent-kafka is not installed "
                       "(bash scripts/install-deps.sh puts it in .venv)") from None
    return confluent_kafka


def _admin(config: dict):
    from confluent_kafka.admin import AdminClient  # type: ignore
    _ck()
    return AdminClient(dict(config))


def _as_config(bootstrap: str | dict) -> dict:
    return {"bootstrap.servers": bootstrap} if isinstance(bootstrap, str) else dict(bootstrap)


def create_topic(bootstrap: str | dict, name: str, partitions: int = 1, rf: int = 1,
                 config: dict | None = None, timeout: float = 30) -> None:
    """Creates a topic and waits until every partition has a leader."""
    ck = _ck()
    from confluent_kafka.admin import NewTopic  # type: ignore
    admin = _admin(_as_config(bootstrap))
    nt = NewTopic(name, num_partitions=partitions, replication_factor=rf,
                  config={k: str(v) for k, v in (config or {}).items()})
    admin.create_topics([nt], operation_timeout=timeout)[name].result(timeout)
    deadline = time.time() + timeout
    while time.time() < deadline:
        t = admin.list_topics(topic=name, timeout=5).topics.get(name)
        if t is not None and t.error is None and len(t.partitions) == partitions and all(
                p.leader >= 0 for p in t.partitions.values()):
            return
        time.sleep(0.1)
    raise ck.KafkaException(f"topic {name}: partitions without a leader after {timeout}s")


def list_topics(bootstrap: str | dict, internal: bool = False,
                timeout: float = 10) -> dict[str, int]:
    """{topic: partition count}; internal topics (__consumer_offsets, ...) only if asked."""
    md = _admin(_as_config(bootstrap)).list_topics(timeout=timeout)
    return {name: len(t.partitions) for name, t in sorted(md.topics.items())
            if internal or not name.startswith("__")}


def consume(bootstrap: str | dict, topic: str, n: int | None = None, timeout: float = 30,
            config: dict | None = None) -> list[KafkaRecord]:
    """Reads a topic from the beginning of every partition, without a consumer group.

    n: stop once n records were read (an AssertionError if fewer arrive within
    timeout); None: read everything up to the end offsets seen when the topic
    is found.  Records come sorted by (partition, offset).
    """
    ck = _ck()
    cfg = _as_config(bootstrap)
    cfg.update(config or {})
    cfg.update({"group.id": f"kafkarig-{uuid.uuid4().hex[:8]}", "enable.auto.commit": False,
                "enable.partition.eof": True, "auto.offset.reset": "earliest"})
    deadline = time.time() + timeout
    consumer = ck.Consumer(cfg)
    try:
        parts: list[int] = []
        while True:
            md = consumer.list_topics(topic=topic, timeout=max(0.5, min(5, deadline - time.time())))
            t = md.topics.get(topic)
            if t is not None and t.error is None and t.partitions:
                parts = sorted(t.partitions)
                break
            if time.time() >= deadline:
                raise AssertionError(f"topic {topic!r} not found on {cfg['bootstrap.servers']} "
                                     f"within {timeout}s")
            time.sleep(0.2)
        ends: dict[int, int] = {}
        if n is None:
            for p in parts:
                lo, hi = consumer.get_watermark_offsets(ck.TopicPartition(topic, p),
                                                        timeout=max(1, deadline - time.time()))
                if hi > lo:
                    ends[p] = hi
        consumer.assign([ck.TopicPartition(topic, p, ck.OFFSET_BEGINNING) for p in parts])
        out: list[KafkaRecord] = []
        done: set[int] = set()
        while True:
            if n is not None and len(out) >= n:
                break
            if n is None and all(p in done for p in ends):
                break
            if time.time() >= deadline:
                if n is None:
                    raise AssertionError(f"topic {topic!r}: read {len(out)} records, not up to "
                                         f"the end offsets {ends} within {timeout}s")
                raise AssertionError(f"topic {topic!r}: {len(out)} of {n} records within "
                                     f"{timeout}s")
            m = consumer.poll(min(0.5, max(0.01, deadline - time.time())))
            if m is None:
                continue
            if m.error():
                if m.error().code() == ck.KafkaError._PARTITION_EOF:
                    if m.partition() in ends and m.offset() >= ends[m.partition()]:
                        done.add(m.partition())
                    continue
                raise ck.KafkaException(m.error())
            ts_type, ts = m.timestamp()
            out.append(KafkaRecord(topic=m.topic(), partition=m.partition(), offset=m.offset(),
                                   key=m.key(), value=m.value(), headers=list(m.headers() or []),
                                   timestamp=ts))
            if m.partition() in ends and m.offset() + 1 >= ends[m.partition()]:
                done.add(m.partition())
        out.sort(key=lambda r: (r.partition, r.offset))
        return out
    finally:
        consumer.close()


# -------------------------------------------------------------------- CLI
def _main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Throwaway Kafka brokers for pgcdc tests")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("resolve", help="download the broker's jars into the cache (idempotent)")
    r.add_argument("--version", default=None)
    s = sub.add_parser("start", help="create (if needed) and start a broker in --dir")
    s.add_argument("--dir", required=True)
    s.add_argument("--fresh", action="store_true", help="wipe --dir first")
    s.add_argument("--sasl", action="store_true", help="add a SASL_PLAINTEXT (PLAIN) listener")
    s.add_argument("--no-auto-create", action="store_true",
                   help="auto.create.topics.enable=false")
    s.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="extra server.properties setting (repeatable)")
    s.add_argument("--json", action="store_true", help="print JSON instead of shell lines")
    add_stop_status_commands(sub, "broker")
    a = ap.parse_args(argv)

    try:
        if a.cmd == "resolve":
            print(resolve_jars(a.version))
            return 0
        if a.cmd == "start":
            if a.fresh and os.path.exists(a.dir):
                attach(a.dir).kill()
                shutil.rmtree(a.dir)
            old = _load_state(os.path.abspath(a.dir))
            kb = attach(a.dir)
            if not old:  # a new broker: the flags decide; an existing one keeps its setup
                kb.sasl = a.sasl
                kb.auto_create = not a.no_auto_create
            for kv in a.set:
                k, _, v = kv.partition("=")
                kb.props[k.strip()] = v.strip()
            kb.start()
            kb._proc = None  # leave it running after we exit
            if a.json:
                d = {"dir": kb.workdir, "bootstrap": kb.bootstrap, "log": kb.log_path,
                     "pid": kb.pid}
                if kb.sasl:
                    d.update(sasl_bootstrap=kb.sasl_bootstrap, sasl_user=kb.sasl_user,
                             sasl_password=kb.sasl_password, sasl_mechanism=kb.sasl_mechanism)
                print(json.dumps(d))
            else:
                print(f"KAFKARIG_DIR={shlex.quote(kb.workdir)}")
                print(f"KAFKARIG_BOOTSTRAP={kb.bootstrap}")
                print(f"KAFKARIG_LOG={shlex.quote(kb.log_path)}")
                if kb.sasl:
                    print(f"KAFKARIG_SASL_BOOTSTRAP={kb.sasl_bootstrap}")
                    print(f"KAFKARIG_SASL_USER={shlex.quote(kb.sasl_user)}")
                    print(f"KAFKARIG_SASL_PASSWORD={shlex.quote(kb.sasl_password)}")
            return 0
        if a.cmd == "stop":
            return cli_stop(attach(a.dir) if os.path.isdir(a.dir) else None, a.dir, a.kill, a.rm)
        if a.cmd == "status":
            kb = attach(a.dir)
            return cli_status(kb, f"bootstrap={kb.bootstrap}")
    except RigError as e:
        print(f"kafkarig: {e}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(_main())
