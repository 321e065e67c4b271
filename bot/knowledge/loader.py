"""Reads and validates content/ at start-up; every problem found is reported at once, by file, entry and field.

The organisation edits these YAML files without a developer, so an error message must say exactly where
to look: "content/knowledge/x.yaml: entry 'y': field 'answer.sv': must not be empty (line 12)".
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from bot.content_errors import ContentError, ContentProblem
from bot.content_yaml import parse_yaml, validate
from bot.knowledge.analysis import Lexicon, SynonymGroup, SynonymSet
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.checks import kind_problems
from bot.knowledge.confidence import MODEL_FILE, load_model
from bot.knowledge.labelled import load_examples
from bot.knowledge.models import Entry, Source, Topic
from bot.knowledge.normalize import LANGS, Stemmers, tokenize
from bot.knowledge.schema import KnowledgeFileDoc, SourcesFileDoc, SynonymsFileDoc

M = TypeVar("M", bound=BaseModel)

SOURCES_FILE = "sources.yaml"
SYNONYMS_FILE = "synonyms.yaml"
KNOWLEDGE_DIR = "knowledge"


@dataclass(frozen=True)
class _Checked(Generic[M]):
    """A validated file, or None with the ids its items declare (None when it could not be read at all).

    The ids let the other files' references be checked without a cascade of "no such id" problems.
    """

    doc: M | None
    ids: set[str] | None


def load_knowledge(content_dir: pathlib.Path, *, with_model: bool = True) -> KnowledgeBase:
    """Validate content_dir and build the knowledge base; raises ContentError listing every problem.

    `with_model=False` leaves the confidence model out (to refit it, also when it is out of date)."""
    content_dir = pathlib.Path(content_dir)
    problems: list[ContentProblem] = []
    stemmers = Stemmers()

    sources, source_ids = _load_sources(content_dir / SOURCES_FILE, problems)
    synonyms, lexicon = _load_synonyms(content_dir / SYNONYMS_FILE, stemmers, problems)
    topics = _load_topics(content_dir / KNOWLEDGE_DIR, sources, source_ids, problems)
    # Labelled questions name entries; when the entries themselves have problems, those come first.
    entry_ids = None if problems else {e.id for topic in topics for e in topic.entries}
    examples = load_examples(content_dir, entry_ids, problems)
    model_path = content_dir / MODEL_FILE
    model = load_model(model_path, problems) if with_model and model_path.exists() else None
    if problems:
        raise ContentError(problems)
    return KnowledgeBase(topics, synonyms, stemmers=stemmers, lexicon=lexicon, model=model, examples=examples)


def load_synonyms(path: pathlib.Path) -> SynonymSet:
    """Only the synonyms file, validated; used by tools that build a knowledge base in memory."""
    problems: list[ContentProblem] = []
    synonyms, _ = _load_synonyms(pathlib.Path(path), Stemmers(), problems)
    if problems:
        raise ContentError(problems)
    return synonyms


# ---- sources ---------------------------------------------------------------------------------------


def _load_sources(path: pathlib.Path, problems: list[ContentProblem]) -> tuple[dict[str, Source], set[str] | None]:
    """The sources by id, and the ids entries may refer to (None: unknown, skip that check)."""
    checked = _validated(path, SourcesFileDoc, problems, collection="sources")
    doc = checked.doc
    if doc is None:
        return {}, checked.ids
    sources: dict[str, Source] = {}
    for item in doc.sources:
        if item.id in sources:
            problems.append(ContentProblem(str(path), item.id, "id", "the same source id is used twice"))
            continue
        sources[item.id] = Source(
            id=item.id,
            title=item.title,
            date=item.date,
            where=item.where,
            diarienummer=item.diarienummer,
            url=item.url,
            where_en=item.where_en,
        )
    return sources, set(sources)


# ---- synonyms --------------------------------------------------------------------------------------


def _load_synonyms(
    path: pathlib.Path, stemmers: Stemmers, problems: list[ContentProblem]
) -> tuple[SynonymSet, Lexicon]:
    doc = _validated(path, SynonymsFileDoc, problems, collection="groups").doc
    if doc is None:
        empty = SynonymSet()
        return empty, Lexicon(empty, stemmers)
    seen: set[str] = set()
    groups: list[SynonymGroup] = []
    for group in doc.groups:
        if group.id in seen:
            problems.append(ContentProblem(str(path), group.id, "id", "the same group id is used twice"))
            continue
        seen.add(group.id)
        if len(group.sv) + len(group.en) < 2:
            problems.append(
                ContentProblem(str(path), group.id, "sv", "a group needs at least two words that mean the same")
            )
        for lang in LANGS:
            for number, term in enumerate(getattr(group, lang)):
                if not tokenize(term):
                    problems.append(
                        ContentProblem(str(path), group.id, f"{lang}.{number}", f"{term!r} contains no word")
                    )
        groups.append(
            SynonymGroup(
                group.id, {"sv": tuple(group.sv), "en": tuple(group.en)}, tuple(group.near), outside=group.outside
            )
        )
    for group in doc.groups:
        for number, other in enumerate(group.near):
            if other not in seen:
                problems.append(ContentProblem(str(path), group.id, f"near.{number}", f"no group has the id {other!r}"))
    synonyms = SynonymSet(
        tuple(groups),
        {"sv": tuple(doc.light.sv), "en": tuple(doc.light.en)},
        {"sv": tuple(doc.context.sv), "en": tuple(doc.context.en)},
    )
    lexicon = Lexicon(synonyms, stemmers)
    for c in lexicon.conflicts:
        problems.append(
            ContentProblem(
                str(path),
                c.group,
                c.lang,
                f"{c.term!r} (or a form of it) is already in group {c.other_group!r}; a word may be in one group only",
            )
        )
    return synonyms, lexicon


# ---- knowledge files ---------------------------------------------------------------------------------


def _load_topics(
    folder: pathlib.Path,
    sources: dict[str, Source],
    source_ids: set[str] | None,
    problems: list[ContentProblem],
) -> list[Topic]:
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    if not files:
        problems.append(ContentProblem(str(folder), "", "", "no knowledge files (*.yaml) found"))
        return []
    topics: list[Topic] = []
    topic_files: dict[str, pathlib.Path] = {}
    entry_files: dict[str, pathlib.Path] = {}
    all_entries: list[tuple[pathlib.Path, Any]] = []
    unreadable = False
    for path in files:
        checked = _validated(path, KnowledgeFileDoc, problems, collection="entries")
        doc = checked.doc
        if doc is None:
            unreadable = unreadable or checked.ids is None
            for item_id in checked.ids or ():
                entry_files.setdefault(item_id, path)
            continue
        if doc.topic.id in topic_files:
            first = topic_files[doc.topic.id]
            problems.append(
                ContentProblem(str(path), "", "topic.id", f"topic {doc.topic.id!r} is already used by {first}")
            )
        topic_files.setdefault(doc.topic.id, path)
        entries: list[Entry] = []
        for item in doc.entries:
            if item.id in entry_files:
                problems.append(
                    ContentProblem(str(path), item.id, "id", f"the same id is already used in {entry_files[item.id]}")
                )
                continue
            entry_files[item.id] = path
            all_entries.append((path, item))
            source = sources.get(item.source)
            if source_ids is not None and item.source not in source_ids:
                problems.append(
                    ContentProblem(str(path), item.id, "source", f"unknown source {item.source!r}; see sources.yaml")
                )
            if item.period_from and item.period_to and item.period_from > item.period_to:
                problems.append(ContentProblem(str(path), item.id, "period_to", "ends before period_from"))
            problems.extend(kind_problems(item, str(path)))
            if source is not None:
                entries.append(_entry(item, doc.topic.id, source, path))
        title = {"sv": doc.topic.title.sv, **({"en": doc.topic.title.en} if doc.topic.title.en else {})}
        topics.append(Topic(id=doc.topic.id, title=title, entries=entries))
    _check_references(all_entries, None if unreadable else entry_files, problems)
    return topics


def _entry(item: Any, topic: str, source: Source, path: pathlib.Path) -> Entry:
    answer = {"sv": item.answer.sv, **({"en": item.answer.en} if item.answer.en else {})}
    return Entry(
        id=item.id,
        topic=topic,
        questions={"sv": list(item.questions.sv), "en": list(item.questions.en)},
        answer=answer,
        source=source,
        review_date=item.review_date,
        owner=item.owner,
        period_from=item.period_from,
        period_to=item.period_to,
        related=list(item.related),
        walkthrough=item.walkthrough,
        keywords={"sv": list(item.keywords.sv), "en": list(item.keywords.en)},
        file=str(path),
        kind=item.kind,
        superseded_by=item.superseded_by,
        example_of=(
            {"sv": item.example_of.sv, **({"en": item.example_of.en} if item.example_of.en else {})}
            if item.example_of
            else None
        ),
        locator=item.locator,
    )


def _check_references(
    entries: Sequence[tuple[pathlib.Path, Any]], ids: dict[str, pathlib.Path] | None, problems: list[ContentProblem]
) -> None:
    """Related ids must exist (unless a file could not be read), and a question must belong to one entry."""
    questions: dict[str, str] = {}
    for path, item in entries:
        for number, related in enumerate(item.related):
            if related == item.id:
                problems.append(
                    ContentProblem(str(path), item.id, f"related.{number}", "an entry cannot relate to itself")
                )
            elif ids is not None and related not in ids:
                problems.append(
                    ContentProblem(str(path), item.id, f"related.{number}", f"no entry has the id {related!r}")
                )
        if item.superseded_by is not None and (
            item.superseded_by == item.id or (ids is not None and item.superseded_by not in ids)
        ):
            problems.append(
                ContentProblem(str(path), item.id, "superseded_by", f"no other entry has the id {item.superseded_by!r}")
            )
        for lang in LANGS:
            for number, question in enumerate(getattr(item.questions, lang)):
                key = lang + ":" + " ".join(tokenize(question))
                other = questions.setdefault(key, item.id)
                if other != item.id:
                    problems.append(
                        ContentProblem(
                            str(path),
                            item.id,
                            f"questions.{lang}.{number}",
                            f"the same question is also listed under entry {other!r}",
                        )
                    )


# ---- YAML and schema errors ------------------------------------------------------------------------------


def _validated(path: pathlib.Path, model: type[M], problems: list[ContentProblem], collection: str) -> _Checked[M]:
    """Parse and validate one file; on failure add its problems and return no document."""
    parsed = parse_yaml(path, str(path), problems)
    if parsed is None:
        return _Checked(None, None)
    return _Checked(validate(model, parsed, str(path), problems), _raw_ids(parsed.data, collection))


def _raw_ids(data: Any, collection: str) -> set[str]:
    items = data.get(collection) if isinstance(data, dict) else None
    if not isinstance(items, list):
        return set()
    return {item["id"].strip() for item in items if isinstance(item, dict) and isinstance(item.get("id"), str)}
