"""A small reader of Bicep source for structure checks, since the Bicep compiler cannot run here.

It separates code from comments and string literals (keeping `${...}` interpolations, which are code) and splits
the file into its top-level declarations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
DECLARATION = re.compile(r"^(param|var|resource|output|module|type|func|metadata)\s+([A-Za-z_][A-Za-z0-9_]*)", re.M)


def code_only(text: str) -> str:
    """The source with comments and literal string text blanked out; line breaks and interpolations stay."""
    out: list[str] = []
    i, n = 0, len(text)
    depth: list[int] = []  # brace depth inside each open interpolation
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            if c == "\\" and i + 1 < n:
                out.append("  ")
                i += 2
            elif c == "'":
                in_string = False
                out.append("'")
                i += 1
            elif text.startswith("${", i):
                depth.append(0)
                in_string = False
                out.append("${")
                i += 2
            else:
                out.append("\n" if c == "\n" else " ")
                i += 1
            continue
        if text.startswith("'''", i):
            end = text.find("'''", i + 3)
            end = n if end < 0 else end + 3
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        elif c == "'":
            in_string = True
            out.append("'")
            i += 1
        elif depth and c == "{":
            depth[-1] += 1
            out.append(c)
            i += 1
        elif depth and c == "}":
            if depth[-1] == 0:
                depth.pop()
                in_string = True  # back inside the string the interpolation was in
                out.append("}")
            else:
                depth[-1] -= 1
                out.append(c)
            i += 1
        else:
            out.append(c)
            i += 1
    if in_string or depth:
        raise ValueError("a string or an interpolation is not closed")
    return "".join(out)


def unbalanced(code: str) -> str | None:
    """The first bracket that does not pair up, or None."""
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[tuple[str, int]] = []
    for index, c in enumerate(code):
        if c in "([{":
            stack.append((c, index))
        elif c in pairs:
            if not stack or stack[-1][0] != pairs[c]:
                return f"{c!r} at line {code.count(chr(10), 0, index) + 1}"
            stack.pop()
    if stack:
        c, index = stack[-1]
        return f"{c!r} opened at line {code.count(chr(10), 0, index) + 1} is never closed"
    return None


@dataclass(frozen=True)
class Declaration:
    kind: str  # param, var, resource, output, …
    name: str
    code: str  # the declaration's code (comments and literal text blanked), decorators excluded

    def references(self) -> set[str]:
        """Names the declaration's value refers to: no object keys, no `.property` accesses, not its own name."""
        _, _, value = self.code.partition("=")
        value = re.sub(r"(?m)^\s*[A-Za-z_][A-Za-z0-9_]*\s*:", " ", value)
        value = re.sub(r"\.\s*[A-Za-z_][A-Za-z0-9_]*", " ", value)
        return set(IDENTIFIER.findall(value))


def declarations(code: str) -> list[Declaration]:
    found = list(DECLARATION.finditer(code))
    result = []
    for n, match in enumerate(found):
        end = found[n + 1].start() if n + 1 < len(found) else len(code)
        body = code[match.start() : end]
        # Decorators of the next declaration sit at the start of a line just before it: cut them off.
        body = re.split(r"^@", body, maxsplit=1, flags=re.M)[0]
        result.append(Declaration(match[1], match[2], body))
    return result


def decorators_of(text: str, name: str, kind: str = "param") -> list[str]:
    """The decorator lines (`@secure()`, `@minValue(1)`) right above a declaration, from the raw source."""
    lines = text.splitlines()
    index = next(i for i, line in enumerate(lines) if re.match(rf"^{kind}\s+{name}\b", line))
    above = []
    i = index - 1
    while i >= 0 and (lines[i].startswith("@") or lines[i].startswith("  ") or lines[i].startswith("])")):
        if lines[i].startswith("@"):
            above.append(lines[i])
        i -= 1
    return above
