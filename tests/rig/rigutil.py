"""rigutil - pieces shared by the test rig's servers (pgrig, kafkarig, s3rig, esrig)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time


class LogFile:
    """Reading a server's log file at self.log_path; a missing file reads as empty."""

    log_path: str

    def log_text(self) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_size(self) -> int:
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_tail(self, nbytes: int = 8000, since: int = 0) -> str:
        """The last nbytes of the log, but nothing before offset `since`."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, 2)
                end = f.tell()
                f.seek(max(since, end - nbytes))
                return f.read().decode(errors="replace")
        except OSError:
            return ""


def load_state(path: str) -> dict:
    """A rig's JSON state file; {} when missing or unreadable."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our exited child not yet reaped) is not running.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _pid_cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


class ServerProcess(LogFile):
    """The life cycle of a server process the rig started in self.workdir.

    The class using it sets self._proc (the Popen while we are its parent),
    self.pid (also after a re-attach from the CLI's state file), self.keep,
    self._own_dir and self.log_path, and provides start(), _save_state() and
    _cmdline_mark(): a string the server's command line holds, so that a
    recycled pid of another process is never taken for it.
    """

    what = "server"
    _proc: subprocess.Popen | None
    pid: int | None
    workdir: str
    keep: bool
    _own_dir: bool

    def start(self, timeout: float = 120):
        raise NotImplementedError

    def _save_state(self) -> None:
        raise NotImplementedError

    def _cmdline_mark(self) -> str:
        raise NotImplementedError

    def is_running(self) -> bool:
        if self._proc is not None:
            return self._proc.poll() is None
        # Attached from the CLI: trust the pid only if it still runs our server.
        return bool(self.pid) and _pid_alive(self.pid) and \
            self._cmdline_mark() in _pid_cmdline(self.pid)

    def _stdout_tail(self, nbytes: int = 4000) -> str:
        """The end of the server's stdout/stderr file (self.stdout_path)."""
        try:
            with open(self.stdout_path, "rb") as f:
                f.seek(0, 2)
                f.seek(max(0, f.tell() - nbytes))
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def _wait_exit(self, timeout: float) -> bool:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.is_running():
                return True
            time.sleep(0.05)
        return not self.is_running()

    def stop(self, timeout: float = 60):
        """Clean shutdown (SIGTERM); SIGKILL after timeout.  Data and ports stay for start()."""
        if self.is_running():
            assert self.pid is not None
            os.kill(self.pid, signal.SIGTERM)
            if not self._wait_exit(timeout):
                print(f"[rig] {self.what} {self.pid} ignored SIGTERM for {timeout}s: killing it",
                      file=sys.stderr, flush=True)
                self.kill()
        self._reap()
        return self

    def kill(self):
        """SIGKILL: a crash, no clean shutdown; data and ports stay for start()."""
        if self.is_running():
            assert self.pid is not None
            os.kill(self.pid, signal.SIGKILL)
            self._wait_exit(30)
        self._reap()
        return self

    def _reap(self) -> None:
        if self._proc is not None:
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self._proc = None
        self.pid = None
        self._save_state()

    def restart(self, timeout: float = 120):
        """Clean stop, then start with the same ports and data."""
        self.stop()
        return self.start(timeout=timeout)

    def destroy(self, keep_log_to: str | None = None) -> None:
        """Kills the server and removes the directory (unless keep or not ours)."""
        try:
            self.kill()
        finally:
            if keep_log_to and os.path.exists(self.log_path):
                try:
                    shutil.copyfile(self.log_path, keep_log_to)
                except OSError:
                    pass
            if not self.keep:
                self._remove_dirs()

    def _remove_dirs(self) -> None:
        """Removes what the server left (its workdir, when the rig made it)."""
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> bool:
        self.destroy()
        return False


def cli_stop(srv: ServerProcess | None, d: str, kill: bool, rm: bool) -> int:
    """The rig CLIs' `stop --dir D [--kill] [--rm]`: srv is the server
    attached in D (None when D does not exist)."""
    if srv is not None:
        srv.kill() if kill else srv.stop()
    if rm:
        shutil.rmtree(d, ignore_errors=True)
    return 0


def cli_status(srv: ServerProcess, address: str) -> int:
    """The rig CLIs' `status --dir D`: one line, exit status 0 if running, else 3."""
    up = srv.is_running()
    print(f"{'running' if up else 'stopped'} {address} pid={srv.pid or '-'} dir={srv.workdir}")
    return 0 if up else 3


def add_stop_status_commands(sub, what: str) -> None:
    """The rig CLIs' `stop` and `status` subcommands (argparse), for `what` ("broker")."""
    t = sub.add_parser("stop", help=f"stop the {what} in --dir")
    t.add_argument("--dir", required=True)
    t.add_argument("--kill", action="store_true", help="SIGKILL instead of a clean shutdown")
    t.add_argument("--rm", action="store_true", help="remove --dir afterwards")
    u = sub.add_parser("status", help=f"print whether the {what} in --dir runs")
    u.add_argument("--dir", required=True)
