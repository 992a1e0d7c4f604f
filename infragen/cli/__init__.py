"""The command line: parse arguments, call the core, print, choose the exit status.

One module per group of verbs; command.py holds what they share (the global options
`-i`, `-o`, `--color`, accepted before or after any subcommand; examples in `--help`;
errors mapped to exit statuses in one place), options.py the global options and the
upward search for the inventory, complete.py the shell completion of the inventory's
names.
"""

from __future__ import annotations

from typing import NoReturn

import click

from infragen import __version__, ending
from infragen.cli.command import Root
from infragen.cli.drift import drift_command
from infragen.cli.hosts import host
from infragen.cli.inventory import graph, import_compose, schema, validate
from infragen.cli.ports import migrate, ports
from infragen.cli.review import check_command, diff, plan_command, render

COMMANDS = (
    render,
    check_command,
    diff,
    plan_command,
    drift_command,
    validate,
    schema,
    graph,
    import_compose,
    ports,
    migrate,
    host,
)


@click.group(
    cls=Root,
    context_settings={"help_option_names": ["-h", "--help"]},
    commands=COMMANDS,
    examples=[
        "infragen render                    # inventory.yaml -> out/",
        "infragen check -i estate/inventory.yaml",
        "infragen diff -o /tmp/out           # against another output folder",
    ],
)
@click.version_option(__version__, prog_name="infragen")
def main() -> None:
    """Render an estate's configs from one inventory.

    Shell completion: eval "$(_INFRAGEN_COMPLETE=bash_source infragen)" (see the README).
    """


def entry() -> NoReturn:
    """The `infragen` command: `main`, ending the process once its output is out
    (ending.py: a large render's heap is not freed object by object first)."""
    ending.console(main)
