"""A throwaway PostgreSQL server for the tests: Debian's binaries, a temp data dir, a free loopback port.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user that Debian's package
creates (or `nobody`), in a temp dir owned by it. `start_postgres()` returns a `PgServer`; `stop()` removes it.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional


def pg_bin() -> Optional[Path]:
    """The newest Debian PostgreSQL bin dir with initdb and pg_ctl, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_user() -> Optional[str]:
    """Who runs the server: None (this user) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and no 'postgres' or 'nobody' user to run PostgreSQL as")


@dataclass
class PgServer:
    """A running test PostgreSQL: its URL (database `postgres`, user `postgres`, trust auth on loopback)."""

    url: str
    port: int
    root: Path
    user: Optional[str]
    bin: Path

    def _as_user(self, *cmd: str) -> list[str]:
        return ["runuser", "-u", self.user, "--", *cmd] if self.user else list(cmd)

    def stop(self) -> None:
        """Stop the server immediately and delete its data dir."""
        subprocess.run(self._as_user(str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate",
                                     "-w", "stop"), capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PgServer:
    """initdb into a temp dir and start PostgreSQL on a free loopback port (raises when the binaries are missing)."""
    bin_dir = pg_bin()
    if bin_dir is None:
        raise FileNotFoundError("PostgreSQL binaries not found (apt-get install postgresql)")
    user = _run_user()
    root = Path(tempfile.mkdtemp(prefix="convlab-pg-"))
    if user:
        info = pwd.getpwnam(user)
        os.chown(root, info.pw_uid, info.pw_gid)
    os.chmod(root, 0o700)
    port = _free_port()
    server = PgServer(f"postgresql://postgres@127.0.0.1:{port}/postgres", port, root, user, bin_dir)
    data, log = root / "data", root / "log"
    try:
        subprocess.run(server._as_user(str(bin_dir / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres",
                                       "--no-sync", "-E", "UTF8"), check=True, capture_output=True, timeout=120)
        subprocess.run(server._as_user(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                                       "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=100",
                                       "start"), check=True, capture_output=True, timeout=90)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        detail = log.read_text() if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {exc}\n{getattr(exc, 'stderr', b'')!r}\n{detail}") from exc
    return server
