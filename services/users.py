"""Accounts: sign-in, passwords, and who may manage whom."""

import secrets

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from werkzeug.exceptions import NotFound
from werkzeug.security import check_password_hash, generate_password_hash

from models import Area, User, utcnow
from services import audit
from services.audit import Actor
from services.scope import LEVEL_OF_ROLE, area_level, is_in_scope, where_in_scope

ROLES = {
    "assistant": "村协理员",
    "township": "乡镇经办员",
    "county": "县（区）民政局",
    "city": "市民政局",
    "admin": "系统管理员",
}
ROLE_RANK = {"assistant": 1, "township": 2, "county": 3, "city": 4, "admin": 5}
MANAGER_ROLES = ("county", "city", "admin")
MIN_PASSWORD_LENGTH = 8


class UserError(ValueError):
    """A user-management request that cannot be carried out; str() is for the clerk."""


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
        raise UserError(f"新密码至少 {MIN_PASSWORD_LENGTH} 位")
    if password != confirm:
        raise UserError("两次输入的新密码不一致")
    if password == username or password in ("12345678", "password", "doudi-demo"):
        raise UserError("这个密码太容易被猜到，请换一个")


def change_password(session: Session, actor: Actor, user: User, current: str, new: str, confirm: str) -> None:
    """Change one's own password after checking the current one."""
    if not check_password_hash(user.password_hash, current):
        raise UserError("当前密码不对")
    check_new_password(new, confirm, user.username)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    session.add(user)
    audit.record(session, actor, "user.password_changed", user)


def can_manage_users(user: User) -> bool:
    """Tell whether this user may open user management at all."""
    return user.role in MANAGER_ROLES


def assignable_roles(manager: User) -> list[str]:
    """Return the roles a manager may give: never above their own."""
    if not can_manage_users(manager):
        return []
    return [role for role, rank in ROLE_RANK.items() if rank <= ROLE_RANK[manager.role]]


def users_in_scope(manager: User):
    """Return a select() of the accounts whose area lies in the manager's scope."""
    return select(User).where(where_in_scope(manager, User.area_code)).order_by(User.area_code, User.username)


def get_user_for(session: Session, manager: User, user_id: int) -> User:
    """Return a user the manager may manage, or raise 404."""
    user = session.get(User, user_id)
    if user is None or not can_manage_users(manager) or not is_in_scope(manager, user.area_code):
        raise NotFound()
    if ROLE_RANK[user.role] > ROLE_RANK[manager.role]:
        raise NotFound()
    return user


def check_role_and_area(session: Session, manager: User, role: str, area_code: str) -> Area:
    """Check that the manager may give this role in this area, and that they fit together."""
    if role not in assignable_roles(manager):
        raise UserError("您不能创建这个角色的账号")
    area = session.get(Area, area_code)
    if area is None or not is_in_scope(manager, area_code):
        raise UserError("所选地区不在您的辖区内")
    if area_level(area_code) != LEVEL_OF_ROLE[role]:
        raise UserError(f"{ROLES[role]}应设在{_level_word(LEVEL_OF_ROLE[role])}一级")
    return area


def _level_word(level: int) -> str:
    return {1: "市", 2: "县（区）", 3: "乡镇（街道）", 4: "村（社区）"}[level]


def create_user(session: Session, actor: Actor, *, username: str, display_name: str, role: str,
                area_code: str, phone: str | None, password: str) -> User:
    """Create an account in the manager's scope; it must change its password at first login."""
    username = username.strip()
    if not username or len(username) > 64 or not username.replace("-", "").replace("_", "").isalnum():
        raise UserError("用户名只能用字母、数字、“-”和“_”")
    if not display_name.strip():
        raise UserError("请填写姓名")
    if actor.user is not None:
        check_role_and_area(session, actor.user, role, area_code)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"初始密码至少 {MIN_PASSWORD_LENGTH} 位")
    if session.exec(select(User.id).where(User.username == username)).first() is not None:
        raise UserError("这个用户名已被使用")
    user = User(username=username, display_name=display_name.strip(), role=role, area_code=area_code,
                phone=(phone or "").strip() or None, password_hash=hash_password(password),
                must_change_password=True)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # two managers picked the same username at the same moment
        session.rollback()
        raise UserError("这个用户名已被使用") from None
    audit.record(session, actor, "user.created", user, role=role, area_code=area_code)
    return user


def set_active(session: Session, actor: Actor, user: User, active: bool) -> None:
    """Activate or deactivate an account (never one's own)."""
    if actor.user is not None and user.id == actor.user.id:
        raise UserError("不能停用自己的账号")
    user.active = active
    session.add(user)
    audit.record(session, actor, "user.activated" if active else "user.deactivated", user)


def reset_password(session: Session, actor: Actor, user: User) -> str:
    """Give the account a temporary password it must change at next login; return it."""
    temporary = "".join(secrets.choice("23456789abcdefghjkmnpqrstuvwxyz") for _ in range(10))
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    session.add(user)
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
