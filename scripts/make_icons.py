"""Draw the app icons (WeChat green, a white house sheltering a heart) with Pillow.

Run once after changing the drawing: python scripts/make_icons.py. The PNGs are committed.
"""

from pathlib import Path

from PIL import Image, ImageDraw

GREEN = (7, 193, 96, 255)
WHITE = (255, 255, 255, 255)
OUT = Path(__file__).resolve().parent.parent / "static" / "icons"


def draw(size: int, maskable: bool = False) -> Image.Image:
    """Return one icon of size×size pixels; maskable icons keep the drawing in the safe 80 %."""
    scale = 4  # draw large, shrink: smooth edges without anti-aliasing support in ImageDraw
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if maskable:
        pen.rectangle((0, 0, big, big), fill=GREEN)
    else:
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=GREEN)
    inset = 0.22 if maskable else 0.16
    u = big * (1 - 2 * inset) / 10  # drawing unit
    ox = oy = big * inset

    def p(x, y):
        return (ox + x * u, oy + y * u)

    line = max(int(u * 0.9), 2)
    pen.line([p(0.5, 4.6), p(5, 0.6), p(9.5, 4.6)], fill=WHITE, width=line, joint="curve")
    pen.line([p(1.8, 3.6), p(1.8, 9.4), p(8.2, 9.4), p(8.2, 3.6)], fill=WHITE, width=line, joint="curve")
    # heart: two circles and a triangle
    r = 1.05 * u
    for cx in (4.1, 5.9):
        x, y = p(cx, 5.3)
        pen.ellipse((x - r, y - r, x + r, y + r), fill=WHITE)
    pen.polygon([p(3.05, 5.6), p(6.95, 5.6), p(5, 7.9)], fill=WHITE)
    return image.resize((size, size), Image.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    draw(192).save(OUT / "icon-192.png", optimize=True)
    draw(512).save(OUT / "icon-512.png", optimize=True)
    draw(512, maskable=True).save(OUT / "icon-maskable-512.png", optimize=True)
    # A small one for every page load, in 32 colours. The login page draws the same icon inline
    # (templates/icons/logo.svg, in this drawing's units): no request for it.
    draw(32).quantize(32, method=Image.Quantize.FASTOCTREE).save(OUT / "favicon-32.png", optimize=True)
    print("icons written to", OUT)


if __name__ == "__main__":
    main()
