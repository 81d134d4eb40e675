"""Process large photos as an upload does and print JSON: seconds and peak memory per picture.

    python benchmarks/photo_memory.py [--timeout 120] [--cases fixture_12mp,jpeg_50mp,...]

Each picture is made once (Pillow: gradients, with grain in the JPEGs so they have phone-like sizes),
then services.visits.photos.process() runs on its bytes in a fresh process. peak_rss_mb is what counts
here: Pillow and libjpeg allocate pixels in C, where tracemalloc (python_heap_peak_mb) does not look.

- fixture_12mp: ../shared/fixtures/phone_photo_12mp.jpg (4000×3000, EXIF orientation 6).
- jpeg_50mp, jpeg_200mp: 8160×6120 and 16320×12240 baseline JPEGs, the sizes of 50 and 200 MP phone cameras.
- jpeg_50mp_progressive: the same picture saved progressive (libjpeg then buffers every coefficient).
- png_7000x7000: a small PNG that declares 49 MP.
- png_16mp_rgba: 4000×4000 with transparency, the largest non-JPEG accepted.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.measure import run_case  # noqa: E402

FIXTURE = ROOT.parent / "shared" / "fixtures" / "phone_photo_12mp.jpg"


def picture(size: tuple[int, int], mode: str = "RGB", grain: float = 12):
    """Return a smooth picture with grain: big gradients, like a room, plus sensor noise."""
    from PIL import Image, ImageChops

    red = Image.linear_gradient("L").resize(size)
    green = Image.linear_gradient("L").rotate(90).resize(size)
    blue = Image.radial_gradient("L").resize(size)
    noise = Image.effect_noise(size, grain) if grain else Image.new("L", size, 128)
    bands = [ImageChops.add(band, noise, scale=1.0, offset=-128) for band in (red, green, blue)]
    if mode == "RGBA":
        bands.append(Image.linear_gradient("L").rotate(45).resize(size))
    return Image.merge(mode, bands)


def _save(image, path: Path, kind: str, **options) -> None:
    image.save(path, kind, **options)


PICTURES = {  # name: (file suffix, how to make it)
    "jpeg_50mp": (".jpg", lambda path: _save(picture((8160, 6120)), path, "JPEG", quality=85)),
    "jpeg_200mp": (".jpg", lambda path: _save(picture((16320, 12240), grain=3), path, "JPEG", quality=70)),
    "jpeg_50mp_progressive": (
        ".jpg",
        lambda path: _save(picture((8160, 6120)), path, "JPEG", quality=85, progressive=True),
    ),
    "png_7000x7000": (".png", lambda path: _save(picture((7000, 7000), grain=0), path, "PNG", optimize=True)),
    "png_16mp_rgba": (".png", lambda path: _save(picture((4000, 4000), "RGBA", grain=0), path, "PNG")),
}
CASES = ["fixture_12mp", *PICTURES]


def made(name: str, folder: Path) -> Path:
    """Return the picture's file, making it the first time."""
    if name == "fixture_12mp":
        return FIXTURE
    suffix, make = PICTURES[name]
    path = folder / f"{name}{suffix}"
    if not path.exists():
        make(path)
    return path


def process_case(path: Path) -> dict:
    """Process one picture in this process (the child) and measure it."""
    from benchmarks.measure import measure_here
    from services.errors import Invalid
    from services.visits import photos

    data = path.read_bytes()

    def upload() -> str:
        try:
            done = photos.process(data)
        except Invalid as refusal:
            return f"refused: {refusal}"
        return f"stored {done.width}×{done.height}, {len(done.jpeg) // 1024} KB, thumbnail {len(done.thumb) // 1024} KB"

    return measure_here(upload)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--folder", help="keep the pictures here (made once, reused)")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # the child's side
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(process_case(Path(args.file)), ensure_ascii=False))
        return
    folder = Path(args.folder or tempfile.mkdtemp())
    folder.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in args.cases.split(","):
        path = made(name, folder)
        results[name] = {"file_kb": path.stat().st_size // 1024}
        results[name] |= run_case(Path(__file__), name, ["--file", str(path)], args.timeout)
        print(json.dumps({name: results[name]}, ensure_ascii=False), file=sys.stderr, flush=True)
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
