from infragen.cli import entry

entry()
