#!/usr/bin/env python
"""``make loadtest``: thousands of desktops long-polling one ``idsvc serve`` on loopback (issue #10).

What it does, bounded in time and requests, on 127.0.0.0/8 only, stopping by itself:

1. Starts mock WeChat and ``python -m idsvc serve --workers 2`` (IDSVC_ENV=production, a fresh
   Redis prefix on 127.0.0.1:6379, its own PostgreSQL database re-created for the run), with the
   rate limit, session TTL and challenge list set for the run (printed), one member whose ID record
   is a face from ``tests/data`` and a platform API key.
2. An asyncio client (stdlib HTTP/1.1 over asyncio streams) holds N desktops waiting at once: each
   creates its session with the platform key and long-polls ``GET /v1/sessions/<id>?wait=25&version=V``
   with its poll token, re-polling when answered and starting a new session when its session ends.
3. For each level N (default 1,000 then 5,000):
   * idle window: CPU % and RSS of every server process from /proc, nothing but the N waits;
   * probes: ``/healthz`` sampled steadily; wake latency (a waiting desktop's session is cancelled
     with the platform key, or really scanned by a phone through the mock's OAuth; time from sending
     the change to the long-poll's answer); scan (QR URL → OAuth → confirm page) and confirm latency;
   * video phase: the same probes while phones scan, confirm and upload a 3-s clip, which the
     server analyses (verifications/s, uploads in flight).  Today the upload answers 200 with the
     outcome; a ``202`` answer is followed by polling the session until it leaves ``verifying``.
4. Prints one table and writes it (with the machine) into docs/capacity.md between markers.

The latency targets of #10 are checked here and printed, never asserted in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import re
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from idsvc.qr.sessions import FINAL  # noqa: E402
from scripts.loadtest import procs  # noqa: E402
from scripts.loadtest.httpc import Browser, Connection, HttpError, Response, StreamRefused, multipart  # noqa: E402

WECHAT_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.40(0x18002831) NetType/WIFI Language/zh_CN"
)
DESKTOP_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
)
MEMBER_ID = "load-member"
ID_NUMBER = "110101199003078515"
PHONE_OPENID = "o_loadtest_phone"
HOST = "127.0.0.1"
# Phones connect from these loopback addresses (all of 127.0.0.0/8 is the loopback interface), so
# the per-address scan limit (30/min) sees many phones, as it would in the field.
PHONE_ADDRESSES = [f"127.0.0.{i}" for i in range(2, 255)]
# Desktops too: a few per address (an office NAT), as the per-address cap on waiting polls (500)
# would otherwise see all of them as one client.
DESKTOPS_PER_ADDRESS = 4


def desktop_address(i: int) -> str:
    n = i // DESKTOPS_PER_ADDRESS
    return f"127.1.{n // 250}.{n % 250 + 1}"


TARGETS = {"healthz_p99_ms": 100.0, "scan_confirm_ms": 300.0, "wake_p99_ms": 250.0, "idle_cpu_pct": 10.0}


# --------------------------------------------------------------------------- measurements
def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(q / 100.0 * (len(s) - 1)))))
    return s[k]


def ms(v: float | None) -> str:
    if v is None:
        return "–"
    return f"{v * 1000:.0f}" if v >= 0.01 else f"{v * 1000:.1f}"


@dataclass
class PhaseStats:
    name: str
    level: int
    videos: bool
    workers: int = 0  # analysis worker processes during a video phase
    started: float = field(default_factory=time.monotonic)
    ended: float = 0.0
    healthz: list[float] = field(default_factory=list)
    wake: dict[str, list[float]] = field(default_factory=lambda: {"cancel": [], "scan": []})
    # Desktop's answer minus the DELETE's own answer: the fan-out alone (negative: woken first).
    wake_after_ack: list[float] = field(default_factory=list)
    scan_chain: list[float] = field(default_factory=list)  # QR URL -> OAuth -> callback -> page (4 requests)
    scan_callback: list[float] = field(default_factory=list)  # the one idsvc request that scans
    confirm: list[float] = field(default_factory=list)
    upload: list[float] = field(default_factory=list)  # upload sent -> decision known
    verifications: Counter[str] = field(default_factory=Counter)
    in_flight_samples: list[int] = field(default_factory=list)
    waiting_samples: list[int] = field(default_factory=list)
    loop_lag: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    cpu: dict[str, tuple[float | None, int | None]] = field(default_factory=dict)
    loadavg: str = ""

    @property
    def seconds(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    def wakes(self) -> list[float]:
        return self.wake["cancel"] + self.wake["scan"]


# --------------------------------------------------------------------------- the client
@dataclass
class Desktop:
    idx: int
    conn: Connection
    sid: str = ""
    poll_token: str = ""
    scan_url: str = ""
    match_code: str = ""
    version: int = 0
    polling: bool = False
    poll_started: float = 0.0
    claimed: bool = False
    watch_at: float | None = None
    watch_kind: str = ""
    woken_at: float = 0.0
    woken: asyncio.Event = field(default_factory=asyncio.Event)
    retired: bool = False
    sessions: int = 0


class LoadClient:
    def __init__(self, args: argparse.Namespace, port: int, api_key: str, clip: bytes) -> None:
        self.args = args
        self.port = port
        self.base = f"http://{HOST}:{port}"
        self.key = api_key
        self.clip = clip
        self.desktops: list[Desktop] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.create_sem = asyncio.Semaphore(args.ramp_concurrency)
        self.stats = PhaseStats("ramp", 0, False)
        self.stopping = False
        self.in_flight = 0
        self.total_requests = 0
        self._addr = 0
        self.bg: set[asyncio.Task[Any]] = set()

    # -- bookkeeping ------------------------------------------------------------------------
    def err(self, what: str) -> None:
        self.stats.errors[what] += 1

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self.bg.add(task)
        task.add_done_callback(self.bg.discard)
        return task

    def waiting(self) -> int:
        return sum(1 for d in self.desktops if d.polling)

    def next_address(self) -> str:
        self._addr = (self._addr + 1) % len(PHONE_ADDRESSES)
        return PHONE_ADDRESSES[self._addr]

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def spend_request(self) -> None:
        self.total_requests += 1
        if self.total_requests > self.args.max_requests:
            raise HttpError("request budget of the run exhausted (--max-requests)")

    async def request(self, conn: Connection, method: str, path: str, **kw: Any) -> Response:
        self.spend_request()
        return await conn.request(method, path, **kw)

    # -- desktops ---------------------------------------------------------------------------
    async def desktop_loop(self, d: Desktop) -> None:
        wait = self.args.wait
        while not self.stopping and not d.retired:
            try:
                body = json.dumps(
                    {
                        "member_id": MEMBER_ID,
                        "purpose": "login",
                        "desktop": {"ip": "203.0.113.7", "user_agent": DESKTOP_UA},
                    }
                ).encode()
                async with self.create_sem:
                    r = await self.request(
                        d.conn,
                        "POST",
                        "/v1/sessions",
                        headers={**self.auth(), "Content-Type": "application/json"},
                        body=body,
                        timeout=30,
                    )
                if r.status != 201:
                    self.err(f"create {r.status}")
                    await asyncio.sleep(1 + random.random())
                    continue
                s = r.json()
                d.sid, d.poll_token, d.version = s["session_id"], s["poll_token"], s["version"]
                d.scan_url, d.match_code = s["scan_url"], s["match_code"]
                d.claimed, d.watch_at, d.sessions = False, None, d.sessions + 1
                while not self.stopping and not d.retired:
                    if self.args.desktop_wait == "events":
                        done = await self.follow_events(d)
                    else:
                        done = await self.long_poll(d, wait)
                    if done:
                        break  # final: the portal shows a new QR, a new session
            except HttpError as exc:
                d.polling = False
                if not self.stopping:
                    self.err(f"desktop: {str(exc).split(':')[-1].strip()[:40]}")
                    await asyncio.sleep(1 + random.random())

    def seen(self, d: Desktop, s: dict[str, Any], answered: float) -> bool:
        """Book one answer of a desktop's session; True once it is final."""
        if d.watch_at is not None and s["version"] != d.version:
            self.stats.wake[d.watch_kind].append(answered - d.watch_at)
            d.woken_at = answered
            d.watch_at = None
            d.woken.set()
        d.version = s["version"]
        return s["status"] in FINAL

    async def long_poll(self, d: Desktop, wait: int) -> bool:
        d.polling, d.poll_started = True, time.monotonic()
        try:
            r = await self.request(
                d.conn,
                "GET",
                f"/v1/sessions/{d.sid}?wait={wait}&version={d.version}",
                headers={"Authorization": f"Bearer {d.poll_token}"},
                timeout=wait + 20,
            )
        finally:
            d.polling = False
        if r.status != 200:
            self.err(f"poll {r.status}")
            return True
        return self.seen(d, r.json(), time.monotonic())

    async def follow_events(self, d: Desktop) -> bool:
        """What the desktop widget does: one event stream, open while the session is."""
        self.spend_request()
        d.polling, d.poll_started = True, time.monotonic()
        try:
            async for kind, s in d.conn.events(
                f"/v1/sessions/{d.sid}/events?version={d.version}",
                {"Authorization": f"Bearer {d.poll_token}"},
                idle_timeout=60,
            ):
                if kind == "session" and self.seen(d, s, time.monotonic()):
                    return True
                if kind == "error":
                    self.err(f"events error {s}")
        except StreamRefused as exc:
            self.err(f"events {exc.status}")
            return True
        finally:
            d.polling = False
            d.conn.close()  # a stream left before its end cannot carry the next request
        return False  # the stream's time was up: reconnect

    async def ramp_to(self, n: int, timeout: float) -> float:
        """Start desktops until ``n`` exist; returns seconds until ``n`` were waiting."""
        t0 = time.monotonic()
        while len(self.desktops) < n:
            d = Desktop(len(self.desktops), Connection(HOST, self.port, desktop_address(len(self.desktops))))
            self.desktops.append(d)
            self.tasks.append(asyncio.ensure_future(self.desktop_loop(d)))
        deadline = t0 + timeout
        last_print = 0.0
        while time.monotonic() < deadline:
            w = self.waiting()
            if time.monotonic() - last_print > 5:
                print(f"  ramp: {w}/{n} waiting ({time.monotonic() - t0:.0f} s, load {procs.loadavg()})", flush=True)
                last_print = time.monotonic()
            if w >= n * 0.995:
                return time.monotonic() - t0
            await asyncio.sleep(0.25)
        print(f"  ramp: only {self.waiting()}/{n} waiting after {timeout:.0f} s; measuring anyway", flush=True)
        return time.monotonic() - t0

    def claim(self) -> Desktop | None:
        """A desktop that has been waiting on its long-poll for a while and nobody is changing."""
        now = time.monotonic()
        for _ in range(200):
            d = random.choice(self.desktops)
            if d.polling and not d.claimed and now - d.poll_started > 0.3:
                d.claimed = True
                return d
        return None

    def watch(self, d: Desktop, kind: str) -> None:
        d.woken.clear()
        d.watch_kind, d.watch_at = kind, time.monotonic()

    async def await_wake(self, d: Desktop, kind: str) -> None:
        try:
            await asyncio.wait_for(d.woken.wait(), self.args.wait + 10)
        except TimeoutError:
            self.err(f"wake {kind}: no answer")
            d.watch_at = None

    # -- probes -----------------------------------------------------------------------------
    async def healthz_once(self) -> None:
        conn = Connection(HOST, self.port)  # a fresh connection, as a load balancer's probe
        t0 = time.monotonic()
        try:
            r = await self.request(conn, "GET", "/healthz", timeout=10)
            if r.status == 200:
                self.stats.healthz.append(r.elapsed)
            else:
                self.err(f"healthz {r.status}")
        except HttpError:
            # Refused, reset or timed out: counted as a 10-s answer, so it weighs in the p99.
            self.stats.healthz.append(max(10.0, time.monotonic() - t0))
            self.err("healthz: no answer")
        finally:
            conn.close()

    async def cancel_probe(self) -> None:
        d = self.claim()
        if d is None:
            self.err("no waiting desktop to change")
            return
        conn = Connection(HOST, self.port)
        try:
            self.watch(d, "cancel")
            r = await self.request(conn, "DELETE", f"/v1/sessions/{d.sid}", headers=self.auth(), timeout=30)
            if r.status != 200:
                self.err(f"cancel {r.status}")
                d.watch_at = None
                return
            acked = r.sent_at + r.elapsed
            await self.await_wake(d, "cancel")
            if d.woken_at >= r.sent_at:
                self.stats.wake_after_ack.append(d.woken_at - acked)
        except HttpError:
            self.err("cancel: no answer")
        finally:
            conn.close()

    async def phone_scan(self, d: Desktop, b: Browser) -> str | None:
        """Scan ``d``'s QR and confirm its number; returns the CSRF token (None on failure)."""
        t0 = time.monotonic()
        r = await b.request("GET", d.scan_url, timeout=30)
        hops = 1
        while r.status in (301, 302, 303) and hops < 8:
            location = urljoin(r.url, r.header("location").split("#", 1)[0])
            callback = "/m/oauth/callback" in location
            if callback:
                self.watch(d, "scan")
            r = await b.request("GET", location, timeout=30)
            if callback:
                self.stats.scan_callback.append(r.elapsed)
            hops += 1
        if r.status != 200:
            self.err(f"scan {r.status}")
            d.watch_at = None
            return None
        self.stats.scan_chain.append(time.monotonic() - t0)
        self.spawn(self.await_wake(d, "scan"))
        m = re.search(r'<meta name="csrf-token" content="([^"]+)"', r.text)
        if not m:
            self.err("scan: page without csrf")
            return None
        csrf = m.group(1)
        r = await b.request(
            "POST",
            f"{self.base}/m/sessions/{d.sid}/confirm",
            headers={"X-CSRF-Token": csrf, "Accept": "application/json", "Content-Type": "application/json"},
            body=json.dumps({"match_code": d.match_code}).encode(),
            timeout=30,
        )
        if r.status != 200 or r.json().get("status") != "confirmed":
            self.err(f"confirm {r.status}")
            return None
        self.stats.confirm.append(r.elapsed)
        return csrf

    def browser(self) -> Browser:
        return Browser({"User-Agent": WECHAT_UA, "X-Mock-Openid": PHONE_OPENID}, local_host=self.next_address())

    async def scan_probe(self) -> None:
        d = self.claim()
        if d is None:
            self.err("no waiting desktop to scan")
            return
        b = self.browser()
        conn = Connection(HOST, self.port)
        try:
            await self.phone_scan(d, b)
            # The member walks away: the portal cancels, the desktop starts a new session.
            await self.request(conn, "DELETE", f"/v1/sessions/{d.sid}", headers=self.auth(), timeout=30)
        except HttpError as exc:
            self.err(f"scan: {str(exc)[:50]}")
        finally:
            b.close()
            conn.close()

    async def video_phone(self, until: float) -> None:
        """One phone after another: scan a waiting desktop, confirm, upload the clip, until ``until``."""
        while time.monotonic() < until and not self.stopping:
            d = self.claim()
            if d is None:
                await asyncio.sleep(0.2)
                continue
            b = self.browser()
            try:
                csrf = await self.phone_scan(d, b)
                if csrf is None:
                    await asyncio.sleep(0.5)
                    continue
                ctype, body = multipart("video", "video.mp4", "video/mp4", self.clip)
                self.in_flight += 1
                t0 = time.monotonic()
                try:
                    r = await b.request(
                        "POST",
                        f"{self.base}/m/sessions/{d.sid}/video",
                        headers={"X-CSRF-Token": csrf, "Accept": "application/json", "Content-Type": ctype},
                        body=body,
                        timeout=120,
                    )
                    status = await self.video_outcome(d, r)
                finally:
                    self.in_flight -= 1
                if status:
                    self.stats.upload.append(time.monotonic() - t0)
                    self.stats.verifications[status] += 1
            except HttpError as exc:
                self.err(f"video: {str(exc)[:50]}")
            finally:
                b.close()

    async def video_outcome(self, d: Desktop, r: Response) -> str | None:
        """The session's status once the video is decided: from a 200 answer, or by polling after a 202."""
        if r.status == 200:
            return str(r.json().get("status"))
        if r.status != 202:
            self.err(f"video {r.status}")
            return None
        conn = Connection(HOST, self.port)
        try:
            version = 0
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                p = await self.request(
                    conn, "GET", f"/v1/sessions/{d.sid}?wait=25&version={version}", headers=self.auth(), timeout=45
                )
                if p.status != 200:
                    self.err(f"video poll {p.status}")
                    return None
                s = p.json()
                if s["status"] != "verifying":
                    return str(s["status"])
                version = s["version"]
            self.err("video: still verifying after 120 s")
            return None
        finally:
            conn.close()

    # -- phases -----------------------------------------------------------------------------
    async def sampler(self, until: float) -> None:
        while time.monotonic() < until:
            self.stats.waiting_samples.append(self.waiting())
            self.stats.in_flight_samples.append(self.in_flight)
            t = time.monotonic()
            await asyncio.sleep(0.05)
            self.stats.loop_lag.append(time.monotonic() - t - 0.05)

    async def every(self, period: float, until: float, make: Any) -> None:
        """Start ``make()`` every ``period`` seconds (not waiting for it: steady sampling)."""
        nxt = time.monotonic()
        while nxt < until and not self.stopping:
            if len(self.bg) < 500:
                self.spawn(make())
            else:
                self.err("probe skipped: 500 probes outstanding")
            nxt += period
            await asyncio.sleep(max(0.0, nxt - time.monotonic()))

    async def idle_window(self, level: int, seconds: float, pids: dict[str, int]) -> PhaseStats:
        self.stats = PhaseStats("idle", level, False)
        win = procs.CpuWindow(pids)
        win.begin()
        await self.sampler(time.monotonic() + seconds)
        self.stats.cpu = win.end()
        self.stats.ended = time.monotonic()
        self.stats.loadavg = procs.loadavg()
        return self.stats

    async def probe_phase(
        self, level: int, seconds: float, videos: bool, pids: dict[str, int], workers: int = 0
    ) -> PhaseStats:
        self.stats = PhaseStats("video" if videos else "probes", level, videos, workers)
        until = time.monotonic() + seconds
        win = procs.CpuWindow(pids)
        win.begin()
        jobs = [
            self.sampler(until),
            self.every(1.0 / self.args.healthz_hz, until, self.healthz_once),
            self.every(1.0 / self.args.cancel_rate, until, self.cancel_probe),
            self.every(1.0 / self.args.scan_rate, until, self.scan_probe),
        ]
        if videos:
            jobs += [self.video_phone(until) for _ in range(self.args.video_phones)]
        await asyncio.gather(*jobs)
        self.stats.cpu = win.end()
        self.stats.ended = time.monotonic()
        self.stats.loadavg = procs.loadavg()
        # Let the probes still outstanding finish into this phase's numbers (bounded).
        if self.bg:
            await asyncio.wait(list(self.bg), timeout=self.args.wait + 15)
        return self.stats

    async def shutdown(self) -> None:
        self.stopping = True
        for t in self.tasks:
            t.cancel()
        for t in list(self.bg):
            t.cancel()
        await asyncio.gather(*self.tasks, *self.bg, return_exceptions=True)
        for d in self.desktops:
            d.conn.close()


