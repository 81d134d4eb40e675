"""Household service cards: tokens, the scan URL, reissue, delivery, scans and print batches."""

import secrets
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models import Area, Card, CardScan, Household, Person, PrintBatch, PrintBatchItem, User, utcnow
from services import audit
from services.audit import Actor
from services.errors import Conflict, Invalid
from services.registry.areas import hotline_for
from services.scope import is_in_scope, where_in_scope

TOKEN_BYTES = 32  # 256 random bits; URL-safe base64 makes 43 characters
PRINT_FORMATS = {"pdf": "PDF", "html": "浏览器打印"}


def new_token() -> str:
    """Return a fresh random card token (never derived from an ID number or a database id)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def scan_url(base_url: str, token: str) -> str:
    """Return the absolute URL a card's QR code carries."""
    return f"{base_url.rstrip('/')}/h/{token}"


def mask_name(name: str | None) -> str:
    """Hide the middle of a name for a card anyone may see: 张*明, 李*."""
    if not name:
        return ""
    if len(name) <= 2:  # a one-character name must not come out whole, let alone doubled
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def issue_card(session: Session, household: Household) -> Card:
    """Give a household its first card."""
    card = Card(household_id=household.id, token=new_token())
    session.add(card)
    return card


def issue_cards_bulk(session: Session, household_ids: list[int]) -> None:
    """Give many new households their cards in one statement (imports and demo data)."""
    if household_ids:
        now = utcnow()
        rows = [{"household_id": i, "token": new_token(), "issued_at": now} for i in household_ids]
        session.execute(insert(Card), rows)


def live_card(session: Session, household_id: int) -> Card | None:
    """Return the household's card that works now (None only for data made before cards existed)."""
    query = select(Card).where(Card.household_id == household_id, Card.revoked_at.is_(None))
    return session.exec(query).first()


def card_by_token(session: Session, token: str) -> Card | None:
    """Return the card with this token, live or revoked."""
    if not token or len(token) > 64:
        return None
    return session.exec(select(Card).where(Card.token == token)).first()


def reissue(session: Session, actor: Actor, household: Household) -> Card:
    """Revoke the household's card and issue a new one; the old QR stops working at once."""
    old = live_card(session, household.id)
    card = Card(household_id=household.id, token=new_token())
    try:
        with session.begin_nested():  # a clash undoes the revocation too, and nothing else of the caller's
            if old is not None:
                old.revoked_at = utcnow()
                session.add(old)
                session.flush()  # the one-live-card index must see the old card revoked first
            session.add(card)
    except IntegrityError:  # another officer reissued this card at the same moment
        raise Conflict("这张卡刚刚已被别人补办，请刷新页面查看") from None
    audit.record(session, actor, "card.reissued", household, old_card=old.id if old else None, new_card=card.id)
    return card


def confirm_delivery(session: Session, actor: Actor, household: Household) -> Card:
    """Record that the household now holds its live card."""
    card = live_card(session, household.id)
    if card is None:
        raise Invalid("这户还没有服务卡")
    if card.delivered_at is None:
        card.delivered_at = utcnow()
        card.delivered_by_id = actor.user.id
        session.add(card)
        audit.record(session, actor, "card.delivered", household, card=card.id)
    return card


def record_scan(session: Session, actor: Actor, card: Card, household: Household) -> CardScan:
    """Note that signed-in staff scanned a card (in scope or not, live or revoked)."""
    scan = CardScan(
        card_id=card.id,
        household_id=household.id,
        user_id=actor.user.id,
        in_scope=is_in_scope(actor.user, household.area_code),
        card_revoked=card.revoked_at is not None,
        ip=actor.ip,
    )
    session.add(scan)
    return scan


