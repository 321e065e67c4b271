"""HR's weekly lägesbild (situation report): drafts, the weekly slot, publishing, and the text format.

A report is a `draft` until HR either publishes it now or leaves it for the weekly slot (`ready`,
with the slot it is for). Publishing turns it `published` in the same transaction that writes
the outbox rows, so a report goes out once: a ready report whose slot passed unsent (the
service was down beyond the grace time) is not sent later as if it were new.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.broadcast.audit import Actor, audit
from bot.broadcast.content import Section
from bot.broadcast.outbox import aware
from bot.storage import Database
from bot.storage.tables import lagesbild_reports

DRAFT = "draft"
READY = "ready"
PUBLISHED = "published"
DISCARDED = "discarded"

ORDINARY = "ordinarie"
ACTIVATED = "aktiverat"
MODE_WORDS = {
    "ordinarie": ORDINARY,
    "ordinarie läge": ORDINARY,
    "normal": ORDINARY,
    "normal mode": ORDINARY,
    "ordinary": ORDINARY,
    "aktiverat": ACTIVATED,
    "aktiverat läge": ACTIVATED,
    "aktiv": ACTIVATED,
    "activated": ACTIVATED,
    "activated mode": ACTIVATED,
    "active": ACTIVATED,
}
FIELD_WORDS = {
    "mode": ("läge", "lage", "mode"),
    "week": ("vecka", "v", "week"),
    "summary": ("sammanfattning", "summary", "sammanfattat"),
}
MAX_FIELD = 4000


@dataclass(frozen=True)
class ReportInput:
    """What HR wrote, before it is stored."""

    week: str
    mode: str
    summary: str
    sections: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Report(ReportInput):
    id: int = 0
    state: str = DRAFT
    author_aad: str | None = None
    author_name: str | None = None
    author_conversation: str | None = None
    for_slot: datetime | None = None
    published_at: datetime | None = None
    created_at: datetime | None = None


class ReportProblem(ValueError):
    """HR's text or form could not be read; `key` names the message to show, `detail` fills it."""

    def __init__(self, key: str, **detail: str) -> None:
        super().__init__(key)
        self.key = key
        self.detail = detail


def normalize_week(raw: str) -> str:
    """ "v. 48", "vecka 48", "2026-W48" -> "48"; "" stays empty (the default week); anything else,
    week 0 or 54 included, is refused: a report once went out as week "Smittspridningen ökar igen i reg"."""
    text = raw.strip()
    match = re.fullmatch(r"(?i)(?:\d{4}\s*-?\s*)?(?:v(?:ecka)?|w(?:eek)?)?\.?\s*(\d{1,2})", text)
    if match and 1 <= int(match.group(1)) <= 53:
        return str(int(match.group(1)))
    if not text:
        return ""
    raise ReportProblem("lb_bad_week", value=text[:40])


def parse_mode(raw: str) -> str:
    mode = MODE_WORDS.get(" ".join(raw.lower().split()))
    if mode is None:
        raise ReportProblem("lb_bad_mode", value=raw.strip()[:40])
    return mode


def _clean_markup(text: str) -> str:
    """Teams may send line breaks as HTML."""
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", text)
    return re.sub(r"<[^>]+>", "", text).replace("&nbsp;", " ")


def _key_index(sections: Sequence[Section]) -> dict[str, str]:
    index = {word: name for name, words in FIELD_WORDS.items() for word in words}
    for section in sections:
        for word in (section.id, section.title.sv, section.title.en):
            index[" ".join(word.lower().split())] = f"section:{section.id}"
    return index


def parse_report_text(text: str, sections: Sequence[Section], default_week: str) -> ReportInput:
    """Read the single-message format: one "field: text" per line; other lines continue the field.

    läge: aktiverat
    vecka: 48
    sammanfattning: …
    beslut: …   (a section id or its Swedish/English title)
    """
    index = _key_index(sections)
    fields: dict[str, list[str]] = {}
    current: str | None = None
    for line in _clean_markup(text).splitlines():
        key, sep, rest = line.partition(":")
        name = index.get(" ".join(key.lower().split())) if sep else None
        if name is not None:
            current = name
            fields.setdefault(name, []).append(rest.strip())
        elif current is not None:
            fields[current].append(line.rstrip())
        elif line.strip():
            raise ReportProblem("lb_bad_line", line=line.strip()[:60])
    values = {name: "\n".join(parts).strip() for name, parts in fields.items()}
    return _build(values, sections, default_week)


def report_from_form(value: dict[str, Any], sections: Sequence[Section], default_week: str) -> ReportInput:
    """Read the Adaptive Card form's submit (inputs mode, week, summary, section_<id>)."""
    values: dict[str, str] = {}
    for name in ("mode", "week", "summary"):
        if isinstance(value.get(name), str):
            values[name] = value[name]
    for section in sections:
        raw = value.get(f"section_{section.id}")
        if isinstance(raw, str):
            values[f"section:{section.id}"] = raw
    return _build(values, sections, default_week)


def _within_limit(text: str, field: str) -> str:
    """A field's text, refused when longer than a card can carry (it used to be cut without a word)."""
    if len(text) > MAX_FIELD:
        raise ReportProblem("lb_too_long", field=field, length=str(len(text)), limit=f"{MAX_FIELD:,}".replace(",", " "))
    return text


