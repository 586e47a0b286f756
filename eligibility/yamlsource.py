"""Load YAML while keeping where every value came from (``file:line:col``).

Rule files and case files are plain data, so the loader accepts plain data only, and refuses with
the place: anchors and aliases (``&a``, ``*a``: an alias bomb expands a few lines into billions of
values, and a recursive alias never ends), merge keys (``<<:``), any tag outside the core schema
(``!!python/object``...), and nesting deeper than ``MAX_DEPTH`` levels (a deep document exhausts
the parser's recursion)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from eligibility.errors import Problem

if TYPE_CHECKING:
    import yaml

Path = tuple[str | int, ...]

MAX_DEPTH = 100
"""Nested lists and mappings a YAML document may have (the rule files use about ten)."""
MAX_BYTES = 1_000_000
"""The largest rule file read (the largest shipped one is about 21 KB; the pure-Python parser,
which keeps every value's place, takes several seconds a megabyte)."""
PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")
)


class YAMLSourceError(ValueError):
    """YAML that is malformed or not plain data, at ``line``:``column`` (1-based)."""

    def __init__(self, line: int, column: int, problem: str, byte: int | None = None) -> None:
        self.line, self.column, self.problem = line, column, problem
        self.byte = byte  # from ``decode``: the first byte that is not UTF-8
        super().__init__(f"{line}:{column}: {problem}")


@cache
def loader_class() -> type[yaml.SafeLoader]:
    """The safe loader, except that an impossible date (2019-13-01) stays text for validation to
    report with its field, instead of raising from inside the parser. (PyYAML is imported only
    when YAML is read: a cached rule set and a JSON case need none.)"""
    import yaml

    class Loader(yaml.SafeLoader):
        depth = 0

        def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
            event = self.peek_event()  # type: ignore[no-untyped-call]
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                raise yaml.composer.ComposerError(
                    None, None, "anchors and aliases (& and *) are not allowed here", event.start_mark
                )
            self.depth += 1
            try:
                if self.depth > MAX_DEPTH:
                    raise yaml.composer.ComposerError(
                        None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark
                    )
                node = super().compose_node(parent, index)
            finally:
                self.depth -= 1
            if node is not None and node.tag not in PLAIN_TAGS:
                what = "merge keys (<<) are" if node.tag.endswith(":merge") else f"the tag '{node.tag}' is"
                raise yaml.composer.ComposerError(None, None, f"{what} not allowed here", node.start_mark)
            return node

        def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
            try:
                return super().construct_yaml_timestamp(node)
            except ValueError:
                return self.construct_scalar(node)

    Loader.add_constructor("tag:yaml.org,2002:timestamp", Loader.construct_yaml_timestamp)
    return Loader


def parse_yaml(text: str) -> Any:
    """Parse YAML text with ``loader_class()`` (no marks kept): plain data only, as ``load_yaml``.
    Raises YAMLSourceError with the line and column of the first problem."""
    import yaml

    try:
        return yaml.load(text, Loader=loader_class())
    except yaml.YAMLError as exc:
        line, column, problem = _where(exc, text)
        raise YAMLSourceError(line, column, problem) from None
    except RecursionError:
        raise YAMLSourceError(1, 1, f"nested more than {MAX_DEPTH} levels deep") from None


def decode(data: bytes) -> str:
    """UTF-8 text of a file's bytes; raises YAMLSourceError at the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        byte = data[exc.start]
        raise YAMLSourceError(line, column, f"not UTF-8 (byte 0x{byte:02x})", byte) from None


def _where(exc: Exception, text: str) -> tuple[int, int, str]:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None and mark.line >= len(text.splitlines()):
        mark = getattr(exc, "context_mark", None) or mark  # at the end: point where it began
    problem = getattr(exc, "problem", None) or str(exc)
    return (mark.line + 1, mark.column + 1, problem) if mark else (1, 1, problem)


@dataclass(frozen=True)
class Location:
    """A place in a source file (1-based line and column)."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    @property
    def short(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Document:
    """A parsed YAML document and the location of every value in it, keyed by its path."""

    file: str
    data: Any
    marks: dict[Path, Location]

    def at(self, path: Path) -> Location:
        """The location of ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            found = self.marks.get(tuple(path[:end]))
            if found:
                return found
        return Location(self.file, 1, 1)


def load_yaml(text: str, file: str) -> tuple[Document | None, list[Problem]]:
    """Parse one YAML document. Duplicate keys are errors (YAML would silently keep the last)."""
    import yaml

    loader = loader_class()(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        line, column, problem = _where(exc, text)
        return None, [Problem(f"{file}:{line}:{column}", f"malformed YAML: {problem}")]
    except RecursionError:
        return None, [Problem(f"{file}:1:1", f"malformed YAML: nested more than {MAX_DEPTH} levels deep")]
    finally:
        loader.dispose()
    marks: dict[Path, Location] = {}
    problems: list[Problem] = []
    if node is None:
        return Document(file, None, marks), problems
    data = _build(loader, node, (), file, marks, problems)
    return Document(file, data, marks), problems


def _build(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    path: Path,
    file: str,
    marks: dict[Path, Location],
    problems: list[Problem],
) -> Any:
    import yaml

    marks[path] = Location(file, node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node)
            if not isinstance(key, str):
                key = str(key).lower() if isinstance(key, bool) else str(key)
            if key in result:
                loc = Location(file, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                problems.append(Problem(str(loc), f"duplicate key '{key}'"))
                continue
            result[key] = _build(loader, value_node, (*path, key), file, marks, problems)
            marks[(*path, key, "__key__")] = Location(
                file, key_node.start_mark.line + 1, key_node.start_mark.column + 1
            )
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, (*path, i), file, marks, problems) for i, item in enumerate(node.value)]
    return loader.construct_object(node)
