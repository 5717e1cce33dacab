"""`stockledger org show | set`: the organization's profile that integrations read (name, country, …)."""

from __future__ import annotations

from typing import Annotated

import typer

from stockledger.cli_options import DatabaseOpt, DataDirOpt, OrgOpt
from stockledger.domain.organization import EffectiveProfile, parse_changes
from stockledger.service import settings as org_settings
from stockledger.service.context import Actor
from stockledger.store.db import Database
from stockledger.store.migrate import upgrade

org_app = typer.Typer(
    help="The organization's profile (name, country, currency, language, ...).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

# Option → profile field; the option's own spelling names it in an error.
OPTIONS = {
    "--name": "name",
    "--country": "country",
    "--currency": "currency",
    "--language": "language",
    "--time-zone": "time_zone",
    "--vat-percentage": "vat_percentage",
    "--contact-email": "contact_email",
}


def describe(org: str, profile: EffectiveProfile) -> str:
    return "\n".join(
        [
            f"organization:   {org}",
            f"name:           {profile.name}",
            f"country:        {profile.country}",
            f"currency:       {profile.currency}",
            f"language:       {profile.language}",
            f"time zone:      {profile.time_zone}",
            f"VAT percentage: {profile.vat_percentage}",
            f"contact e-mail: {profile.contact_email or '-'}",
        ]
    )


def _run(
    org: str, database_url: str | None, data_dir: str | None, changes: dict[str, object] | None
) -> org_settings.OrgSettings:
    # The shared helpers live in cli.py, which imports this module: imported when a command runs.
    from stockledger.cli import load_settings, org_uuid, run_on_db

    settings = load_settings(database_url, data_dir)
    actor = Actor(org_uuid(org), "cli")

    async def work() -> org_settings.OrgSettings:
        url = settings.effective_database_url()
        await upgrade(url)
        db = Database(url, pool_size=2)
        try:
            if changes is None:
                return await org_settings.get(db, actor)
            return await org_settings.put(db, actor, profile_changes=changes)
        finally:
            await db.dispose()

    return run_on_db(settings, work())


@org_app.command("show")
def show(org: OrgOpt, database_url: DatabaseOpt = None, data_dir: DataDirOpt = None) -> None:
    """Print the profile, defaults filled in."""
    found = _run(org, database_url, data_dir, None)
    typer.echo(describe(found.org_uuid, found.profile))


@org_app.command("set")
def set_profile(
    org: OrgOpt,
    name: Annotated[str | None, typer.Option("--name", metavar="TEXT")] = None,
    country: Annotated[
        str | None, typer.Option("--country", metavar="CODE", help="ISO 3166-1 alpha-2, e.g. SE")
    ] = None,
    currency: Annotated[
        str | None, typer.Option("--currency", metavar="CODE", help="ISO 4217, e.g. SEK")
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", metavar="CODE", help="ISO 639-1, e.g. sv")
    ] = None,
    time_zone: Annotated[
        str | None, typer.Option("--time-zone", metavar="ZONE", help="IANA, e.g. Europe/Stockholm")
    ] = None,
    vat_percentage: Annotated[
        str | None, typer.Option("--vat-percentage", metavar="PERCENT", help="0 to 100, e.g. 25")
    ] = None,
    contact_email: Annotated[str | None, typer.Option("--contact-email", metavar="EMAIL")] = None,
    database_url: DatabaseOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Change the fields given and keep the others; an empty value ("") returns a field to its default."""
    given = {
        "name": name,
        "country": country,
        "currency": currency,
        "language": language,
        "time_zone": time_zone,
        "vat_percentage": vat_percentage,
        "contact_email": contact_email,
    }
    raw: dict[str, object] = {
        field: (None if value.strip() == "" else value) for field, value in given.items() if value is not None
    }
    if not raw:
        typer.echo("stockledger: give at least one of " + ", ".join(OPTIONS) + ".", err=True)
        raise typer.Exit(2)
    parsed, errors = parse_changes(raw)
    if errors:
        option_of = {field: option for option, field in OPTIONS.items()}
        for field, message in errors.items():
            typer.echo(f"stockledger: {option_of[field]} {message}.", err=True)
        raise typer.Exit(2)
    found = _run(org, database_url, data_dir, parsed)
    typer.echo(describe(found.org_uuid, found.profile))
