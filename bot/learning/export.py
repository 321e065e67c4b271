"""`python -m bot export-learned`: learned phrasings leave the database and become content, for review in git.

Each phrasing is written under its entry's `questions.<lang>` in the entry's knowledge file, and each question
marked "inte i vägledningen" into content/calibration/labelled-learned.yaml as `abstain: true`, each line with
a comment naming who added it and when. The files are edited as text, so their comments and layout stay; the
content is validated afterwards, and on any problem the files are put back and nothing is deleted.
"""

from __future__ import annotations

import json
import pathlib
import re
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.content_errors import ContentError, ContentProblem
from bot.knowledge import load_knowledge
from bot.learning.store import LearnedPhrasing, LearningStore

LEARNED_FILE = "calibration/labelled-learned.yaml"
LEARNED_HEADER = (
    '# Questions content owners marked as outside the guidance ("Inte i vägledningen"), written by\n'
    "# `python -m bot export-learned`. The confidence model learns from them when it is next refitted.\n"
)


@dataclass(frozen=True)
class Exported:
    phrasings: int
    outside: int
    files: list[str]


def _comment(p: LearnedPhrasing, tz: ZoneInfo) -> str:
    by = re.sub(r"[\r\n#]+", " ", p.added_by).strip() or "?"
    return f"# inlärd: {by}, {p.added_at.astimezone(tz).date().isoformat()}"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def insert_phrasings(text: str, entry_id: str, phrasings: list[LearnedPhrasing], tz: ZoneInfo, name: str) -> str:
    """The knowledge file's text with the phrasings appended to the entry's `questions.<lang>` lists."""
    lines = text.split("\n")
    start = next(
        (n for n, line in enumerate(lines) if re.match(rf"^\s*- id:\s*[\"']?{re.escape(entry_id)}[\"']?\s*$", line)),
        None,
    )
    if start is None:
        raise ContentError([ContentProblem(name, entry_id, "id", "entry not found in its file")])
    key_indent = _indent(lines[start]) + 2
    end = next(
        (
            n
            for n in range(start + 1, len(lines))
            if lines[n].strip() and not lines[n].lstrip().startswith("#") and _indent(lines[n]) < key_indent
        ),
        len(lines),
    )
    questions = next((n for n in range(start, end) if re.match(rf"^ {{{key_indent}}}questions:\s*$", lines[n])), None)
    if questions is None:
        raise ContentError(
            [ContentProblem(name, entry_id, "questions", "not a block mapping; add the phrasings by hand")]
        )
    block_end = next(
        (n for n in range(questions + 1, end) if lines[n].strip() and _indent(lines[n]) <= key_indent), end
    )
    by_lang: dict[str, list[LearnedPhrasing]] = defaultdict(list)
    for p in phrasings:
        by_lang[p.lang].append(p)
    for lang in sorted(by_lang, reverse=True):  # insert bottom-up so earlier positions stay right
        head = next(
            (
                n
                for n in range(questions + 1, block_end)
                if re.match(rf"^ {{{key_indent + 2}}}{lang}:\s*(#.*)?$", lines[n])
            ),
            None,
        )
        items = [
            f"{' ' * (key_indent + 4)}- {json.dumps(p.question, ensure_ascii=False)}  {_comment(p, tz)}"
            for p in by_lang[lang]
        ]
        if head is None:
            if any(re.match(rf"^ {{{key_indent + 2}}}{lang}:", lines[n]) for n in range(questions + 1, block_end)):
                raise ContentError([ContentProblem(name, entry_id, f"questions.{lang}", "a flow list; add by hand")])
            last = max((n for n in range(questions + 1, block_end) if lines[n].strip()), default=questions)
            lines[last + 1 : last + 1] = [f"{' ' * (key_indent + 2)}{lang}:", *items]
            block_end += len(items) + 1
            continue
        last = head
        for n in range(head + 1, block_end):
            if lines[n].strip() and _indent(lines[n]) <= key_indent + 2:
                break
            if lines[n].strip():
                last = n
        lines[last + 1 : last + 1] = items
        block_end += len(items)
    return "\n".join(lines)


async def export_learned(store: LearningStore, content_dir: pathlib.Path, timezone: str) -> Exported:
    """Write every learned phrasing into content_dir, check the content, then delete what was written."""
    tz = ZoneInfo(timezone)
    content_dir = pathlib.Path(content_dir)
    knowledge = load_knowledge(content_dir)
    learned = await store.phrasings()
    outside = await store.phrasings(outside=True)
    by_file: dict[pathlib.Path, dict[str, list[LearnedPhrasing]]] = defaultdict(lambda: defaultdict(list))
    unknown = []
    for p in learned:
        entry = knowledge.get(p.entry_id or "")
        if entry is None:
            unknown.append(p)
            continue
        by_file[pathlib.Path(entry.file)][entry.id].append(p)
    originals: dict[pathlib.Path, str | None] = {}
    try:
        for path, entries in by_file.items():
            text = path.read_text(encoding="utf-8")
            originals[path] = text
            for entry_id, phrasings in entries.items():
                text = insert_phrasings(text, entry_id, phrasings, tz, str(path))
            path.write_text(text, encoding="utf-8")
        if outside:
            path = content_dir / LEARNED_FILE
            old = path.read_text(encoding="utf-8") if path.exists() else None
            originals[path] = old
            lines = [old.rstrip("\n") if old else LEARNED_HEADER.rstrip("\n")]
            for p in outside:
                lines.append(f"- q: {json.dumps(p.question, ensure_ascii=False)}  {_comment(p, tz)}")
                lines.append("  abstain: true")
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        load_knowledge(content_dir)  # what was written must be valid content, as check-content sees it
    except Exception:
        for path, original in originals.items():
            if original is None:
                path.unlink(missing_ok=True)
            else:
                path.write_text(original, encoding="utf-8")
        raise
    written = [p.id for p in learned if p not in unknown] + [p.id for p in outside]
    await store.clear(written)
    return Exported(len(learned) - len(unknown), len(outside), sorted(str(p) for p in originals))
