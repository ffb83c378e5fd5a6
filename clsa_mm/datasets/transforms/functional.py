"""PIL-equivalent image operations on HWC uint8 RGB numpy arrays.

The released CLSA code augments PIL images with torchvision's transforms and
``PIL.ImageOps``/``PIL.ImageEnhance``. These functions compute the same
results on uint8 arrays with OpenCV and numpy: look-up tables of PIL's
float32 formulas for the point operations, ``cv2.addWeighted`` for PIL's
blends, PIL's 16.16 fixed-point source coordinates for the nearest-neighbour
affine transforms and PIL's three-pass box blur for its Gaussian blur. Where
a result is not bit-exact, the docstring says by how much it can differ;
the tests in ``tests/test_datasets`` check every function against PIL.
"""
import functools
import math

import cv2
import numpy as np

_IDENTITY_LUT = np.arange(256, dtype=np.uint8)
_LEVELS = np.arange(256, dtype=np.float32)
# PIL's "L" conversion, ITU-R 601-2 luma in 16.16 fixed point, as a
# cv2.transform matrix: (19595 R + 38470 G + 7471 B + 2**15) / 2**16. Every
# term is exact in float32, so truncating gives PIL's value exactly.
_LUMA = np.array([[19595, 38470, 7471, 32768]], np.float64) / 65536
# ImageFilter.SMOOTH, the degenerate image of ImageEnhance.Sharpness.
_SMOOTH_KERNEL = np.array([[1, 1, 1], [1, 5, 1], [1, 1, 1]], np.float32) / 13


def grayscale(img):
    """PIL's ``img.convert('L')`` (exact).

    Args:
        img (np.ndarray): HWC uint8 RGB image.

    Returns:
        np.ndarray: HW uint8 luma.
    """
    luma = cv2.transform(img.astype(np.float32), _LUMA)
    return luma.astype(np.uint8)


def _blend(degenerate, img, factor):
    """PIL's ``Image.blend(degenerate, img, factor)`` of two HWC images.

    PIL truncates ``degenerate + factor * (img - degenerate)`` computed in
    float32; ``cv2.addWeighted`` rounds, so 0.5 - 1e-4 is subtracted
    first. Exact for StrongAugment's factors; for some factors (0.6, say)
    PIL's float32 result lands just below an exact integer and truncates
    one lower: then up to 1 % of the values differ, by 1 level.
    """
    alpha = float(np.float32(factor))
    return cv2.addWeighted(img, alpha, degenerate, 1.0 - alpha, 1e-4 - 0.5)


def _blend_lut(degenerate, factor):
    """Look-up table of PIL's blend with a constant degenerate value."""
    base = np.float32(degenerate)
    out = (_LEVELS - base) * np.float32(factor) + base
    return np.clip(out, 0, 255).astype(np.uint8)


def adjust_brightness(img, factor):
    """``ImageEnhance.Brightness(img).enhance(factor)`` (exact)."""
    return cv2.LUT(img, _blend_lut(0, factor))


def adjust_contrast(img, factor):
    """``ImageEnhance.Contrast(img).enhance(factor)`` (exact).

    The degenerate image is the mean of the luma, rounded as PIL does.
    """
    luma = grayscale(img)
    mean = int(float(luma.sum(dtype=np.int64)) / luma.size + 0.5)
    return cv2.LUT(img, _blend_lut(mean, factor))


def adjust_saturation(img, factor):
    """``ImageEnhance.Color(img).enhance(factor)`` (see :func:`_blend`)."""
    gray = cv2.cvtColor(grayscale(img), cv2.COLOR_GRAY2RGB)
    return _blend(gray, img, factor)


def adjust_sharpness(img, factor):
    """``ImageEnhance.Sharpness(img).enhance(factor)`` (see
    :func:`_blend`).

    The degenerate image is PIL's SMOOTH filter, which leaves the one-pixel
    border unchanged.
    """
    smooth = cv2.filter2D(img, -1, _SMOOTH_KERNEL)
    smooth[0] = img[0]
    smooth[-1] = img[-1]
    smooth[:, 0] = img[:, 0]
    smooth[:, -1] = img[:, -1]
    return _blend(smooth, img, factor)


