"""Load YAML while keeping where every value came from (``file:line:col``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from eligibility.errors import Problem

if TYPE_CHECKING:
    import yaml

Path = tuple[str | int, ...]


@cache
def loader_class() -> type[yaml.SafeLoader]:
    """The safe loader, except that an impossible date (2019-13-01) stays text for validation to
    report with its field, instead of raising from inside the parser. (PyYAML is imported only
    when YAML is read: a cached rule set and a JSON case need none.)"""
    import yaml

    class Loader(yaml.SafeLoader):
        def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
            try:
                return super().construct_yaml_timestamp(node)
            except ValueError:
                return self.construct_scalar(node)

    Loader.add_constructor("tag:yaml.org,2002:timestamp", Loader.construct_yaml_timestamp)
    return Loader


def parse_yaml(text: str) -> Any:
    """Parse YAML text with ``loader_class()`` (no marks kept)."""
    import yaml

    return yaml.load(text, Loader=loader_class())


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
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        if mark is not None and mark.line >= len(text.splitlines()):
            mark = getattr(exc, "context_mark", None) or mark  # at the end: point where it began
        place = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else file
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [Problem(place, f"malformed YAML: {problem}")]
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
