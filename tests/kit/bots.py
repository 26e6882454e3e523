"""The bot under test: in this process (fast), or as its own OS process started like an operator would."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from bot.config import load_settings

ROOT = Path(__file__).resolve().parents[2]


class InProcessBot:
    """build_runtime + the ops server (with /slack/events) on a free port, in this process."""

    def __init__(self, env: dict[str, str], *, sweep_interval: float = 0.2, wait_for_genesys: bool = True) -> None:
        from bot.ops.server import create_server, make_ops_app
        from bot.wiring import build_runtime

        self.settings = load_settings(env, force_mode="http")
        self.runtime = build_runtime(self.settings, sweep_interval=sweep_interval)
        if wait_for_genesys:
            # The SDK import takes seconds (much longer on a loaded machine); tests about start-up pass False.
            self.runtime.genesys.wait_ready(120)
        wsgi = make_ops_app(readiness=self.runtime.readiness, liveness=self.runtime.liveness,
                            slack_events=self.runtime.slack.events_wsgi(), before_metrics=self.runtime.refresh_gauges)
        self.server = create_server(wsgi, host="127.0.0.1", port=0, threads=16)
        self.port = self.server.effective_port
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def service(self):
        return self.runtime.service

    def _serve(self) -> None:
        # close() from the test thread ends select() with EBADF; that is the stop signal.
        with contextlib.suppress(OSError):
            self.server.run()

    def stop(self) -> None:
        self.server.close()
        self.runtime.stop(grace_seconds=3.0)


class BotProcess:
    """`python app.py --http` (or --socket) as its own OS process."""

    def __init__(self, env: dict[str, str], *, port: int, log_path: Path, mode: str = "--http") -> None:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GENESYS_", "TRANSFER_"))}
        full_env.update(env)
        full_env["PORT"] = str(port)
        full_env["HOST"] = "127.0.0.1"
        full_env["PYTHONUNBUFFERED"] = "1"
        self.port = port
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), mode], cwd=str(log_path.parent), env=full_env,
            stdout=self._log, stderr=subprocess.STDOUT,
        )

    def _get(self, path: str, port: int | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=2)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read().decode()
        finally:
            conn.close()

    def wait_for(self, path: str, timeout: float = 30.0, port: int | None = None) -> float:
        while time.monotonic() - self.started < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bot exited with {self.proc.returncode}: {self.log()[-3000:]}")
            with contextlib.suppress(OSError):
                if self._get(path, port)[0] == 200:
                    return time.monotonic() - self.started
            time.sleep(0.05)
        raise RuntimeError(f"bot not answering {path} after {timeout}s: {self.log()[-3000:]}")

    def wait_healthy(self, timeout: float = 30.0) -> float:
        return self.wait_for("/healthz", timeout)

    def wait_ready(self, timeout: float = 40.0, port: int | None = None) -> float:
        return self.wait_for("/readyz", timeout, port)

    def readiness(self, port: int | None = None) -> tuple[int, dict]:
        status, body = self._get("/readyz", port)
        return status, json.loads(body)

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def terminate(self, timeout: float = 15.0) -> float:
        """SIGTERM and wait; returns how long the process took to exit."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        return time.monotonic() - started

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(5)
        self._log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.terminate()
        self._log.close()
