"""Options several `stockledger` commands share, with the placeholders their help screens show."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperArgument

DatabaseOpt = Annotated[
    str | None, typer.Option("--database-url", metavar="URL", help="overrides STOCKLEDGER_DATABASE_URL")
]
DataDirOpt = Annotated[
    str | None, typer.Option("--data-dir", metavar="DIR", help="overrides STOCKLEDGER_DATA_DIR")
]
OrgOpt = Annotated[str, typer.Option(metavar="UUID", help="organization UUID")]


def _argument_type_shown(self: TyperArgument, ctx: Any) -> str | None:
    """An argument with a placeholder (FILE) shows only it: typer would add the value's Python type
    (`FILE <str>`), which tells an operator nothing."""
    return None if self.metavar else _typer_argument_type(self, ctx)


_typer_argument_type = TyperArgument.display_type_rich
TyperArgument.display_type_rich = _argument_type_shown  # type: ignore[method-assign,assignment]
