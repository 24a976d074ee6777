"""rigutil - pieces shared by the test rig's servers (pgrig, kafkarig, esrig)."""

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


class ServerProcess(LogFile):
    """Stopping, killing and reaping a server the rig started in its own session.

    Subclasses set self.pid, self._proc (the Popen, or None when attached
    from the CLI), self.stdout_path, self.workdir, self.keep and
    self._own_dir (whether destroy() may remove workdir), and define start(),
    is_running() and _save_state(); RIG_NAME and SERVER_NAME word the
    messages. Used as a context manager: started on entry, destroyed on exit.
    """

    RIG_NAME = "rig"
    SERVER_NAME = "server"
    pid: int | None
    _proc: subprocess.Popen | None
    stdout_path: str
    workdir: str
    keep: bool
    _own_dir: bool

    def is_running(self) -> bool:
        raise NotImplementedError

    def _save_state(self) -> None:
        raise NotImplementedError

    def _wait_exit(self, timeout: float) -> bool:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.is_running():
                return True
            time.sleep(0.1)
        return not self.is_running()

    def stop(self, timeout: float = 60):
        """Clean shutdown (SIGTERM); SIGKILL after timeout."""
        if self.is_running():
            assert self.pid is not None
            os.kill(self.pid, signal.SIGTERM)
            if not self._wait_exit(timeout):
                print(f"[{self.RIG_NAME}] {self.SERVER_NAME} {self.pid} ignored SIGTERM for "
                      f"{timeout}s: killing it", file=sys.stderr, flush=True)
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

    def destroy(self, keep_log_to: str | None = None) -> None:
        """Kills the server and removes its directories (unless keep or not ours)."""
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
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> bool:
        self.destroy()
        return False

    def _stdout_tail(self, nbytes: int = 4000) -> str:
        try:
            with open(self.stdout_path, "rb") as f:
                f.seek(0, 2)
                f.seek(max(0, f.tell() - nbytes))
                return f.read().decode(errors="replace")
        except OSError:
            return ""
