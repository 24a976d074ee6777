"""rigutil - pieces shared by the test rig's servers (pgrig, kafkarig)."""

from __future__ import annotations

import os


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
