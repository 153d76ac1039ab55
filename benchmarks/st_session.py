"""A Streamlit browser session without a browser: Streamlit's own websocket protocol, loopback only.

The frontend talks to the server over `/_stcore/stream` (subprotocol `streamlit`): it sends
`BackMsg`s (a `rerun_script` carries the URL's query string and page) and reads `ForwardMsg`s
until `script_finished`. `StreamlitSession` does the same, so one asyncio process can drive
dozens of sessions of the real server. Used by `benchmarks/load.py` and the fault/fuzz tests.

    async with StreamlitSession("http://127.0.0.1:8501") as session:
        result = await session.run("kernel=5&stride=2", page="sweep")
        print(result.latency, result.errors)
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.parse
from dataclasses import dataclass, field

import websockets
from google.protobuf.json_format import MessageToDict
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

FINISHED_EARLY_FOR_RERUN = ForwardMsg.FINISHED_EARLY_FOR_RERUN
FINISHED_WITH_COMPILE_ERROR = ForwardMsg.FINISHED_WITH_COMPILE_ERROR
_VALUE_FIELDS = ("value", "rawValue", "rawValues", "values", "stringValue", "intValue", "doubleValue")
# per-run ids (uuid: a pandas Styler's random CSS id), not what a student sees
_DROP_FIELDS = ("id", "url", "formId", "deferredFileId", "fileId", "hasOneShotEffect", "uuid")


def _loopback_only(base_url: str) -> urllib.parse.SplitResult:
    parts = urllib.parse.urlsplit(base_url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"refusing to drive {base_url!r}: the load tools talk to a loopback server only")
    return parts


_TIMELINE = re.compile(r'const TIMELINE = "[0-9a-z]*"')  # the sweep player's per-run timeline token


def _strip(value):
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in _DROP_FIELDS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    if isinstance(value, str) and "const TIMELINE" in value:
        return _TIMELINE.sub('const TIMELINE = ""', value)
    return value


def _is_default(body: dict, values: dict) -> bool:
    """True when a widget's set value is what its default would show anyway."""
    if not values:
        return True
    options = body.get("options")
    if "rawValue" in values and options:
        default = body.get("default", 0)
        return isinstance(default, int) and 0 <= default < len(options) and values["rawValue"] == options[default]
    if "value" in values:
        return values["value"] == body.get("default", False if isinstance(values["value"], bool) else None)
    return False


@dataclass
class RunResult:
    """What one script run sent back to the 'browser'."""

    page: str
    query_string: str
    latency: float = 0.0  # seconds from sending the rerun to script_finished (and media, when fetched)
    status: int | None = None  # ForwardMsg.ScriptFinishedStatus, None when the run never finished
    exceptions: list[str] = field(default_factory=list)  # tracebacks the page would show
    page_not_found: bool = False
    error: str | None = None  # timeout, disconnect, HTTP error of a media file
    final_query: str | None = None  # the URL's query string after the run (what the browser bar then holds)
    element_types: list[str] = field(default_factory=list)
    media_urls: list[str] = field(default_factory=list)
    media_bytes: int = 0
    message_bytes: int = 0
    elements: list[tuple[tuple[int, ...], dict]] = field(default_factory=list)  # only with collect=True

    @property
    def errors(self) -> list[str]:
        """Everything a student would call broken: tracebacks, unknown page, no answer."""
        found = [f"exception: {text}" for text in self.exceptions]
        if self.page_not_found:
            found.append("page not found")
        if self.status == FINISHED_WITH_COMPILE_ERROR:
            found.append("script failed to compile")
        if self.error:
            found.append(self.error)
        return found

    @property
    def ok(self) -> bool:
        """True when the run finished and shows no error."""
        return self.status is not None and not self.errors

    def texts(self) -> list[str]:
        """Every text-like field of the collected elements (bodies, code, labels)."""
        out = []
        for _, element in self.elements:
            for body in element.values():
                if isinstance(body, dict):
                    out.extend(str(body[k]) for k in ("body", "codeText", "label", "message") if k in body)
        return out

    def fingerprint(self) -> list:
        """The collected elements without per-run ids: equal fingerprints mean the student sees the same page."""
        return [(path, _strip(element)) for path, element in self.elements]