def _build(values: dict[str, str], sections: Sequence[Section], default_week: str) -> ReportInput:
    summary = _within_limit(values.get("summary", "").strip(), "sammanfattning / summary")
    if not summary:
        raise ReportProblem("lb_missing_summary")
    mode = parse_mode(values["mode"]) if values.get("mode", "").strip() else ORDINARY
    week = normalize_week(values.get("week", "")) or default_week
    texts: dict[str, str] = {}
    for section in sections:
        text = values.get(f"section:{section.id}", "").strip()
        if section.required and not text:
            raise ReportProblem("lb_missing_section", section=section.title.sv, section_en=section.title.en)
        if text:
            texts[section.id] = _within_limit(text, f"{section.title.sv} / {section.title.en}")
    return ReportInput(week=week, mode=mode, summary=summary, sections=texts)


def _report(row: Any) -> Report:
    return Report(
        week=row.week,
        mode=row.mode,
        summary=row.summary,
        sections=json.loads(row.sections),
        id=row.id,
        state=row.state,
        author_aad=row.author_aad,
        author_name=row.author_name,
        author_conversation=row.author_conversation,
        for_slot=aware(row.for_slot),
        published_at=aware(row.published_at),
        created_at=aware(row.created_at),
    )


class LagesbildStore:
    """The lagesbild_reports table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def save_draft(self, report: ReportInput, actor: Actor, conversation_id: str | None, now: datetime) -> Report:
        """Store a new draft; an older unsent draft is discarded (one draft at a time)."""
        async with self._db.e.begin() as conn:
            await conn.execute(
                update(lagesbild_reports)
                .where(lagesbild_reports.c.state == DRAFT)
                .values(state=DISCARDED, updated_at=now)
            )
            result = await conn.execute(
                lagesbild_reports.insert()
                .values(
                    week=report.week,
                    mode=report.mode,
                    summary=report.summary,
                    sections=json.dumps(report.sections, ensure_ascii=False),
                    state=DRAFT,
                    author_aad=actor.aad,
                    author_name=actor.name,
                    author_conversation=conversation_id,
                    created_at=now,
                    updated_at=now,
                )
                .returning(lagesbild_reports.c.id)
            )
            report_id = int(result.scalar_one())
            row = (await conn.execute(select(lagesbild_reports).where(lagesbild_reports.c.id == report_id))).one()
        return _report(row)

    async def get(self, report_id: int) -> Report | None:
        async with self._db.e.connect() as conn:
            row = (await conn.execute(select(lagesbild_reports).where(lagesbild_reports.c.id == report_id))).first()
        return _report(row) if row else None

    async def unsent(self) -> Report | None:
        """The newest draft or ready report (what "publish" and "schedule" act on)."""
        async with self._db.e.connect() as conn:
            row = (
                await conn.execute(
                    select(lagesbild_reports)
                    .where(lagesbild_reports.c.state.in_((DRAFT, READY)))
                    .order_by(lagesbild_reports.c.id.desc())
                    .limit(1)
                )
            ).first()
        return _report(row) if row else None

    async def latest_published(self) -> Report | None:
        async with self._db.e.connect() as conn:
            row = (
                await conn.execute(
                    select(lagesbild_reports)
                    .where(lagesbild_reports.c.state == PUBLISHED)
                    .order_by(lagesbild_reports.c.published_at.desc(), lagesbild_reports.c.id.desc())
                    .limit(1)
                )
            ).first()
        return _report(row) if row else None

    async def mark_ready(self, report_id: int, slot: datetime, actor: Actor, now: datetime) -> bool:
        """Leave the report for `slot`; another report waiting for a slot is replaced by it."""
        async with self._db.e.begin() as conn:
            result = await conn.execute(
                update(lagesbild_reports)
                .where(lagesbild_reports.c.id == report_id, lagesbild_reports.c.state.in_((DRAFT, READY)))
                .values(state=READY, for_slot=slot, updated_at=now)
            )
            if result.rowcount != 1:
                return False
            await conn.execute(
                update(lagesbild_reports)
                .where(lagesbild_reports.c.state == READY, lagesbild_reports.c.id != report_id)
                .values(state=DISCARDED, updated_at=now)
            )
            await audit(conn, now, actor, "schedule", f"lagesbild:{report_id}", slot=slot.isoformat())
        return True

    async def claim_for_publishing(self, conn: AsyncConnection, report_id: int, now: datetime) -> bool:
        """Turn the report published in the caller's transaction; False if it already was."""
        result = await conn.execute(
            update(lagesbild_reports)
            .where(lagesbild_reports.c.id == report_id, lagesbild_reports.c.state.in_((DRAFT, READY)))
            .values(state=PUBLISHED, published_at=now, updated_at=now)
        )
        return result.rowcount == 1

    async def set_broadcast(self, conn: AsyncConnection, report_id: int, broadcast_id: int) -> None:
        await conn.execute(
            update(lagesbild_reports).where(lagesbild_reports.c.id == report_id).values(broadcast_id=broadcast_id)
        )

    async def ready_for_slot(self, conn: AsyncConnection, slot: datetime) -> Report | None:
        """The report left for this slot (made ready for a slot in the week that ends at it)."""
        row = (
            await conn.execute(
                select(lagesbild_reports)
                .where(
                    lagesbild_reports.c.state == READY,
                    and_(lagesbild_reports.c.for_slot > slot - timedelta(days=7), lagesbild_reports.c.for_slot <= slot),
                )
                .order_by(lagesbild_reports.c.id.desc())
                .limit(1)
            )
        ).first()
        return _report(row) if row else None

    async def written_since(self, conn: AsyncConnection, since: datetime) -> list[Report]:
        rows = await conn.execute(
            select(lagesbild_reports)
            .where(lagesbild_reports.c.created_at > since, lagesbild_reports.c.state != DISCARDED)
            .order_by(lagesbild_reports.c.id.desc())
        )
        return [_report(r) for r in rows]
