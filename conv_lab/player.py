"""The offline sweep player: one self-contained HTML page, controls with inline SVG icons, no CDN.

The page carries the animation's layers and glyph atlas as PNG data URIs and each frame as
its list of rectangle copies (see `animate.FrameOps`); a canvas replays them, so playback,
stepping and jumping cost a few drawImage calls per frame and the page stays small.
"""

from __future__ import annotations

import base64
import json

ICONS = {  # 24×24 inline SVG paths
    "first": "M6 5h2v14H6zM20 5v14L9 12z",
    "prev": "M6 5h2v14H6zM18 5v14l-9-7z",
    "play": "M7 4v16l13-8z",
    "pause": "M6 4h4v16H6zM14 4h4v16h-4z",
    "next": "M16 5h2v14h-2zM6 5v14l9-7z",
    "last": "M16 5h2v14h-2zM4 5v14l11-7z",
}
SPEEDS = (0.5, 1, 2, 4, 8, 15, 30)


def _svg(name: str) -> str:
    return (f'<svg viewBox="0 0 24 24" width="26" height="26" aria-hidden="true" class="icon icon-{name}">'
            f'<path d="{ICONS[name]}" fill="currentColor"/></svg>')


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def player_html(animation, start: int = 0, fps: float = 4.0) -> str:
    """The HTML page that plays `animation` (a SweepAnimation) from frame `start` at `fps` frames per second.

    >>> from conv_lab.animate import sweep_animation
    >>> from conv_lab.sweep_data import SweepRequest
    >>> from conv_lab.state import LabConfig
    >>> html = player_html(sweep_animation(SweepRequest(LabConfig(1, 4, 4, 1))))
    >>> "https://" in html or "http://" in html, 'aria-label="Play"' in html
    (False, True)
    """
    from .animate import GLYPHS, HEIGHT, WIDTH

    n = len(animation)
    start = min(max(int(start), 0), n - 1)
    fps = min(SPEEDS, key=lambda s: abs(s - fps))
    frames = []
    for t in range(n):
        ops = animation.frame_ops(t)
        frames.append([[v for copy in ops.copies for v in copy], [list(text) for text in ops.texts]])
    data = {
        "layers": [_data_uri(animation.layer_png(i)) for i in range(len(animation.layers))],
        "atlas": [_data_uri(animation.layer_png(f"atlas{i}")) for i in range(len(animation.atlas))],
        "glyphs": GLYPHS, "gw": animation.glyph_w, "gh": animation.glyph_h, "frames": frames,
    }
    options = "".join(f'<option value="{s}"{" selected" if s == fps else ""}>{s:g} steps/s</option>' for s in SPEEDS)
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return _TEMPLATE.format(width=WIDTH, height=HEIGHT, last=n - 1, start=start, n=n, options=options, payload=payload,
                            first=_svg("first"), prev=_svg("prev"), play=_svg("play"), pause=_svg("pause"),
                            next=_svg("next"), lastIcon=_svg("last"))


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
const root = document.getElementById("sweep-player");
const canvas = document.getElementById("sweep-canvas");
const ctx = canvas.getContext("2d");
ctx.imageSmoothingEnabled = false;
const seek = document.getElementById("seek"), count = document.getElementById("count");
const playButton = document.getElementById("play"), speed = document.getElementById("speed");
let frame = {start}, timer = null, images = [], atlas = [];
function load(src) {{ return new Promise((ok, fail) => {{ const i = new Image(); i.onload = () => ok(i); i.onerror = fail; i.src = src; }}); }}
function draw(t) {{
  frame = Math.max(0, Math.min({last}, t));
  ctx.drawImage(images[0], 0, 0);
  const [c, texts] = D.frames[frame];
  for (let k = 0; k < c.length; k += 5) {{
    const l = c[k], x0 = Math.max(0, c[k + 1]), y0 = Math.max(0, c[k + 2]), w = c[k + 3] - x0, h = c[k + 4] - y0;
    if (w > 0 && h > 0) ctx.drawImage(images[l], x0, y0, w, h, x0, y0, w, h);
  }}
  for (const [x, y, style, text] of texts) {{
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
Promise.all([Promise.all(D.layers.map(load)), Promise.all(D.atlas.map(load))]).then(([l, a]) => {{
  images = l; atlas = a; draw(frame); root.dataset.ready = "1";
}});
</script>
</body></html>
"""
