"""The offline sweep player page: one self-contained HTML page, controls with inline SVG icons, no CDN.

The page carries the animation's layers and glyph atlas as PNG data URIs and each frame as
its list of rectangle copies and text lines (see `animate.FrameOps`), deflated and base64
encoded (the browser's own DecompressionStream unpacks it); a canvas replays them, so playback,
stepping and jumping cost a few drawImage calls per frame and the page stays small.

Building that data takes ~100 ms for a big sweep; `PlayerPage` holds it once per animation
and `PlayerPage.html(start, fps)` only fills in the two per-rerun values (issue #9).

This module only builds pages: `sweep.animate` hands it a `SweepAnimation` (it never imports animate);
running renders in the worker pool is `sweep.service`.
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass

from conv_lab.sweep.options import SPEEDS

ICONS = {  # 24×24 inline SVG paths
    "first": "M6 5h2v14H6zM20 5v14L9 12z",
    "prev": "M6 5h2v14H6zM18 5v14l-9-7z",
    "play": "M7 4v16l13-8z",
    "pause": "M6 4h4v16H6zM14 4h4v16h-4z",
    "next": "M16 5h2v14h-2zM6 5v14l9-7z",
    "last": "M16 5h2v14h-2zM4 5v14l11-7z",
}
_START, _OPTIONS = "\x00START\x00", "\x00OPTIONS\x00"  # placeholders of a PlayerPage, filled per rerun


def _svg(name: str) -> str:
    return (f'<svg viewBox="0 0 24 24" width="26" height="26" aria-hidden="true" class="icon icon-{name}">'
            f'<path d="{ICONS[name]}" fill="currentColor"/></svg>')


def png_data_uri(png: bytes) -> str:
    """PNG bytes as a data: URI (the page carries its images inline: no file, no server, no CDN).

    >>> png_data_uri(b"\\x89PNG")
    'data:image/png;base64,iVBORw=='
    """
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def frame_list(animation) -> list:
    """Every frame as [flat copies (layer, x0, y0, x1, y1, ...), text lines]; a line's position follows its index.

    >>> from conv_lab.sweep.animate import sweep_animation
    >>> from conv_lab.sweep.data import SweepRequest
    >>> from conv_lab.core.state import LabConfig
    >>> frames = frame_list(sweep_animation(SweepRequest(LabConfig(1, 4, 4, 1))))
    >>> len(frames), frames[-1][1][0]
    (5, 'Done: 4 output positions computed.')
    """
    from conv_lab.sweep.drawing import LINE_H, TEXT_TOP

    frames = []
    for t in range(len(animation)):
        ops = animation.frame_ops(t)
        assert all((x, y) == (24, TEXT_TOP + i * LINE_H) for i, (x, y, _, _) in enumerate(ops.texts))
        frames.append([[v for copy in ops.copies for v in copy], [text for _, _, _, text in ops.texts]])
    return frames


def pack_frames(frames: list) -> str:
    """The frame list as base64 of deflated JSON (what the page's DecompressionStream('deflate') reads).

    >>> import base64, json, zlib
    >>> json.loads(zlib.decompress(base64.b64decode(pack_frames([[[0, 1, 2, 3, 4], ["hi"]]]))))
    [[[0, 1, 2, 3, 4], ['hi']]]
    """
    raw = json.dumps(frames, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.b64encode(zlib.compress(raw, 6)).decode("ascii")


@dataclass(frozen=True)
class PlayerPage:
    """A player page with everything but the start frame and speed filled in (built once per animation; pickles).

    >>> page = PlayerPage(f"<p>{_START}|{_OPTIONS}</p>", 3)
    >>> page.html(7, 4).startswith("<p>2|"), len(page)
    (True, 3)
    """

    template: str
    frames: int

    def __len__(self) -> int:
        return self.frames

    def html(self, start: int = 0, fps: float = 4.0) -> str:
        """The page starting at frame `start` (clamped) at the speed nearest `fps`."""
        start = min(max(int(start), 0), self.frames - 1)
        fps = min(SPEEDS, key=lambda s: abs(s - fps))
        options = "".join(f'<option value="{s}"{" selected" if s == fps else ""}>{s:g} steps/s</option>' for s in SPEEDS)
        return self.template.replace(_START, str(start)).replace(_OPTIONS, options)


def player_page(animation) -> PlayerPage:
    """The player page of `animation` (a SweepAnimation), with its layers and frames encoded once."""
    from conv_lab.sweep.drawing import BASE, GLYPHS, HEIGHT, LINE_H, SOLID, TEXT_TOP, WIDTH

    n = len(animation)
    solid = animation.palette[3 * int(animation.layers[SOLID][0, 0]):][:3]
    data = {  # the base layer whole; the others only where they differ from it; the outline layer as its colour
        "layers": [png_data_uri(animation.layer_png(i, band_only=i != BASE)) for i in range(SOLID)],
        "band": list(animation.band), "solidLayer": SOLID, "solid": "rgb({},{},{})".format(*solid),
        "atlas": [png_data_uri(animation.layer_png(f"atlas{i}")) for i in range(len(animation.atlas))],
        "glyphs": GLYPHS, "gw": animation.glyph_w, "gh": animation.glyph_h, "x": 24, "top": TEXT_TOP, "lineH": LINE_H,
    }
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    template = _TEMPLATE.format(width=WIDTH, height=HEIGHT, last=n - 1, start=_START, n=n, options=_OPTIONS,
                                payload=payload, frames=pack_frames(frame_list(animation)),
                                first=_svg("first"), prev=_svg("prev"), play=_svg("play"), pause=_svg("pause"),
                                next=_svg("next"), lastIcon=_svg("last"))
    return PlayerPage(template, n)


def player_html(animation, start: int = 0, fps: float = 4.0) -> str:
    """The HTML page that plays `animation` (a SweepAnimation) from frame `start` at `fps` frames per second.

    >>> from conv_lab.sweep.animate import sweep_animation
    >>> from conv_lab.sweep.data import SweepRequest
    >>> from conv_lab.core.state import LabConfig
    >>> html = player_html(sweep_animation(SweepRequest(LabConfig(1, 4, 4, 1))))
    >>> "https://" in html or "http://" in html, 'aria-label="Play"' in html
    (False, True)
    """
    return player_page(animation).html(start, fps)


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Conv Lab sweep player</title>
<style>
 body {{ margin: 0; font-family: system-ui, sans-serif; background: #fff; color: #1a1a1a; }}
 #sweep-player canvas {{ width: 100%; max-width: {width}px; height: auto; display: block; border: 1px solid #ccc;
   image-rendering: auto; }}
 .bar {{ display: flex; flex-wrap: wrap; align-items: center; gap: 8px; margin: 8px 0; max-width: {width}px; }}
 .bar button {{ width: 46px; height: 42px; border: 1px solid #888; border-radius: 8px; background: #f4f4f4;
   color: #1a1a1a; cursor: pointer; display: inline-flex; align-items: center; justify-content: center; padding: 0; }}
 .bar button:hover {{ background: #e3e3e3; }}
 .bar button:focus-visible {{ outline: 3px solid #f5a623; }}
 #play {{ background: #1f6feb; color: #fff; border-color: #1f6feb; }}
 #seek {{ flex: 1; min-width: 160px; height: 28px; }}
 #count {{ font: 600 17px ui-monospace, monospace; min-width: 110px; text-align: center; }}
 select {{ font-size: 15px; padding: 6px; border-radius: 6px; }}
 .icon-pause {{ display: none; }} .playing .icon-pause {{ display: inline; }} .playing .icon-play {{ display: none; }}
</style></head>
<body>
<div id="sweep-player" data-frame="{start}" data-frames="{n}">
 <canvas id="sweep-canvas" width="{width}" height="{height}" aria-label="kernel sweep frame"></canvas>
 <div class="bar">
  <button id="first" type="button" aria-label="First step" title="First step (Home)">{first}</button>
  <button id="prev" type="button" aria-label="Step back" title="Step back (←)">{prev}</button>
  <button id="play" type="button" aria-label="Play" title="Play / pause (space)">{play}{pause}</button>
  <button id="next" type="button" aria-label="Step forward" title="Step forward (→)">{next}</button>
  <button id="last" type="button" aria-label="Last step" title="Last step (End)">{lastIcon}</button>
  <input id="seek" type="range" min="0" max="{last}" value="{start}" aria-label="Jump to step">
  <span id="count" aria-live="polite"></span>
  <label>Speed <select id="speed" aria-label="Speed">{options}</select></label>
 </div>
</div>
<script>
const D = {payload};
const FRAMES = "{frames}";
const root = document.getElementById("sweep-player");
const canvas = document.getElementById("sweep-canvas");
const ctx = canvas.getContext("2d");
ctx.imageSmoothingEnabled = false;
const seek = document.getElementById("seek"), count = document.getElementById("count");
const playButton = document.getElementById("play"), speed = document.getElementById("speed");
let frame = {start}, timer = null, images = [], atlas = [], frames = [];
function load(src) {{
  return new Promise((ok, fail) => {{ const i = new Image(); i.onload = () => ok(i); i.onerror = fail; i.src = src; }});
}}
function unpack(b64) {{  // base64 → inflate (the browser's own DecompressionStream) → JSON
  const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Response(stream).text().then(JSON.parse);
}}
function draw(t) {{
  if (!frames.length) return;
  frame = Math.max(0, Math.min({last}, t));
  ctx.drawImage(images[0], 0, 0);
  const [c, texts] = frames[frame];
  const [top, bottom, right] = D.band;
  for (let k = 0; k < c.length; k += 5) {{
    const l = c[k], x0 = Math.max(0, c[k + 1]);
    let y0 = Math.max(0, c[k + 2]), x1 = c[k + 3], y1 = c[k + 4];
    if (l === D.solidLayer) {{ ctx.fillStyle = D.solid; ctx.fillRect(x0, y0, x1 - x0, y1 - y0); continue; }}
    if (l > 0) {{ y0 = Math.max(y0, top); y1 = Math.min(y1, bottom); x1 = Math.min(x1, right); }}  // band-only layers
    const w = x1 - x0, h = y1 - y0;
    if (w > 0 && h > 0) ctx.drawImage(images[l], x0, l > 0 ? y0 - top : y0, w, h, x0, y0, w, h);
  }}
  for (let n = 0; n < texts.length; n += 1) {{
    const text = texts[n], x = D.x, y = D.top + n * D.lineH, style = text.startsWith("result") ? 1 : 0;
    let i = 0;
    for (const ch of text) {{
      const g = D.glyphs.indexOf(ch);
      ctx.drawImage(atlas[style], g * D.gw, 0, D.gw, D.gh, x + i * D.gw, y, D.gw, D.gh);
      i += 1;
    }}
  }}
  seek.value = frame; count.textContent = (frame + 1) + " / {n}"; root.dataset.frame = frame;
}}
function stop() {{ if (timer) clearInterval(timer); timer = null; root.classList.remove("playing");
  playButton.setAttribute("aria-label", "Play"); }}
function play() {{
  if (frame >= {last}) draw(0);
  root.classList.add("playing"); playButton.setAttribute("aria-label", "Pause");
  timer = setInterval(() => {{ if (frame >= {last}) stop(); else draw(frame + 1); }}, 1000 / parseFloat(speed.value));
}}
playButton.onclick = () => timer ? stop() : play();
document.getElementById("prev").onclick = () => {{ stop(); draw(frame - 1); }};
document.getElementById("next").onclick = () => {{ stop(); draw(frame + 1); }};
document.getElementById("first").onclick = () => {{ stop(); draw(0); }};
document.getElementById("last").onclick = () => {{ stop(); draw({last}); }};
seek.oninput = () => {{ stop(); draw(parseInt(seek.value, 10)); }};
speed.onchange = () => {{ if (timer) {{ stop(); play(); }} }};
document.addEventListener("keydown", (e) => {{
  if (e.target === seek || e.target === speed) return;
  if (e.key === "ArrowRight") {{ stop(); draw(frame + 1); }} else if (e.key === "ArrowLeft") {{ stop(); draw(frame - 1); }}
  else if (e.key === " ") {{ e.preventDefault(); timer ? stop() : play(); }}
  else if (e.key === "Home") {{ stop(); draw(0); }} else if (e.key === "End") {{ stop(); draw({last}); }}
}});
Promise.all([Promise.all(D.layers.map(load)), Promise.all(D.atlas.map(load)), unpack(FRAMES)]).then(([l, a, f]) => {{
  images = l; atlas = a; frames = f; draw(frame); root.dataset.ready = "1";
}});
</script>
</body></html>
"""
