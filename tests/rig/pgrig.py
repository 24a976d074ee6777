#!/usr/bin/env python3
"""pgrig - a throwaway PostgreSQL 15 cluster for pgcdc's tests, demo and benchmarks.

Library use::

    from pgrig import PgCluster
    with PgCluster(settings={"max_slot_wal_keep_size": "16MB"}) as pg:
        pg.port, pg.host, pg.dsn(), pg.url()
        pg.execute("CREATE TABLE t (id int primary key)")
        rows = pg.query("SELECT slot_name FROM pg_replication_slots")
        pg.scalar("SHOW wal_level")          # -> 'logical'
        conn = pg.conn()                      # new autocommit connection (caller closes)
        pg.restart(settings={"wal_level": "replica"})
        pg.stop(); pg.start(); pg.crash()     # crash = pg_ctl stop -m immediate
        pg.log_text(), pg.log_path

Command line (used by scripts/demo.sh and bench/)::

    python3 tests/rig/pgrig.py start --dir D [--fresh] [--set key=value ...]
        -> prints shell assignments PGRIG_DIR, PGRIG_PORT, PGRIG_HOST, PGRIG_DSN
           (eval "$(python3 tests/rig/pgrig.py start --dir D)") and leaves it running
    python3 tests/rig/pgrig.py stop --dir D [--rm]
    python3 tests/rig/pgrig.py status --dir D

PostgreSQL refuses to run as root.  When the caller is root, the cluster is
created and run as a dedicated system user (``pgcdc-test``, created with
useradd when missing) through ``runuser``; the directory is chowned to it.
Clients (psycopg, pgcdc) still run as the caller and connect over TCP.

Only the standard library is needed to start and stop clusters; psycopg2 or
psycopg (3) is imported lazily for conn()/execute()/query().
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from rigutil import LogFile

PG_MAJOR = 15
DEFAULT_PG_BIN = f"/usr/lib/postgresql/{PG_MAJOR}/bin"
RIG_USER = os.environ.get("PGRIG_USER", "pgcdc-test")
STATE_FILE = "rig.json"

# Settings every rig cluster gets; callers override or add with settings={...}
# (a value of None removes a default).  logical_decoding_work_mem is tiny on
# purpose so that tests exercise spilling/streaming of in-progress transactions.
DEFAULT_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "wal_level": "logical",
    "max_wal_senders": 20,
    "max_replication_slots": 20,
    "logical_decoding_work_mem": "64kB",
    "shared_buffers": "32MB",
    "max_connections": 50,
    "log_line_prefix": "%m [%p] %q%a ",
    "log_replication_commands": True,
    "log_min_messages": "info",
    "log_connections": False,
    "wal_sender_timeout": "60s",
}


class RigError(RuntimeError):
    pass


def _pg_bin() -> str:
    d = os.environ.get("PGRIG_BIN", DEFAULT_PG_BIN)
    if not os.path.isfile(os.path.join(d, "pg_ctl")):
        raise RigError(
            f"PostgreSQL {PG_MAJOR} binaries not found in {d} "
            f"(install postgresql-{PG_MAJOR}: bash scripts/install-deps.sh, or set PGRIG_BIN)"
        )
    return d


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _conf_value(v) -> str:
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, (int, float)):
        return str(v)
    return "'" + str(v).replace("\\", "\\\\").replace("'", "''") + "'"


def _is_root() -> bool:
    return os.geteuid() == 0


def _ensure_rig_user() -> pwd.struct_passwd:
    """Returns the dedicated user, creating it (as a system user) if missing."""
    try:
        return pwd.getpwnam(RIG_USER)
    except KeyError:
        pass
    # --system: no aging, uid below 1000; the shell is irrelevant because
    # runuser -u executes the command directly.
    r = subprocess.run(
        ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
         "--shell", "/usr/sbin/nologin", RIG_USER],
        capture_output=True, text=True,
    )
    try:
        return pwd.getpwnam(RIG_USER)  # another process may have won the race: fine
    except KeyError:
        raise RigError(f"could not create user {RIG_USER}: {r.stderr.strip()}") from None


def _chown_tree(path: str, uid: int, gid: int) -> None:
    os.chown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            try:
                os.chown(os.path.join(root, n), uid, gid, follow_symlinks=False)
            except FileNotFoundError:
                pass


class PgCluster(LogFile):
    """A PostgreSQL cluster in its own directory.

    base_dir: directory to use (created if missing); default a fresh temp dir
    that is removed on destroy().  settings: extra/overriding postgresql.conf
    settings.  keep: never remove base_dir on destroy().
    """

    def __init__(self, settings: dict | None = None, base_dir: str | None = None,
                 keep: bool = False, port: int | None = None):
        self.pg_bin = _pg_bin()
        self.settings = dict(DEFAULT_SETTINGS)
        self._merge(settings)
        self._own_dir = base_dir is None
        self.keep = keep
        if base_dir is None:
            base_dir = tempfile.mkdtemp(prefix="pgrig-")
        else:
            os.makedirs(base_dir, exist_ok=True)
        self.base_dir = os.path.abspath(base_dir)
        self.run_as = None  # passwd entry of the user running the server, or None
        if _is_root():
            self.run_as = _ensure_rig_user()
        # server_dir holds data/, postgres.log and sock/.  It is base_dir unless
        # the rig user cannot reach base_dir (e.g. pytest's 0700 tmp dirs when
        # we are root): then a fresh dir in /tmp, recorded in rig.json.
        self.server_dir = _load_state(self.base_dir).get("server_dir") or self.base_dir
        if self.run_as is not None and not _reachable(self.server_dir, self.run_as):
            self.server_dir = tempfile.mkdtemp(prefix="pgrig-srv-")
        self.data_dir = os.path.join(self.server_dir, "data")
        self.log_path = os.path.join(self.server_dir, "postgres.log")
        self.sock_dir = os.path.join(self.server_dir, "sock")
        # A unix socket path is limited to ~107 bytes: fall back to a short dir.
        if len(self.sock_dir) > 80:
            self.sock_dir = tempfile.mkdtemp(prefix="pgrig-sock-")
        os.makedirs(self.sock_dir, exist_ok=True)
        self.host = "127.0.0.1"
        self.user = "postgres"
        self.dbname = "postgres"
        self.port = port or 0
        self._conn = None
        self.running = False

    # ------------------------------------------------------------------ setup
    def _merge(self, settings):
        for k, v in (settings or {}).items():
            if v is None:
                self.settings.pop(k, None)
            else:
                self.settings[k] = v

    def _cmd(self, argv, check=True, timeout=120, capture=True):
        """Runs a PostgreSQL tool, as the rig user when we are root."""
        if self.run_as is not None:
            argv = ["runuser", "-u", self.run_as.pw_name, "--"] + argv
        env = dict(os.environ)
        env.pop("PGDATA", None)
        env["LC_ALL"] = "C"
        # cwd = server_dir: the rig user may not be able to read the caller's cwd.
        r = subprocess.run(argv, cwd=self.server_dir, env=env, timeout=timeout,
                           capture_output=capture, text=True)
        if check and r.returncode != 0:
            raise RigError(
                f"{' '.join(shlex.quote(a) for a in argv)} failed ({r.returncode}):\n"
                f"{r.stdout or ''}{r.stderr or ''}\n--- server log tail ---\n{self.log_tail()}"
            )
        return r

    def _chown(self):
        if self.run_as is not None:
            _chown_tree(self.server_dir, self.run_as.pw_uid, self.run_as.pw_gid)
            os.chown(self.sock_dir, self.run_as.pw_uid, self.run_as.pw_gid)

    def initialized(self) -> bool:
        return os.path.isfile(os.path.join(self.data_dir, "PG_VERSION"))

    def init(self):
        if self.initialized():
            return self
        self._chown()
        self._cmd([os.path.join(self.pg_bin, "initdb"), "-D", self.data_dir, "-U", self.user,
                   "--auth=trust", "-E", "UTF8", "--locale=C", "--no-instructions"])
        # The rig's settings live in their own file, rewritten before each
        # start, so restart(settings=...) can change them.
        with open(os.path.join(self.data_dir, "postgresql.conf"), "a") as f:
            f.write("\ninclude_if_exists = 'pgrig.conf'\n")
        return self

    def _write_conf(self):
        # A restart keeps its port (clients reconnect to it; a probe would see
        # the old listener's TIME_WAIT); start() picks a new one only when
        # binding really fails.
        if not self.port:
            self.port = _free_port()
        lines = ["# written by pgrig.py before every start; edits are lost"]
        conf = dict(self.settings)
        conf["port"] = self.port
        conf["unix_socket_directories"] = self.sock_dir
        for k, v in conf.items():
            lines.append(f"{k} = {_conf_value(v)}")
        path = os.path.join(self.data_dir, "pgrig.conf")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        if self.run_as is not None:
            os.chown(path, self.run_as.pw_uid, self.run_as.pw_gid)
        self._save_state()

    def _save_state(self):
        state = {"port": self.port, "host": self.host, "user": self.user, "dbname": self.dbname,
                 "settings": self.settings, "sock_dir": self.sock_dir, "dsn": self.dsn(),
                 "server_dir": self.server_dir,
                 "run_as": self.run_as.pw_name if self.run_as else None}
        with open(os.path.join(self.base_dir, STATE_FILE), "w") as f:
            json.dump(state, f, indent=1, default=str)

    # -------------------------------------------------------------- lifecycle
    def start(self, settings: dict | None = None, timeout: int = 60):
        self._merge(settings)
        self.init()
        if self.is_running():
            self.running = True
            return self
        last = None
        for _ in range(3):  # the free port can be taken between probe and bind
            self._write_conf()
            r = self._cmd([os.path.join(self.pg_bin, "pg_ctl"), "-D", self.data_dir, "-l",
                           self.log_path, "-w", "-t", str(timeout), "start"], check=False,
                          timeout=timeout + 30)
            if r.returncode == 0:
                self.running = True
                return self
            last = r
            if "could not bind" not in self.log_tail(4000) and "in use" not in self.log_tail(4000):
                break
            self.port = 0
        raise RigError(f"pg_ctl start failed ({last.returncode}): {last.stdout}{last.stderr}\n"
                       f"--- server log tail ---\n{self.log_tail()}")

    def stop(self, mode: str = "fast", timeout: int = 60):
        self._close_conn()
        if self.initialized() and self.is_running():
            self._cmd([os.path.join(self.pg_bin, "pg_ctl"), "-D", self.data_dir, "-m", mode, "-w",
                       "-t", str(timeout), "stop"], timeout=timeout + 30)
        self.running = False
        return self

    def crash(self):
        """Stops without a shutdown checkpoint (pg_ctl -m immediate)."""
        return self.stop(mode="immediate")

    def restart(self, settings: dict | None = None, mode: str = "fast"):
        self.stop(mode=mode)
        return self.start(settings=settings)

    def is_running(self) -> bool:
        if not self.initialized():
            return False
        r = self._cmd([os.path.join(self.pg_bin, "pg_ctl"), "-D", self.data_dir, "status"],
                      check=False)
        return r.returncode == 0

    def destroy(self, keep_log_to: str | None = None):
        """Stops (immediate mode) and removes the directory (unless keep)."""
        try:
            if self.initialized() and self.is_running():
                self.stop(mode="immediate")
        finally:
            self._close_conn()
            if keep_log_to and os.path.exists(self.log_path):
                try:
                    shutil.copyfile(self.log_path, keep_log_to)
                except OSError:
                    pass
            if not self.keep and (self._own_dir or os.environ.get("PGRIG_RM") == "1"):
                shutil.rmtree(self.base_dir, ignore_errors=True)
            if not self.keep and self.server_dir != self.base_dir:
                shutil.rmtree(self.server_dir, ignore_errors=True)
            if not self.keep and not self.sock_dir.startswith(self.server_dir + os.sep):
                shutil.rmtree(self.sock_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.destroy()
        return False

    # ------------------------------------------------------------- connecting
    def dsn(self, dbname: str | None = None, **extra) -> str:
        parts = {"host": self.host, "port": self.port, "user": self.user,
                 "dbname": dbname or self.dbname}
        parts.update(extra)
        return " ".join(f"{k}={v}" for k, v in parts.items())

    def url(self, dbname: str | None = None) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname or self.dbname}"

    def conn(self, dbname: str | None = None, autocommit: bool = True, **extra):
        """A new connection (psycopg2, else psycopg 3); the caller closes it."""
        dsn = self.dsn(dbname, **extra)
        try:
            import psycopg2  # type: ignore
            c = psycopg2.connect(dsn)
            c.autocommit = autocommit
            return c
        except ImportError:
            pass
        try:
            import psycopg  # type: ignore
        except ImportError:
            raise RigError("neither psycopg2 nor psycopg is installed "
                           "(bash scripts/install-deps.sh creates .venv with them)") from None
        return psycopg.connect(dsn, autocommit=autocommit)

    def _shared_conn(self):
        if self._conn is not None and not getattr(self._conn, "closed", False):
            return self._conn
        self._conn = self.conn()
        return self._conn

    def _close_conn(self):
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                pass
            self._conn = None

    def _run(self, sql, params, fetch):
        for attempt in (0, 1):
            c = self._shared_conn()
            try:
                with c.cursor() as cur:
                    cur.execute(sql, params) if params is not None else cur.execute(sql)
                    if fetch and cur.description is not None:
                        return cur.fetchall()
                    return None
            except Exception as e:  # reconnect once after a server restart
                if attempt == 0 and _is_connection_error(e):
                    self._close_conn()
                    continue
                raise

    def execute(self, sql: str, params=None):
        """Runs SQL in autocommit mode on a shared connection; returns rows if any."""
        return self._run(sql, params, fetch=True)

    def query(self, sql: str, params=None) -> list:
        return self._run(sql, params, fetch=True) or []

    def scalar(self, sql: str, params=None):
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    # ---------------------------------------------------------------- helpers
    def wal_lsn(self) -> str:
        return self.scalar("SELECT pg_current_wal_lsn()::text")

    def slot(self, name: str) -> dict | None:
        rows = self.query(
            "SELECT slot_name, plugin, slot_type, active, active_pid, restart_lsn::text, "
            "confirmed_flush_lsn::text, wal_status FROM pg_replication_slots WHERE slot_name = %s",
            (name,))
        if not rows:
            return None
        keys = ["slot_name", "plugin", "slot_type", "active", "active_pid", "restart_lsn",
                "confirmed_flush_lsn", "wal_status"]
        return dict(zip(keys, rows[0]))

    def drop_slot(self, name: str, terminate: bool = True) -> None:
        """Drops a slot if it exists, terminating its walsender first."""
        s = self.slot(name)
        if s is None:
            return
        if s["active"] and terminate and s["active_pid"]:
            self.execute("SELECT pg_terminate_backend(%s)", (s["active_pid"],))
            deadline = time.time() + 10
            while time.time() < deadline and (self.slot(name) or {}).get("active"):
                time.sleep(0.1)
        self.execute("SELECT pg_drop_replication_slot(%s) FROM pg_replication_slots "
                     "WHERE slot_name = %s", (name, name))

    def psql_argv(self, *args) -> list:
        return [os.path.join(self.pg_bin, "psql"), "-X", "-v", "ON_ERROR_STOP=1",
                "-d", self.dsn()] + list(args)


def _is_connection_error(e: Exception) -> bool:
    name = type(e).__name__
    return name in ("OperationalError", "InterfaceError") and (
        "closed" in str(e) or "terminat" in str(e) or "server" in str(e) or "connection" in str(e))


def _load_state(base_dir: str) -> dict:
    try:
        with open(os.path.join(base_dir, STATE_FILE)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _reachable(path: str, pw: pwd.struct_passwd) -> bool:
    """Whether user pw can traverse every existing ancestor of path."""
    import stat
    p = os.path.abspath(path)
    while True:
        parent = os.path.dirname(p)
        if os.path.exists(p):
            st = os.stat(p)
            if st.st_uid == pw.pw_uid:
                ok = st.st_mode & stat.S_IXUSR
            elif st.st_gid == pw.pw_gid:
                ok = st.st_mode & stat.S_IXGRP
            else:
                ok = st.st_mode & stat.S_IXOTH
            if not ok and p != path:
                return False
        if parent == p:
            return True
        p = parent


def attach(base_dir: str) -> PgCluster:
    """A PgCluster object for an existing rig directory (from the CLI)."""
    base_dir = os.path.abspath(base_dir)
    state = _load_state(base_dir)
    pg = PgCluster(settings=state.get("settings"), base_dir=base_dir, keep=True,
                   port=state.get("port"))
    if state.get("sock_dir"):
        pg.sock_dir = state["sock_dir"]
        os.makedirs(pg.sock_dir, exist_ok=True)
    return pg


# -------------------------------------------------------------------- CLI
def _main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Throwaway PostgreSQL clusters for pgcdc tests")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("start", help="create (if needed) and start a cluster in --dir")
    s.add_argument("--dir", required=True)
    s.add_argument("--fresh", action="store_true", help="wipe --dir first")
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="extra postgresql.conf setting (repeatable)")
    s.add_argument("--json", action="store_true", help="print JSON instead of shell lines")
    t = sub.add_parser("stop", help="stop the cluster in --dir")
    t.add_argument("--dir", required=True)
    t.add_argument("--mode", default="fast", choices=["smart", "fast", "immediate"])
    t.add_argument("--rm", action="store_true", help="remove --dir afterwards")
    u = sub.add_parser("status", help="print whether the cluster in --dir runs")
    u.add_argument("--dir", required=True)
    a = ap.parse_args(argv)

    try:
        if a.cmd == "start":
            if a.fresh and os.path.exists(a.dir):
                old = attach(a.dir)
                if old.initialized():
                    old.stop(mode="immediate")
                if old.server_dir != old.base_dir:
                    shutil.rmtree(old.server_dir, ignore_errors=True)
                shutil.rmtree(a.dir)
            pg = attach(a.dir)
            extra = {}
            for kv in a.set:
                k, _, v = kv.partition("=")
                extra[k.strip()] = v.strip()
            if a.port:
                pg.port = a.port
            pg.start(settings=extra)
            if a.json:
                print(json.dumps({"dir": pg.base_dir, "port": pg.port, "host": pg.host,
                                  "dsn": pg.dsn(), "log": pg.log_path}))
            else:
                print(f"PGRIG_DIR={shlex.quote(pg.base_dir)}")
                print(f"PGRIG_HOST={pg.host}")
                print(f"PGRIG_PORT={pg.port}")
                print(f"PGRIG_DSN={shlex.quote(pg.dsn())}")
                print(f"PGRIG_LOG={shlex.quote(pg.log_path)}")
            return 0
        if a.cmd == "stop":
            if not os.path.isdir(a.dir):
                return 0
            pg = attach(a.dir)
            if pg.initialized():
                pg.stop(mode=a.mode)
            if a.rm:
                if pg.server_dir != pg.base_dir:
                    shutil.rmtree(pg.server_dir, ignore_errors=True)
                shutil.rmtree(a.dir, ignore_errors=True)
            return 0
        if a.cmd == "status":
            pg = attach(a.dir)
            up = pg.is_running()
            print(f"{'running' if up else 'stopped'} port={pg.port} dir={pg.base_dir}")
            return 0 if up else 3
    except RigError as e:
        print(f"pgrig: {e}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(_main())
