"""Calibrated confidence: folded spellings, the n-gram signal, the model file, and the rule in force first."""

from __future__ import annotations

import pathlib
import re
import shutil

import pytest
import yaml

from bot.content_errors import ContentError
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.knowledge.confidence import FEATURES, is_dated, is_negated, question_type
from bot.knowledge.evaluation import SCORING_DAY
from bot.knowledge.ngrams import NgramIndex, pieces
from bot.knowledge.normalize import fold
from tests.knowledge.conftest import CONTENT, LATER

DEV = CONTENT.parent.parent / "shared" / "eval" / "qa-dev.yaml"


def folded(text: str) -> str:
    return "".join(fold(ch) for ch in text)


def _questions_with_swedish_letters(kb: KnowledgeBase) -> list[str]:
    asked = [q for e in kb.entries for lang in ("sv", "en") for q in e.questions.get(lang, [])]
    if DEV.exists():
        asked += [c["q"] for c in yaml.safe_load(DEV.read_text(encoding="utf-8"))]
    return [q for q in asked if folded(q) != q]


def test_a_question_typed_without_swedish_letters_gets_the_same_answer(kb: KnowledgeBase) -> None:
    """Every phrasing of the knowledge base and every dev question, typed without å/ä/ö."""
    questions = _questions_with_swedish_letters(kb)
    assert len(questions) > 150
    differ = []
    for question in questions:
        plain, typed = kb.answer(question, today=LATER), kb.answer(folded(question), today=LATER)
        same_entry = (plain.entry.id if plain.entry else None) == (typed.entry.id if typed.entry else None)
        if not same_entry or plain.answered != typed.answered or abs(plain.score - typed.score) > 0.05:
            differ.append((question, plain.entry and plain.entry.id, round(plain.score, 2), round(typed.score, 2)))
    assert not differ, differ


@pytest.mark.parametrize(
    "question",
    [
        "far jag ta med skarmen hem fran kontoret",
        "kan man jobba hemma nar man har sekretessarenden",
    ],
)
def test_folded_questions_from_the_issue_are_answered_as_with_the_letters(kb: KnowledgeBase, question: str) -> None:
    with_letters = {
        "far jag ta med skarmen hem fran kontoret": "Får jag ta med skärmen hem från kontoret?",
        "kan man jobba hemma nar man har sekretessarenden": "Kan man jobba hemma när man har sekretessärenden?",
    }[question]
    typed, written = kb.answer(question, today=LATER), kb.answer(with_letters, today=LATER)
    assert written.answered
    assert typed.answered
    assert typed.entry == written.entry


def test_ngram_similarity_needs_no_vocabulary() -> None:
    index = NgramIndex([(0, 0, "Får jag ta hem sekretessärenden?"), (1, 0, "Hur bokar jag ett konferensrum?")])
    (near,) = index.similarities(index.query_vector(pieces("sekretessarendena hemma")))
    assert near.get(0, 0.0) > 0.3
    assert near.get(1, 0.0) < 0.1


def test_question_type_negation_and_dates_are_read() -> None:
    assert question_type("Hej! Varför får inte vissa grupper arbeta hemma?") == "why"
    assert question_type("När går distansbeslutet ut?") == "when"
    assert question_type("Who decides where meetings are held?") == "who"
    assert question_type("jag glömmer att ta pauser") is None
    assert is_negated("Varför får inte vissa grupper arbeta hemma?")
    assert is_negated("Why can't some staff work from home?")
    assert not is_negated("Får jag arbeta hemma?")
    assert is_dated("Vad gällde våren 2020?")
    assert not is_dated("Får jag jobba hemifrån?")


