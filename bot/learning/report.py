"""The content report ("innehållsrapport") for an owner's entries, its weekly chart, and the Monday digest.

Figures come from the question log (which entry answered, or was closest; no text, no user) and 👍/👎, over the
last 12 weeks, which the retention time (90 days by default) also bounds.
"""

from __future__ import annotations

import base64
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.broadcast.outbox import aware
from bot.broadcast.roles import OwnerScope
from bot.conversation.cards import card_activity
from bot.knowledge.models import Entry
from bot.storage.tables import feedback, question_log

WEEKS = 12


@dataclass
class EntryFigures:
    asked: int = 0
    answered: int = 0
    up: int = 0
    down: int = 0


@dataclass
class ContentReport:
    entries: list[Entry]
    figures: dict[str, EntryFigures] = field(default_factory=dict)
    weeks: list[date] = field(default_factory=list)  # the Monday of each week, oldest first
    weekly: list[tuple[int, int]] = field(default_factory=list)  # (answered, asked) per week
    due: list[Entry] = field(default_factory=list)

    @property
    def never_asked(self) -> list[Entry]:
        return [e for e in self.entries if not self.figures.get(e.id, EntryFigures()).asked]


async def build_report(
    conn: AsyncConnection, entries: Iterable[Entry], scope: OwnerScope, now: datetime, tz: ZoneInfo
) -> ContentReport:
    mine = [e for e in entries if scope.covers(e.file, e.topic)]
    ids = {e.id for e in mine}
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    weeks = [monday - timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]
    since = datetime.combine(weeks[0], datetime.min.time(), tzinfo=tz)
    report = ContentReport(
        mine, {e.id: EntryFigures() for e in mine}, weeks, due=[e for e in mine if e.review_date <= today]
    )
    per_week: dict[date, Counter[str]] = {w: Counter() for w in weeks}
    asked = await conn.execute(
        select(question_log.c.entry_id, question_log.c.answered, question_log.c.created_at).where(
            question_log.c.created_at >= since
        )
    )
    for entry_id, answered, at in asked:
        if entry_id not in ids:
            continue
        figures = report.figures[entry_id]
        figures.asked += 1
        figures.answered += bool(answered)
        day = aware(at).astimezone(tz).date()  # type: ignore[union-attr]
        week = per_week.get(day - timedelta(days=day.weekday()))
        if week is not None:
            week["asked"] += 1
            week["answered"] += bool(answered)
    thumbs = await conn.execute(select(feedback.c.entry_id, feedback.c.helpful).where(feedback.c.created_at >= since))
    for entry_id, helpful in thumbs:
        if entry_id in ids:
            if helpful:
                report.figures[entry_id].up += 1
            else:
                report.figures[entry_id].down += 1
    report.weekly = [(per_week[w]["answered"], per_week[w]["asked"]) for w in weeks]
    return report


def weekly_chart(weekly: list[tuple[int, int]], weeks: list[date]) -> bytes:
    """A small PNG: one bar per week, its height the share answered; a grey stub for a week without questions."""
    from PIL import Image, ImageDraw, ImageFont

    width, height, left, bottom, top = 372, 132, 30, 18, 8
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    plot = height - bottom - top
    draw.line([(left, top), (left, height - bottom), (width - 4, height - bottom)], fill=(120, 120, 120))
    for share, label in ((1.0, "100%"), (0.5, "50%")):
        y = top + plot * (1 - share)
        draw.line([(left, y), (width - 4, y)], fill=(225, 225, 225))
        draw.text((2, y - 5), label, fill=(90, 90, 90), font=font)
    step = (width - left - 8) / len(weekly)
    for n, ((answered, asked), monday) in enumerate(zip(weekly, weeks, strict=True)):
        x0 = left + 4 + n * step
        x1 = x0 + step - 6
        if asked:
            y = top + plot * (1 - answered / asked)
            draw.rectangle([(x0, y), (x1, height - bottom - 1)], fill=(70, 100, 200))
        else:
            draw.rectangle([(x0, height - bottom - 2), (x1, height - bottom - 1)], fill=(190, 190, 190))
        if n % 2 == 0:
            draw.text((x0, height - bottom + 4), f"v{monday.isocalendar().week}", fill=(90, 90, 90), font=font)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