# RGB2HSV (float32: H in degrees, S in [0, 1], V in [0, 255]) to uint8 H, S
# as PIL quantises them: truncation of H / 360 * 255 and S * 255, done by
# convertScaleAbs's rounding of x - 0.5; the 1e-4 lifts float32 results
# that fall just below an exact integer.
_HSV_TO_PIL = np.array([[255 / 360, 0, 0, 1e-4 - 0.5],
                        [0, 255, 0, 1e-4 - 0.5],
                        [0, 0, 1, 0]])
_PIL_TO_HSV = np.array([[360 / 255, 0, 0, 0], [0, 1 / 255, 0, 0],
                        [0, 0, 1, 0]])


def adjust_hue(img, hue_factor):
    """torchvision's ``adjust_hue`` on a PIL image.

    Like PIL, the hue and saturation are quantised to uint8 (hue in 1/255
    turns), the hue is shifted by ``int(hue_factor * 255)`` modulo 256 and
    the image converted back. The conversions run in float32 OpenCV. Where
    the exact hue is a multiple of 1/255 turn, PIL's float32 arithmetic
    sometimes lands just below it and truncates one step lower: 0.3 % of all
    colours, up to 2.5 % of a photograph's pixels, come out different from
    PIL, by up to 6 levels.

    Args:
        img (np.ndarray): HWC uint8 RGB image.
        hue_factor (float): Shift in turns, in [-0.5, 0.5].
    """
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f'hue_factor {hue_factor} is not in [-0.5, 0.5]')
    hsv = cv2.cvtColor(img.astype(np.float32), cv2.COLOR_RGB2HSV)
    quantised = cv2.convertScaleAbs(cv2.transform(hsv, _HSV_TO_PIL))
    # uint8 addition wraps modulo 256, like torchvision's.
    quantised[..., 0] += np.uint8(int(hue_factor * 255) % 256)
    hsv = cv2.transform(quantised.astype(np.float32), _PIL_TO_HSV)
    return cv2.convertScaleAbs(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB))


def autocontrast(img):
    """``ImageOps.autocontrast(img)`` (exact), per channel."""
    luts = np.empty((256, 1, 3), np.uint8)
    for c in range(3):
        hist = cv2.calcHist([img], [c], None, [256], [0, 256]).ravel()
        nonzero = np.flatnonzero(hist)
        lo, hi = nonzero[0], nonzero[-1]
        if hi <= lo:
            luts[:, 0, c] = _IDENTITY_LUT
            continue
        scale = 255.0 / (hi - lo)
        lut = np.trunc(np.arange(256) * scale + (-lo * scale))
        luts[:, 0, c] = np.clip(lut, 0, 255)
    return cv2.LUT(img, luts)