@pytest.mark.parametrize(
    "question",
    ["Får jag jobba hemifrån?", "Can I work from home on Fridays?", "Gäller distansarbetet fortfarande?"],
)
def test_an_undated_question_names_the_latest_decision_and_that_it_has_ended(kb: KnowledgeBase, question: str) -> None:
    answer = kb.answer(question, today=LATER)
    assert answer.answered, (answer.entry and answer.entry.id, answer.score)
    assert answer.entry is not None
    assert answer.entry.id.startswith("distans-2021-")
    assert re.search("16 september 2021", answer.text, re.IGNORECASE)
    assert re.search(r"har upphört|has ended|är slut|is over", answer.text), answer.text
    assert re.search(r"chef|manager|HR", answer.text)


def test_a_dated_question_gets_its_period_without_the_notice(kb: KnowledgeBase) -> None:
    answer = kb.answer("Vad gällde för hemarbete i mars 2020?", today=LATER)
    assert answer.answered
    assert not answer.text.startswith("Obs")


def test_out_of_scope_questions_near_the_guidance_are_declined(kb: KnowledgeBase) -> None:
    for question in (
        "Behöver jag munskydd när jag kommer tillbaka till kontoret?",
        "Får jag ta med hunden när vi går tillbaka till kontoret?",
        "Får jag parkera gratis vid kommunhuset när jag jobbar på plats?",
        "Vad blir det för lunch i personalmatsalen på fredag?",
    ):
        answer = kb.answer(question, today=LATER)
        assert not answer.answered, (question, answer.entry and answer.entry.id, answer.score)


def test_the_model_file_is_validated(tmp_path: pathlib.Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    model = yaml.safe_load((content / "confidence.yaml").read_text(encoding="utf-8"))
    model["features"] = model["features"][:-1]
    (content / "confidence.yaml").write_text(yaml.safe_dump(model), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_knowledge(content)
    assert "confidence.yaml" in str(caught.value)
    assert "refit" in str(caught.value)


def test_a_labelled_question_must_name_an_existing_entry(tmp_path: pathlib.Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    (content / "calibration" / "extra.yaml").write_text('- q: "Hur gör jag?"\n  ids: [finns-inte]\n', encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_knowledge(content)
    assert "no knowledge entry has the id 'finns-inte'" in str(caught.value)


def test_every_feature_is_in_the_model_file() -> None:
    doc = yaml.safe_load((CONTENT / "confidence.yaml").read_text(encoding="utf-8"))
    assert [f["name"] for f in doc["features"]] == list(FEATURES)
    assert 0 < doc["threshold"] < 1


def test_scoring_day_is_after_every_period(kb: KnowledgeBase) -> None:
    assert all(e.period_to is None or e.period_to < SCORING_DAY for e in kb.entries)


def test_calibrate_refits_and_writes_a_model_that_serving_reads(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main
    from bot.knowledge.confidence import load_model

    labelled = []
    for name in ("labelled-sv.yaml", "labelled-oos.yaml"):
        labelled += yaml.safe_load((CONTENT / "calibration" / name).read_text(encoding="utf-8"))[::6]
    source = tmp_path / "labelled.yaml"
    source.write_text(yaml.safe_dump(labelled, allow_unicode=True), encoding="utf-8")
    target = tmp_path / "confidence.yaml"

    assert main(["calibrate", str(source), "--output", str(target)]) == 0

    printed = capsys.readouterr().out
    assert "cross-validated: in scope answered right" in printed
    assert "confidence   questions   right (observed)" in printed
    assert re.search(r"precision \d\.\d{3}, recall \d\.\d{3}", printed)
    model = load_model(target)
    assert model is not None
    assert model.features == FEATURES
    assert any(w != 0 for w in model.weights)


@pytest.mark.parametrize(
    "question", ["Varför får inte vissa grupper arbeta hemma?", "Why can't some staff work from home?"]
)
def test_why_not_reaches_the_reasons_some_tasks_stay_on_site(kb: KnowledgeBase, question: str) -> None:
    answer = kb.answer(question, today=LATER)
    assert answer.answered
    assert answer.entry is not None
    assert answer.entry.id in {"hemarbete-2020-pa-plats", "hemarbete-2020-sekretess", "hemarbete-2020-samhallsviktig"}
