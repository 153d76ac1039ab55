"""Server hardening (issue #9): uploads capped, XSRF on, no user text rendered as raw HTML.

The config file is checked as written, then a real server is asked: an upload without the
XSRF token is refused, one over the cap is refused, one under it is accepted.
"""

from __future__ import annotations

import ast
import asyncio
import http.cookiejar
import sys
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conv_lab import limits

from conftest import open_stream, rerun_messages, run_async  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".streamlit" / "config.toml"
sys.path.insert(0, str(ROOT / "benchmarks"))


def _config() -> dict:
    return tomllib.loads(CONFIG.read_text())


def test_config_caps_uploads_and_keeps_xsrf_on():
    config = _config()
    server = config.get("server", {})
    assert server.get("maxUploadSize") is not None, "set [server] maxUploadSize (MB) in .streamlit/config.toml"
    assert server["maxUploadSize"] * 1024 * 1024 <= limits.MAX_UPLOAD_BYTES, (
        "Streamlit's upload cap must not exceed conv_lab.limits.MAX_UPLOAD_BYTES")
    assert server.get("enableXsrfProtection") is True, "XSRF protection must be on"
    assert server.get("enableCORS", True) is True, "CORS protection must stay on (it pairs with XSRF)"
    assert config.get("browser", {}).get("gatherUsageStats") is False, "no usage statistics leave a classroom"


def test_config_skips_streamlits_full_gc_after_every_run():
    # With torch loaded, the post-run gc.collect() cost ~90 ms of CPU per rerun: the first thing to break
    # under 40 students (benchmarks/load.py). app.py also freezes the imported objects.
    assert _config().get("runner", {}).get("postScriptGC") is False


# ---------------------------------------------------------------- the running server honours it
async def _session_id(base_url: str) -> tuple[object, str]:
    ws = await open_stream(base_url)
    async for fwd in rerun_messages(ws, until="new_session"):
        if fwd.WhichOneof("type") == "new_session":
            return ws, fwd.new_session.initialize.session_id


def _put_upload(base_url: str, session: str, size: int, token: str | None, opener) -> int | str:
    boundary = "convlabboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.png\"\r\n"
            "Content-Type: image/png\r\n\r\n").encode()
    body = head + b"\0" * size + f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    if token:
        headers["X-Xsrftoken"] = token
    request = urllib.request.Request(f"{base_url}/_stcore/upload_file/{session}/probe", data=body, method="PUT",
                                     headers=headers)
    try:
        return opener.open(request, timeout=30).status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, ConnectionError) as exc:  # the server may cut an oversized body off mid-send
        return f"refused: {exc}"


def test_running_server_refuses_uploads_without_xsrf_token_and_over_the_cap(server_url):
    async def scenario():
        ws, session = await _session_id(server_url)
        try:
            jar = http.cookiejar.CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
            opener.open(f"{server_url}/_stcore/health", timeout=10).read()  # the frontend gets its cookie here
            token = next((c.value for c in jar if c.name == "_streamlit_xsrf"), None)
            assert token, "the server set no XSRF cookie: XSRF protection is off"
            plain = urllib.request.build_opener()
            no_token = await asyncio.to_thread(_put_upload, server_url, session, 1000, None, plain)
            small = await asyncio.to_thread(_put_upload, server_url, session, 1000, token, opener)
            cap = _config()["server"]["maxUploadSize"] * 1024 * 1024
            over = await asyncio.to_thread(_put_upload, server_url, session, cap + 512 * 1024, token, opener)
            return no_token, small, over
        finally:
            await ws.close()

    no_token, small, over = run_async(scenario())
    assert no_token == 403, f"an upload without the XSRF token got {no_token}"
    assert small in (200, 204), f"a small upload with the token got {small}"
    assert over == 413 or str(over).startswith("refused"), f"an upload over the cap got {over}"


# ---------------------------------------------------------------- no raw HTML from user text
_HTML_CALLS = {"html"}  # st.html(...) renders its argument as HTML


def _raw_html_calls(path: Path):
    """(line, call text, first argument) of every call that renders HTML in a page file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        unsafe = any(k.arg == "unsafe_allow_html" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                     for k in node.keywords)
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if unsafe or name in _HTML_CALLS:
            arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "body"), None)
            yield node.lineno, ast.unparse(node)[:80], arg


def _module_constants(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {t.id for node in tree.body if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for t in node.targets if isinstance(t, ast.Name)}


@pytest.mark.parametrize("path", sorted((ROOT / "pages").glob("*.py")) + [ROOT / "app.py"], ids=lambda p: p.name)
def test_raw_html_only_from_static_text(path):
    constants = _module_constants(path)
    for line, text, arg in _raw_html_calls(path):
        static = isinstance(arg, ast.Constant) or (isinstance(arg, ast.Name) and arg.id in constants)
        assert static, (f"{path.name}:{line} renders HTML built at run time ({text}); a URL or upload could inject "
                        "markup. Use st.markdown without unsafe_allow_html, or pass a constant string.")


def test_html_check_catches_a_dynamic_argument(tmp_path):
    page = tmp_path / "page.py"
    page.write_text("import streamlit as st\nname = st.query_params.get('n')\n"
                    "st.markdown('<b>static</b>', unsafe_allow_html=True)\n"
                    "st.markdown(f'<b>{name}</b>', unsafe_allow_html=True)\nst.html(name)\n")
    found = [(line, isinstance(arg, ast.Constant)) for line, _, arg in _raw_html_calls(page)]
    assert found == [(3, True), (4, False), (5, False)]
