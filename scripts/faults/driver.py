#!/usr/bin/env python3
"""Load + fault driver for kms-emulator (issue 7, faults). Python 3.11 stdlib only.

Started by scripts/faults/run.sh, which owns the private PostgreSQL cluster this
script restarts. Every request is recorded with what the client saw:

  ok       answered 200
  error    answered with a status >= 400 (must be a clean KMS JSON error)
  unknown  sent, but the connection broke with no answer: the write may or may not
           have happened, so it is counted apart and never called lost
  hung     sent, no answer within the client timeout (a violation: nothing may hang)
  told     answered 503 with a message that the outcome is unknown ("may or may not have
           taken effect": the connection to PostgreSQL broke during COMMIT and the outcome
           could not be read back, or the request timed out): verified like unknown
  refused  connection refused: never reached the service, so it cannot have happened

After each phase the whole ledger is checked against the database with psql: every
acknowledged create is stored (unless an acknowledged delete removed it), every
acknowledged revoke/retire removed its grant, and nothing answered with an error
took effect.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

PROJECT = "0f2b6c3a9d8e4f1a8b7c6d5e4f3a2b1c"
BOB = "b0b00000000000000000000000000002"
CAROL = "ca401000000000000000000000000003"
ALICE_TOKEN = "demo-token-alice"
CAROL_TOKEN = "demo-token-carol"

OK, ERROR, UNKNOWN, HUNG, REFUSED = "ok", "error", "unknown", "hung", "refused"
TOLD = "told-unknown"


def ledger_kind(result: "Result") -> str:
    """How a write counts for durability: a 5xx that says its outcome is unknown is unknown."""
    if result.kind == ERROR and result.status >= 500 and isinstance(result.body, dict):
        message = (result.body.get("error") or {}).get("error_msg") or ""
        if "may or may not have taken effect" in message:
            return TOLD
    return result.kind

SIZES = {
    # pre: load before the fault (s); outage: PostgreSQL down (s); post: load after recovery (s).
    # restarts alternate a fast stop (sessions cut) and an immediate one (a crash: WAL recovery).
    "small": dict(workers=6, pre=1.5, outage=2.0, post=4.0, restarts=2, kills=1),
    "full": dict(workers=16, pre=8.0, outage=5.0, post=12.0, restarts=3, kills=3),
}


def log(message: str) -> None:
    print(f"[faults {time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Result:
    kind: str
    status: int = 0
    body: dict | None = None
    raw: str = ""
    sent_at: float = 0.0


@dataclass
class Ledger:
    """What the clients saw, shared by all workers (guarded by `lock`)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    # create name -> (outcome, grant_id or None, phase)
    creates: dict[str, tuple[str, str | None, str]] = field(default_factory=dict)
    # grant_id -> (outcome, action, phase); each grant gets at most one delete
    deletes: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    # phase -> outcome/status counters
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    # (phase, start, end) of each fault, for "requests sent under fault"
    windows: list[tuple[str, float, float]] = field(default_factory=list)
    # (phase, sent_at, kind, status) of every request, for the recovery checks
    timeline: list[tuple[str, float, str, int]] = field(default_factory=list)

    def count(self, phase: str, name: str) -> None:
        per = self.counts.setdefault(phase, {})
        per[name] = per.get(name, 0) + 1

    def violation(self, message: str) -> None:
        with self.lock:
            self.violations.append(message)
        log(f"VIOLATION: {message}")


class Service:
    """The emulator binary as a child process, its output in a log file."""

    def __init__(self, args: argparse.Namespace, port: int, name: str, extra: list[str] | None = None):
        self.args = args
        self.port = port
        self.log_path = os.path.join(args.work, f"server-{name}.log")
        self.extra = extra or []
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        out = open(self.log_path, "ab")
        cmd = [
            self.args.bin,
            "--listen", f"127.0.0.1:{self.port}",
            "--database-url", self.args.db_url,
            "--max-grants-per-key", "1000000",
            "--db-max-connections", "8",
            # Below the client timeout, so a stuck request is answered rather than left hanging;
            # above the 10 s a commit cut off by a database crash spends reading back its outcome.
            "--request-timeout-secs", "15",
            *self.extra,
        ]
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                     env={**os.environ, "RUST_LOG": "kms_emulator=info"})
        out.close()

    def wait_ready(self, within: float) -> float:
        """Seconds until /ready answered 200; raises if it did not within `within`."""
        started = time.monotonic()
        while time.monotonic() - started < within:
            if self.proc and self.proc.poll() is not None:
                raise RuntimeError(f"service exited with {self.proc.returncode}; see {self.log_path}")
            if ready(self.port):
                return time.monotonic() - started
            time.sleep(0.05)
        raise RuntimeError(f"service not ready within {within}s; see {self.log_path}")

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait_exit(self, timeout: float) -> int | None:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait_exit(15) is None:
                self.proc.kill()
                self.proc.wait()

    def log_text(self) -> str:
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


