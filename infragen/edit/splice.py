"""Edit inventory text in place, so `git diff` shows only what changed.

A YAML library that loads and dumps the whole file re-flows what it does not understand
(aligned flow mappings, wrapped lists). Instead the file is composed into nodes, which
carry their exact character spans, and only the span being changed is rewritten: a
scalar replaced, or one entry appended to a mapping at its own indentation.
"""

from __future__ import annotations

from collections.abc import Sequence

import yaml

from infragen.errors import UsageError

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def compose(text: str) -> yaml.Node:
    node = yaml.compose(text, Loader=_Loader)
    if not isinstance(node, yaml.MappingNode):
        raise UsageError("the inventory is not a mapping")
    return node


def child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The value node of `key` in a mapping node (None when absent or not a mapping)."""
    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return value_node
    return None


def find(root: yaml.Node, path: Sequence[str]) -> yaml.Node | None:
    node: yaml.Node | None = root
    for key in path:
        node = child(node, key)
    return node


def replace_scalar(text: str, node: yaml.Node, literal: str) -> str:
    """Put `literal` where the scalar `node` was written (an empty value included)."""
    if not isinstance(node, yaml.ScalarNode):
        raise UsageError(f"line {node.start_mark.line + 1}: expected a single value here")
    start, end = node.start_mark.index, node.end_mark.index
    if start == end and text[start - 1 : start] == ":":
        literal = " " + literal
    return text[:start] + literal + text[end:]


def _last_leaf(node: yaml.Node) -> yaml.Node:
    """The last node written inside `node` that ends on its own line's text."""
    while isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style:
        if not node.value:
            return node
        last = node.value[-1]
        node = last[1] if isinstance(last, tuple) else last
    return node


def add_entry(text: str, mapping: yaml.Node, key: str, value: str) -> str:
    """Append `key: value` to a mapping, flow (`{a: 1}`) or block, in its own style.

    `value` is YAML text; in a block mapping it may span lines (already indented relative
    to the key, as `indent_block` produces).
    """
    if not isinstance(mapping, yaml.MappingNode):
        raise UsageError(f"line {mapping.start_mark.line + 1}: expected a mapping here")
    if mapping.flow_style:
        return _into_flow(text, mapping, "}", f"{key}: {value}")
    if not mapping.value:
        raise UsageError(f"line {mapping.start_mark.line + 1}: cannot add to an empty mapping")
    column = mapping.value[0][0].start_mark.column
    entry = " " * column + f"{key}:" + ("" if value.startswith("\n") else " ") + value
    gap = "\n" if _spaced(text, mapping) else ""
    return _after_line_of(text, mapping.value[-1][1], gap + entry.rstrip("\n"))


def _into_flow(text: str, node: yaml.Node, closer: str, item: str) -> str:
    """`item` added before the closing bracket of a flow collection."""
    close = text.rindex(closer, node.start_mark.index, node.end_mark.index)
    separator = ", " if node.value else ""
    return text[:close] + separator + item + text[close:]


def _after_line_of(text: str, last: yaml.Node, lines: str) -> str:
    """`lines` inserted after the line on which the last item of a block collection ends."""
    end = _last_leaf(last).end_mark.index
    line_end = text.find("\n", end)
    line_end = len(text) if line_end == -1 else line_end
    return text[:line_end] + "\n" + lines + text[line_end:]


def _spaced(text: str, mapping: yaml.MappingNode) -> bool:
    """Whether the mapping's last entry is set off from the one before by a blank line."""
    if len(mapping.value) < 2:
        return False
    last_key = mapping.value[-1][0].start_mark.index
    line_start = text.rindex("\n", 0, last_key)
    return text[:line_start].endswith("\n") or text[:line_start].rstrip(" ").endswith("\n\n")


def indent_block(block: str, column: int) -> str:
    """A multi-line YAML value, indented to sit under a key at `column`."""
    pad = " " * (column + 2)
    return "\n" + "\n".join(pad + line if line else line for line in block.splitlines())


def add_item(text: str, sequence: yaml.Node, literal: str) -> str:
    """Append one item to a sequence, flow (`[a, b]`) or block (`- a`), in its own style."""
    if not isinstance(sequence, yaml.SequenceNode):
        raise UsageError(f"line {sequence.start_mark.line + 1}: expected a list here")
    if sequence.flow_style:
        return _into_flow(text, sequence, "]", literal)
    if not sequence.value:
        raise UsageError(f"line {sequence.start_mark.line + 1}: cannot add to an empty list")
    first = sequence.value[0].start_mark
    dash = text.rindex("-", 0, first.index)
    column = dash - text.rindex("\n", 0, dash) - 1
    return _after_line_of(text, sequence.value[-1], " " * column + f"- {literal}")
