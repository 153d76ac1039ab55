"""The offline sweep player page: one self-contained HTML page, controls with inline SVG icons, no CDN.

The page carries the animation's layers as PNG data URIs and each frame as its list of rectangle
copies (see `animate.FrameOps`) with the step's arithmetic as text lines, deflated and base64 encoded
(the browser's own DecompressionStream unpacks it); a canvas replays the copies, so playback, stepping
and jumping cost a few drawImage calls per frame and the page stays small. The arithmetic is HTML text
under the controls (readable, selectable, announced), not pixels: the canvas stops above the GIF's text
band. One counter, "step k of N" then "done", is the sweep's one timeline; it keeps the parent page's
`step=` in its address, and its step across the parent page's reruns (`timeline`). Hovering an output cell
jumps to its step; hovering a grid cell outlines every output cell that reads it (`reads_map`, computed here).

Building that data takes ~100 ms for a big sweep; `PlayerPage` holds it once per animation
and `PlayerPage.html(start, fps, timeline)` only fills in the per-rerun values (issue #9).

This module only builds pages: `sweep.animate` hands it a `SweepAnimation` (it never imports animate);
running renders in the worker pool is `sweep.service`.
"""

from __future__ import annotations

import base64
import html
import json
import zlib
from dataclasses import dataclass

import numpy as np

from conv_lab.render.data_uri import png_data_uri
from conv_lab.sweep.captions import step_text
from conv_lab.sweep.options import SPEEDS

ICONS = {  # 24×24 inline SVG paths
    "first": "M6 5h2v14H6zM20 5v14L9 12z",
    "prev": "M6 5h2v14H6zM18 5v14l-9-7z",
    "play": "M7 4v16l13-8z",
    "pause": "M6 4h4v16H6zM14 4h4v16h-4z",
    "next": "M16 5h2v14h-2zM6 5v14l9-7z",
    "last": "M16 5h2v14h-2zM4 5v14l11-7z",
}
_START, _OPTIONS, _TIMELINE = "\x00START\x00", "\x00OPTIONS\x00", "\x00TIMELINE\x00"  # filled per rerun


def _svg(name: str) -> str:
    return (f'<svg viewBox="0 0 24 24" width="26" height="26" aria-hidden="true" class="icon icon-{name}">'
            f'<path d="{ICONS[name]}" fill="currentColor"/></svg>')


def frame_list(animation) -> list:
    """Every frame as [flat copies (layer, x0, y0, x1, y1, ...), the step's arithmetic lines (HTML text, not pixels)].

    >>> from conv_lab.sweep.animate import sweep_animation
    >>> from conv_lab.sweep.data import SweepRequest
    >>> from conv_lab.core.state import LabConfig
    >>> frames = frame_list(sweep_animation(SweepRequest(LabConfig(1, 4, 4, 1))))
    >>> len(frames), frames[-1][1][0]
    (5, 'Done: 4 output positions computed.')
    """
    return [[[v for copy in animation.frame_copies(t) for v in copy], step_text(animation, t)]
            for t in range(len(animation))]


def _geometry(grid) -> dict:
    """A drawn cell grid's edges (canvas pixels) for the page's hit tests; `fold`: cells per line of a wrapped strip."""
    return {"xs": [int(x) for x in grid.xs], "ys": [int(y) for y in grid.ys], "rows": grid.rows, "cols": grid.cols,
            "fold": grid.fold if grid.folded else 0}