TEXTS = {
    "title": {
        "sv": "Innehållsrapport: {count} ingångar, senaste {weeks} veckorna",
        "en": "Content report: {count} entries, last {weeks} weeks",
    },
    "chart": {"sv": "Andel besvarade frågor per vecka", "en": "Share of questions answered per week"},
    "totals": {
        "sv": "{asked} frågor, {share} besvarade, 👍 {up} 👎 {down}",
        "en": "{asked} questions, {share} answered, 👍 {up} 👎 {down}",
    },
    "per_entry": {"sv": "Per ingång (mest frågade först):", "en": "Per entry (most asked first):"},
    "line": {
        "sv": "- {id}: {asked} frågor, {share} besvarade, 👍 {up} 👎 {down}",
        "en": "- {id}: {asked} questions, {share} answered, 👍 {up} 👎 {down}",
    },
    "never": {"sv": "Aldrig frågade ({count}): {ids}", "en": "Never asked about ({count}): {ids}"},
    "due": {"sv": "Granskningsdatum passerat ({count}): {ids}", "en": "Review date passed ({count}): {ids}"},
    "none": {"sv": "inga", "en": "none"},
    "digest": {
        "sv": "Veckans sammanfattning. Stäng av med **innehållsrapport av**.",
        "en": "This week's digest. Turn it off with **content report off**.",
    },
}


def _t(key: str, lang: str, **kwargs: Any) -> str:
    text = TEXTS[key].get(lang) or TEXTS[key]["sv"]
    return text.format(**kwargs) if kwargs else text


def _share(answered: int, asked: int) -> str:
    return f"{round(100 * answered / asked)} %" if asked else "–"


def report_activity(report: ContentReport, lang: str, *, digest: bool = False) -> Any:
    """The report as a card: totals, the chart, per entry, never asked, past review."""
    figures = report.figures
    asked = sum(f.asked for f in figures.values())
    answered = sum(f.answered for f in figures.values())
    up, down = sum(f.up for f in figures.values()), sum(f.down for f in figures.values())
    title = _t("title", lang, count=len(report.entries), weeks=WEEKS)
    lines = [_t("totals", lang, asked=asked, share=_share(answered, asked), up=up, down=down)]
    busiest = sorted((e for e in report.entries if figures[e.id].asked), key=lambda e: (-figures[e.id].asked, e.id))
    if busiest:
        lines.append(_t("per_entry", lang))
        for e in busiest[:15]:
            f = figures[e.id]
            lines.append(
                _t("line", lang, id=e.id, asked=f.asked, share=_share(f.answered, f.asked), up=f.up, down=f.down)
            )
    never = report.never_asked
    named = ", ".join(e.id for e in never[:20]) + (", …" if len(never) > 20 else "")
    lines.append(_t("never", lang, count=len(never), ids=named or _t("none", lang)))
    due = ", ".join(f"{e.id} ({e.review_date}, {e.owner})" for e in report.due) or _t("none", lang)
    lines.append(_t("due", lang, count=len(report.due), ids=due))
    chart = base64.b64encode(weekly_chart(report.weekly, report.weeks)).decode("ascii")
    body: list[dict[str, Any]] = [{"type": "TextBlock", "text": title, "weight": "Bolder", "wrap": True}]
    if digest:
        body.append({"type": "TextBlock", "text": _t("digest", lang), "wrap": True, "isSubtle": True})
    body += [
        {"type": "TextBlock", "text": _t("chart", lang), "wrap": True, "size": "Small"},
        {"type": "Image", "url": f"data:image/png;base64,{chart}", "altText": _t("chart", lang), "size": "Stretch"},
        {"type": "TextBlock", "text": "\n\n".join(lines), "wrap": True},
    ]
    weekly = ", ".join(
        f"v{w.isocalendar().week} {_share(a, n)}" for w, (a, n) in zip(report.weeks, report.weekly, strict=True)
    )
    intro = [_t("digest", lang)] if digest else []
    return card_activity(body, [], "\n".join([title, *intro, f"{_t('chart', lang)}: {weekly}", *lines]))