class StreamlitSession:
    """One browser tab's websocket session with a running Streamlit server (loopback only)."""

    def __init__(self, base_url: str, timeout: float = 60.0):
        self.parts = _loopback_only(base_url.rstrip("/"))
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.ws = None
        self.cookie_header = ""  # the sticky replica cookie, once connected (see connect)
        self._widget_values: dict[str, dict] = {}  # what the frontend shows per widget id

    async def __aenter__(self) -> "StreamlitSession":
        await self.connect()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def connect(self) -> None:
        """Open the websocket as the frontend does (same-origin Origin header, `streamlit` subprotocol)."""
        ws_url = f"ws://{self.parts.netloc}/_stcore/stream"
        self.ws = await asyncio.wait_for(websockets.connect(
            ws_url, subprotocols=["streamlit"], origin=self.base_url, max_size=None, ping_interval=None,
            open_timeout=self.timeout), self.timeout)
        # Behind HAProxy (scripts/replicas.py) the handshake sets the sticky replica cookie: the browser sends it with
        # every media request, so they reach the replica that holds this session's files.
        cookies = [c.split(";", 1)[0] for c in self.ws.response.headers.get_all("Set-Cookie")]
        self.cookie_header = f"Cookie: {'; '.join(cookies)}\r\n" if cookies else ""

    async def close(self) -> None:
        """Close the websocket (the server then drops the session)."""
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    async def send_raw(self, payload: bytes) -> None:
        """Send arbitrary bytes (for fault tests: a malformed BackMsg)."""
        await self.ws.send(payload)

    async def run(self, query_string: str = "", page: str = "", collect: bool = False,
                  fetch_media: bool = False, widgets: list | None = None) -> RunResult:
        """Ask for a script run of `page` (url path, '' = default) with this URL query; wait for it to finish.

        widgets: WidgetState messages the frontend would send with the run (values typed, a button pressed)."""
        msg = BackMsg()
        msg.rerun_script.widget_states.widgets.extend(widgets or [])
        msg.rerun_script.query_string = query_string
        msg.rerun_script.page_name = page
        path = f"/{page}" if page else "/"
        msg.rerun_script.context_info.url = f"{self.base_url}{path}" + (f"?{query_string}" if query_string else "")
        result = RunResult(page, query_string, final_query=query_string)  # the app may rewrite it
        start = time.perf_counter()
        try:
            await self.ws.send(msg.SerializeToString())
            await asyncio.wait_for(self._read_until_finished(result, collect), self.timeout)
            if fetch_media and result.media_urls:
                await asyncio.wait_for(self._fetch_media(result), self.timeout)
        except asyncio.TimeoutError:
            result.error = f"no answer within {self.timeout:.0f} s"
        except websockets.ConnectionClosed as exc:
            result.error = f"websocket closed: {exc}"
        except OSError as exc:
            result.error = f"connection error: {exc}"
        result.latency = time.perf_counter() - start
        return result

    async def _read_until_finished(self, result: RunResult, collect: bool) -> None:
        while True:
            raw = await self.ws.recv()
            result.message_bytes += len(raw)
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            kind = fwd.WhichOneof("type")
            if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                element = fwd.delta.new_element
                etype = element.WhichOneof("type")
                result.element_types.append(etype)
                if etype == "exception":
                    result.exceptions.append(f"{element.exception.type}: {element.exception.message}"[:500])
                elif etype == "imgs":
                    result.media_urls.extend(img.url for img in element.imgs.imgs if img.url.startswith("/media"))
                if collect:
                    result.elements.append((tuple(fwd.metadata.delta_path), self._shown(MessageToDict(element))))
            elif kind == "page_info_changed":
                result.final_query = fwd.page_info_changed.query_string
            elif kind == "page_not_found":
                result.page_not_found = True
            elif kind == "script_finished":
                if fwd.script_finished == FINISHED_EARLY_FOR_RERUN:
                    continue  # st.rerun() inside the script: the same request goes on
                result.status = fwd.script_finished
                return

    def _shown(self, element: dict) -> dict:
        """A widget's proto carries its value only when the server sets it; keep what the frontend would show."""
        for body in element.values():
            if isinstance(body, dict) and "id" in body:
                values = {k: body.pop(k) for k in _VALUE_FIELDS if k in body}
                if body.pop("setValue", False):
                    self._widget_values[body["id"]] = {} if _is_default(body, values) else values
                body["shown"] = self._widget_values.get(body["id"], {})  # {} = the widget's default
        return element

    async def _fetch_media(self, result: RunResult) -> None:
        """GET every media file the run referenced, as the browser's <img> tags would."""
        for url in result.media_urls:
            reader, writer = await asyncio.open_connection(self.parts.hostname, self.parts.port)
            try:
                writer.write(f"GET {url} HTTP/1.1\r\nHost: {self.parts.netloc}\r\n{self.cookie_header}"
                             "Connection: close\r\n\r\n".encode())
                await writer.drain()
                data = await reader.read()
            finally:
                writer.close()
            status_line = data.split(b"\r\n", 1)[0]
            if b" 200 " not in status_line + b" ":
                result.error = f"media {url}: {status_line.decode(errors='replace')}"
                return
            result.media_bytes += len(data)
