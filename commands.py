"""Command-line tools: flask --app app <command>."""

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session

import db
from services.accounts import users
from services.audit import Actor
from services.errors import Conflict, Invalid
from services.permissions import ROLES
from services.registry import areas

CLI = Actor(user=None, ip="cli")


def register_commands(app) -> None:
    """Attach the commands to the app's CLI."""
    commands = (init_db, import_areas_command, create_user_command, seed_demo_command, import_households_command)
    for command in (
        *commands,
        import_payouts_command,
        import_signals_command,
        run_alerts_command,
        cleanup_files_command,
    ):
        if not getattr(command.callback, "__wrapped_in_app_context__", False):
            command.callback = with_appcontext(command.callback)
            command.callback.__wrapped_in_app_context__ = True
        app.cli.add_command(command)


def cli_session() -> Session:
    """Open a Session on the current app's engine for a command."""
    return Session(db.get_engine(), expire_on_commit=False)


def migrate_and_load_areas() -> None:
    """Bring the schema up to date and load the Lincang area tree if it is missing."""
    db.upgrade(db.get_engine())
    with cli_session() as session:
        if areas.count_areas(session) == 0:
            areas.load_lincang(session)
            session.commit()


@click.command("init-db")
def init_db():
    """Create or upgrade the schema and load the Lincang areas."""
    migrate_and_load_areas()
    click.echo("数据库已就绪")


@click.command("import-areas")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_areas_command(path):
    """Load an official area code list (CSV: code, name, parent code)."""
    db.upgrade(db.get_engine())
    with cli_session() as session:
        try:
            created, updated = areas.import_areas(session, areas.read_area_csv(path))
        except Invalid as error:
            raise click.ClickException(str(error)) from None
        session.commit()
    click.echo(f"新增 {created} 个区划，更新 {updated} 个名称")


@click.command("create-user")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(list(ROLES)))
@click.option("--area", "area_code", required=True, help="12 位区划代码")
@click.option("--password", required=True)
@click.option("--name", "display_name", default=None, help="显示的姓名（默认同用户名）")
@click.option("--phone", default=None)
def create_user_command(username, role, area_code, password, display_name, phone):
    """Create an account (it must change its password at first login)."""
    migrate_and_load_areas()
    with cli_session() as session:
        if areas.get_area(session, area_code) is None:
            raise click.ClickException(f"区划代码 {area_code} 不存在")
        try:
            user = users.create_user(
                session,
                CLI,
                username=username,
                display_name=display_name or username,
                role=role,
                area_code=area_code,
                phone=phone,
                password=password,
            )
        except Invalid as error:
            raise click.ClickException(str(error)) from None
        session.commit()
        click.echo(f"已创建账号 {user.username}（{ROLES[role]}）")


@click.command("seed-demo")
@click.option("--households", default=200, show_default=True, help="how many households to make")
@click.option("--seed", default=1, show_default=True, help="same seed, same data")
@click.option("--password", default="doudi-demo", show_default=True, help="password of the demo accounts")
@click.option(
    "--visits",
    default=0,
    show_default=True,
    help="instead of the campaign's own survey visits, add this many over all active households (a third surveys)",
)
@click.option("--campaign/--no-campaign", default=True, help="the demo campaign under way, two thirds surveyed")
def seed_demo_command(households, seed, password, visits, campaign):
    """Create deterministic synthetic households, the demo accounts, and the demo at work."""
    from services.demo import seed as demo  # imported here: only the demo commands need them

    migrate_and_load_areas()
    with cli_session() as session:
        try:
            seed_demo_data(
                session, households=households, seed=seed, password=password, visits=visits, campaign=campaign
            )
        except Invalid as error:
            raise click.ClickException(str(error)) from None
        click.echo("演示账号：\n" + "\n".join(demo.login_lines(session, password)))


