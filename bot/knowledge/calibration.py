"""Fitting the confidence model: `python -m bot calibrate`.

A development tool, not part of serving: it needs scikit-learn (the `dev` dependencies). It reads labelled
questions, computes every candidate entry's signals with the knowledge base as it is, and fits a logistic
regression whose output is the probability that a candidate's answer is right. Features, regularisation and
the answering threshold are chosen by k-fold cross-validation over questions (a question's candidates stay in
one fold); the reliability table and precision/recall printed are out-of-fold, never on the fitted data.
The result is written to content/confidence.yaml for review, and serving only reads that file.
"""

from __future__ import annotations

import datetime
import pathlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import yaml

from bot.knowledge.base import KnowledgeBase
from bot.knowledge.confidence import FEATURES
from bot.knowledge.evaluation import SCORING_DAY, load_cases

FOLDS = 5
SEED = 20261203
C_VALUES = (0.1, 0.3, 1.0, 3.0, 10.0)
# The bot answers only when the model finds the answer more likely right than wrong: a wrong answer costs the
# user more than "I don't know, ask HR". Within that, cross-validation chooses.
THRESHOLDS = tuple(round(0.50 + 0.01 * i, 2) for i in range(46))  # 0.50 .. 0.95
# Removing a feature must not cost more than this much cross-validated balanced accuracy.
DROP_TOLERANCE = 0.002


@dataclass(frozen=True)
class Question:
    """One labelled question: its candidates' feature rows and which of them are right answers."""

    text: str
    in_scope: bool
    rows: list[list[float]]
    right: list[bool]
    source: str


def collect(kb: KnowledgeBase, files: Sequence[pathlib.Path], today: datetime.date = SCORING_DAY) -> list[Question]:
    questions = []
    for path in files:
        for case in load_cases(path):
            lang, candidates = kb.candidate_signals(case.question)
            right = [
                case.accepts(entry.id, partial(kb.reply_text, entry, case.question, lang, today))
                for entry, _ in candidates
            ]
            rows = [list(values.values) for _, values in candidates]
            questions.append(Question(case.question, not case.abstain, rows, right, path.name))
    return questions


@dataclass(frozen=True)
class Fit:
    features: tuple[str, ...]  # the features used; the others get weight 0
    c: float
    threshold: float
    balanced: float  # cross-validated mean of in-scope accuracy and abstention accuracy at the threshold
    answered: float
    declined: float
    out_of_fold: list[tuple[float, bool, bool]]  # per question: best probability, best is right, in scope


def calibrate(questions: Sequence[Question]) -> Fit:
    """Backward feature elimination and the choice of C and threshold, all by cross-validation."""
    chosen = list(FEATURES)
    best = _cross_validate(questions, chosen, C_VALUES)
    improved = True
    while improved and len(chosen) > 2:
        improved = False
        trials = [(_cross_validate(questions, [f for f in chosen if f != drop], (best.c,)), drop) for drop in chosen]
        trial, drop = max(trials, key=lambda pair: _goal((pair[0].answered, pair[0].declined)))
        if _goal((trial.answered, trial.declined))[0] >= _goal((best.answered, best.declined))[0] - DROP_TOLERANCE:
            chosen.remove(drop)
            best = trial
            improved = True
    return _cross_validate(questions, chosen, C_VALUES)


def _cross_validate(questions: Sequence[Question], features: Sequence[str], c_values: Sequence[float]) -> Fit:
    columns = [FEATURES.index(f) for f in features]
    folds = _folds(len(questions))
    best: Fit | None = None
    for c in c_values:
        out_of_fold: list[tuple[float, bool, bool]] = [(0.0, False, q.in_scope) for q in questions]
        for fold in folds:
            held = set(fold)
            train = [q for i, q in enumerate(questions) if i not in held]
            model = _fit(train, columns, c)
            for i in fold:
                out_of_fold[i] = _best(model, questions[i], columns)
        for threshold in THRESHOLDS:
            answered, declined = _rates(out_of_fold, threshold)
            balanced = (answered + declined) / 2
            if best is None or _better((answered, declined), (best.answered, best.declined)):
                best = Fit(tuple(features), c, threshold, balanced, answered, declined, out_of_fold)
    assert best is not None
    return best


def _goal(rates: tuple[float, float]) -> tuple[float, float]:
    """What a fit is judged by: the mean of answering right and declining right (balanced accuracy), then the
    worse of the two. Judged by the worse one first, the threshold fell until declines matched answers
    (0.878/0.880, precision 0.871); the mean keeps precision (0.869/0.912, precision 0.892)."""
    return sum(rates) / 2, min(rates)


