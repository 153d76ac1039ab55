"""Caps that keep one request from exhausting a 2-core classroom server.

Every number here is enforced inside `conv_lab`, so a URL, an upload or a
widget can never ask for more. Measured on the reference 2-core machine: a
Conv2d of 2e9 multiply-accumulates runs in ~60-200 ms; 16 M float32 output
elements are 64 MB.
"""

MAX_SPATIAL = 1024  # input height / width, pixels per side
MAX_CHANNELS = 1024  # in_channels
MAX_FILTERS = 1024  # out_channels
MAX_KERNEL = 64  # kernel height / width
MAX_STRIDE = 64
MAX_DILATION = 64
MAX_PADDING = 512
MAX_BATCH = 16
MAX_MACS = 2_000_000_000  # multiply-accumulates of one layer run (~0.2 s on 2 cores)
MAX_TENSOR_ELEMENTS = 16_000_000  # input or output tensor elements (64 MB of float32)
MAX_OUTPUT_SPATIAL = 8192  # output height / width (transposed convs grow)

MAX_SWEEP_FRAMES = 1024  # frames one animation may hold; larger sweeps animate a region
MAX_SWEEP_GRID = 64  # padded-grid side the sweep draws at all
MAX_MATRIX_CELLS = 400  # rows or columns of the convolution matrix C drawn on a page

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # raw upload size
MAX_UPLOAD_PIXELS = 4096 * 4096  # decoded pixels before Pillow refuses (bomb guard)
MAX_IMAGE_SIDE = 512  # uploads are downscaled to this side

MAX_NETWORK_LAYERS = 64
MAX_URL_VALUE_CHARS = 200  # a longer query value is refused before parsing