def reads_map(animation) -> list[list[int]]:
    """For every drawn grid cell (row-major), the frames (= output cells of the region) whose taps read it.

    >>> from conv_lab.sweep.animate import sweep_animation
    >>> from conv_lab.sweep.data import SweepRequest
    >>> from conv_lab.core.state import LabConfig
    >>> reads = reads_map(sweep_animation(SweepRequest(LabConfig(1, 3, 3, 1, kernel_size=(2, 2)))))
    >>> reads[0], reads[4], reads[8]
    ([0], [0, 1, 2, 3], [3])
    """
    s = animation.sweep
    (g0, g1), (c0, c1) = animation.grid_rows, animation.grid_cols
    (kh, kw), (dh, dw) = s.kernel_hw, s.dilation
    origins = np.array([s.window_origin(r, c) for r, c in animation.positions]).reshape(-1, 2) - (g0, c0)
    taps = np.array([(i * dh, j * dw) for i in range(kh) for j in range(kw)])
    cells = origins[:, None, :] + taps[None, :, :]  # (frames, taps, 2)
    rows, cols = g1 - g0, c1 - c0
    inside = (cells[..., 0] >= 0) & (cells[..., 0] < rows) & (cells[..., 1] >= 0) & (cells[..., 1] < cols)
    frames = np.broadcast_to(np.arange(len(origins))[:, None], inside.shape)[inside]
    flat = (cells[..., 0] * cols + cells[..., 1])[inside]
    order = np.lexsort((frames, flat))
    flat, frames = flat[order], frames[order]
    bounds = np.searchsorted(flat, np.arange(rows * cols + 1))
    return [sorted(set(frames[a:b].tolist())) for a, b in zip(bounds[:-1], bounds[1:])]


def hover_data(animation) -> dict:
    """What the page's hover links need: the output and input grids' geometry and each frame's 1-based sweep step."""
    wo = animation.sweep.out_shape[1]
    return {"out": _geometry(animation.out), "grids": [_geometry(g) for g in animation.grids],
            "steps": [r * wo + c + 1 for r, c in animation.positions]}


