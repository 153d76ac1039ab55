"""Two (or more) Conv Lab replicas behind HAProxy, sticky by cookie, checked on /_stcore/health.

    python scripts/replicas.py [--database-url postgresql://user@host/db] [--port 8080] [--replicas 2]
    make hall                  # the same on this machine: one replica per core on port 8501, classes in SQLite

One Streamlit process runs page scripts on one core (Python's interpreter lock); a replica per core lets a lecture
hall use the whole machine (issue 17). Replicas on one machine share the live class's default SQLite file (WAL:
several processes may write it); replicas on several machines need PostgreSQL.

Starts one Streamlit server per replica on loopback ports (the same STREAMLIT_SERVER_COOKIE_SECRET on each, so a
tab that fails over keeps a valid XSRF cookie), writes the HAProxy configuration below, checks it with
`haproxy -c` (which must print no warning) and runs HAProxy in the foreground until Ctrl-C.
tests/test_replicas.py starts exactly this setup and kills a replica under live students.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HAPROXY = os.environ.get("CONVLAB_HAPROXY") or "/usr/sbin/haproxy"

CONFIG = """\
# Conv Lab behind HAProxy (written by scripts/replicas.py; tested by tests/test_replicas.py).
global
    maxconn 4096

defaults
    mode http                                  # needed for the cookie: TCP mode ignores it
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    timeout tunnel 1h                          # a lesson-long websocket
    timeout client-fin 10s

frontend conv_lab
    bind {bind}:{port}
    default_backend replicas

backend replicas
    balance roundrobin
    cookie CONVLAB_REPLICA insert indirect nocache httponly
    option httpchk GET /_stcore/health
    http-check expect string ok
    option redispatch                          # the replica in a tab's cookie is down: use another one
    retries 2
    default-server inter 1s fall 2 rise 2
{servers}
"""


def haproxy_config(port: int, replica_ports: list[int], bind: str = "127.0.0.1") -> str:
    """The HAProxy configuration for replicas on loopback `replica_ports`, listening on `bind:port`.

    >>> config = haproxy_config(8080, [8501, 8502])
    >>> "    mode http" in config and "    server r2 127.0.0.1:8502 check cookie r2" in config
    True
    """
    servers = "\n".join(f"    server r{i} 127.0.0.1:{p} check cookie r{i}" for i, p in enumerate(replica_ports, 1))
    return CONFIG.format(bind=bind, port=port, servers=servers)


def check_config(path: Path) -> str:
    """`haproxy -c` on a configuration: its output; raises when invalid or when it warns."""
    result = subprocess.run([HAPROXY, "-c", "-f", str(path)], capture_output=True, text=True, timeout=30)
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0 or "WARNING" in output or "ALERT" in output:
        raise RuntimeError(f"haproxy -c refused the configuration:\n{output}")
    return output


def free_port() -> int:
    """An unused loopback TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, timeout: float = 60) -> None:
    """Wait until `url`/_stcore/health answers ok."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not become healthy in {timeout:.0f} s")


@dataclass
class Replicas:
    """A running setup: the proxy's URL, each replica's port and process, HAProxy's process."""

    database_url: str
    proxy_port: int
    ports: list[int]
    workdir: Path
    cookie_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    procs: list = field(default_factory=list)
    haproxy: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The address students use (HAProxy)."""
        return f"http://127.0.0.1:{self.proxy_port}"

    def replica_url(self, i: int) -> str:
        """Replica i's own address (bypassing HAProxy)."""
        return f"http://127.0.0.1:{self.ports[i]}"

    def start_replica(self, i: int) -> None:
        """Start replica i (again) and wait for its health check."""
        env = {**os.environ, "MPLBACKEND": "Agg", "CONVLAB_DATABASE_URL": self.database_url,
               "STREAMLIT_SERVER_COOKIE_SECRET": self.cookie_secret}
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(self.ports[i]), "--browser.gatherUsageStats",
             "false", "--server.fileWatcherType", "none"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=open(self.workdir / f"replica{i + 1}.log", "ab"))
        if i < len(self.procs):
            self.procs[i] = proc
        else:
            self.procs.append(proc)
        wait_healthy(self.replica_url(i))

    def kill(self, i: int) -> None:
        """kill -9 replica i (a crash: no clean shutdown)."""
        self.procs[i].send_signal(signal.SIGKILL)
        self.procs[i].wait(30)

    def stop(self) -> None:
        """Stop HAProxy and every replica started here."""
        for proc in [self.haproxy, *self.procs]:
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)


def start(database_url: str, proxy_port: int = 0, replicas: int = 2, workdir: Path | None = None,
          bind: str = "127.0.0.1") -> Replicas:
    """Start the replicas and HAProxy in front of them on `bind` (free loopback ports unless given); stop() ends all."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="convlab-replicas-"))
    setup = Replicas(database_url, proxy_port or free_port(), [free_port() for _ in range(replicas)], workdir)
    try:
        for i in range(replicas):
            setup.start_replica(i)
        config = workdir / "haproxy.cfg"
        config.write_text(haproxy_config(setup.proxy_port, setup.ports, bind))
        check_config(config)
        setup.haproxy = subprocess.Popen([HAPROXY, "-db", "-f", str(config)], stdout=subprocess.DEVNULL,
                                         stderr=open(workdir / "haproxy.log", "ab"))
        wait_healthy(setup.url, 30)
    except BaseException:
        setup.stop()
        raise
    return setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("CONVLAB_DATABASE_URL"),
                        help="postgresql://… shared by every replica (default: $CONVLAB_DATABASE_URL; without one, "
                             "the replicas on this machine share the default SQLite file)")
    parser.add_argument("--port", type=int, default=8080, help="HAProxy's port (default 8080)")
    parser.add_argument("--bind", default="0.0.0.0",
                        help="the address HAProxy listens on (default: every interface, as `make run` does, so "
                             "students' laptops reach it; 127.0.0.1 for this machine only)")
    parser.add_argument("--replicas", type=int, default=os.cpu_count() or 2,
                        help="Streamlit processes (default: one per core)")
    args = parser.parse_args()
    if args.database_url and not args.database_url.startswith(("postgresql://", "postgres://", "sqlite:///")):
        parser.error("--database-url must be postgresql://… (replicas on several machines) or sqlite:///…")
    setup = start(args.database_url or "", args.port, args.replicas, bind=args.bind)
    print(f"Conv Lab on {setup.url} -> replicas on ports {setup.ports}; config and logs in {setup.workdir}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a stop (kill, systemd) ends the replicas too, as Ctrl-C does
    try:
        setup.haproxy.wait()
    except KeyboardInterrupt:
        pass
    finally:
        setup.stop()


if __name__ == "__main__":
    main()
