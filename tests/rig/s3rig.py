#!/usr/bin/env python3
"""s3rig - a throwaway S3-compatible object store (MinIO) for pgcdc's tests.

One MinIO server on free loopback ports (S3 API and web console), its data in
one directory, a fixed root user and password, and a bucket.  MinIO is built
from source with the machine's Go toolchain: build_minio() runs
``go install github.com/minio/minio@<MINIO_VERSION>`` once and caches the
binary; every later run reuses it.

Library use::

    from s3rig import MinioServer
    with MinioServer(bucket="lake") as s3:             # builds MinIO on first use
        s3.endpoint                                    # "http://127.0.0.1:PORT"
        s3.access_key, s3.secret_key, s3.region, s3.bucket
        s3.env()                                       # AWS_* variables for a client
        s3.create_bucket("other")
        s3.filesystem()                                # a pyarrow.fs.S3FileSystem
        s3.delta_storage_options()                     # deltalake storage_options
        s3.list_objects("lake/prefix/")                # {key: size}
        s3.stop(); s3.start()                          # same ports, same data
        s3.kill()                                      # SIGKILL, no clean shutdown

Command line::

    python3 tests/rig/s3rig.py build                   # build MinIO, print the binary
    python3 tests/rig/s3rig.py start --dir D [--bucket B] [--fresh]
        -> prints shell assignments S3RIG_DIR, S3RIG_ENDPOINT, S3RIG_CONSOLE,
           S3RIG_BUCKET, S3RIG_LOG and AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
           AWS_REGION, AWS_ENDPOINT_URL, and leaves it running
    python3 tests/rig/s3rig.py stop --dir D [--kill] [--rm]
    python3 tests/rig/s3rig.py status --dir D

Environment: PGCDC_MINIO_VERSION builds another version of the
github.com/minio/minio module (default MINIO_VERSION), PGCDC_MINIO_DIR the
cache directory (default ~/.cache/pgcdc/minio-<version>).  Needs go 1.21 or
newer on PATH (a newer toolchain that the module asks for comes from the Go
module proxy, GOTOOLCHAIN=auto); buckets are created and objects listed
through pyarrow, imported lazily.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from kafkarig import (COMPLETE_FILE, RigError, _file_lock, _free_port, _run_with_progress,
                      cache_dir, manifest_complete)
from rigutil import ServerProcess, add_stop_status_commands, cli_status, cli_stop, load_state

# The module has no semantic-version tags (MinIO tags releases RELEASE.<date>),
# so the Go proxy knows its commits by pseudo-version: this is the newest
# commit of the module, of 2026-02-12, and it builds with Go 1.24 or newer.
MINIO_VERSION = "v0.0.0-20260212201848-7aac2a2c5b7c"
MINIO_MODULE = "github.com/minio/minio"
STATE_FILE = "s3rig.json"
BINARY = "bin/minio"
DEFAULT_USER = "pgcdc"
DEFAULT_PASSWORD = "pgcdc-secret"  # MinIO wants 8 characters at least
DEFAULT_REGION = "us-east-1"
DEFAULT_BUCKET = "pgcdc"


def _log(msg: str) -> None:
    print(f"[s3rig] {msg}", file=sys.stderr, flush=True)


def minio_version() -> str:
    return os.environ.get("PGCDC_MINIO_VERSION") or MINIO_VERSION


def minio_dir(version: str | None = None) -> str:
    """Where MinIO `version` is built: $PGCDC_MINIO_DIR or ~/.cache/pgcdc/minio-<version>."""
    return cache_dir("PGCDC_MINIO_DIR", f"minio-{version or minio_version()}")


def minio_built(version: str | None = None, d: str | None = None) -> bool:
    """Whether d holds a finished build of `version` (its .complete manifest names the binary)."""
    version = version or minio_version()
    try:
        return manifest_complete(d or minio_dir(version), version, key="files")
    except (OSError, ValueError):
        return False


def _go() -> str:
    go = shutil.which("go")
    if go is None:
        raise RigError("go not found on PATH: MinIO is built from source with Go 1.21 or newer "
                       "(https://go.dev/doc/install), or point PGCDC_MINIO_DIR at a finished build")
    return go


def build_minio(version: str | None = None, progress=_log, timeout: float = 3600) -> str:
    """Builds MinIO `version` with go install into its cache directory; returns the binary.

    Idempotent: nothing happens when a finished build is there.  The first
    build downloads about 1 GB of modules and compiles for about 6 minutes on
    two cores; progress is reported through `progress`.  The module and
    build caches live beside the binary while it builds (an interrupted build
    resumes from them) and are removed once it is done.  The binary moves
    into place and the .complete manifest is written last, under a file
    lock, so an interrupted or concurrent run leaves no half-made binary.
    """
    version = version or minio_version()
    d = os.path.abspath(minio_dir(version))
    binary = os.path.join(d, BINARY)
    if minio_built(version, d):
        return binary
    with _file_lock(d + ".lock"):
        if minio_built(version, d):  # another process finished while we waited
            return binary
        go = _go()
        os.makedirs(d, exist_ok=True)
        for old in os.listdir(d):  # what an interrupted build left behind
            if old.startswith("build-"):
                shutil.rmtree(os.path.join(d, old), ignore_errors=True)
        scratch = tempfile.mkdtemp(prefix="build-", dir=d)
        try:
            env = dict(os.environ, GOBIN=scratch, GOPATH=os.path.join(d, "gopath"),
                       GOCACHE=os.path.join(d, "gocache"), GOTOOLCHAIN="auto", CGO_ENABLED="0",
                       GOFLAGS="-modcacherw")
            env.pop("GOROOT", None)  # the toolchain switch picks its own
            log_path = os.path.join(scratch, "go-install.log")
            progress(f"building MinIO {version} with go install into {d} (first use only; "
                     "this takes several minutes)")
            start = time.time()
            argv = [go, "install", "-v", f"{MINIO_MODULE}@{version}"]
            rc = _run_with_progress(argv, log_path, progress, timeout, counts=lambda line: True,
                                    status="go install still building MinIO, {n} modules "
                                    "downloaded or packages compiled so far", env=env)
            if rc != 0:
                with open(log_path, errors="replace") as f:
                    tail = f.read()[-6000:]
                raise RigError(f"go install {MINIO_MODULE}@{version} failed ({rc}):\n{tail}")
            built = os.path.join(scratch, "minio")
            r = subprocess.run([built, "--version"], capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                raise RigError(f"the MinIO just built does not run ({r.returncode}): "
                               f"{r.stdout}{r.stderr}")
            os.makedirs(os.path.dirname(binary), exist_ok=True)
            os.replace(built, binary)
            tmp = os.path.join(d, COMPLETE_FILE + ".tmp")
            with open(tmp, "w") as f:
                json.dump({"version": version, "module": MINIO_MODULE, "files": [BINARY],
                           "go": subprocess.run([go, "version"], capture_output=True, text=True,
                                                env=env).stdout.strip(),
                           "built": time.strftime("%Y-%m-%dT%H:%M:%S")}, f, indent=1)
            os.replace(tmp, os.path.join(d, COMPLETE_FILE))
            for cache in ("gopath", "gocache"):
                shutil.rmtree(os.path.join(d, cache), ignore_errors=True)
            progress(f"built MinIO in {time.time() - start:.0f}s: {binary} "
                     f"({os.path.getsize(binary) >> 20} MB)")
            return binary
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def _http_status(url: str, timeout: float = 2) -> int:
    """The HTTP status of a GET of url, or 0 when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (OSError, ValueError):
        return 0


