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


def _entry(node: yaml.Node | None, key: str) -> tuple[int, yaml.Node, yaml.Node] | None:
    """(index, key node, value node) of `key` in a mapping node."""
    if not isinstance(node, yaml.MappingNode):
        return None
    for index, (key_node, value_node) in enumerate(node.value):
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return index, key_node, value_node
    return None


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    """The index just past the newline that ends the line holding `index`."""
    end = text.find("\n", index)
    return len(text) if end == -1 else end + 1


def _block_span(text: str, start: int, last: yaml.Node, column: int) -> tuple[int, int]:
    """The lines of a block entry starting at `start`: through its last line, comment lines
    indented under it, and one blank line when the entry sat between two."""
    end = _line_end(text, max(_last_leaf(last).end_mark.index - 1, start))
    while end < len(text):
        line = text[end : _line_end(text, end)]
        stripped = line.lstrip(" ")
        if not (stripped.startswith("#") and len(line) - len(stripped) > column):
            break
        end += len(line)
    blank_before = start >= 2 and text[start - 2 : start] == "\n\n"
    blank_after = text[end : end + 1] == "\n"
    if blank_after and (blank_before or end + 1 == len(text)):
        end += 1
    return start, end


def _flow_span(items: list[tuple[yaml.Node, yaml.Node]], index: int) -> tuple[int, int]:
    """What to cut for item `index` of a flow collection: it and one separating comma."""
    first, last = items[index]
    if index + 1 < len(items):
        return first.start_mark.index, items[index + 1][0].start_mark.index
    if index > 0:
        return items[index - 1][1].end_mark.index, last.end_mark.index
    return first.start_mark.index, last.end_mark.index


def remove_entry(text: str, root: yaml.Node, path: Sequence[str]) -> str:
    """Cut the entry at `path` (its key and value) from its mapping, in the mapping's style.

    The last entry of a nested block mapping leaves `{}` behind, so the parent key keeps
    a mapping rather than becoming null.
    """
    mapping = find(root, path[:-1])
    found = _entry(mapping, path[-1])
    if mapping is None or found is None:
        raise UsageError(f"{'.'.join(path)} is not in the inventory")
    index, key_node, value_node = found
    if mapping.flow_style:
        pairs = list(mapping.value)
        start, end = _flow_span(pairs, index)
        return text[:start] + text[end:]
    column = key_node.start_mark.column
    start, end = _block_span(text, _line_start(text, key_node.start_mark.index), value_node, column)
    if len(mapping.value) == 1 and len(path) > 1:
        parent_key = _entry(find(root, path[:-2]), path[-2])
        assert parent_key is not None
        colon = text.index(":", parent_key[1].end_mark.index)
        return text[: colon + 1] + " {}\n" + text[end:]
    return text[:start] + text[end:]


def remove_item(text: str, sequence: yaml.Node, literal: str) -> str:
    """Cut the scalar item `literal` from a sequence, flow (`[a, b]`) or block (`- a`)."""
    if not isinstance(sequence, yaml.SequenceNode):
        raise UsageError(f"line {sequence.start_mark.line + 1}: expected a list here")
    items = [n for n in sequence.value if isinstance(n, yaml.ScalarNode) and n.value == literal]
    if not items:
        raise UsageError(f"line {sequence.start_mark.line + 1}: '{literal}' is not in this list")
    index = sequence.value.index(items[0])
    if sequence.flow_style:
        start, end = _flow_span([(n, n) for n in sequence.value], index)
        return text[:start] + text[end:]
    item = items[0]
    dash = text.rindex("-", 0, item.start_mark.index)
    column = dash - _line_start(text, dash)
    start, end = _block_span(text, _line_start(text, dash), item, column)
    return text[:start] + text[end:]
