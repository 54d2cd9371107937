"""Runs the real `calconnect-sandbox` binary for the suite: port 0, a fresh CA, stopped at the end."""

import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from demo_tenant import REPO

# The line main.rs prints once the listener is bound; the CA line follows once the PEM is written.
_LISTENING = re.compile(r"^calconnect sandbox listening on (https://\S+/)$", re.MULTILINE)
_CA_WRITTEN = re.compile(r"^  CA: +(\S+)$", re.MULTILINE)
STARTUP_SECONDS = 30


@dataclass(frozen=True)
class Sandbox:
    base_url: str  # "https://127.0.0.1:PORT/", with the trailing slash
    ca_path: Path
    log_path: Path

    def authority(self, tenant):
        return f"{self.base_url}{tenant}"

    def url(self, path):
        return f"{self.base_url}{path.lstrip('/')}"


def binary_path():
    """`CALCONNECT_SANDBOX_BIN`, else the debug build in the shared cargo target directory."""
    explicit = os.environ.get("CALCONNECT_SANDBOX_BIN")
    if explicit:
        return Path(explicit)
    target = os.environ.get("CARGO_TARGET_DIR") or str(Path.home() / ".cache" / "calconnect-target")
    return Path(target) / "debug" / "calconnect-sandbox"


def start(directory):
    """Starts the sandbox with its CA written into `directory`; returns (process, Sandbox)."""
    binary = binary_path()
    if not binary.is_file():
        raise RuntimeError(f"no sandbox binary at {binary}: run `cargo build -p calconnect-sandbox`")
    ca_path = directory / "sandbox-ca.pem"
    log_path = directory / "sandbox.log"
    # stdout goes to a file, not a pipe: the sandbox logs every request there, and an undrained
    # pipe would eventually block it.
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(binary), "--port", "0", "--ca-out", str(ca_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=REPO,
            env={**os.environ, "NO_COLOR": "1"},
        )
    try:
        base_url = _wait_until_ready(process, log_path)
    except BaseException:
        stop(process)
        raise
    return process, Sandbox(base_url=base_url, ca_path=ca_path, log_path=log_path)


def _wait_until_ready(process, log_path):
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        text = log_path.read_text(encoding="utf-8", errors="replace")
        listening = _LISTENING.search(text)
        if listening and _CA_WRITTEN.search(text):
            return listening.group(1)
        if process.poll() is not None:
            raise RuntimeError(f"the sandbox exited with {process.returncode}:\n{text[-2000:]}")
        time.sleep(0.05)
    raise RuntimeError(f"the sandbox did not report its URL and CA within {STARTUP_SECONDS} s")


def stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