def _pyarrow_fs():
    try:
        import pyarrow.fs  # type: ignore
    except ImportError:
        raise RigError("pyarrow is not installed "
                       "(bash scripts/install-deps.sh puts it in .venv)") from None
    return pyarrow.fs


class MinioServer(ServerProcess):
    """A MinIO server in its own directory.

    workdir: directory for data/, the log and the state file (created if
    missing; default a fresh temp dir that destroy() removes).  bucket: made
    on first start (None: no bucket).  user/password: the root credentials,
    which are the S3 access key and secret key.  env: extra MINIO_* settings
    (MINIO_DOMAIN=localhost serves virtual-host style requests at
    http://<bucket>.localhost:<port>).  Life cycle (stop, kill, restart,
    destroy) from rigutil.ServerProcess.
    """

    what = "MinIO"

    def __init__(self, workdir: str | None = None, bucket: str | None = DEFAULT_BUCKET,
                 user: str = DEFAULT_USER, password: str = DEFAULT_PASSWORD,
                 region: str = DEFAULT_REGION, version: str | None = None, keep: bool = False,
                 env: dict | None = None):
        self._own_dir = workdir is None
        if workdir is None:
            workdir = tempfile.mkdtemp(prefix="s3rig-")
        os.makedirs(workdir, exist_ok=True)
        self.workdir = os.path.abspath(workdir)
        state = _load_state(self.workdir)
        self.version = version or state.get("version") or minio_version()
        self.bucket = state.get("bucket", bucket)
        self.access_key = state.get("user") or user
        self.secret_key = state.get("password") or password
        self.region = state.get("region") or region
        self.extra_env = dict(state.get("env") or env or {})
        self.keep = keep
        self.host = "127.0.0.1"
        # Ports survive restarts (and a re-attach from the CLI).
        self.port: int = state.get("port") or 0
        self.console_port: int = state.get("console_port") or 0
        self.pid: int | None = state.get("pid")
        self.data_dir = os.path.join(self.workdir, "data")
        self.log_path = os.path.join(self.workdir, "minio.log")
        self._proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        """The S3 API, "http://127.0.0.1:port"."""
        return f"http://{self.host}:{self.port}"

    @property
    def console(self) -> str:
        return f"http://{self.host}:{self.console_port}"

    def env(self) -> dict:
        """The AWS_* variables that point an S3 client at this server."""
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key,
                "AWS_REGION": self.region, "AWS_ENDPOINT_URL": self.endpoint}

    def _save_state(self) -> None:
        state = {"version": self.version, "port": self.port, "console_port": self.console_port,
                 "pid": self.pid, "bucket": self.bucket, "user": self.access_key,
                 "password": self.secret_key, "region": self.region, "env": self.extra_env,
                 "endpoint": self.endpoint,
                 "log": self.log_path}
        with open(os.path.join(self.workdir, STATE_FILE), "w") as f:
            json.dump(state, f, indent=1)

    # -------------------------------------------------------------- lifecycle
    def start(self, timeout: float = 60) -> "MinioServer":
        """Starts MinIO (building it on first use), waits until it is ready and
        makes the bucket if it is not there yet."""
        if self.is_running():
            return self
        binary = build_minio(self.version)
        first = not self.port
        for attempt in range(3):  # a free port can be taken between probe and bind
            if not self.port:
                self.port = _free_port()
            if not self.console_port:
                self.console_port = _free_port()
            log_start = self.log_size()
            self._spawn(binary)
            try:
                self.wait_ready(timeout)
                break
            except RigError:
                in_use = re.search(r"address already in use|bind:",
                                   self.log_tail(20000, since=log_start), re.I)
                self.kill()
                if not (first and in_use and attempt < 2):
                    raise
                # Only a server that never ran may move: clients know a restarted one's port.
                self.port = self.console_port = 0
        if self.bucket:
            self.create_bucket(self.bucket)
        return self

    def _spawn(self, binary: str) -> None:
        os.makedirs(self.data_dir, exist_ok=True)
        env = dict(os.environ, MINIO_ROOT_USER=self.access_key,
                   MINIO_ROOT_PASSWORD=self.secret_key, MINIO_SITE_REGION=self.region,
                   MINIO_UPDATE="off", MINIO_BROWSER_REDIRECT="off", **self.extra_env)
        argv = [binary, "server", "--address", f"{self.host}:{self.port}",
                "--console-address", f"{self.host}:{self.console_port}",
                "--certs-dir", os.path.join(self.workdir, "certs"), self.data_dir]
        with open(self.log_path, "ab") as out:
            out.write(f"\n===== start {time.strftime('%Y-%m-%d %H:%M:%S')} "
                      f"MinIO {self.version} =====\n".encode())
            out.flush()
            # A session of its own: a Ctrl-C meant for pytest does not reach
            # the server (teardown stops it), and the CLI can leave it running.
            self._proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, cwd=self.workdir, env=env,
                                          start_new_session=True)
        self.pid = self._proc.pid
        self._save_state()

    def wait_ready(self, timeout: float = 60) -> None:
        """Waits until MinIO's readiness probe (/minio/health/ready) answers 200."""
        deadline = time.time() + timeout
        status = 0
        while time.time() < deadline:
            if not self.is_running():
                raise RigError(f"MinIO exited during start-up\n--- log tail ---\n"
                               f"{self.log_tail()}")
            status = _http_status(f"{self.endpoint}/minio/health/ready")
            if status == 200:
                return
            time.sleep(0.1)
        raise RigError(f"MinIO not ready after {timeout}s (last status {status or 'none'})\n"
                       f"--- log tail ---\n{self.log_tail()}")

    def _cmdline_mark(self) -> str:
        return self.data_dir

    # ---------------------------------------------------------------- clients
    def filesystem(self, **kw):
        """A pyarrow.fs.S3FileSystem on this server (paths are "bucket/key")."""
        fs = _pyarrow_fs()
        return fs.S3FileSystem(access_key=self.access_key, secret_key=self.secret_key,
                               region=self.region, endpoint_override=self.endpoint,
                               scheme="http", **kw)

    def delta_storage_options(self) -> dict:
        """storage_options for deltalake (delta-rs) on s3://<bucket>/... of this server."""
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key,
                "AWS_REGION": self.region, "AWS_ENDPOINT_URL": self.endpoint,
                "AWS_ALLOW_HTTP": "true", "AWS_S3_ALLOW_UNSAFE_RENAME": "true"}

    def create_bucket(self, name: str) -> None:
        """Makes bucket `name` unless it exists."""
        fs = _pyarrow_fs()
        s3 = self.filesystem(allow_bucket_creation=True)
        if s3.get_file_info(name).type != fs.FileType.Directory:
            s3.create_dir(name)

    def list_objects(self, prefix: str) -> dict[str, int]:
        """{"bucket/key": size} of the objects under prefix ("bucket/dir/")."""
        fs = _pyarrow_fs()
        sel = fs.FileSelector(prefix.rstrip("/"), recursive=True, allow_not_found=True)
        return {i.path: i.size for i in self.filesystem().get_file_info(sel)
                if i.type == fs.FileType.File}


