"""The service as it runs in production, for the tests that need real processes: gunicorn
serving the test's database, in its own process group (so the whole server can be killed
at once), answering on a free port of 127.0.0.1."""
from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class Server:
    def __init__(self, app, *, log_interval: float = 0.5):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.env = {**os.environ, "LEDGER_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                    "LEDGER_INSTANCE_PATH": app.config["INSTANCE_PATH"],
                    "LEDGER_PUBLIC_URL": app.config["LEDGER_PUBLIC_URL"], "LEDGER_JOBS_IN_PROCESS": "0",
                    "LEDGER_LOG_INTERVAL": str(log_interval)}
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start two workers and wait until /api/v1/ping answers."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--timeout", "60", "--bind",
             f"127.0.0.1:{self.port}", "--log-level", "critical", "wsgi:app"],
            cwd=ROOT, env=self.env, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "the server stopped"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/ping", timeout=2):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"no answer on port {self.port}")

    def workers(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.process.pid:  # its parent is the master
                    pids.append(int(entry.name))
        return pids

    def kill_a_worker(self, rng: random.Random) -> bool:
        pids = self.workers()
        if not pids:
            return False
        try:
            os.kill(rng.choice(pids), signal.SIGKILL)
        except ProcessLookupError:
            return False
        return True

    def kill_all(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
