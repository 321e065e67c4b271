"""One error type for every content file, naming the file, the entry and the field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ContentProblem:
    file: str
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.entry:
            where += f": entry {self.entry!r}"
        if self.field:
            where += f": field {self.field!r}"
        return f"{where}: {self.message}"


class ContentError(ValueError):
    """Content under CONTENT_DIR is invalid; the service refuses to start on it."""

    def __init__(self, problems: list[ContentProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
