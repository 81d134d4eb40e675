"""Files left behind: photos no record names (a crash between writing and committing), roster uploads never
confirmed, and half-written temporaries. Run daily by cron (flask --app app cleanup-files) and once by
`python app.py` when it starts."""

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session

from services.roster.importer import remove_stale_uploads
from services.visits.photos import remove_orphan_files

DEFAULT_AGE = timedelta(hours=24)
KINDS = {"photos": "照片文件", "uploads": "未确认的花名册", "temporaries": "临时文件"}


def folders(config: Mapping, instance_path: str) -> tuple[Path, Path]:
    """Return (photo folder, roster upload folder) as the app uses them: PHOTO_FOLDER, UPLOAD_FOLDER or instance/."""
    photos = config.get("PHOTO_FOLDER") or Path(instance_path) / "photos"
    uploads = config.get("UPLOAD_FOLDER") or Path(instance_path) / "imports"
    return Path(photos), Path(uploads)


def clean_up(
    session: Session, photo_folder: Path, upload_folder: Path, older_than: timedelta = DEFAULT_AGE, now=None
) -> dict:
    """Remove the leftovers older than `older_than` from both folders; return counts and bytes per kind."""
    photos = remove_orphan_files(session, photo_folder, older_than, now)  # the database is asked first
    uploads = remove_stale_uploads(upload_folder, older_than, now)
    result = {"older_than_hours": older_than.total_seconds() / 3600}
    for kind in KINDS:
        found = [part[kind] for part in (photos, uploads) if kind in part]
        result[kind] = {"files": sum(t["files"] for t in found), "bytes": sum(t["bytes"] for t in found)}
    if "skipped" in photos:
        result["photos_skipped"] = photos["skipped"]
    return result


def describe(result: dict) -> str:
    """Return a short Chinese summary of a cleanup for the command line."""
    hours = f"{result['older_than_hours']:g}"
    parts = [f"{label} {result[kind]['files']} 个（{_size(result[kind]['bytes'])}）" for kind, label in KINDS.items()]
    lines = [f"已清理 {hours} 小时以前的：" + "，".join(parts)]
    if "photos_skipped" in result:
        lines.append(result["photos_skipped"])
    return "\n".join(lines)


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:.1f} MB" if count >= 1024 * 1024 else f"{count / 1024:.0f} KB"