def seed_demo_data(session: Session, *, households: int, seed: int, password: str, visits=0, campaign=True) -> None:
    """Seed the households, the campaign's visits and the demo scene (relief, photos, reserves, report); say what."""
    from blueprints import photo_folder
    from services.demo import scene
    from services.demo import seed as demo
    from services.demo import visits as demo_visits

    result = demo.seed_demo(session, CLI, households=households, seed=seed, password=password)
    made = f"已生成 {result.households} 户、{result.persons} 人的演示数据"
    click.echo(f"{made}（种子 {seed}，用时 {result.seconds:.1f} 秒）")
    survey = demo_visits.ensure_campaign(session, CLI) if campaign else None
    if visits:
        done = demo_visits.seed_visits(session, CLI, visits=visits, seed=seed, campaign=survey)
        where = f"，其中「{survey.name}」排查回访 {done.survey_visits} 次" if survey else ""
        click.echo(f"已生成 {done.visits} 次走访{where}（用时 {done.seconds:.1f} 秒）")
    since = None if visits else result.first_household_id  # --visits brings its own survey visits
    shown = scene.seed_scene(session, CLI, seed=seed, campaign=survey, folder=photo_folder(), survey_since=since)
    for line in scene.describe(shown, result.households):
        click.echo(line)


@click.command("import-households")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="print a machine-readable summary")
@click.option("--county", "county_code", default=None, help="only villages of this county (12-digit code)")
@click.option("--dry-run", is_flag=True, help="check and report, write nothing")
def import_households_command(path, as_json, county_code, dry_run):
    """Import a county roster (.xlsx or .csv)."""
    import json
    from pathlib import Path

    from services.roster import importer as roster  # imported here: only this command needs it

    migrate_and_load_areas()
    file = Path(path)
    with cli_session() as session:
        try:
            preview = roster.check_file(session, roster.cli_scope(session, county_code), file, file.name)
            created = (0, 0) if dry_run else roster.apply(session, CLI, preview)
        except (Invalid, Conflict) as error:
            raise click.ClickException(str(error)) from None
        if not dry_run:
            session.commit()
    result = roster.summary(preview, *created, dry_run=dry_run)
    click.echo(json.dumps(result, ensure_ascii=False) if as_json else roster.describe(result))


@click.command("import-payouts")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--area", "county_code", required=True, help="the county's 12-digit code")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object: counts, problems, errors")
def import_payouts_command(path, county_code, as_json):
    """Import a bank result file (一卡通 .xlsx or .csv) for a county and reconcile it with the registry."""
    import json
    from pathlib import Path

    from services.payouts import reconcile  # imported here: only this command needs it
    from services.scope import area_level

    migrate_and_load_areas()
    file = Path(path)
    with cli_session() as session:
        area = areas.get_area(session, county_code) if areas.is_area_code(county_code) else None
        if area is None or area_level(county_code) != 2:
            raise click.ClickException(f"{county_code} 不是县（区）的区划代码")
        try:
            outcome = reconcile.import_file(session, CLI, county_code, file, file.name)
        except Invalid as error:
            if as_json:
                click.echo(json.dumps({"errors": [{"row": None, "reason": error.message}]}, ensure_ascii=False))
            raise click.ClickException(error.message) from None
        if outcome.errors:  # nothing was written: say which rows, and stop with a failure
            if as_json:
                click.echo(json.dumps(outcome.as_dict(), ensure_ascii=False))
            first = outcome.errors[0]["reason"]
            raise click.ClickException(f"结果文件有 {len(outcome.errors)} 行读不了，没有导入（{first}）")
        if not outcome.again:
            from services.alerts import engine  # imported here: only this command needs it

            engine.run_cheap(session, CLI, "payouts.import")
        session.commit()
    if as_json:
        click.echo(json.dumps(outcome.as_dict(), ensure_ascii=False))
    else:
        counts = "，".join(f"{reconcile.KIND_LABELS[k]} {len(v)}" for k, v in outcome.problems.items())
        click.echo(f"读了 {outcome.rows} 行，已发放 {outcome.paid} 笔，新记入 {outcome.created} 笔；{counts}")


@click.command("import-signals")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--kind", required=True, type=click.Choice(["medical", "disability", "death", "unemployment"]),
              help="medical 医保 | disability 残联 | death 卫健/公安 | unemployment 人社")  # fmt: skip
