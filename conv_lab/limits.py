"""Caps that keep one request from exhausting a 2-core classroom server.

Every number here is enforced inside `conv_lab`, so a URL, an upload or a
widget can never ask for more. Measured on the reference 2-core machine: a
Conv2d of 2e9 multiply-accumulates runs in ~60-200 ms; 16 M float32 output
elements are 64 MB.
"""

MAX_SPATIAL = 1024  # input height / width, pixels per side
# Input sides by the layer's dimension: a 1-D signal is long (1 s of 16 kHz audio), a 3-D clip small per side; the
# tensor caps below bound the total either way.
MAX_SPATIAL_BY_DIMS = {1: 65536, 2: MAX_SPATIAL, 3: 256}
MAX_CHANNELS = 1024  # in_channels
MAX_FILTERS = 1024  # out_channels
MAX_KERNEL = 64  # kernel height / width
MAX_STRIDE = 64
MAX_DILATION = 64
MAX_KERNEL_BY_DIMS = {1: 1024, 2: MAX_KERNEL, 3: 32}  # a 1-D filter may span 64 ms of 16 kHz audio
MAX_DILATION_BY_DIMS = {1: 1024, 2: MAX_DILATION, 3: 32}  # WaveNet stacks dilate up to 512
MAX_PADDING = 512
MAX_BATCH = 16
MAX_MACS = 2_000_000_000  # multiply-accumulates of one layer run (~0.2 s on 2 cores)
# Total work of one request (a rerun of one page), estimated before anything runs. The issue-17 goal is
# at most 0.5 s of CPU for the worst allowed request; benchmarks/worst_request.py measures it per page. At 0.4 the
# largest layers' first views measured 0.55–0.63 s on three pages (Shape Lab, Feature maps, Backward pass): a first
# run also faults in ~200 MB of fresh memory (50–57 k minor page faults), which the model does not count.
MAX_REQUEST_SECONDS = 0.3
# The cost model behind it, measured with benchmarks/conv_cost.py on the 2-core reference machine at one
# torch thread (the server's setting), rounded up to the slowest case seen on each path. Per MAC: dense and
# dilated convs ~0.03-0.085 ns, grouped ~0.07-0.25 (1-2 filters per group), depthwise 0.1-1.5 (large kernels are
# slowest), transposed 0.05-0.08, transposed grouped/depthwise 1-2.2. Per element touched: 25 ns for the scatter
# (col2im) of a transposed conv's output (kernel 1 stride 8 under load: 24 ns), 5 ns for reading, padding and writing
# otherwise.
# Dense, grouped and transposed convs compute output channels in blocks of CHANNEL_BLOCK (oneDNN on AVX2): their MACs
# are counted with each group's out_channels rounded up to a block (1 filter costs as much as 8: 256→1 filters
# 15×15 on 256×186×186 took 1.0 s, estimated 0.3 s without it). Every weight costs NS_PER_WEIGHT: torch's random
# init when the module is built (~7.4 ns) plus oneDNN's reorder of it on each run (~4.5 ns; it dominates when the
# output is small: 256→512 filters 15×15 on 8×8 ran 0.4 s, estimated 0.19 s without it); ~19 ns in all on a server
# sharing its 2 cores with other work (load average 6: memory bandwidth), so 18.
NS_PER_MAC = {"dense": 0.1, "grouped": 0.3, "depthwise": 1.6, "transposed": 0.12, "transposed grouped": 2.5}
NS_PER_ELEMENT = {"direct": 5.0, "transposed": 25.0}
NS_PER_WEIGHT = 18.0
CHANNEL_BLOCK = 8
# /gradients runs everything in float64 (so the explicit engine's sums are exact), where torch has no oneDNN path: its
# slow convolutions unfold every window (im2col), and the engine's weight gradient is a convolution whose "kernel" is
# the whole output gradient. The page's CPU is modelled as ns per forward MAC, per unfolded number (kernel cells ×
# (C_in × output cells + C_out × input cells)) and per element of x and y (seeding, comparing, the sweep's grid),
# plus a fixed part: fitted on 41 runs of 11 layer families (benchmarks/gradients.py) so that none is under-estimated
# (at the cap: 0.41–0.61 s measured at load 6–7; depthwise and transposed layers are over-estimated 3–7×). Before,
# the page assumed 9 float32 runs: a 3→8 15×15 layer on 269² passed the cap and took 3.6 s.
GRADIENT_NS_PER_MAC = 0.5
GRADIENT_NS_PER_UNFOLDED = 14.0
GRADIENT_NS_PER_ELEMENT = 130.0
GRADIENT_FIXED_SECONDS = 0.005
# The first view also renders the backward sweep's animation in the render worker: 0.15–0.3 s more on the 2-core
# machine (benchmarks/worst_request.py: the page's worst layers cost 0.37–0.53 s on a first view, 0.21–0.22 s again
# with the animation cached), counted against the same cap so that a first view stays within the 0.5 s goal (issue 17).
GRADIENT_SWEEP_SECONDS = 0.15
# The feature maps also write a filter bank into every weight (filter_banks.apply_bank): up to 24 ns per weight
# (a transposed layer's random bank) plus ~100 µs per filter; and they draw every output number (ReLU, colour
# scale, the grid of maps): ~8-16 ns each. All counted against the same cap (benchmarks/conv_cost.py).
NS_PER_BANK_WEIGHT = 25.0
NS_PER_BANK_FILTER = 100_000.0
NS_PER_MAP_ELEMENT = 15.0
MAX_TENSOR_ELEMENTS = 16_000_000  # input, padded input or output tensor elements (64 MB of float32)
MAX_OUTPUT_SPATIAL = 8192  # output height / width (transposed convs grow)
MAX_OUTPUT_SPATIAL_BY_DIMS = {1: 1_048_576, 2: MAX_OUTPUT_SPATIAL, 3: 2048}

