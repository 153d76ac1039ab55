"""Issue 17: N students upload a 4096×4096 PNG to the Feature maps page at the same moment.

Drives the real server the way the browser does: every student opens /feature-maps?image=upload over
Streamlit's websocket (see st_session.py), asks for an upload URL (a `file_urls_request` BackMsg), PUTs the
file to `/_stcore/upload_file/<session>/<file id>` with the XSRF cookie and header, then reruns the page with
the uploader's widget state pointing at the file. The server's VmRSS/VmHWM are read from /proc/PID/status
(its peak reset after the pages are open, so the rise is the uploads' alone). Prints baseline, peak, rise and
after-RSS, the load average, and whether every upload got an answer (a picture, or a plain "Picture not used"
message). Starts its own server on a free loopback port unless --url/--pid are given, and stops it.

    python benchmarks/uploads.py                      # 8 × 4096² PNGs
    python benchmarks/uploads.py --students 16 --side 2048
    python benchmarks/uploads.py --app /tmp/old/app.py  # the same load on another checkout (A/B)
"""

from __future__ import annotations

import argparse
import asyncio
import http.cookiejar
import io
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from load import ProcessMonitor  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

from conftest import running_server  # noqa: E402
from st_session import StreamlitSession  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PAGE = "feature-maps"
MAX_STUDENTS = 64  # a classroom, not a stress test of the laptop


