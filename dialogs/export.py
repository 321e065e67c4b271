"""A finished walkthrough as Markdown, for the employee's file or the unit's plan."""

from __future__ import annotations

import base64
import re
from datetime import datetime

from botbuilder.schema import Activity, ActivityTypes, Attachment

from dialogs.engine import Result
from dialogs.texts import wt

MARKDOWN = "text/markdown"


def to_markdown(result: Result, created: datetime) -> str:
    lang = result.lang
    lines = [f"# {result.title}", "", f"{wt('date', lang)}: {created:%Y-%m-%d}", ""]
    if result.outcome:
        lines += [f"**{wt('outcome', lang)}: {result.outcome}**", ""]
        if result.summary:
            lines += [result.summary, ""]
        if result.reasons:
            lines += [f"## {wt('reasons', lang)}", "", *(f"- {r}" for r in result.reasons), ""]
    lines += [f"## {result.actions_heading}", ""]
    lines += [f"- [ ] {a}" for a in result.actions] if result.actions else [wt("none", lang)]
    lines.append("")
    section = None
    lines += [f"## {wt('answers', lang)}", ""]
    for line in result.answers:
        if line.section and line.section != section:
            section = line.section
            lines += ["", f"### {section}", ""]
        lines.append(f"- **{line.question}:** {_one_line(line.answer)}")
    if result.reminders:
        lines += ["", f"## {wt('reminders', lang)}", "", *(f"- {r}" for r in result.reminders)]
    if result.source:
        lines += ["", f"_{wt('source', lang)}: {result.source}_"]
    return "\n".join(lines).replace("\n\n\n", "\n\n").strip() + "\n"


def filename(result: Result, created: datetime) -> str:
    return f"{result.walkthrough_id}-{created:%Y-%m-%d}.md"


def export_activity(result: Result, created: datetime) -> Activity:
    """The Markdown as a file (a data: URI, fine in personal chat) and as text to copy."""
    markdown = to_markdown(result, created)
    data = base64.b64encode(markdown.encode("utf-8")).decode("ascii")
    attachment = Attachment(
        content_type=MARKDOWN,
        content_url=f"data:{MARKDOWN};charset=utf-8;base64,{data}",
        name=filename(result, created),
    )
    fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", markdown)), default=0) + 1)
    text = f"{wt('export_intro', result.lang, title=result.title)}\n\n{fence}markdown\n{markdown}{fence}"
    return Activity(type=ActivityTypes.message, text=text, text_format="markdown", attachments=[attachment])


def _one_line(text: str) -> str:
    """Notes may span lines; in a list item they must not break the Markdown."""
    return re.sub(r"\s*\n\s*", " / ", text.strip())
