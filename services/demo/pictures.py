"""Small, real JPEGs for the demo: a plain picture of a house, a room or a paper, drawn with Pillow.

They stand in for the living-condition photos an assistant takes; the demo stores them through the same
pipeline as an upload (services/visits/photos.py), so they are checked, re-encoded and thumbnailed alike.
"""

import io
import random

from PIL import Image, ImageDraw

SIZE = (800, 600)  # small: seeding stays fast, the pipeline keeps it as it is (under its long edge)
OUTDOOR = ("住房", "院落", "饮水", "其他")
WALLS = ((214, 196, 170), (190, 178, 160), (226, 214, 190), (176, 160, 140))
ROOFS = ((120, 72, 52), (88, 88, 96), (150, 90, 60), (70, 60, 56))
SKIES = ((150, 196, 232), (176, 206, 226), (200, 214, 224))
GREENS = ((96, 140, 72), (120, 150, 80), (84, 120, 64))


def demo_photo(rng: random.Random, caption: str) -> bytes:
    """Return a JPEG that fits the caption: a house or a yard outdoors, a room or a paper indoors."""
    if caption in OUTDOOR:
        image = _outdoors(rng, water=caption == "饮水")
    elif caption in ("证件", "药品"):
        image = _on_a_table(rng, paper=caption == "证件")
    else:
        image = _room(rng, bed=caption == "床铺")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _jitter(rng: random.Random, colour: tuple[int, int, int], spread: int = 12) -> tuple[int, int, int]:
    return tuple(max(0, min(255, c + rng.randint(-spread, spread))) for c in colour)


def _outdoors(rng: random.Random, water: bool) -> Image.Image:
    width, height = SIZE
    horizon = rng.randint(250, 330)
    image = Image.new("RGB", SIZE, _jitter(rng, rng.choice(SKIES)))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, horizon, width, height), fill=_jitter(rng, rng.choice(GREENS)))
    for _ in range(rng.randint(1, 3)):  # hills behind
        x = rng.randint(-100, width)
        draw.ellipse((x, horizon - rng.randint(60, 140), x + rng.randint(250, 450), horizon + 80), fill=(110, 140, 96))
    left = rng.randint(120, 360)
    right, top = left + rng.randint(260, 360), horizon - rng.randint(60, 110)
    bottom = horizon + rng.randint(110, 170)
    draw.rectangle((left, top, right, bottom), fill=_jitter(rng, rng.choice(WALLS)))  # the house
    draw.polygon([(left - 30, top), ((left + right) // 2, top - rng.randint(70, 110)), (right + 30, top)],
                 fill=_jitter(rng, rng.choice(ROOFS)))  # fmt: skip
    door = left + (right - left) // 2 - 28
    draw.rectangle((door, bottom - 110, door + 56, bottom), fill=(96, 64, 44))
    draw.rectangle((left + 24, top + 30, left + 84, top + 80), fill=(60, 70, 80))  # a window
    if water:  # a tap and a water tank in the yard
        tank = right + 60
        draw.rectangle((tank, bottom - 90, tank + 70, bottom), fill=(70, 120, 170))
        draw.rectangle((tank - 30, bottom - 40, tank, bottom - 30), fill=(160, 160, 160))
    return image


def _room(rng: random.Random, bed: bool) -> Image.Image:
    width, height = SIZE
    floor = rng.randint(360, 420)
    image = Image.new("RGB", SIZE, _jitter(rng, rng.choice(WALLS), 20))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, floor, width, height), fill=_jitter(rng, (120, 100, 84), 16))
    if bed:  # a bed with a quilt and a pillow
        left = rng.randint(80, 300)
        draw.rectangle((left, floor - 90, left + 420, floor + 60), fill=(140, 96, 60))
        draw.rectangle((left + 10, floor - 110, left + 410, floor + 20), fill=_jitter(rng, (200, 80, 80), 40))
        draw.ellipse((left + 20, floor - 140, left + 130, floor - 90), fill=(236, 236, 226))
    else:  # a stove with a pot, a cupboard and a window
        draw.rectangle((100, floor - 120, 330, floor + 40), fill=(90, 90, 96))
        draw.ellipse((150, floor - 170, 280, floor - 110), fill=(50, 50, 54))
        draw.rectangle((470, floor - 260, 680, floor + 40), fill=(150, 110, 70))
        draw.line((575, floor - 260, 575, floor + 40), fill=(90, 60, 40), width=4)
    draw.rectangle((width - 260, 60, width - 120, 180), fill=(170, 200, 220))
    return image


def _on_a_table(rng: random.Random, paper: bool) -> Image.Image:
    image = Image.new("RGB", SIZE, _jitter(rng, (150, 110, 74), 18))  # a wooden table top
    draw = ImageDraw.Draw(image)
    if paper:  # a form with lines of writing and a red seal
        draw.rectangle((160, 70, 640, 540), fill=(246, 244, 236))
        for y in range(130, 470, 34):
            draw.line((200, y, 200 + rng.randint(260, 400), y), fill=(90, 90, 100), width=3)
        draw.ellipse((470, 400, 580, 510), outline=(200, 40, 40), width=6)
    else:  # medicine boxes and a bottle
        for n in range(rng.randint(2, 4)):
            left = 120 + n * 150
            colour = _jitter(rng, rng.choice(((230, 230, 230), (200, 220, 240), (240, 220, 200))))
            draw.rectangle((left, 260, left + 120, 420), fill=colour)
            draw.rectangle((left, 300, left + 120, 330), fill=_jitter(rng, (40, 120, 200), 40))
        draw.rectangle((640, 220, 700, 420), fill=(120, 70, 40))
    return image
