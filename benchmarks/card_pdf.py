"""Draw a township's card PDF and print JSON: bytes and milliseconds per card, and how many cards decode.

    python benchmarks/card_pdf.py [--cards 1000] [--dpi 150] [--no-decode]

The faces are a roster's (13-digit household numbers, two villages' names, masked heads of many surnames,
random 256-bit tokens in the URLs). The PDF is drawn once untimed with one card (a running app has loaded
its caches by then: the font's character map), then timed. Then poppler renders it at 150 dpi as a cheap
office printer would, and zxing-cpp reads each card's place on its own: a card counts as decoded only if
exactly its own URL comes out there.
"""

import argparse
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.cards import pdf as card_pdf  # noqa: E402
from services.cards.cards import CardFace, mask_name  # noqa: E402
from services.cards.image import A4_PX, CARD_PX, SHEET_COLUMNS, SHEET_ROWS  # noqa: E402

GOALS = {"bytes_per_card": 15 * 1024, "ms_per_card": 10, "seconds_for_1000": 10}
SURNAMES = (
    "张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚"
    "卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤岩刀"
)
GIVEN = "明华国强秀英建军丽芳海燕志刚玉兰永福春梅德胜桂香金凤成林"


def faces(count: int) -> list[CardFace]:
    """Return count card faces as a township's roster gives them."""
    made = []
    for number in range(count):
        name = SURNAMES[number % len(SURNAMES)] + GIVEN[number % len(GIVEN)] + GIVEN[(number * 7) % len(GIVEN)]
        made.append(
            CardFace(
                url=f"https://doudi.example.gov.cn/h/{secrets.token_urlsafe(32)}",
                household_no=f"530902100{201 + number % 2:03d}{number:04d}",
                village=("碗窑村", "勐准村")[number % 2],
                township="博尚镇",
                head=mask_name(name),
                assistant=SURNAMES[(number // 40) % len(SURNAMES)] + "协理",
                assistant_phone=f"139{number:08d}",
                hotline="0883-2150123",
            )
        )
    return made


def decoded(pdf: bytes, cards: list[CardFace], dpi: int) -> int:
    """Render the PDF with poppler and count the card places where zxing-cpp reads exactly that card's URL."""
    import zxingcpp
    from PIL import Image

    scale = dpi / 300
    width, height = CARD_PX
    left, top = (A4_PX[0] - SHEET_COLUMNS * width) // 2, (A4_PX[1] - SHEET_ROWS * height) // 2
    places = [(left + c * width, top + r * height) for r in range(SHEET_ROWS) for c in range(SHEET_COLUMNS)]
    ok = 0
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "cards.pdf").write_bytes(pdf)
        command = ["pdftoppm", "-r", str(dpi), "-gray", "-png", "cards.pdf", "page"]
        subprocess.run(command, cwd=folder, check=True, timeout=1800)
        pages = sorted(Path(folder).glob("page-*.png"))
        for page_number, path in enumerate(pages):
            page = Image.open(path)
            for index, (x, y) in enumerate(places):
                number = page_number * len(places) + index
                if number >= len(cards):
                    break
                cell = page.crop(tuple(round(v * scale) for v in (x, y, x + width, y + height)))
                texts = [code.text for code in zxingcpp.read_barcodes(cell)]
                ok += texts == [cards[number].url]
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=1000)
    parser.add_argument("--dpi", type=int, default=150)
    parser.add_argument("--no-decode", action="store_true", help="skip rendering and decoding (no poppler needed)")
    args = parser.parse_args()
    cards = faces(args.cards)
    card_pdf.sheet_pdf(cards[:1])  # warm: the font's character map, as a running app has it
    start = time.perf_counter()
    pdf = card_pdf.sheet_pdf(cards)
    seconds = time.perf_counter() - start
    report = {
        "cards": args.cards,
        "bytes": len(pdf),
        "bytes_per_card": round(len(pdf) / args.cards),
        "bytes_per_card_goal": GOALS["bytes_per_card"],
        "seconds": round(seconds, 3),
        "ms_per_card": round(seconds * 1000 / args.cards, 2),
        "ms_per_card_goal": GOALS["ms_per_card"],
        "seconds_goal": round(GOALS["seconds_for_1000"] * args.cards / 1000, 2),
    }
    if not args.no_decode and shutil.which("pdftoppm"):
        start = time.perf_counter()
        report["decoded_ok"] = decoded(pdf, cards, args.dpi)
        report["decoded_ok_goal"] = args.cards
        report["decode_dpi"] = args.dpi
        report["decode_seconds"] = round(time.perf_counter() - start, 1)
    report["met"] = (
        report["bytes_per_card"] <= GOALS["bytes_per_card"]
        and report["ms_per_card"] <= GOALS["ms_per_card"]
        and report.get("decoded_ok", args.cards) == args.cards
    )
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