@click.option("--area", "county_code", required=True, help="the county's 12-digit code")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object: counts and the rows left out")
def import_signals_command(path, kind, county_code, as_json):
    """Import a department's list for a county: match people by ID number, raise alerts, find candidates."""
    import json
    from pathlib import Path

    from services.scope import area_level
    from services.signals import importing  # imported here: only this command needs it

    migrate_and_load_areas()
    file = Path(path)
    with cli_session() as session:
        area = areas.get_area(session, county_code) if areas.is_area_code(county_code) else None
        if area is None or area_level(county_code) != 2:
            raise click.ClickException(f"{county_code} 不是县（区）的区划代码")
        try:
            outcome = importing.import_file(session, CLI, kind, county_code, file, file.name)
        except Invalid as error:
            if as_json:
                click.echo(json.dumps({"errors": [{"row": None, "reason": error.message}]}, ensure_ascii=False))
            raise click.ClickException(error.message) from None
        session.commit()
    if as_json:
        click.echo(json.dumps(outcome.as_dict(), ensure_ascii=False))
        return
    click.echo(
        f"读了 {outcome.rows} 行，新记入 {outcome.created} 条（以前导入过 {outcome.already} 条）；"
        f"在册 {outcome.matched} 人，新增预警 {outcome.alerts} 条，待核实对象 {outcome.candidates} 人，"
        f"其他县（区）登记 {outcome.elsewhere} 人"
    )
    for error in outcome.errors:
        click.echo(error["reason"], err=True)


@click.command("run-alerts")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object: raised and already open per rule")
def run_alerts_command(as_json):
    """Run the 主动发现 rules over the whole city: raise new alerts and move overdue ones up (cron runs it daily)."""
    import json

    from services.alerts import engine  # imported here: only this command needs it
    from services.alerts.rules import RULES

    migrate_and_load_areas()
    with cli_session() as session:
        result = engine.run(session, CLI)
        session.commit()
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    for code, raised in result.raised.items():
        rule = RULES[code]
        click.echo(f"{rule.label}（{code}）：新预警 {raised}，已有未办结 {result.already_open[code]}")
    click.echo(f"逾期上报 {result.escalated_total} 条，用时 {result.seconds:.1f} 秒")


@click.command("cleanup-files")
@click.option(
    "--older-than-hours", default=24, show_default=True, type=click.IntRange(min=1), help="keep younger files"
)
@click.option("--json", "as_json", is_flag=True, help="print a machine-readable summary")
def cleanup_files_command(older_than_hours, as_json):
    """Remove photo files no record uses, roster uploads never confirmed, and half-written temporaries."""
    import json
    from datetime import timedelta

    from sqlalchemy.exc import DBAPIError

    from services import cleanup  # imported here: only this command and the demo server need it

    photo_folder, upload_folder = cleanup.folders(current_app.config, current_app.instance_path)
    with cli_session() as session:  # not migrated here: a database without tables must stop the command
        try:
            result = cleanup.clean_up(session, photo_folder, upload_folder, timedelta(hours=older_than_hours))
        except DBAPIError as error:
            message = "数据库不可用或还没有建好（先运行 flask --app app init-db）：什么文件都没有删除"
            raise click.ClickException(message) from error
    click.echo(json.dumps(result, ensure_ascii=False) if as_json else cleanup.describe(result))


def clean_up_at_startup(app) -> None:
    """Remove leftovers once as the demo server starts; never in tests, and a failure is only logged."""
    if app.config.get("TESTING"):
        return
    from services import cleanup

    try:
        with cli_session() as session:
            result = cleanup.clean_up(session, *cleanup.folders(app.config, app.instance_path))
    except Exception:  # a leftover file must never keep the server from starting
        current_app.logger.warning("cleanup at startup failed", exc_info=True)
        return
    if any(result[kind]["files"] for kind in cleanup.KINDS) or "photos_skipped" in result:
        click.echo(cleanup.describe(result))


def prepare_demo_database(app) -> None:
    """On an empty database: create the schema, the areas and the demo at work; print the logins."""
    import config
    from services.demo import seed as demo

    migrate_and_load_areas()
    current_app.logger.info("database ready at %s", app.config["DATABASE_URL"].split("@")[-1])
    with cli_session() as session:
        if demo.count_households(session) == 0:
            click.echo("空数据库：正在生成演示数据")
            seed_demo_data(session, households=300, seed=1, password=demo.DEMO_PASSWORD)
            click.echo("演示账号：\n" + "\n".join(demo.login_lines(session)))
    click.echo(f"请用浏览器打开 http://127.0.0.1:{config.env_int('PORT', 5000)}")