def _better(rates: tuple[float, float], than: tuple[float, float]) -> bool:
    return _goal(rates) > _goal(than)


def _folds(count: int) -> list[list[int]]:
    order = list(range(count))
    random.Random(SEED).shuffle(order)
    return [order[k::FOLDS] for k in range(FOLDS)]


def _fit(train: Sequence[Question], columns: Sequence[int], c: float) -> object:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = [[row[k] for k in columns] for q in train for row in q.rows]
    y = [int(r) for q in train for r in q.right]
    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
    model.fit(x, y)
    return model


def _best(model: object, question: Question, columns: Sequence[int]) -> tuple[float, bool, bool]:
    if not question.rows:
        return 0.0, False, question.in_scope
    probabilities = model.predict_proba([[row[k] for k in columns] for row in question.rows])[:, 1]  # type: ignore[attr-defined]
    top = max(range(len(question.rows)), key=lambda i: (probabilities[i], -i))
    return float(probabilities[top]), question.right[top], question.in_scope


def _rates(out_of_fold: Sequence[tuple[float, bool, bool]], threshold: float) -> tuple[float, float]:
    in_scope = [(p, right) for p, right, scope in out_of_fold if scope]
    outside = [p for p, _, scope in out_of_fold if not scope]
    answered = sum(1 for p, right in in_scope if right and p >= threshold) / max(1, len(in_scope))
    declined = sum(1 for p in outside if p < threshold) / max(1, len(outside))
    return answered, declined


def final_model(
    questions: Sequence[Question], fit: Fit, files: Sequence[pathlib.Path], today: datetime.date
) -> dict[str, object]:
    """The model fitted on every labelled question, as the content file's mapping."""
    columns = [FEATURES.index(f) for f in fit.features]
    model = _fit(questions, columns, fit.c)
    scaler, regression = model.steps[0][1], model.steps[1][1]  # type: ignore[attr-defined]
    by_name = {
        name: (float(scaler.mean_[i]), float(scaler.scale_[i]) or 1.0, float(regression.coef_[0][i]))
        for i, name in enumerate(fit.features)
    }
    in_scope = sum(q.in_scope for q in questions)
    return {
        "fitted": today.isoformat(),
        "fitted_on": {
            "questions": len(questions),
            "in_scope": in_scope,
            "outside": len(questions) - in_scope,
            "files": len(files),
        },
        "cross_validation": {
            "folds": FOLDS,
            "c": fit.c,
            "answered": round(fit.answered, 4),
            "declined": round(fit.declined, 4),
        },
        "threshold": fit.threshold,
        "intercept": round(float(regression.intercept_[0]), 6),
        "features": [
            {
                "name": name,
                "mean": round(by_name.get(name, (0.0, 1.0, 0.0))[0], 6),
                "scale": round(by_name.get(name, (0.0, 1.0, 0.0))[1], 6),
                "weight": round(by_name.get(name, (0.0, 1.0, 0.0))[2], 6),
            }
            for name in FEATURES
        ],
    }


def write_model(path: pathlib.Path, document: dict[str, object], files: Sequence[pathlib.Path]) -> None:
    header = (
        "# The confidence model: the probability that a candidate entry's answer is right, from its signals\n"
        "# (bot/knowledge/confidence.py). Written by `python -m bot calibrate`; do not edit by hand, refit.\n"
        "# Fitted on: " + ", ".join(sorted({p.name for p in files})) + "\n"
        "# A feature with weight 0 was dropped by cross-validation.\n"
    )
    path.write_text(header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")


def reliability_table(out_of_fold: Sequence[tuple[float, bool, bool]], threshold: float) -> str:
    """Predicted confidence against observed accuracy of the best candidate, out of fold, and answering's
    precision and recall at the threshold."""
    lines = ["confidence   questions   right (observed)", "-----------  ---------   ----------------"]
    for low in range(0, 100, 10):
        bucket = [right for p, right, _ in out_of_fold if low / 100 <= p < (low + 10) / 100 or (low == 90 and p == 1.0)]
        if bucket:
            lines.append(
                f"{low / 100:.1f} – {(low + 10) / 100:.1f}   {len(bucket):>9}   {sum(bucket) / len(bucket):>16.2f}"
            )
    answered = [(right, scope) for p, right, scope in out_of_fold if p >= threshold]
    right_answers = sum(1 for right, _ in answered if right)
    in_scope = sum(1 for _, _, scope in out_of_fold if scope)
    precision = right_answers / len(answered) if answered else 1.0
    recall = right_answers / in_scope if in_scope else 1.0
    lines.append(f"answering at {threshold:.2f}: precision {precision:.3f}, recall {recall:.3f} (out of fold)")
    return "\n".join(lines)