def undelivered(query):
    """Narrow a household select() to those whose live card has not reached them."""
    no_card = ~select(Card.id).where(Card.household_id == Household.id, Card.revoked_at.is_(None)).exists()
    undelivered_card = (
        select(Card.id)
        .where(Card.household_id == Household.id, Card.revoked_at.is_(None), Card.delivered_at.is_(None))
        .exists()
    )
    return query.where(no_card | undelivered_card)


@dataclass
class CardFace:
    """What one printed card shows."""

    url: str
    household_no: str
    village: str
    township: str
    head: str  # masked
    assistant: str
    assistant_phone: str
    hotline: str


def card_faces(session: Session, households: list[Household], base_url: str) -> list[tuple[Household, Card, CardFace]]:
    """Return each household with its live card and face, fetching heads, areas and assistants in bulk.

    Reading only: a household without a live card (none should be: every one is given one when registered,
    and a reissue swaps them in one transaction) is left out rather than given one here.
    """
    ids = [h.id for h in households]
    if not ids:
        return []
    cards = {
        c.household_id: c
        for c in session.exec(select(Card).where(Card.household_id.in_(ids), Card.revoked_at.is_(None)))
    }
    heads = dict(
        session.exec(select(Person.household_id, Person.name).where(Person.household_id.in_(ids), Person.is_head)).all()
    )
    codes = {h.area_code for h in households}
    townships = {c[:9] + "000" for c in codes}
    names = dict(session.exec(select(Area.code, Area.name).where(Area.code.in_(codes | townships))).all())
    hotlines = {code: hotline_for(session, code) for code in codes}
    assistant_ids = {h.assistant_id for h in households if h.assistant_id}
    # a disabled account has left the job: residents must not be sent to call them
    active = select(User).where(User.id.in_(assistant_ids), User.active)
    assistants = {u.id: u for u in session.exec(active)} if assistant_ids else {}
    faces = []
    for household in households:
        card = cards.get(household.id)
        if card is None:
            continue
        assistant = assistants.get(household.assistant_id)
        faces.append(
            (
                household,
                card,
                CardFace(
                    url=scan_url(base_url, card.token),
                    household_no=household.household_no,
                    village=names.get(household.area_code, ""),
                    township=names.get(household.area_code[:9] + "000", ""),
                    head=mask_name(heads.get(household.id)),
                    assistant=assistant.display_name if assistant else "",
                    assistant_phone=(assistant.phone or "") if assistant else "",
                    hotline=hotlines.get(household.area_code) or "",
                ),
            )
        )
    return faces


def record_print(session: Session, actor: Actor, area_code: str, printed, fmt: str) -> PrintBatch:
    """Record a print batch and mark its cards printed."""
    batch = PrintBatch(user_id=actor.user.id, area_code=area_code, format=fmt, household_count=len(printed))
    session.add(batch)
    session.flush()
    now = utcnow()
    rows = []
    for household, card, _face in printed:
        card.printed_at = now
        session.add(card)
        rows.append({"batch_id": batch.id, "card_id": card.id, "household_id": household.id})
    if rows:
        session.execute(insert(PrintBatchItem), rows)
    audit.record(session, actor, "cards.printed", batch, area_code=area_code, households=len(rows), format=fmt)
    return batch


def households_to_print(user: User, area_code: str, only_undelivered: bool = False):
    """Return a select() of the active households of an area in scope, in household-number order."""
    prefix = area_code if area_code[9:] != "000" else area_code[:9]
    low, high = prefix.ljust(12, "0"), prefix.ljust(12, "9")
    query = (
        select(Household)
        .where(where_in_scope(user, Household.area_code), Household.area_code >= low, Household.area_code <= high)
        .where(Household.status == "active")
        .order_by(Household.area_code, Household.household_no)
    )
    return undelivered(query) if only_undelivered else query


def recent_batches(user: User, limit: int = 20):
    """Return a select() of the latest print batches for areas in the user's scope."""
    return (
        select(PrintBatch).where(where_in_scope(user, PrintBatch.area_code)).order_by(PrintBatch.id.desc()).limit(limit)
    )
