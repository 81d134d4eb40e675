"""Accounts: sign-in, passwords, and who may manage whom."""

import secrets

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash

from models import Area, User, utcnow
from services import audit
from services.accounts.sessions import end_sessions
from services.audit import Actor
from services.errors import Invalid, NotFound
from services.inputs import name_problem
from services.permissions import ROLES, assignable_roles, can, outranks
from services.scope import LEVEL_OF_ROLE, area_level, is_in_scope, where_in_scope

MIN_PASSWORD_LENGTH = 8
WEAK_PASSWORDS = ("12345678", "password", "doudi-demo")
TEMPORARY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: read out over the phone


def hash_password(password: str) -> str:
    """Hash a password with scrypt."""
    return generate_password_hash(password, method="scrypt")


def authenticate(session: Session, username: str, password: str) -> User | None:
    """Return the active user with these credentials, or None."""
    user = session.exec(select(User).where(User.username == username.strip())).first()
    if user is None:
        check_password_hash(DUMMY_HASH, password)  # same work either way: no user enumeration by timing
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    return user


DUMMY_HASH = hash_password(secrets.token_hex(8))


def check_new_password(password: str, confirm: str, username: str) -> None:
    """Refuse passwords that are short, mismatched or equal to the username."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"新密码至少 {MIN_PASSWORD_LENGTH} 位")
    if password != confirm:
        raise Invalid("两次输入的新密码不一致")
    if password == username or password in WEAK_PASSWORDS:
        raise Invalid("这个密码太容易被猜到，请换一个")


def change_password(session: Session, actor: Actor, user: User, current: str, new: str, confirm: str) -> None:
    """Change one's own password after checking the current one; every session signed in before ends.

    The view keeps its own session signed in with sessions.keep_version().
    """
    if not check_password_hash(user.password_hash, current):
        raise Invalid("当前密码不对")
    check_new_password(new, confirm, user.username)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    end_sessions(session, user)
    audit.record(session, actor, "user.password_changed", user)


def users_in_scope(manager: User):
    """Return a select() of the accounts whose area lies in the manager's scope."""
    return select(User).where(where_in_scope(manager, User.area_code)).order_by(User.area_code, User.username)


def search_users(manager: User, *, q: str = "", role: str = ""):
    """Return a select() of the accounts in scope the manager may manage, matching name or username."""
    query = users_in_scope(manager).where(User.role.in_(assignable_roles(manager)))
    if role in ROLES:
        query = query.where(User.role == role)
    text = q.strip()
    if text:
        query = query.where(
            or_(User.display_name.contains(text, autoescape=True), User.username.contains(text, autoescape=True))
        )
    return query


def get_user_for(session: Session, manager: User, user_id: int) -> User:
    """Return a user the manager may manage, or raise 404."""
    user = session.get(User, user_id)
    if user is None or not can(manager, "users.manage") or not is_in_scope(manager, user.area_code):
        raise NotFound()
    if outranks(user, manager):
        raise NotFound()
    return user


def check_role_and_area(session: Session, manager: User, role: str, area_code: str) -> Area:
    """Check that the manager may give this role in this area, and that they fit together."""
    if role not in assignable_roles(manager):
        raise Invalid({"role": "您不能创建这个角色的账号"})
    area = session.get(Area, area_code) if area_code else None
    if area is None or not is_in_scope(manager, area_code):
        raise Invalid({"area_code": "所选地区不在您的辖区内"})
    check_role_fits_area(role, area_code)
    return area


def check_role_fits_area(role: str, area_code: str) -> None:
    """Check that a role sits at its own level: assistants in villages, county officers in counties …"""
    if role not in ROLES:
        raise Invalid({"role": "请选择角色"})
    if area_level(area_code) != LEVEL_OF_ROLE[role]:
        raise Invalid({"area_code": f"{ROLES[role]}应设在{_level_word(LEVEL_OF_ROLE[role])}一级"})


def _level_word(level: int) -> str:
    return {1: "市", 2: "县（区）", 3: "乡镇（街道）", 4: "村（社区）"}[level]