# --------------------------------------------------------------------------- set-up
def sh(args: list[str], env: dict[str, str] | None = None, timeout: float = 300) -> str:
    r = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(args[:4])}... failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r.stdout


def make_media(work: Path) -> tuple[Path, bytes]:
    """The reference photo (d13's face 8 s in) and a 3-s clip of d13 blinking, as the video tests cut them."""
    import cv2

    from tests.factories import liveness_synth as synth

    src = REPO / "tests/data/videos/liveportrait-d13.mp4"
    clip = synth.cut(src, work / "d13_blink.mp4", 0.3, 3.0)
    cap = cv2.VideoCapture(str(src))
    cap.set(cv2.CAP_PROP_POS_MSEC, 8000)
    ok, frame = cap.read()
    cap.release()
    if not ok:
        raise SystemExit("could not read the reference frame of liveportrait-d13.mp4")
    photo = work / "reference.jpg"
    cv2.imwrite(str(photo), frame)
    return photo, clip.read_bytes()


def raise_nofile(want: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def recreate_database(name: str, pg: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"bad database name {name!r}")
    admin = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-qc"]
    sh([*admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])
    sh([*admin, f"CREATE DATABASE {name}"])
    return f"{pg.rstrip('/')}/{name}"


def cleanup_redis(url: str, prefix: str) -> int:
    import redis

    client = redis.Redis.from_url(url)
    n = 0
    batch: list[bytes] = []
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            n += client.unlink(*batch)
            batch.clear()
    if batch:
        n += client.unlink(*batch)
    client.close()
    return int(n)


def start_idsvc(args: argparse.Namespace, port: int, env: dict[str, str], run_dir: Path) -> procs.Started:
    """Start ``python -m idsvc serve`` and wait until it and all its workers answer."""
    import urllib.request

    py = sys.executable
    serve = ["serve", "--host", HOST, "--port", str(port), "--workers", str(args.workers)]
    log = run_dir / "idsvc.log"
    started = procs.start("idsvc", [py, "-m", "idsvc", *serve], env, log, REPO)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if started.proc.poll() is not None:
            raise SystemExit(f"idsvc serve exited with {started.proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/readyz", timeout=3) as r:
                if r.status == 200 and len(procs.children(started.proc.pid)) >= args.workers:
                    return started
        except OSError:
            pass
        time.sleep(0.5)
    procs.stop([started])
    raise SystemExit(f"idsvc serve not ready after 90 s; see {log}")


class AnalysisWorkers:
    """``idsvc worker --processes N --nice K``, restarted with another N between video phases."""

    def __init__(self, env: dict[str, str], run_dir: Path, nice: int) -> None:
        self.env, self.run_dir, self.nice = env, run_dir, nice
        self.current: procs.Started | None = None
        self.n = 0

    def started(self) -> list[procs.Started]:
        return [self.current] if self.current else []

    def use(self, n: int) -> None:
        if n == self.n:
            return
        procs.stop(self.started())
        log = self.run_dir / f"worker-{n}.log"
        cmd = [sys.executable, "-m", "idsvc", "worker", "--processes", str(n), "--nice", str(self.nice)]
        self.current, self.n = procs.start("worker", cmd, self.env, log, REPO), n
        deadline = time.monotonic() + 120
        while log.read_text(errors="replace").count("worker ready") < n:
            if self.current.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"idsvc worker did not start; see {log}")
            time.sleep(0.5)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def server_pids(started: list[procs.Started]) -> dict[str, int]:
    """Every process worth measuring: gunicorn master and workers, analysis workers, the mock, this client."""
    pids: dict[str, int] = {}
    for s in started:
        if s.name == "idsvc":
            pids["idsvc master"] = s.proc.pid
            for i, pid in enumerate(sorted(procs.children(s.proc.pid)), 1):
                pids[f"web worker {i}"] = pid
        elif s.name == "worker":
            # Not multiprocessing's resource tracker (spawn starts one next to the workers).
            kids = sorted(k for k in procs.children(s.proc.pid) if b"resource_tracker" not in _cmdline(k))
            if not kids:
                pids["analysis worker"] = s.proc.pid
            for i, pid in enumerate(kids, 1):
                pids[f"analysis worker {i}"] = pid
        else:
            pids[s.name] = s.proc.pid
    pids["load client"] = os.getpid()
    return pids


