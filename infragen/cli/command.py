"""What every infragen command shares: the global options, examples in `--help`, and the
one place where errors become exit statuses.

Exit status: 0 fine, 1 `out/` differs from the inventory (or a conflict blocks a write,
drift was found, a port is taken), 2 invalid input or usage, 3 `out/` could not be
written (it is left as it was).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import Any, NoReturn

import click

from infragen.cli.options import GlobalOption, global_options
from infragen.errors import InfragenError, InvalidInput

GLOBAL_SECTION = "Global options (before or after any command)"


class Status(IntEnum):
    FINE = 0
    DIFFERS = 1
    INVALID = 2
    UNWRITABLE = 3


def finish(status: Status) -> NoReturn:
    """End the command with this exit status."""
    raise click.exceptions.Exit(int(status))


def report(findings: list[Any]) -> None:
    """Findings on stderr, one `file:line:col: severity: message` line each."""
    from infragen.findings import format_text

    text = format_text(findings)
    if text:
        click.echo(text, nl=False, err=True)


class _Shared:
    """Adds the global options and an "Examples" section to a click command or group."""

    def __init__(self, *args: Any, examples: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.examples = tuple(examples)
        self.params.extend(global_options())  # type: ignore[attr-defined]

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        own, shared = [], []
        for param in self.get_params(ctx):  # type: ignore[attr-defined]
            record = param.get_help_record(ctx)
            if record is not None and not isinstance(param, click.Argument):
                (shared if isinstance(param, GlobalOption) else own).append(record)
        if own:
            with formatter.section("Options"):
                formatter.write_dl(own)
        if isinstance(self, click.Group):
            self.format_commands(ctx, formatter)
        with formatter.section(GLOBAL_SECTION):
            formatter.write_dl(shared)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Examples verbatim: a command line must not be re-wrapped."""
        if self.examples:
            with formatter.section("Examples"):
                for line in self.examples:
                    formatter.write(f"{'':>{formatter.current_indent}}{line}\n")


class Command(_Shared, click.Command):
    """An infragen command."""


class Group(_Shared, click.Group):
    """An infragen group: its subcommands are infragen commands and groups too."""

    command_class = Command
    group_class = type


class Root(Group):
    """`infragen` itself: the core's errors become messages and exit statuses here."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InvalidInput as exc:
            report(exc.findings)
            finish(Status(exc.exit_code))
        except InfragenError as exc:
            click.echo(f"infragen: error: {exc}", err=True)
            finish(Status(exc.exit_code))


def command(name: str | None = None, **attrs: Any) -> Any:
    """`click.command` for an infragen command."""
    return click.command(name, cls=Command, **attrs)


def group(name: str | None = None, **attrs: Any) -> Any:
    """`click.group` for an infragen group."""
    return click.group(name, cls=Group, **attrs)