def equalize(img):
    """``ImageOps.equalize(img)`` (exact), per channel."""
    luts = np.empty((256, 1, 3), np.uint8)
    for c in range(3):
        hist = cv2.calcHist([img], [c], None, [256], [0, 256]).ravel()
        hist = hist.astype(np.int64)
        used = hist[hist > 0]
        step = (used.sum() - used[-1]) // 255 if len(used) > 1 else 0
        if step == 0:
            luts[:, 0, c] = _IDENTITY_LUT
            continue
        before = np.cumsum(hist) - hist
        luts[:, 0, c] = np.minimum((step // 2 + before) // step, 255)
    return cv2.LUT(img, luts)


@functools.lru_cache(maxsize=None)
def _posterize_lut(bits):
    return _IDENTITY_LUT & np.uint8(~(2**(8 - bits) - 1) & 255)


@functools.lru_cache(maxsize=None)
def _solarize_lut(threshold):
    return np.where(_IDENTITY_LUT < threshold, _IDENTITY_LUT,
                    255 - _IDENTITY_LUT).astype(np.uint8)


def posterize(img, bits):
    """``ImageOps.posterize(img, bits)`` (exact)."""
    if not 1 <= bits <= 8:
        raise ValueError(f'posterize bits must be in [1, 8], got {bits}')
    return cv2.LUT(img, _posterize_lut(int(bits)))


def solarize(img, threshold):
    """``ImageOps.solarize(img, threshold)`` (exact): invert values >=
    threshold."""
    return cv2.LUT(img, _solarize_lut(int(threshold)))


def invert(img):
    """``ImageOps.invert(img)`` (exact)."""
    return cv2.bitwise_not(img)


def _fixed(value):
    """PIL's 16.16 fixed point, ``FLOOR(v * 65536.0 + 0.5)``."""
    return math.floor(value * 65536.0 + 0.5)


def affine(img, coeffs):
    """``img.transform(img.size, Image.AFFINE, coeffs)`` (exact).

    Nearest neighbour, black outside the image. ``coeffs`` = (a, b, c, d, e,
    f) map an output pixel (x, y) to the input pixel (a x + b y + c,
    d x + e y + f), PIL's convention. The source coordinates are computed in
    PIL's 16.16 fixed point from pixel centres (in floating point for a
    pure scaling or shift, as PIL does), then ``cv2.remap`` gathers them,
    so the result equals PIL's bit for bit.
    """
    a, b, c, d, e, f = coeffs
    h, w = img.shape[:2]
    xs = np.arange(w, dtype=np.int64)
    ys = np.arange(h, dtype=np.int64)[:, None]
    if b == 0 and d == 0:
        # PIL's scaling path: float pixel centres, per axis.
        src_x = np.floor(c + a * 0.5 + xs * a) + 0 * ys
        src_y = np.floor(f + e * 0.5 + ys * e) + 0 * xs
    else:
        src_x = (_fixed(c + a * 0.5 + b * 0.5) + ys * _fixed(b) +
                 xs * _fixed(a)) >> 16
        src_y = (_fixed(f + d * 0.5 + e * 0.5) + ys * _fixed(e) +
                 xs * _fixed(d)) >> 16
    coords = np.empty((h, w, 2), np.int16)
    coords[..., 0] = np.clip(src_x, -1, w)
    coords[..., 1] = np.clip(src_y, -1, h)
    return cv2.remap(img, coords, None, cv2.INTER_NEAREST,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def rotate(img, degrees):
    """``img.rotate(degrees)`` (exact): counter-clockwise about the centre
    (w / 2, h / 2), same size, nearest neighbour, black corners."""
    h, w = img.shape[:2]
    cx, cy = w / 2, h / 2
    angle = -math.radians(degrees)
    a, b = round(math.cos(angle), 15), round(math.sin(angle), 15)
    d, e = round(-math.sin(angle), 15), round(math.cos(angle), 15)
    c = a * -cx + b * -cy + cx
    f = d * -cx + e * -cy + cy
    if b == 0 and d == 0:  # a multiple of 180 degrees
        return np.ascontiguousarray(img if a > 0 else img[::-1, ::-1])
    return affine(img, (a, b, c, d, e, f))


def shear_x(img, shear):
    """``img.transform(size, AFFINE, (1, shear, 0, 0, 1, 0))`` (exact)."""
    return affine(img, (1, shear, 0, 0, 1, 0))


def shear_y(img, shear):
    """``img.transform(size, AFFINE, (1, 0, 0, shear, 1, 0))`` (exact)."""
    return affine(img, (1, 0, 0, shear, 1, 0))


def translate(img, dx, dy):
    """``img.transform(size, AFFINE, (1, 0, dx, 0, 1, dy))`` (exact).

    Output pixel (x, y) is input pixel (x + dx, y + dy) for integer shifts,
    black where that falls outside.
    """
    h, w = img.shape[:2]
    out = np.zeros_like(img)
    if abs(dx) < w and abs(dy) < h:
        out[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)] = \
            img[max(0, dy):h - max(0, -dy), max(0, dx):w - max(0, -dx)]
    return out


def _box_blur_kernel(sigma, passes=3):
    """One pass of PIL's box blur that approximates a Gaussian of ``sigma``
    (``ImagingGaussianBlur``: ``passes`` extended box blurs with a
    fractional radius, float32 arithmetic, 8.24 fixed-point weights)."""
    f32 = np.float32
    sigma = f32(sigma)
    sigma2 = sigma * sigma / f32(passes)
    length = f32(math.sqrt(12.0 * float(sigma2) + 1.0))
    inner = f32(math.floor((float(length) - 1.0) / 2.0))
    frac = (f32(2) * inner + f32(1)) * (inner * (inner + f32(1)) -
                                        f32(3) * sigma2)
    frac /= f32(6) * (sigma2 - (inner + f32(1)) * (inner + f32(1)))
    radius = inner + frac
    size = int(radius)
    weight = int(f32(1 << 24) / (radius * f32(2) + f32(1)))
    edge = ((1 << 24) - (size * 2 + 1) * weight) // 2
    kernel = np.full(2 * size + 3, weight, np.float64)
    kernel[0] = kernel[-1] = edge
    return kernel / (1 << 24)


def gaussian_blur(img, sigma):
    """``img.filter(ImageFilter.GaussianBlur(sigma))``, what MoCo v2 uses.

    PIL blurs with three box blurs per axis, rounding to uint8 after each
    pass and repeating the edge pixels; this does the same with six 1-D
    OpenCV filters. OpenCV accumulates in float where PIL uses 8.24 fixed
    point, so sums within a hair of .5 may round the other way: for a
    random sigma under 1 % of the values differ, by 1 level (most often
    none); at a few round sigmas (0.5, 1.0, 2.0), where many sums fall
    exactly there, up to 15 % of the values, by up to 2 levels.
    """
    kernel = _box_blur_kernel(float(sigma))
    rows, cols = kernel.reshape(1, -1), kernel.reshape(-1, 1)
    out = img
    for _ in range(3):
        out = cv2.filter2D(out, -1, rows, borderType=cv2.BORDER_REPLICATE)
    for _ in range(3):
        out = cv2.filter2D(out, -1, cols, borderType=cv2.BORDER_REPLICATE)
    return out


def sample_crop_box(height, width, scale, ratio):
    """torchvision's ``RandomResizedCrop.get_params`` with numpy's RNG.

    Ten tries of a random area fraction in ``scale`` and a log-uniform
    aspect ratio in ``ratio``; then the centre crop of the whole image
    clamped to ``ratio``.

    Returns:
        tuple[int, int, int, int]: top, left, height, width.
    """
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target_area = area * np.random.uniform(scale[0], scale[1])
        aspect = math.exp(np.random.uniform(log_ratio[0], log_ratio[1]))
        w = int(round(math.sqrt(target_area * aspect)))
        h = int(round(math.sqrt(target_area / aspect)))
        if 0 < w <= width and 0 < h <= height:
            top = np.random.randint(0, height - h + 1)
            left = np.random.randint(0, width - w + 1)
            return top, left, h, w
    in_ratio = width / height
    if in_ratio < min(ratio):
        w = width
        h = int(round(w / min(ratio)))
    elif in_ratio > max(ratio):
        h = height
        w = int(round(h * max(ratio)))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def resized_crop(img, box, size):
    """Crop ``box`` = (top, left, height, width) of ``img`` and resize it
    to a ``size`` x ``size`` square, bilinearly, without copying ``img``.

    One ``cv2.resize(INTER_LINEAR)`` call on a view of the crop, unless the
    crop is at least twice the output size along both sides. Bilinear
    sampling then skips input pixels and aliases, whereas PIL's bilinear
    resize, which torchvision uses, widens its filter (antialiasing). So
    the crop is first shrunk by the integer factor ``k = min(h, w) //
    size`` with ``INTER_AREA`` (OpenCV's fast k x k box average; the crop
    loses its last ``h % k`` rows and ``w % k`` columns), and the rest,
    less than 2x on the short side, is bilinear. Against PIL this halves
    the mean error of 96-pixel views of 300-pixel crops (3.4 -> 1.3 levels).
    """
    top, left, h, w = box
    patch = img[top:top + h, left:left + w]
    factor = min(h, w) // size
    if factor >= 2:
        h, w = h - h % factor, w - w % factor
        patch = cv2.resize(patch[:h, :w], (w // factor, h // factor),
                           interpolation=cv2.INTER_AREA)
    return cv2.resize(patch, (size, size), interpolation=cv2.INTER_LINEAR)