MAX_SWEEP_FRAMES = 1024  # frames one animation may hold; larger sweeps animate a region
MAX_SWEEP_GRID = 64  # padded-grid side the sweep draws at all
MAX_MATRIX_CELLS = 400  # rows or columns of the convolution matrix C drawn on a page

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # raw upload size
MAX_UPLOAD_PIXELS = 4096 * 4096  # decoded pixels before Pillow refuses (bomb guard)
MAX_IMAGE_SIDE = 512  # uploads are downscaled to this side

MAX_NETWORK_LAYERS = 64
MAX_URL_VALUE_CHARS = 200  # a longer query value is refused before parsing
MAX_MATRIX_ENTRIES = 1_000_000  # rows×columns of C built in memory (8 MB of float64); blocks of it are drawn
MAX_PRACTICE_SEED = 999_999  # practice seeds a URL may carry (0..this)
PRACTICE_SET_SIZE = 20  # questions in one practice set (seed + level); the teacher view lists them all
# channels × rows × cols of the padded grid one sweep builds (8 MB of float64; a 3×512×512 input with padding 16
# fits). The grid is built twice, by the page and by the render worker: 4 M cells took 0.5-0.9 s of CPU (issue 17).
MAX_SWEEP_GRID_CELLS = 1_000_000
MAX_LINEAR_FEATURES = 1_048_576  # in_features / out_features of one Linear in the network planner
MAX_UPSAMPLE_SCALE = 16  # Upsample scale_factor in the network planner
MAX_NETWORK_URL_CHARS = 2000  # the planner's net= share value (a longer one is refused before parsing)
MAX_NETWORK_SKIPS = 16  # skip connections (concat/add) in one planned network
MAX_SKIP_FIX_TRIALS = 300  # re-plans one mismatched skip may try when searching for a padding fix
# ... and layer formulas those re-plans may evaluate (each ~0.15 ms: 300 re-plans of 63 layers took 2.8 s of CPU;
# the trials share each layer's result per input shape, so most of them cost a few formulas)
MAX_SKIP_FIX_STEPS = 1000
# Debug my model (issue 18): a pasted print(model) text. ResNet-152's printout is ~40 kB with ~500 modules;
# torchvision's models nest 4-6 levels. The real check runs every module on torch's meta device (~0.3 ms each).
MAX_DEBUG_TEXT_CHARS = 100_000  # characters of one pasted printout (or one pasted error message)
MAX_DEBUG_DEPTH = 16  # modules inside modules (and brackets inside brackets) in one printout
MAX_DEBUG_LAYERS = 512  # modules without children in one printout, collapsed runs ("(0-2): 3 x ReLU()") counted out
# input sizes the "input too small" fix may try when it looks for the smallest one that works, and layer formulas
# those tries may evaluate (each ~0.15 ms)
MAX_DEBUG_SIZE_TRIALS = 200
MAX_DEBUG_SIZE_STEPS = 3000
TORCH_THREADS = 1  # intra-op threads per torch op: sessions run in parallel; 2 threads stall under load
# multiply-accumulates of one practice question (AlexNet conv1 fits; keeps torch checks cheap)
MAX_PRACTICE_MACS = 150_000_000
# /matrix: layers whose C, tap ids and torch checks stay cached (≤ ~20 MB each at MAX_MATRIX_ENTRIES)
MATRIX_CACHED_LAYERS = 16
MATRIX_CACHED_PICTURES = 128  # /matrix: PNGs kept per picture kind (5 kinds, typically 10–80 KB each)
# Page scripts running at once per server, per lane (conv_lab.render.slots, app.py): more threads only take turns on
# the interpreter lock (issue 17: with 110 Shape Lab students ~50 script threads were runnable at once; one light
# slot instead of three: p95 2.3–2.6 → 1.1–1.2 s). Heavy work (the planner, the matrix, an upload's run) has its own.
LIGHT_SCRIPT_RUNS = 1
HEAVY_SCRIPT_RUNS = 2
MAX_CONCURRENT_RENDERS = 2  # heavy renders (sweep animation, matrices) running at once per server; the rest queue
RENDER_PROCESSES = 1  # worker processes for renders moved off the server's interpreter (render_pool, in_process=False)
# Render workers run at the server's own priority. Niced (10, to give the server's interpreter a core first), they
# starved behind a busy laptop's other programs: with two cores kept busy, the lecture hall's Sweep p95 was 10–11 s and
# the Shape Lab's 3.5–4.4 s (its pictures come from a worker), against 0.4–0.7 and 0.2–0.45 s at niceness 0; on a
# quiet machine no difference (issue 17).
DIRECT_CHANNELS = 4  # pipes to the Shape Lab's picture worker (render.direct): renders sent at once, the rest wait
# A page whose pictures are not drawn yet lends its script slot out at once and, the oldest run waiting, gets it back
# next (render.slots). Holding the slot up to 50 ms for them made every run hold the one light slot longer (21.7 → 28
# ms in a trace), which the queue pays many times over (docs/scaling.md, fifth pass).
DIRECT_RENDER_HOLD_SECONDS = 0.0
DIRECT_RENDER_TIMEOUT_SECONDS = 30  # a picture worker silent this long is replaced (a hung or dead process)
RENDER_POOL_RETRY_SECONDS = 30  # after the render worker pool fails, sweeps render in the server this long, then retry it
# Upload decoding (issue 17: 8 students uploading 4096² PNGs at once). One decode holds one full-size buffer
# (a 16 MP RGB/RGBA PNG: 64 MB; everything else is done in strips of a few MB), so the server's extra memory for
# pictures is about MAX_CONCURRENT_DECODES × MAX_DECODE_BYTES; benchmarks/uploads.py measures it.
MAX_CONCURRENT_DECODES = 2  # upload decodes running at once per server; the rest queue
DECODE_WAIT_SECONDS = 60.0  # a queued upload gives up with a "server busy" message after this
MAX_DECODE_BYTES = 64 * 1024 * 1024  # Pillow's buffer for one decode (pixels × bytes per pixel of the file's mode)
# Cache budgets in bytes (issue 17 item 5). The entry caps of the caches alone let a few large entries grow a
# process for the rest of a lesson; conv_lab.byte_cache drops the least recently used entries past these estimates
# (conv_lab.byte_cache.approx_nbytes). Each process (the server, the render worker) holds its own caches.
SWEEP_CACHE_BYTES = 64 * 2**20  # build_sweep: grids and kernels (25 KB for 3×32×32; 8 MB at MAX_SWEEP_GRID_CELLS)
ANIMATION_CACHE_BYTES = 64 * 2**20  # sweep_animation, in the render worker: ~5 MB of layers each, +~6 MB with its GIF
PLAYER_CACHE_BYTES = 16 * 2**20  # finished sweep players in the server (~0.3 MB each)
GIF_CACHE_BYTES = 32 * 2**20  # finished sweep GIFs in the server (up to ~6 MB each)
SWEEP_TEXT_CACHE_BYTES = 8 * 2**20  # the sweep animation's rasterised strings (~0.1–20 KB each), per process
DECODE_CACHE_BYTES = 48 * 2**20  # decoded uploads, counting the upload's own bytes held by the cache key
MATRIX_CACHE_BYTES = 96 * 2**20  # matrix_example / matrix_bundle each: C and its copies, up to ~20 MB per layer
MATRIX_PICTURE_CACHE_BYTES = 16 * 2**20  # each kind of /matrix PNG (10–80 KB each)
FEATURE_VIEW_CACHE_BYTES = 32 * 2**20  # Feature maps: a run's three pictures (~50–300 KB), in the server and the worker
LAB_PICTURE_CACHE_BYTES = 16 * 2**20  # Shape Lab grid + blocks PNGs per layer (~10–40 KB), kept in the server
# Live class (issue 15): every input a student or teacher sends the class store is checked against these.
CLASS_CODE_LENGTH = 6  # characters of a join code (from codes.ALPHABET: 20^6 = 64 M codes)
MAX_CLASS_CODE_CHARS = 32  # a typed code longer than this is refused before it is read (spaces, dashes allowed)
MAX_ANSWER_CHARS = 64  # one answer as stored ("16×32×32", "fails", "1,234")
MAX_NICKNAME_CHARS = 24
MAX_STUDENT_ID_CHARS = 64
MAX_QUESTION_ID_CHARS = 400  # "lab:<the Shape Lab query>" or "practice:seed:level:n"
MAX_TEACHER_KEY_CHARS = 128  # a longer key is refused without comparing
MAX_STUDENTS_PER_CLASS = 200
MAX_QUESTIONS_PER_CLASS = 200  # distinct questions answered in one class
MAX_CLASSES = 500  # live (unexpired) classes per server
CLASS_HOURS = 4.0  # a class expires this long after it starts (CONVLAB_CLASS_HOURS overrides)
MAX_CLASS_HOURS = 72.0
CLASS_REFRESH_SECONDS = 2.0  # how often the class pages poll the store (st.fragment run_every)
# The planner's measured receptive field (network.rf_measure): autograd through the stack rebuilt with one output
# channel per conv, in float64, at one torch thread. Its work is counted in units of a small 2-D conv's tap on one cell
# (network.rf_measure.measure_work: large kernels, transposed and 3-D layers weigh more; 4 units per cell and layer for
# the elementwise work), ~5 ns each on the 2-core reference machine under load. 24 M units keep the worst kind of
# stack near 0.15 s of CPU (benchmarks/network.py `rf` prints p50/p95 on the largest plan of each kind) and let the
# 3-D preset measure its last map.
MAX_RF_MEASURE_WORK = 24_000_000
RF_NS_PER_UNIT = 6.5  # the worst kind's CPU per unit at the cap: what a request whose planner run spent CPU (transposed
# layers checked on the CPU, not from the cache) has left of MAX_REQUEST_SECONDS bounds it too (rf_measure.allowed_work)