# --------------------------------------------------------------------------- report
def cpu_cell(cpu: dict[str, tuple[float | None, int | None]]) -> str:
    parts = []
    for name, (c, rss) in cpu.items():
        c_txt = "–" if c is None else f"{c:.1f}%"
        r_txt = "–" if rss is None else f"{rss / 2**20:.0f} MB"
        parts.append(f"{name} {c_txt} / {r_txt}")
    return "; ".join(parts)


def web_cpu(cpu: dict[str, tuple[float | None, int | None]]) -> float:
    return sum(c or 0.0 for name, (c, _) in cpu.items() if name.startswith(("idsvc", "web worker")))


def p50p99(values: list[float]) -> str:
    return f"{ms(pct(values, 50))} / {ms(pct(values, 99))} ({len(values)})"


def table(rows: list[tuple[PhaseStats, PhaseStats]]) -> str:
    head = (
        "| desktops wanted: waiting (min–mean) | videos | wake p50 / p99 ms (n) | /healthz p50 / p99 ms (n) | "
        "scan p50 / p99 ms (n) | confirm p50 / p99 ms (n) | video uploads in flight (mean / max) | "
        "verifications/s | errors | CPU % of one core / RSS per process | load avg |"
    )
    sep = "|" + "---|" * 11
    lines = [head, sep]
    for cpu_phase, p in rows:
        waiting = p.waiting_samples or [0]
        inflight = p.in_flight_samples or [0]
        verifs = sum(p.verifications.values())
        errors = sum(p.errors.values())
        lines.append(
            "| "
            + " | ".join(
                [
                    f"{p.level}: {min(waiting)}–{statistics.mean(waiting):.0f}",
                    f"yes, {p.workers} analysis worker{'s' * (p.workers != 1)}" if p.videos else "no",
                    p50p99(p.wakes()),
                    p50p99(p.healthz),
                    p50p99(p.scan_chain),
                    p50p99(p.confirm),
                    f"{statistics.mean(inflight):.1f} / {max(inflight)}" if p.videos else "0",
                    f"{verifs / p.seconds:.2f} ({dict(p.verifications) or 0})" if p.videos else "–",
                    str(errors),
                    ("idle: " if cpu_phase is not p else "") + cpu_cell(cpu_phase.cpu),
                    cpu_phase.loadavg,
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def verdicts(rows: list[tuple[PhaseStats, PhaseStats]]) -> list[str]:
    out = []
    for cpu_phase, p in rows:
        tag = f"{p.level} desktops, " + (f"with videos, {p.workers} analysis workers" if p.videos else "without videos")
        checks = []
        h99, w99 = pct(p.healthz, 99), pct(p.wakes(), 99)
        sc99, cf99 = pct(p.scan_callback, 99), pct(p.confirm, 99)
        if h99 is not None:
            checks.append(("healthz p99", h99 * 1000, TARGETS["healthz_p99_ms"]))
        if w99 is not None:
            checks.append(("wake p99", w99 * 1000, TARGETS["wake_p99_ms"]))
        if sc99 is not None:
            checks.append(("scan request p99", sc99 * 1000, TARGETS["scan_confirm_ms"]))
        if cf99 is not None:
            checks.append(("confirm p99", cf99 * 1000, TARGETS["scan_confirm_ms"]))
        if not p.videos:
            checks.append(("idle CPU of idsvc", web_cpu(cpu_phase.cpu), TARGETS["idle_cpu_pct"]))
        for name, value, target in checks:
            unit = "%" if "CPU" in name else " ms"
            ok = "met" if value < target else f"NOT met ({value / target:.1f}x the target)"
            out.append(f"- {tag}: {name} {value:.1f}{unit} (target < {target:.0f}{unit}): {ok}")
        if p.errors:
            out.append(f"- {tag}: errors {dict(p.errors)}")
    return out


def write_docs(path: Path, block: str) -> None:
    begin, end = "<!-- loadtest:begin -->", "<!-- loadtest:end -->"
    text = path.read_text() if path.exists() else f"# Capacity\n\n{begin}\n{end}\n"
    if begin not in text or end not in text:
        text = text.rstrip() + f"\n\n{begin}\n{end}\n"
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{begin}\n{block}\n{end}{tail}")


# --------------------------------------------------------------------------- main
async def measure(
    args: argparse.Namespace,
    port: int,
    key: str,
    clip: bytes,
    started: list[procs.Started],
    workers: AnalysisWorkers,
) -> str:
    client = LoadClient(args, port, key, clip)
    rows: list[tuple[PhaseStats, PhaseStats]] = []
    details: list[str] = []
    pids: dict[str, int] = {}
    try:
        for level in args.levels:
            print(f"== {level} desktops: ramp (load {procs.loadavg()})", flush=True)
            client.stats = PhaseStats("ramp", level, False)  # the last phase's numbers stay as printed
            ramp = await client.ramp_to(level, args.ramp_timeout)
            client.stats.ended = time.monotonic()
            ramp_errors = dict(client.stats.errors)
            await asyncio.sleep(args.settle)
            pids = server_pids(started)
            print(f"== {level} desktops: idle {args.idle_seconds:.0f} s (CPU/RSS from /proc)", flush=True)
            idle = await client.idle_window(level, args.idle_seconds, pids)
            print(f"   {cpu_cell(idle.cpu)}; load {idle.loadavg}", flush=True)
            print(f"== {level} desktops: probes without videos, {args.phase_seconds:.0f} s", flush=True)
            plain = await client.probe_phase(level, args.phase_seconds, False, pids)
            rows.append((idle, plain))
            videos: list[PhaseStats] = []
            for n in args.analysis_workers if args.video_phones else []:
                print(f"== {level} desktops: starting {n} analysis worker(s)", flush=True)
                await asyncio.to_thread(workers.use, n)
                pids = server_pids([*started, *workers.started()])
                print(
                    f"== {level} desktops: probes with {args.video_phones} phones uploading videos, "
                    f"{n} analysis worker(s)",
                    flush=True,
                )
                videos.append(await client.probe_phase(level, args.video_seconds, True, pids, n))
            rows += [(v, v) for v in videos]
            video = videos[0] if videos else None
            print(table(rows[-1 - len(videos) :]), flush=True)
            details.append(
                f"- {level} desktops: ramp {ramp:.0f} s (errors {ramp_errors or 'none'}); "
                f"scan callback alone p50/p99 {p50p99(plain.scan_callback)} ms without videos"
                + (f", {p50p99(video.scan_callback)} ms with videos" if video else "")
                + f"; wake by cancel {p50p99(plain.wake['cancel'])}, by scan {p50p99(plain.wake['scan'])} ms, "
                f"desktop's answer minus the DELETE's answer {p50p99(plain.wake_after_ack)} ms; "
                f"CPU while probing without videos: {cpu_cell(plain.cpu)}; "
                f"client loop lag p99 {ms(pct(plain.loop_lag, 99))} ms"
                + "".join(
                    f"; with {v.workers} analysis worker(s): upload→decision p50/p99 {p50p99(v.upload)} ms, "
                    f"client loop lag p99 {ms(pct(v.loop_lag, 99))} ms"
                    for v in videos
                )
            )
    finally:
        await client.shutdown()
    m = procs.machine()
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M %Z')} by `make loadtest` "
        f"({' '.join(sys.argv[1:]) or 'defaults'}); requests sent: {client.total_requests}.",
        "",
        f"Machine: {m['nproc']} cores, {m['cpu']}, {m['memory']} RAM, Linux {m['kernel']}; "
        "shared with other jobs (see the load average column).",
        "",
        f"Server: `python -m idsvc serve --workers {args.workers}` (gunicorn, gevent), IDSVC_ENV=production, "
        f"PostgreSQL, Redis on loopback; run settings: {RUN_SETTINGS_TEXT}.",
        "",
        "",
        table(rows),
        "",
        "Targets of #10 item 1:",
        "",
        *verdicts(rows),
        "",
        "Details:",
        "",
        *details,
    ]
    return "\n".join(lines)


RUN_SETTINGS_TEXT = ""


def main() -> int:
    global RUN_SETTINGS_TEXT
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--levels", default="1000,5000", help="desktops waiting at once, ascending (default 1000,5000)")
    p.add_argument("--workers", type=int, default=2, help="idsvc serve --workers")
    p.add_argument(
        "--analysis-workers",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[1, 2],
        help="a video phase per value, each with `idsvc worker --processes N` (default 1,2)",
    )
    p.add_argument("--worker-nice", type=int, default=10, help="`idsvc worker --nice`: they share this machine")
    p.add_argument(
        "--desktop-wait",
        choices=("events", "poll"),
        default="events",
        help="how desktops wait: the event stream (what the widget does) or ?wait= long-polls",
    )
    p.add_argument("--wait", type=int, default=25, help="long-poll ?wait= seconds")
    p.add_argument("--idle-seconds", type=float, default=10)
    p.add_argument("--phase-seconds", type=float, default=30, help="probes without videos")
    p.add_argument("--video-seconds", type=float, default=40, help="probes with videos")
    p.add_argument(
        "--video-phones", type=int, default=6, help="phones each uploading one video after another (saturates workers)"
    )
    p.add_argument("--healthz-hz", type=float, default=10)
    p.add_argument("--cancel-rate", type=float, default=2, help="wake probes by DELETE per second")
    p.add_argument("--scan-rate", type=float, default=1, help="phone scans (+confirm) per second")
    p.add_argument("--settle", type=float, default=3)
    p.add_argument("--ramp-concurrency", type=int, default=32, help="session creations at once")
    p.add_argument("--ramp-timeout", type=float, default=240)
    p.add_argument("--max-seconds", type=float, default=1200, help="hard bound on the whole run")
    p.add_argument("--max-requests", type=int, default=400_000, help="hard bound on requests sent")
    p.add_argument("--database", default="idsvc_load", help="PostgreSQL database (dropped and re-created)")
    p.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    p.add_argument("--docs", default=str(REPO / "docs/capacity.md"), help="'' to not write the docs")
    args = p.parse_args()
    args.levels = sorted(int(x) for x in args.levels.split(",") if x.strip())

    nofile = raise_nofile(max(args.levels) * 2 + 2000)
    if nofile < max(args.levels) + 500:
        raise SystemExit(f"open-file limit {nofile} is too low for {max(args.levels)} desktops")

    run_dir = REPO / "var" / "loadtest"
    run_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="idsvc-load-"))
    print(f"machine: {procs.machine()}; load average {procs.loadavg()}; open-file limit {nofile}", flush=True)
    print("preparing the clip and the reference photo from tests/data ...", flush=True)
    photo, clip = make_media(work)

    port, mock_port = procs.free_port(), procs.free_port()
    prefix = f"idsvc-load-{secrets.token_hex(4)}"
    db_url = recreate_database(args.database, args.pg)
    run_settings = {
        "IDSVC_RATE_LIMIT_PER_MINUTE": "100000",  # session creation allows 10x this per key per minute
        "IDSVC_SESSION_TTL": "1800",  # no session expires during the run
        "IDSVC_CHALLENGES": "blink",  # the clip shows a blink: a recorded clip can answer one action only
        "IDSVC_CHALLENGE_ACTIONS": "1",
    }
    RUN_SETTINGS_TEXT = ", ".join(f"{k}={v}" for k, v in run_settings.items())
    env = {
        **os.environ,
        "IDSVC_ENV": "production",
        "IDSVC_SECRET_KEY": secrets.token_urlsafe(32),
        "IDSVC_CERT_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "IDSVC_DATABASE_URL": db_url,
        "IDSVC_REDIS_URL": args.redis,
        "IDSVC_REDIS_PREFIX": prefix,
        "IDSVC_PUBLIC_URL": f"http://{HOST}:{port}",
        "IDSVC_WECHAT_API_BASE": f"http://{HOST}:{mock_port}/",
        "IDSVC_WECHAT_OAUTH_BASE": f"http://{HOST}:{mock_port}/connect/",
        "IDSVC_WECHAT_APPID": "wx_load_appid",
        "IDSVC_WECHAT_SECRET": "load_secret",
        "IDSVC_BLOB_DIR": str(work / "blobs"),
        "PYTHONUNBUFFERED": "1",
        **run_settings,
    }
    env.pop("IDSVC_WEBHOOK_URL", None)
    print(f"run settings (raised for the load test): {RUN_SETTINGS_TEXT}", flush=True)
    print(f"database {db_url}; redis {args.redis} prefix {prefix}; logs in {run_dir}", flush=True)

    py = sys.executable
    sh([py, "-m", "idsvc", "db", "upgrade"], env)
    sh(
        [
            py,
            "-m",
            "idsvc",
            "member",
            "add",
            "--member-id",
            MEMBER_ID,
            "--name",
            "压测会员",
            "--id-number",
            ID_NUMBER,
            "--association",
            "11",
        ],
        env,
    )
    sh([py, "-m", "idsvc", "idrecord", "add", "--id-number", ID_NUMBER, "--name", "张三", str(photo)], env)
    key = sh([py, "-m", "idsvc", "apikey", "create", "--name", "loadtest", "--role", "platform"], env).strip()

    started: list[procs.Started] = []
    workers = AnalysisWorkers(env, run_dir, args.worker_nice)
    try:
        started.append(
            procs.start(
                "mock",
                [
                    py,
                    "-m",
                    "mock_wechat",
                    "--host",
                    HOST,
                    "--port",
                    str(mock_port),
                    "--appid",
                    "wx_load_appid",
                    "--secret",
                    "load_secret",
                    "--public-url",
                    f"http://{HOST}:{port}",
                ],
                env,
                run_dir / "mock_wechat.log",
                REPO,
            )
        )
        started.append(start_idsvc(args, port, env, run_dir))
        procs.wait_port(mock_port, 30, started[0].proc)
        block = asyncio.run(asyncio.wait_for(measure(args, port, key, clip, started, workers), args.max_seconds))
    finally:
        procs.stop([*started, *workers.started()])
        removed = cleanup_redis(args.redis, prefix)
        print(f"stopped the servers; removed {removed} Redis keys of {prefix}", flush=True)
    print()
    print(block)
    if args.docs:
        write_docs(Path(args.docs), block)
        print(f"\nwritten to {args.docs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