def create_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    display_name: str,
    role: str,
    area_code: str,
    phone: str | None,
    password: str,
) -> User:
    """Create an account in the manager's scope; it must change its password at first login."""
    username = username.strip()
    errors = new_user_errors(
        session,
        actor.user,
        username=username,
        display_name=display_name,
        role=role,
        area_code=area_code,
        password=password,
    )
    if errors:
        raise Invalid(errors)
    user = User(
        username=username,
        display_name=display_name.strip(),
        role=role,
        area_code=area_code,
        phone=(phone or "").strip() or None,
        password_hash=hash_password(password),
        must_change_password=True,
    )
    try:
        with session.begin_nested():  # undoes only this insert, never the caller's other work
            session.add(user)
    except IntegrityError:  # two managers picked the same username at the same moment
        raise Invalid({"username": "这个用户名已被使用"}) from None
    audit.record(session, actor, "user.created", user, role=role, area_code=area_code)
    return user


def new_user_errors(
    session: Session,
    manager: User | None,
    *,
    username: str,
    display_name: str,
    role: str,
    area_code: str,
    password: str,
) -> dict[str, str]:
    """Return {field: message} for everything wrong with a new account, so a form shows it all at once."""
    errors = {}
    if not username or len(username) > 64 or not username.replace("-", "").replace("_", "").isalnum():
        errors["username"] = "用户名只能用字母、数字、“-”和“_”"
    elif session.exec(select(User.id).where(User.username == username)).first() is not None:
        errors["username"] = "这个用户名已被使用"
    name_problem_text = name_problem(display_name.strip())
    if name_problem_text:
        errors["display_name"] = name_problem_text
    try:
        if manager is not None:
            check_role_and_area(session, manager, role, area_code)
        else:  # the command line may create anywhere, but the level rule still holds
            check_role_fits_area(role, area_code)
    except Invalid as problem:
        errors.update(problem.errors)
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = f"初始密码至少 {MIN_PASSWORD_LENGTH} 位"
    elif password == username or password in WEAK_PASSWORDS:
        errors["password"] = "这个密码太容易被猜到，请换一个"
    return errors


def temporary_password() -> str:
    """Return a random 10-character password that is easy to read out over the phone."""
    return "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(10))


def set_active(session: Session, actor: Actor, user: User, active: bool) -> None:
    """Activate or deactivate an account (never one's own); deactivating ends its sessions."""
    if actor.user is not None and user.id == actor.user.id:
        raise Invalid("不能停用自己的账号")
    user.active = active
    session.add(user)
    if not active:
        end_sessions(session, user)
    audit.record(session, actor, "user.activated" if active else "user.deactivated", user)


def reset_password(session: Session, actor: Actor, user: User) -> str:
    """Give the account a temporary password it must change at next login, and end its sessions; return it."""
    if actor.user is not None and user.id == actor.user.id:
        raise Invalid("自己的密码请在“我的 — 修改密码”里修改")
    temporary = temporary_password()
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    end_sessions(session, user)
    audit.record(session, actor, "user.password_reset", user)
    return temporary


def record_login(session: Session, actor: Actor, user: User) -> None:
    """Note a successful sign-in."""
    user.last_login_at = utcnow()
    session.add(user)
    audit.record(session, Actor(user, actor.ip), "login.success", user)


def record_failed_login(session: Session, actor: Actor, username: str, reason: str) -> None:
    """Note a failed sign-in (the username as typed, never the password)."""
    audit.record(session, actor, "login.failure", None, username=username[:64], reason=reason)


def record_blocked_login(session: Session, actor: Actor, username: str, limit: str) -> None:
    """Note a sign-in refused by the rate limit before the password was looked at (never the password)."""
    audit.record(session, actor, "login.blocked", None, username=username[:64], limit=limit)


def sign_out_everywhere(session: Session, actor: Actor, user: User) -> None:
    """End every session of the user, the one signing out and any copy of its cookie alike."""
    end_sessions(session, user)
    audit.record(session, actor, "logout", user)
