"""A serial line without hardware: a socat pty pair (simulator on one end, daemon on the other).

The pair is started and stopped by its own process id; nothing else is killed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path


class PtyPair:
    def __init__(self, directory: str | None = None) -> None:
        self._dir = Path(directory or tempfile.mkdtemp(prefix="edgectl-pty-"))
        self.server_end = str(self._dir / "ttyA")
        self.client_end = str(self._dir / "ttyB")
        self._proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("socat") is not None

    def start(self, wait_s: float = 5.0) -> PtyPair:
        socat = shutil.which("socat")
        if socat is None:
            raise RuntimeError("socat is not installed (apt-get install socat)")
        self._proc = subprocess.Popen(
            [
                socat,
                f"pty,raw,echo=0,link={self.server_end}",
                f"pty,raw,echo=0,link={self.client_end}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if os.path.exists(self.server_end) and os.path.exists(self.client_end):
                return self
            if self._proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("socat did not create the pty pair")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def __enter__(self) -> PtyPair:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