def classroom_png(student: int, side: int = 4096) -> bytes:
    """A small PNG (~50–100 kB) that decodes to side² RGB pixels (64 MB at 4096²), different per student.

    >>> len(classroom_png(0, 64)) < 2000, Image.open(io.BytesIO(classroom_png(1, 64))).size
    (True, (64, 64))
    """
    img = Image.new("RGB", (side, side), (40 + 20 * student % 200, 120, 200 - 15 * student % 200))
    draw = ImageDraw.Draw(img)
    draw.ellipse((side // 8, side // 8, side // 2, side // 2), fill=(250, 220, 0))
    draw.rectangle((side // 2, side // 2, side - side // 8, side - side // 6), fill=(20, 20, 20))
    draw.line((0, side - 1, side - 1, (student * side // 8) % side), fill=(255, 255, 255), width=9)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@dataclass
class PageRun:
    """What one script run of the page sent back, as far as uploads care."""

    session_id: str = ""
    uploader_id: str = ""
    query: str = ""
    texts: list[str] = field(default_factory=list)  # markdown bodies and alert messages
    exceptions: list[str] = field(default_factory=list)
    images: int = 0
    finished: bool = False


@dataclass
class Answer:
    """One student's upload: what the page showed and how long it took."""

    student: int
    kind: str  # "picture", "message" (a plain ImageError on the page), or "none" (no answer / a traceback)
    seconds: float
    detail: str = ""


async def read_run(ws, run: PageRun, timeout: float) -> PageRun:
    """Read ForwardMsgs until the script run finishes, noting the session, the uploader and what is shown."""
    async def loop() -> None:
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(await ws.recv())
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                run.session_id = fwd.new_session.initialize.session_id or run.session_id
            elif kind == "page_info_changed":
                run.query = fwd.page_info_changed.query_string
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                note_element(fwd.delta.new_element, run)
            elif kind == "script_finished" and fwd.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                run.finished = True
                return

    try:
        await asyncio.wait_for(loop(), timeout)
    except asyncio.TimeoutError:
        pass
    return run


def note_element(element, run: PageRun) -> None:
    """Keep the parts of a new element that tell whether an upload was answered."""
    etype = element.WhichOneof("type")
    if etype == "file_uploader":
        run.uploader_id = element.file_uploader.id
    elif etype == "markdown":
        run.texts.append(element.markdown.body)
    elif etype == "alert":
        run.texts.append(element.alert.body)
    elif etype == "imgs":
        run.images += len(element.imgs.imgs)
    elif etype == "exception":
        run.exceptions.append(f"{element.exception.type}: {element.exception.message}"[:300])


def rerun_message(base_url: str, query: str, uploader_id: str = "", upload: tuple | None = None) -> bytes:
    """A rerun of the page; with `upload` = (FileURLs, name, size) the uploader's state points at that file."""
    msg = BackMsg()
    msg.rerun_script.query_string = query
    msg.rerun_script.page_name = PAGE
    msg.rerun_script.context_info.url = f"{base_url}/{PAGE}?{query}"
    if upload is not None:
        urls, name, size = upload
        state = msg.rerun_script.widget_states.widgets.add()
        state.id = uploader_id
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.file_id, info.name, info.size = urls.file_id, name, size
        info.file_urls.CopyFrom(urls)
    return msg.SerializeToString()


async def upload_url(ws, session_id: str, name: str, timeout: float):
    """Ask the server for an upload URL as the frontend does (file_urls_request -> file_urls_response)."""
    msg = BackMsg()
    msg.file_urls_request.request_id = uuid.uuid4().hex
    msg.file_urls_request.session_id = session_id
    msg.file_urls_request.file_names.append(name)
    await ws.send(msg.SerializeToString())

    async def loop():
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(await ws.recv())
            if fwd.WhichOneof("type") == "file_urls_response":
                return fwd.file_urls_response.file_urls[0]

    return await asyncio.wait_for(loop(), timeout)


def put_file(base_url: str, upload_path: str, name: str, data: bytes, token: str, opener) -> int:
    """PUT one file as multipart form data, the way the browser's uploader does; the HTTP status."""
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{base_url}{upload_path}", data=body, method="PUT", headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}", "X-Xsrftoken": token})
    try:
        return opener.open(request, timeout=60).status
    except urllib.error.HTTPError as exc:
        return exc.code


def xsrf_opener(base_url: str) -> tuple[str, urllib.request.OpenerDirector]:
    """The XSRF token and an opener carrying its cookie (the frontend gets both from any page request)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base_url}/_stcore/health", timeout=10).read()
    token = next((c.value for c in jar if c.name == "_streamlit_xsrf"), "")
    return token, opener


class Student:
    """One browser tab on the upload page."""

    def __init__(self, base_url: str, index: int, png: bytes, timeout: float):
        self.base_url, self.index, self.png, self.timeout = base_url, index, png, timeout
        self.name = f"student{index}.png"
        self.session = StreamlitSession(base_url, timeout=timeout)
        self.page = PageRun()

    async def open_page(self) -> bool:
        """Connect and open /feature-maps?image=upload; True when the uploader is shown."""
        await self.session.connect()
        await self.session.send_raw(rerun_message(self.base_url, "image=upload"))
        self.page = await read_run(self.session.ws, PageRun(query="image=upload"), self.timeout)
        return bool(self.page.finished and self.page.uploader_id and self.page.session_id)

    async def upload(self, token: str, opener) -> Answer:
        """Get an upload URL, PUT the file, rerun with it; what the page answered."""
        start = time.perf_counter()
        ws = self.session.ws
        try:
            urls = await upload_url(ws, self.page.session_id, self.name, self.timeout)
            status = await asyncio.to_thread(put_file, self.base_url, urls.upload_url, self.name, self.png, token,
                                             opener)
            if status not in (200, 204):
                return Answer(self.index, "none", time.perf_counter() - start, f"upload PUT answered {status}")
            await ws.send(rerun_message(self.base_url, self.page.query, self.page.uploader_id,
                                        (urls, self.name, len(self.png))))
            run = await read_run(ws, PageRun(), self.timeout)
        except (asyncio.TimeoutError, OSError) as exc:
            return Answer(self.index, "none", time.perf_counter() - start, repr(exc))
        return classify(self.index, self.name, run, time.perf_counter() - start)

    async def close(self) -> None:
        """Close the tab."""
        await self.session.close()


def classify(index: int, name: str, run: PageRun, seconds: float) -> Answer:
    """A picture (the page names the upload as its source), a plain message, or no answer."""
    if run.exceptions or not run.finished:
        return Answer(index, "none", seconds, "; ".join(run.exceptions) or "the run did not finish in time")
    if any(f"upload '{name}'" in text for text in run.texts):
        return Answer(index, "picture", seconds, f"{run.images} images")
    message = next((text for text in run.texts if "Picture not used" in text), "")
    return Answer(index, "message", seconds, message) if message else Answer(index, "none", seconds, "no picture shown")


def reset_peak(pid: int) -> bool:
    """Reset the process's VmHWM to its current RSS (Linux clear_refs 5); False when not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


async def classroom(base_url: str, pid: int, students: int, side: int, timeout: float, settle: float) -> dict:
    """Open the page in every tab, then upload all files at once; the figures."""
    pngs = [classroom_png(i, side) for i in range(students)]
    tabs = [Student(base_url, i, png, timeout) for i, png in enumerate(pngs)]
    monitor = ProcessMonitor(pid)
    try:
        opened = await asyncio.gather(*(tab.open_page() for tab in tabs))
        if not all(opened):
            raise SystemExit(f"only {sum(opened)} of {students} tabs showed the uploader")
        token, opener = xsrf_opener(base_url)
        await asyncio.sleep(1.0)  # let the opening runs' garbage settle before the baseline
        baseline_kb = monitor._status("VmRSS")
        hwm_reset = reset_peak(pid)
        monitor.peak_rss_kb = baseline_kb
        load_before = os.getloadavg()
        stop = asyncio.Event()
        poller = asyncio.create_task(monitor.poll(stop, 0.02))  # a backup for VmHWM
        start = time.perf_counter()
        answers = await asyncio.gather(*(tab.upload(token, opener) for tab in tabs))
        wall = time.perf_counter() - start
        load_during = os.getloadavg()
        await asyncio.sleep(settle)
        stop.set()
        await poller
        after_kb = monitor._status("VmRSS")
    finally:
        await asyncio.gather(*(tab.close() for tab in tabs), return_exceptions=True)
    peak_kb = max(monitor._status("VmHWM") if hwm_reset else 0, monitor.peak_rss_kb)
    return {"students": students, "side": side, "file_kb": [round(len(p) / 1024) for p in pngs],
            "baseline_mb": round(baseline_kb / 1024), "peak_mb": round(peak_kb / 1024),
            "rise_mb": round((peak_kb - baseline_kb) / 1024), "after_mb": round(after_kb / 1024),
            "peak_source": "VmHWM (reset at baseline)" if hwm_reset else "VmRSS sampled every 20 ms",
            "wall_seconds": round(wall, 2), "loadavg_before": load_before, "loadavg_after": load_during,
            "answers": [a.__dict__ for a in answers],
            "all_answered": all(a.kind in ("picture", "message") for a in answers)}


def print_report(report: dict) -> None:
    """The figures, readable."""
    kinds = [a["kind"] for a in report["answers"]]
    print(f"{report['students']} students upload a {report['side']}×{report['side']} PNG at once "
          f"({min(report['file_kb'])}–{max(report['file_kb'])} kB each) to /{PAGE}; {os.cpu_count()} cores")
    print(f"server RSS: baseline {report['baseline_mb']} MB, peak {report['peak_mb']} MB "
          f"(rise {report['rise_mb']} MB; {report['peak_source']}), after {report['after_mb']} MB")
    print(f"all {len(kinds)} answered in {report['wall_seconds']} s: {report['all_answered']} "
          f"({kinds.count('picture')} pictures, {kinds.count('message')} messages, "
          f"{kinds.count('none')} without answer)")
    print("per upload: " + ", ".join(f"{a['seconds']:.1f}s {a['kind']}" for a in report["answers"]))
    for a in report["answers"]:
        if a["kind"] != "picture":
            print(f"  student {a['student']}: {a['kind']}: {a['detail'][:200]}")
    print("load average (1/5/15 min) before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}".format(
        *report["loadavg_before"], *report["loadavg_after"]))


def main(argv: list[str] | None = None) -> int:
    """Command line: run the classroom upload once, print (and optionally save) the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--side", type=int, default=4096, help="pixels per side of every PNG")
    parser.add_argument("--url", help="an already running server (loopback); default: start one")
    parser.add_argument("--pid", type=int, help="that server's process id (needed with --url)")
    parser.add_argument("--app", type=Path, default=ROOT / "app.py", help="the app script to serve (A/B runs)")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds before an upload counts as unanswered")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds after the last answer before 'after'")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    if not 1 <= args.students <= MAX_STUDENTS:
        parser.error(f"students must be between 1 and {MAX_STUDENTS}")
    if args.url and not args.pid:
        parser.error("--url needs --pid to read the server's memory")
    with running_server(args.url, script=args.app.resolve(), timeout=60) as (url, proc):
        report = asyncio.run(classroom(url, proc.pid if proc else args.pid, args.students, args.side, args.timeout,
                                       args.settle))
    print_report(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0 if report["all_answered"] else 1


if __name__ == "__main__":
    sys.exit(main())