def _load_state(workdir: str) -> dict:
    return load_state(os.path.join(workdir, STATE_FILE))


def attach(workdir: str) -> MinioServer:
    """A MinioServer object for an existing rig directory (from the CLI)."""
    return MinioServer(os.path.abspath(workdir), keep=True)


# -------------------------------------------------------------------- CLI
def _main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Throwaway MinIO servers for pgcdc tests")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build MinIO into the cache (idempotent)")
    b.add_argument("--version", default=None)
    s = sub.add_parser("start", help="create (if needed) and start a server in --dir")
    s.add_argument("--dir", required=True)
    s.add_argument("--fresh", action="store_true", help="wipe --dir first")
    s.add_argument("--bucket", default=DEFAULT_BUCKET, help="bucket to make (default %(default)s)")
    s.add_argument("--json", action="store_true", help="print JSON instead of shell lines")
    add_stop_status_commands(sub, "server")
    a = ap.parse_args(argv)

    try:
        if a.cmd == "build":
            print(build_minio(a.version))
            return 0
        if a.cmd == "start":
            if a.fresh and os.path.exists(a.dir):
                attach(a.dir).kill()
                shutil.rmtree(a.dir)
            old = _load_state(os.path.abspath(a.dir))
            srv = attach(a.dir)
            if not old:
                srv.bucket = a.bucket
            srv.start()
            srv._proc = None  # leave it running after we exit
            d = {"S3RIG_DIR": srv.workdir, "S3RIG_ENDPOINT": srv.endpoint,
                 "S3RIG_CONSOLE": srv.console, "S3RIG_BUCKET": srv.bucket or "",
                 "S3RIG_LOG": srv.log_path, **srv.env()}
            if a.json:
                print(json.dumps(d))
            else:
                for k, v in d.items():
                    print(f"{k}={shlex.quote(str(v))}")
            return 0
        if a.cmd == "stop":
            return cli_stop(attach(a.dir) if os.path.isdir(a.dir) else None, a.dir, a.kill, a.rm)
        if a.cmd == "status":
            srv = attach(a.dir)
            return cli_status(srv, f"endpoint={srv.endpoint}")
    except RigError as e:
        print(f"s3rig: {e}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(_main())
