"""Cut Noto Sans CJK SC (Debian's fonts-noto-cjk, SIL OFL 1.1) down to what cards need.

Keeps ASCII, CJK punctuation, full-width forms and every CJK Unified Ideograph (U+4E00–U+9FFF),
so any name in a roster renders. Run when the font needs refreshing (needs `pip install fonttools`
and `apt-get install fonts-noto-cjk`); the output is committed, so the app needs neither.
"""

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

SOURCE = Path("/usr/share/fonts/opentype/noto")
OUT = Path(__file__).resolve().parent.parent / "data" / "fonts"
RANGES = [(0x20, 0x7E), (0xA0, 0xFF), (0x2000, 0x206F), (0x3000, 0x303F), (0xFF00, 0xFFEF), (0x4E00, 0x9FFF)]


def cut(weight: str) -> Path:
    """Write NotoSansSC-<weight>-subset.otf from the collection's Simplified Chinese face."""
    collection = TTCollection(str(SOURCE / f"NotoSansCJK-{weight}.ttc"))
    font = next(f for f in collection.fonts if "SC" in f["name"].getDebugName(1))
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[c for low, high in RANGES for c in range(low, high + 1)])
    subsetter.subset(font)
    target = OUT / f"NotoSansSC-{weight}-subset.otf"
    font.save(str(target))
    return target


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for weight in sys.argv[1:] or ["Regular", "Bold"]:
        path = cut(weight)
        print(path, path.stat().st_size // 1024, "KB")
