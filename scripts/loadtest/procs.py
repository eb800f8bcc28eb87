"""The servers of the run (mock WeChat, ``idsvc serve``, optional ``idsvc worker``) and /proc sampling."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process {proc.args!r} exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


@dataclass
class Started:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path


def start(name: str, args: list[str], env: dict[str, str], log: Path, cwd: Path) -> Started:
    fh = log.open("wb")
    proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    fh.close()
    return Started(name, proc, log)


def stop(started: list[Started], grace: float = 12.0) -> None:
    """SIGTERM each process we started (by pid), then SIGKILL what is still there after ``grace``."""
    for s in started:
        if s.proc.poll() is None:
            s.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for s in started:
        try:
            s.proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            s.proc.kill()
            s.proc.wait(5)


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def cpu_ticks(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14 and 15 of stat)


def rss_bytes(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return None


class CpuWindow:
    """CPU % (of one core) and RSS of named processes between :meth:`begin` and :meth:`end`."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self._t0 = 0.0
        self._ticks0: dict[str, int | None] = {}

    def begin(self) -> None:
        self._t0 = time.monotonic()
        self._ticks0 = {name: cpu_ticks(pid) for name, pid in self.pids.items()}

    def end(self) -> dict[str, tuple[float | None, int | None]]:
        dt = time.monotonic() - self._t0
        out: dict[str, tuple[float | None, int | None]] = {}
        for name, pid in self.pids.items():
            t1, t0 = cpu_ticks(pid), self._ticks0.get(name)
            cpu = None if t1 is None or t0 is None or dt <= 0 else 100.0 * (t1 - t0) / CLK_TCK / dt
            out[name] = (cpu, rss_bytes(pid))
        return out


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine() -> dict[str, str]:
    model = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "kernel": os.uname().release,
    }
