"""Save qr-scanner's decoder as a plain worker file, so the CSP needs no blob: workers.

qr-scanner 1.4.2 wraps its decoder in a JS template literal and starts it from a blob: URL, which
`default-src 'self'` forbids. This copies that source out of static/vendor/qr-scanner-worker.min.js
into static/vendor/qr-scanner-worker.classic.js; scripts/vendor.sh runs it, a test checks the two match.
"""

from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "static" / "vendor"
CLASSIC_WORKER = VENDOR / "qr-scanner-worker.classic.js"
HEADER = (
    "// qr-scanner 1.4.2 (MIT, github.com/nimiq/qr-scanner): the decoder its qr-scanner-worker.min.js puts in a\n"
    "// blob: worker, saved as a plain worker file so the CSP needs no blob: workers. Made from that file by\n"
    "// scripts/classic_worker.py (run by scripts/vendor.sh); a test checks the two still match.\n"
)


def classic_worker_source() -> str:
    """Return the worker source qr-scanner's module wraps in a blob: URL (a JS template literal, unescaped)."""
    module = (VENDOR / "qr-scanner-worker.min.js").read_text()
    opening = "new Blob([`"
    body = module[module.index(opening) + len(opening) : module.rindex("`]")]
    body = body.replace("\\`", "`").replace("\\$", "$")
    if "\\" in body:
        raise ValueError("the template literal has escapes this unescaping does not know")
    return HEADER + body + "\n"


if __name__ == "__main__":
    CLASSIC_WORKER.write_text(classic_worker_source())
    print("wrote", CLASSIC_WORKER)