def ready(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        conn.request("GET", "/ready")
        status = conn.getresponse().status
        conn.close()
        return status == 200
    except OSError:
        return False


def call(port: int, token: str, action: str, body: dict, timeout: float) -> Result:
    """One request on a fresh connection, so a refused connect proves the request was never sent."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.connect()
    except OSError:
        return Result(REFUSED)
    sent_at = time.monotonic()
    try:
        conn.request("POST", f"/v1.0/{PROJECT}/kms/{action}", body=json.dumps(body),
                     headers={"X-Auth-Token": token, "Content-Type": "application/json"})
        response = conn.getresponse()
        raw = response.read().decode("utf-8", "replace")
        status = response.status
    except (socket.timeout, TimeoutError):
        return Result(HUNG, sent_at=sent_at)
    except (OSError, http.client.HTTPException):
        return Result(UNKNOWN, sent_at=sent_at)
    finally:
        conn.close()
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    return Result(OK if status == 200 else ERROR, status, parsed, raw, sent_at)


def clean_error(result: Result) -> str | None:
    """Why an error answer is not a clean KMS error, or None if it is one."""
    body = result.body
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return f"status {result.status} with a non-KMS body {result.raw[:200]!r}"
    code, message = body["error"].get("error_code"), body["error"].get("error_msg")
    if not (isinstance(code, str) and code.startswith("KMS.") and isinstance(message, str) and message):
        return f"status {result.status} with a malformed KMS error {result.raw[:200]!r}"
    return None


class Load:
    """Workers creating grants and revoking/retiring the ones they created, until stopped."""

    def __init__(self, args: argparse.Namespace, ledger: Ledger, keys: list[str], workers: int):
        self.args, self.ledger, self.keys = args, ledger, keys
        self.port = args.port
        self.phase = "setup"
        self.stop_event = threading.Event()
        self.threads = [threading.Thread(target=self.worker, args=(i,), daemon=True) for i in range(workers)]
        self.seq = 0
        self.in_flight = 0
        # While set, workers stop as soon as the service refuses connections (graceful shutdown).
        self.stop_on_refused = False

    def start(self, phase: str) -> None:
        self.phase = phase
        for t in self.threads:
            t.start()

    def stop(self) -> None:
        self.stop_event.set()
        for t in self.threads:
            t.join(self.args.client_timeout + 5)
            if t.is_alive():
                self.ledger.violation("a load worker did not finish (client stuck)")

    def next_name(self, worker: int) -> str:
        with self.ledger.lock:
            self.seq += 1
            return f"f-{self.phase}-{worker}-{self.seq}"

    def worker(self, index: int) -> None:
        rnd = random.Random(index * 7919 + int(time.time()))
        live: list[tuple[str, str]] = []  # (key_id, grant_id) created with 200, not deleted yet
        while not self.stop_event.is_set():
            phase = self.phase
            if live and (len(live) >= 4 or rnd.random() < 0.45):
                key_id, grant_id = live.pop(rnd.randrange(len(live)))
                action, token = rnd.choice([("revoke-grant", ALICE_TOKEN), ("retire-grant", CAROL_TOKEN)])
                result = self.send(token, action, {"key_id": key_id, "grant_id": grant_id})
                if result.kind == REFUSED:
                    live.append((key_id, grant_id))  # never sent: the grant is still ours to delete
                else:
                    with self.ledger.lock:
                        self.ledger.deletes[grant_id] = (ledger_kind(result), action, phase)
            else:
                key_id = rnd.choice(self.keys)
                name = self.next_name(index)
                result = self.send(ALICE_TOKEN, "create-grant", {
                    "key_id": key_id, "grantee_principal": BOB, "operations": ["encrypt-data"],
                    "retiring_principal": CAROL, "name": name})
                grant_id = result.body.get("grant_id") if result.kind == OK and isinstance(result.body, dict) else None
                if result.kind == OK and not (isinstance(grant_id, str) and len(grant_id) == 64):
                    self.ledger.violation(f"create-grant 200 without a grant_id: {result.raw[:200]!r}")
                with self.ledger.lock:
                    self.ledger.creates[name] = (ledger_kind(result), grant_id, phase)
                if grant_id:
                    live.append((key_id, grant_id))
            self.record(phase, result)
            if result.kind == REFUSED:
                if self.stop_on_refused:
                    return
                time.sleep(0.05)  # the service is down: do not spin

    def send(self, token: str, action: str, body: dict) -> Result:
        with self.ledger.lock:
            self.in_flight += 1
        try:
            return call(self.port, token, action, body, self.args.client_timeout)
        finally:
            with self.ledger.lock:
                self.in_flight -= 1

    def record(self, phase: str, result: Result) -> None:
        ledger = self.ledger
        with ledger.lock:
            ledger.count(phase, result.kind)
            if result.kind == ERROR:
                ledger.count(phase, f"{result.status // 100}xx")
                code = (result.body or {}).get("error", {}).get("error_code", "?") if isinstance(result.body, dict) else "?"
                ledger.count(phase, f"{result.status} {code}")
                if ledger_kind(result) == TOLD:
                    ledger.count(phase, TOLD)
            if result.kind != REFUSED:
                ledger.timeline.append((phase, result.sent_at, result.kind, result.status))
        if result.kind == HUNG:
            ledger.violation(f"[{phase}] a request got no answer within {self.args.client_timeout}s")
        if result.kind == ERROR:
            why = clean_error(result)
            if why:
                ledger.violation(f"[{phase}] {why}")
            elif result.status < 500:
                # Workers only delete their own acknowledged grants, so no 4xx is expected.
                ledger.violation(f"[{phase}] unexpected client error {result.raw[:200]!r}")


class Postgres:
    """The private cluster run.sh created; commands run as its owner."""

    def __init__(self, args: argparse.Namespace):
        self.args = args

    def ctl(self, *words: str) -> None:
        cmd = [os.path.join(self.args.pg_bin, "pg_ctl"), "-D", self.args.pg_data, "-w", "-t", "60",
               "-l", os.path.join(self.args.pg_data, "..", "pg.log"), *words]
        if self.args.pg_owner:
            cmd = ["su", self.args.pg_owner, "-s", "/bin/sh", "-c", " ".join(shell_quote(w) for w in cmd)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)

    def stop(self, mode: str = "fast") -> None:
        # fast: open transactions are rolled back and their sessions cut (a restart or failover);
        # immediate: the server dies without a checkpoint and replays its WAL at start (a crash).
        self.ctl("stop", "-m", mode)

    def start(self) -> None:
        self.ctl("start", "-o", f"-p {self.args.pg_port} -k {self.args.pg_socket_dir} -c listen_addresses=127.0.0.1")

    def psql(self, sql: str) -> list[list[str]]:
        out = subprocess.run([os.path.join(self.args.pg_bin, "psql"), self.args.db_url, "-XAtq", "-F", "\t",
                              "-v", "ON_ERROR_STOP=1", "-c", sql],
                             check=True, capture_output=True, text=True).stdout
        return [line.split("\t") for line in out.splitlines() if line]


def shell_quote(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


def verify(pg: Postgres, ledger: Ledger, label: str, figures: dict) -> None:
    """Checks the whole ledger against the stored grants."""
    stored: dict[str, list[str]] = {}
    for name, grant_id in pg.psql("select name, grant_id from kms_grant where name like 'f-%'"):
        stored.setdefault(name, []).append(grant_id)
    acked = errors_checked = unknown = 0
    bad: list[str] = []
    with ledger.lock:
        creates = dict(ledger.creates)
        deletes = dict(ledger.deletes)
    for name, (kind, grant_id, phase) in creates.items():
        rows = stored.get(name, [])
        if len(rows) > 1:
            bad.append(f"create {name} ({phase}) stored {len(rows)} times")
            continue
        if kind == OK:
            acked += 1
            delete = deletes.get(grant_id)
            if delete is None or delete[0] == ERROR:
                if rows != [grant_id]:
                    bad.append(f"acknowledged create {name} ({phase}) grant {grant_id} missing (stored: {rows})"
                               + (f"; its {delete[1]} answered an error" if delete else ""))
                if delete:
                    errors_checked += 1
            elif delete[0] == OK:
                acked += 1
                if rows:
                    bad.append(f"acknowledged {delete[1]} ({delete[2]}) of grant {grant_id} did not take effect")
            else:
                unknown += 1  # the delete's outcome is unknown: either state is right
        elif kind in (ERROR, REFUSED):
            errors_checked += kind == ERROR
            if rows:
                bad.append(f"create {name} ({phase}) answered {kind} but grant {rows[0]} is stored")
        else:
            unknown += 1  # unknown/hung create: at most one grant, checked above
    for name in stored:
        if name not in creates:
            bad.append(f"grant named {name} is stored but was never requested")
    for message in bad:
        ledger.violation(f"[verify {label}] {message}")
    figures["acknowledged writes verified"] = acked
    figures["error-answered writes verified absent/unapplied"] = errors_checked
    figures["unknown-outcome writes (either state accepted)"] = unknown
    log(f"verify after {label}: {acked} acknowledged writes durable, {errors_checked} error-answered writes "
        f"had no effect, {unknown} of unknown outcome, {len(bad)} violations")


def check_recovery(ledger: Ledger, phase: str, back_at: float, grace: float) -> None:
    """After the fault ended, the service must answer 200 again by itself, and keep doing so."""
    with ledger.lock:
        after = [(t, kind, status) for p, t, kind, status in ledger.timeline if p == phase and t >= back_at]
    oks = [t for t, kind, _ in after if kind == OK]
    if not oks:
        ledger.violation(f"[{phase}] no request succeeded after the fault ended (no recovery)")
        return
    log(f"[{phase}] first 200 {oks[0] - back_at:.2f}s after the fault ended")
    late = [(kind, status) for t, kind, status in after if t >= back_at + grace and kind != OK]
    if late:
        ledger.violation(f"[{phase}] {len(late)} requests failed more than {grace}s after the fault ended: {late[:5]}")


def create_keys(port: int, n: int, tag: str) -> list[str]:
    keys = []
    for i in range(n):
        result = call(port, ALICE_TOKEN, "create-key", {"key_alias": f"faults-{tag}-{i}-{os.getpid()}"}, 10)
        if result.kind != OK:
            raise RuntimeError(f"create-key failed: {result.kind} {result.raw[:200]}")
        keys.append(result.body["key_info"]["key_id"])
    return keys


def free_port(avoid: int = 0) -> int:
    """A free loopback port: from KMS_PORT_RANGE ("LOW-HIGH", for machines where each
    session owns a range) when it is set, else one the system picks."""
    low, _, high = os.environ.get("KMS_PORT_RANGE", "").partition("-")
    candidates = [p for p in range(int(low), int(high) + 1) if p != avoid] if high else [0]
    random.shuffle(candidates)
    for candidate in candidates:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError(f"no free port in KMS_PORT_RANGE={os.environ.get('KMS_PORT_RANGE')}")


def wait_for(predicate, within: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


# ---------------------------------------------------------------- phases


def phase_pg_restart(args, pg, ledger, keys, size, figures) -> None:
    """(a) PostgreSQL stops (fast) and starts again while load runs."""
    service = Service(args, args.port, "a-pg-restart")
    service.start()
    service.wait_ready(30)
    load = Load(args, ledger, keys, size["workers"])
    load.start("pg-restart")
    back_at = 0.0
    for cycle in range(size["restarts"]):
        time.sleep(size["pre"])
        mode = ("fast", "immediate")[cycle % 2]
        log(f"(a) stopping PostgreSQL (-m {mode}) under load (cycle {cycle + 1}/{size['restarts']})")
        down_at = time.monotonic()
        pg.stop(mode)
        time.sleep(size["outage"])
        if ready(args.port):
            ledger.violation("(a) /ready answered 200 while PostgreSQL was down")
        pg.start()
        back_at = time.monotonic()
        ledger.windows.append(("pg-restart", down_at, back_at))
        log("(a) PostgreSQL is back")
    time.sleep(size["post"])
    load.stop()
    if not ready(args.port):
        ledger.violation("(a) /ready is not 200 after PostgreSQL came back")
    check_recovery(ledger, "pg-restart", back_at, grace=6.0)
    service.stop()
    verify(pg, ledger, "(a) PostgreSQL restart", figures)


def phase_kill9(args, pg, ledger, keys, size, figures) -> None:
    """(b) kill -9 the service under load, then start it again on the same database."""
    service = Service(args, args.port, "b-kill9")
    service.start()
    service.wait_ready(30)
    load = Load(args, ledger, keys, size["workers"])
    load.start("kill9")
    back_at = 0.0
    for cycle in range(size["kills"]):
        time.sleep(size["pre"])
        log(f"(b) kill -9 of the service under load (cycle {cycle + 1}/{size['kills']}), "
            f"{load.in_flight} requests in flight")
        down_at = time.monotonic()
        service.signal(signal.SIGKILL)
        service.wait_exit(10)
        time.sleep(0.5)
        service.start()
        took = service.wait_ready(30)
        back_at = time.monotonic()
        ledger.windows.append(("kill9", down_at - 0.2, back_at))
        log(f"(b) service restarted, ready after {took:.2f}s")
    time.sleep(size["post"])
    load.stop()
    check_recovery(ledger, "kill9", back_at, grace=2.0)
    service.stop()
    verify(pg, ledger, "(b) kill -9", figures)


def phase_db_down(args, pg, ledger, keys, size, figures) -> None:
    """(c) Start with the database down: a clear error when the retry window ends; up once it is back within it."""
    pg.stop()
    # c1: the window ends with the database still down: the process exits non-zero and says why.
    service = Service(args, args.port, "c1-db-down", ["--db-connect-retry-secs", "2"])
    started = time.monotonic()
    service.start()
    code = service.wait_exit(20)
    took = time.monotonic() - started
    text = service.log_text()
    retries = text.count("PostgreSQL is not reachable yet")
    log(f"(c) database down, 2 s window: exit {code} after {took:.1f}s, {retries} retry warnings")
    if code in (None, 0):
        ledger.violation(f"(c) start with the database down exited with {code} (expected a failure)")
        if code is None:
            service.proc.kill()
    if "cannot open PostgreSQL database" not in text:
        ledger.violation(f"(c) no clear error when the database stays down; log: {text[-500:]!r}")
    if retries < 2:
        ledger.violation(f"(c) expected retries with backoff, saw {retries} warnings")
    if "panicked" in text:
        ledger.violation("(c) the service panicked with the database down")
    # c2: the database comes back within the window: the service comes up by itself.
    service = Service(args, args.port, "c2-db-late", ["--db-connect-retry-secs", "30"])
    service.start()
    time.sleep(2.5)
    if service.proc.poll() is not None:
        ledger.violation(f"(c) service gave up at once with the database down (exit {service.proc.returncode})")
    if "PostgreSQL is not reachable yet" not in service.log_text():
        ledger.violation("(c) no log line says the database is not reachable yet")
    pg.start()
    back = time.monotonic()
    try:
        service.wait_ready(30)
        log(f"(c) database started: service ready {time.monotonic() - back:.2f}s later")
    except RuntimeError as e:
        ledger.violation(f"(c) service did not come up after the database returned: {e}")
    load = Load(args, ledger, keys, 2)
    load.start("db-down-start")
    time.sleep(1.5)
    load.stop()
    check_recovery(ledger, "db-down-start", back, grace=0.0)
    service.stop()
    verify(pg, ledger, "(c) start with the database down", figures)


LOCKER = "faults-locker"


def hold_grant_table(pg: Postgres) -> subprocess.Popen:
    """Blocks every grant write until released, so requests are surely in flight when SIGTERM comes."""
    sql = "begin; lock table kms_grant in access exclusive mode; select pg_sleep(120); commit;"
    locker = subprocess.Popen([os.path.join(pg.args.pg_bin, "psql"), pg.args.db_url, "-Xq", "-c", sql],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "PGAPPNAME": LOCKER})
    held = f"select count(*) from pg_locks l join pg_stat_activity a using (pid) where a.application_name = '{LOCKER}' and l.granted and l.mode = 'AccessExclusiveLock'"
    if not wait_for(lambda: pg.psql(held)[0][0] != "0", 10, 0.05):
        raise RuntimeError("the grant table lock was not taken")
    return locker


def release_grant_table(pg: Postgres, locker: subprocess.Popen) -> None:
    # Ended on the server: killing psql alone would leave its backend holding the lock in pg_sleep.
    pg.psql(f"select pg_terminate_backend(pid) from pg_stat_activity where application_name = '{LOCKER}'")
    locker.wait()


def blocked_backends(pg: Postgres) -> int:
    rows = pg.psql("select count(*) from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()")
    return int(rows[0][0])


def phase_sigterm(args, pg, ledger, keys, size, figures) -> None:
    """(d) SIGTERM with requests in flight: they finish, then the process exits within the deadline."""
    # Fewer workers than the service's 8 pooled connections: each request must be blocked in
    # PostgreSQL itself, not queued for a connection (which would time out on its own).
    workers = min(size["workers"], 6)
    # sigterm: the lock is released 1 s after SIGTERM, within the deadline; sigterm-deadline:
    # it is held until the process has exited, past its 2 s deadline.
    for label, release_after, deadline in (("sigterm", 1.0, 10), ("sigterm-deadline", None, 2)):
        service = Service(args, args.port, f"d-{label}", ["--shutdown-timeout-secs", str(deadline)])
        service.start()
        service.wait_ready(30)
        locker = hold_grant_table(pg)
        load = Load(args, ledger, keys, workers)
        load.stop_on_refused = True
        load.start(label)
        # Every worker's request must be waiting on the lock before the signal.
        if not wait_for(lambda: blocked_backends(pg) >= workers, 10, 0.1):
            ledger.violation(f"(d) {label}: only {blocked_backends(pg)} of {workers} requests blocked in time")
        in_flight = load.in_flight
        log(f"(d) {label}: SIGTERM with {in_flight} requests in flight (grant table released "
            f"{'%.0f s after SIGTERM' % release_after if release_after else 'after exit'}, shutdown deadline {deadline}s)")
        before = dict(ledger.counts.get(label, {}))
        signalled = time.monotonic()
        service.signal(signal.SIGTERM)
        if release_after is not None:
            time.sleep(release_after)
            if service.proc.poll() is not None:
                ledger.violation(f"(d) {label}: exited before the requests in flight could finish")
            release_grant_table(pg, locker)
        code = service.wait_exit(deadline + 15)
        took = time.monotonic() - signalled
        log(f"(d) {label}: exit {code} after {took:.2f}s")
        load.stop_event.set()
        if release_after is None:
            release_grant_table(pg, locker)
        load.stop()
        after = ledger.counts.get(label, {})
        answered = after.get(OK, 0) + after.get(ERROR, 0) - before.get(OK, 0) - before.get(ERROR, 0)
        figures[f"{label}: in flight at SIGTERM"] = in_flight
        figures[f"{label}: answered after SIGTERM"] = answered
        figures[f"{label}: exit after (s)"] = round(took, 2)
        if code is None:
            ledger.violation(f"(d) {label}: the process did not exit within {deadline + 15}s of SIGTERM")
            service.proc.kill()
            service.proc.wait()
        elif code != 0:
            ledger.violation(f"(d) {label}: exit code {code} after SIGTERM")
        if label == "sigterm":
            # The lock is released well within the deadline: every request in flight is answered.
            if after.get(UNKNOWN, 0) or answered < in_flight:
                ledger.violation(f"(d) {label}: {in_flight} in flight, {answered} answered, "
                                 f"{after.get(UNKNOWN, 0)} cut off")
        elif took > deadline + 3.0:
            ledger.violation(f"(d) {label}: exited {took:.2f}s after SIGTERM; the deadline is {deadline}s")
        verify(pg, ledger, f"(d) {label}", figures)


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--bin", required=True)
    parser.add_argument("--pg-bin", required=True)
    parser.add_argument("--pg-data", required=True)
    parser.add_argument("--pg-port", type=int, required=True)
    parser.add_argument("--pg-socket-dir", required=True)
    parser.add_argument("--pg-owner", default="", help="run pg_ctl as this user (when running as root)")
    parser.add_argument("--work", required=True)
    parser.add_argument("--client-timeout", type=float, default=20.0)
    args = parser.parse_args()
    args.db_url = f"postgres://postgres@127.0.0.1:{args.pg_port}/kms"
    args.port = free_port(avoid=args.pg_port)
    size = SIZES[args.size]
    pg = Postgres(args)
    ledger = Ledger()
    figures: dict = {}
    started = time.monotonic()

    setup = Service(args, args.port, "setup")
    setup.start()
    setup.wait_ready(30)
    keys = create_keys(args.port, 3, "k")
    setup.stop()

    phases = [phase_pg_restart, phase_kill9, phase_db_down, phase_sigterm]
    for phase in phases:
        try:
            phase(args, pg, ledger, keys, size, figures)
        except Exception as e:  # a phase that cannot run is a failure, not a crash of the driver
            ledger.violation(f"{phase.__name__} aborted: {e!r}")
            try:
                pg.start()
            except subprocess.CalledProcessError:
                pass

    # No panic in any server log, whatever the answers were.
    for name in sorted(os.listdir(args.work)):
        if name.startswith("server-"):
            with open(os.path.join(args.work, name), "rb") as f:
                text = f.read().decode("utf-8", "replace")
            if "panicked" in text:
                ledger.violation(f"panic in {name}")
            # Commits whose connection broke: resolved by reading the outcome back, or not.
            for line in text.splitlines():
                if "connection lost during commit; outcome read back" in line:
                    key = "commits cut off, outcome read back: " + (
                        "committed" if "committed=true" in line else "not committed")
                    figures[key] = figures.get(key, 0) + 1
                elif "connection lost during commit; outcome unknown" in line:
                    figures["commits cut off, outcome unknown (answered so)"] = (
                        figures.get("commits cut off, outcome unknown (answered so)", 0) + 1)

    totals: dict[str, int] = {}
    print("\n== fault test figures")
    for phase, per in ledger.counts.items():
        sent = sum(v for k, v in per.items() if k in (OK, ERROR, UNKNOWN, HUNG))
        extra = ", ".join(f"{k}: {v}" for k, v in sorted(per.items()) if k not in (OK, ERROR, UNKNOWN, HUNG, REFUSED))
        print(f"  {phase:18} sent {sent:5}  200 {per.get(OK, 0):5}  errors {per.get(ERROR, 0):4}  "
              f"unknown {per.get(UNKNOWN, 0):3}  hung {per.get(HUNG, 0)}  refused(not sent) {per.get(REFUSED, 0):4}"
              + (f"  [{extra}]" if extra else ""))
        for k, v in per.items():
            totals[k] = totals.get(k, 0) + v
    sent = sum(v for k, v in totals.items() if k in (OK, ERROR, UNKNOWN, HUNG))
    print(f"  {'total':18} sent {sent:5}  200 {totals.get(OK, 0):5}  errors {totals.get(ERROR, 0):4}  "
          f"(5xx {totals.get('5xx', 0)}, 4xx {totals.get('4xx', 0)})  unknown {totals.get(UNKNOWN, 0):3}  "
          f"hung {totals.get(HUNG, 0)}")
    # Sent while PostgreSQL was down or the service dead (and the moment before the kill: in flight).
    for phase in sorted({w[0] for w in ledger.windows}):
        under = [(kind, status) for p, t, kind, status in ledger.timeline
                 if p == phase and any(wp == p and a <= t <= b for wp, a, b in ledger.windows)]
        by_kind = {k: sum(1 for kind, _ in under if kind == k) for k in (OK, ERROR, UNKNOWN, HUNG)}
        print(f"  {phase}: {len(under)} requests sent while the fault lasted: "
              + ", ".join(f"{k} {v}" for k, v in by_kind.items()))
    for k, v in figures.items():
        print(f"  {k}: {v}")
    print(f"  duration: {time.monotonic() - started:.1f}s")
    if ledger.violations:
        print(f"\nFAIL: {len(ledger.violations)} violations")
        for v in ledger.violations:
            print(f"  - {v}")
        return 1
    print("\nPASS: no violations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