def pack_frames(frames: list) -> str:
    """The frame list as base64 of deflated JSON (what the page's DecompressionStream('deflate') reads).

    >>> import base64, json, zlib
    >>> json.loads(zlib.decompress(base64.b64decode(pack_frames([[[0, 1, 2, 3, 4], ["hi"]]]))))
    [[[0, 1, 2, 3, 4], ['hi']]]
    """
    raw = json.dumps(frames, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.b64encode(zlib.compress(raw, 4)).decode("ascii")  # level 4: a third of level 6's CPU, ~12% larger


@dataclass(frozen=True)
class PlayerPage:
    """A player page with everything but the start frame and speed filled in (built once per animation; pickles).

    >>> page = PlayerPage(f"<p>{_START}|{_TIMELINE}|{_OPTIONS}</p>", 3)
    >>> page.html(7, 4, "ab12").startswith("<p>2|ab12|"), page.html(0, 4, "<x>").startswith("<p>0||"), len(page)
    (True, True, 3)
    """

    template: str
    frames: int

    def __len__(self) -> int:
        return self.frames

    def html(self, start: int = 0, fps: float = 4.0, timeline: str = "") -> str:
        """The page starting at frame `start` (clamped) at the speed nearest `fps`.

        timeline: the parent page's token for the step it last decided (letters and digits). A player reloaded by a
        rerun with the same token reopens at the step it was moved to (kept in the tab's sessionStorage), clamped
        to its own steps; a new token (a link, the back button) opens at `start`. Empty: always at `start`.
        """
        start = min(max(int(start), 0), self.frames - 1)
        timeline = timeline if timeline.isascii() and timeline.isalnum() else ""
        fps = min(SPEEDS, key=lambda s: abs(s - fps))
        options = "".join(f'<option value="{s}"{" selected" if s == fps else ""}>{s:g} steps/s</option>' for s in SPEEDS)
        return self.template.replace(_START, str(start)).replace(_TIMELINE, timeline).replace(_OPTIONS, options)


def player_page(animation) -> PlayerPage:
    """The player page of `animation` (a SweepAnimation), with its layers, frames and hover links encoded once."""
    from conv_lab.sweep.drawing import BASE, SOLID, TEXT_TOP, WIDTH

    n = len(animation)
    solid = animation.palette[3 * int(animation.layers[SOLID][0, 0]):][:3]
    data = {  # the base layer whole; the others only where they differ from it; the outline layer as its colour
        "layers": [png_data_uri(animation.layer_png(i, band_only=i != BASE)) for i in range(SOLID)],
        "band": list(animation.band), "solidLayer": SOLID, "solid": "rgb({},{},{})".format(*solid),
        **hover_data(animation),
    }
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    key = "".join(f'<span><i style="background:{colour}"></i>{html.escape(label)}</span>'
                  for colour, label in getattr(animation, "legend", ()))
    # The canvas stops above the text band: the step's arithmetic is HTML text under the controls.
    template = _TEMPLATE.format(width=WIDTH, height=TEXT_TOP - 8, last=n - 1, start=_START, n=n, options=_OPTIONS,
                                timeline=_TIMELINE,
                                steps=len(animation.positions), payload=payload,
                                title=html.escape(animation.title), key=key,
                                frames=pack_frames([frame_list(animation), reads_map(animation)]),
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
   image-rendering: auto; touch-action: manipulation; box-sizing: border-box; }}
 .bar {{ display: flex; flex-wrap: wrap; align-items: center; gap: 8px; margin: 8px 0; max-width: {width}px; }}
 .bar button {{ width: 46px; height: 42px; border: 1px solid #888; border-radius: 8px; background: #f4f4f4;
   color: #1a1a1a; cursor: pointer; display: inline-flex; align-items: center; justify-content: center; padding: 0; }}
 .bar button:hover {{ background: #e3e3e3; }}
 .bar button:focus-visible {{ outline: 3px solid #1f6feb; }}
 #play {{ background: #1f6feb; color: #fff; border-color: #1f6feb; }}
 #seek {{ flex: 1; min-width: 160px; height: 28px; }}
 #count {{ font: 600 17px ui-monospace, monospace; min-width: 150px; text-align: center; }}
 select {{ font-size: 15px; padding: 6px; border-radius: 6px; }}
 #readout {{ max-width: {width}px; font: 17px/1.5 ui-monospace, "DejaVu Sans Mono", monospace; margin: 4px 0;
   overflow-wrap: anywhere; user-select: text; }}
 #arith div {{ white-space: pre-wrap; }}
 #readout .result {{ font-weight: 700; color: #9c3d00; }}
 #hover-note {{ max-width: {width}px; font-size: 15px; color: #333; min-height: 1.4em; margin: 2px 0 6px; }}
 .sr {{ position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }}
 #narrow {{ display: none; font-size: 14px; margin: 4px 0 0; }} #narrow b {{ display: block; font-size: 15px; }}
 #narrow span {{ display: inline-flex; align-items: center; gap: 4px; margin-right: 10px; white-space: nowrap; }}
 #narrow i {{ width: 13px; height: 13px; border: 1px solid #777; display: inline-block; }}
 @media (max-width: 600px) {{ #narrow {{ display: block; }} }}  /* a phone: the canvas's title and key shrink to ~5 px */
 .icon-pause {{ display: none; }} .playing .icon-pause {{ display: inline; }} .playing .icon-play {{ display: none; }}
</style></head>
<body>
<div id="sweep-player" data-frame="{start}" data-frames="{n}" data-steps="{steps}">
 <canvas id="sweep-canvas" width="{width}" height="{height}" role="img"
   aria-label="kernel sweep of {title}: the padded input grid, the kernel and the output grid"></canvas>
 <p id="narrow" aria-hidden="true"><b>{title}</b>{key}</p>
 <div class="bar">
  <button id="first" type="button" aria-label="First step" title="First step (Home)">{first}</button>
  <button id="prev" type="button" aria-label="Step back" title="Step back (←)">{prev}</button>
  <button id="play" type="button" aria-label="Play" title="Play / pause (space)">{play}{pause}</button>
  <button id="next" type="button" aria-label="Step forward" title="Step forward (→)">{next}</button>
  <button id="last" type="button" aria-label="Last step" title="Last step (End)">{lastIcon}</button>
  <input id="seek" type="range" min="0" max="{last}" value="{start}" aria-label="Jump to step">
  <span id="count"></span>
  <label>Speed <select id="speed" aria-label="Speed">{options}</select></label>
 </div>
 <div id="readout" aria-live="polite" aria-atomic="true">
  <span class="sr" id="readout-step"></span><div id="arith"></div></div>
 <p id="hover-note">Hover or tap an output cell to jump to its step; hover an input cell to outline every output
  cell that reads it.</p>
</div>
<script>
const D = {payload};
const FRAMES = "{frames}";
const STEPS = {steps};
const TIMELINE = "{timeline}", KEPT = "convlab-sweep-step";  // see PlayerPage.html
const root = document.getElementById("sweep-player");
const canvas = document.getElementById("sweep-canvas");
const ctx = canvas.getContext("2d");
ctx.imageSmoothingEnabled = false;
const seek = document.getElementById("seek"), count = document.getElementById("count");
const arith = document.getElementById("arith"), readout = document.getElementById("readout");
const readoutStep = document.getElementById("readout-step"), note = document.getElementById("hover-note");
const playButton = document.getElementById("play"), speed = document.getElementById("speed");
let frame = {start}, timer = null, images = [], frames = [], reads = [];
function load(src) {{
  return new Promise((ok, fail) => {{ const i = new Image(); i.onload = () => ok(i); i.onerror = fail; i.src = src; }});
}}
function unpack(b64) {{  // base64 → inflate (the browser's own DecompressionStream) → JSON
  const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Response(stream).text().then(JSON.parse);
}}
function label(t) {{ return t < STEPS ? "step " + (t + 1) + " of " + STEPS : "done"; }}
function paint(t) {{
  ctx.drawImage(images[0], 0, 0);
  const c = frames[t][0];
  const [top, bottom, right] = D.band;
  for (let k = 0; k < c.length; k += 5) {{
    const l = c[k], x0 = Math.max(0, c[k + 1]);
    let y0 = Math.max(0, c[k + 2]), x1 = c[k + 3], y1 = c[k + 4];
    if (l === D.solidLayer) {{ ctx.fillStyle = D.solid; ctx.fillRect(x0, y0, x1 - x0, y1 - y0); continue; }}
    if (l > 0) {{ y0 = Math.max(y0, top); y1 = Math.min(y1, bottom); x1 = Math.min(x1, right); }}  // band-only layers
    const w = x1 - x0, h = y1 - y0;
    if (w > 0 && h > 0) ctx.drawImage(images[l], x0, l > 0 ? y0 - top : y0, w, h, x0, y0, w, h);
  }}
}}
function syncUrl() {{  // the page's link follows the player (same origin: no rerun); step 1 is the link's default
  if (frame >= STEPS) return;
  try {{
    const w = window.parent, url = new URL(w.location.href);
    if (D.steps[frame] === 1) url.searchParams.delete("step"); else url.searchParams.set("step", D.steps[frame]);
    if (url.href !== w.location.href) w.history.replaceState(w.history.state, "", url.href);
  }} catch (e) {{ /* a page opened on its own: nothing to follow */ }}
}}
function keep() {{  // remember the step for a reload by the parent page's next rerun (same timeline)
  try {{ if (TIMELINE) sessionStorage.setItem(KEPT, JSON.stringify({{timeline: TIMELINE, step: frame < STEPS ?
    D.steps[frame] : 0}})); }} catch (e) {{ /* storage off: the player opens where the page says */ }}
}}
function kept() {{  // the frame of the step kept under this timeline (0: done), clamped to this sweep; else the page's
  try {{
    const k = JSON.parse(sessionStorage.getItem(KEPT) || "null");
    if (!TIMELINE || !k || k.timeline !== TIMELINE || !Number.isInteger(k.step)) return frame;
    if (k.step === 0) return {last};
    const at = D.steps.indexOf(k.step);
    return at >= 0 ? at : k.step > D.steps[STEPS - 1] ? STEPS - 1 : frame;
  }} catch (e) {{ return frame; }}
}}
function draw(t) {{
  if (!frames.length) return;
  frame = Math.max(0, Math.min({last}, t));
  keep();
  paint(frame);
  const text = label(frame);
  count.textContent = text; readoutStep.textContent = text + ": ";
  arith.replaceChildren(...frames[frame][1].map((line) => {{
    const div = document.createElement("div"); div.textContent = line;
    if (line.startsWith("result")) div.className = "result";
    return div;
  }}));
  seek.value = frame; seek.setAttribute("aria-valuetext", text); root.dataset.frame = frame;
  root.dataset.count = text;
  if (!timer) syncUrl();
}}
function stop() {{ if (timer) clearInterval(timer); timer = null; root.classList.remove("playing");
  playButton.setAttribute("aria-label", "Play"); readout.setAttribute("aria-live", "polite"); syncUrl(); }}
function play() {{
  if (frame >= {last}) draw(0);
  root.classList.add("playing"); playButton.setAttribute("aria-label", "Pause");
  readout.setAttribute("aria-live", "off");  // no announcement per frame while playing
  timer = setInterval(() => {{ if (frame >= {last}) stop(); else draw(frame + 1); }}, 1000 / parseFloat(speed.value));
}}
// Hover links: the canvas's cell grids (D.out, D.grids) in canvas pixels; reads[cell] = frames whose taps read it.
function hit(g, x, y) {{
  const i = g.xs.findIndex((v, k) => k + 1 < g.xs.length && x >= v && x < g.xs[k + 1]);
  const j = g.ys.findIndex((v, k) => k + 1 < g.ys.length && y >= v && y < g.ys[k + 1]);
  if (i < 0 || j < 0) return null;
  const r = g.fold ? 0 : j, c = g.fold ? j * g.fold + i : i;
  return c < g.cols && r < g.rows ? [r, c] : null;
}}
function rect(g, r, c) {{
  const i = g.fold ? c % g.fold : c, j = g.fold ? Math.floor(c / g.fold) : r;
  return [g.xs[i], g.ys[j], g.xs[i + 1] - g.xs[i], g.ys[j + 1] - g.ys[j]];
}}
function mark(g, r, c, colour) {{  // a dashed outline and a cross: a cue that is not colour alone
  const [x, y, w, h] = rect(g, r, c);
  ctx.save(); ctx.strokeStyle = colour; ctx.lineWidth = 3; ctx.setLineDash([6, 3]);
  ctx.strokeRect(x + 2, y + 2, w - 4, h - 4); ctx.setLineDash([]); ctx.lineWidth = 1.5;
  ctx.beginPath(); ctx.moveTo(x + 4, y + 4); ctx.lineTo(x + 10, y + 10); ctx.moveTo(x + 10, y + 4);
  ctx.lineTo(x + 4, y + 10); ctx.stroke(); ctx.restore();
}}
function where(e) {{
  const box = canvas.getBoundingClientRect();
  return [(e.clientX - box.left) * canvas.width / box.width, (e.clientY - box.top) * canvas.height / box.height];
}}
let hovered = null;
function hover(e) {{
  if (!frames.length) return;
  const [x, y] = where(e);
  const out = hit(D.out, x, y);
  if (out) {{
    const t = out[0] * D.out.cols + out[1];
    canvas.style.cursor = "pointer";
    if (t !== frame || hovered !== "out") {{ stop(); draw(t); }}
    hovered = "out"; note.textContent = "This output cell is " + label(t) + ".";
    return;
  }}
  for (const g of D.grids) {{
    const cell = hit(g, x, y);
    if (!cell) continue;
    const key = cell[0] * g.cols + cell[1], readers = reads[key] || [];
    if (hovered === "in" + key) return;
    hovered = "in" + key; canvas.style.cursor = "crosshair";
    paint(frame);
    for (const grid of D.grids) mark(grid, cell[0], cell[1], "#1f6feb");
    for (const t of readers) mark(D.out, Math.floor(t / D.out.cols), t % D.out.cols, "#1f6feb");
    root.dataset.highlighted = readers.join(",");
    note.textContent = "Grid cell (" + cell[0] + ", " + cell[1] + ") shown is read by " + readers.length +
      " output cell" + (readers.length === 1 ? "" : "s") + (readers.length ? ": steps " +
      readers.slice(0, 12).map((t) => t + 1).join(", ") + (readers.length > 12 ? ", …" : "") : "") + ".";
    return;
  }}
  leave();
}}
function leave() {{
  if (hovered && hovered !== "out" && frames.length) paint(frame);
  hovered = null; canvas.style.cursor = ""; root.dataset.highlighted = "";
}}
canvas.addEventListener("pointermove", hover);
canvas.addEventListener("pointerdown", hover);  // a tap on a phone
canvas.addEventListener("pointerleave", leave);
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
Promise.all([Promise.all(D.layers.map(load)), unpack(FRAMES)]).then(([l, [f, r]]) => {{
  images = l; frames = f; reads = r; draw(kept()); root.dataset.ready = "1";
}});
try {{  // after each of the parent page's runs (it may rewrite its address without step=), put the step back
  const app = window.parent.document.querySelector("[data-testid='stApp']");
  if (app && TIMELINE) new MutationObserver(() => {{
    if (app.getAttribute("data-test-script-state") === "notRunning" && !timer) syncUrl(); }})
    .observe(app, {{attributes: true, attributeFilter: ["data-test-script-state"]}});
}} catch (e) {{ /* a page opened on its own */ }}
</script>
</body></html>
"""
