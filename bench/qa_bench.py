"""Benchmark of the question matcher: index build time and answer latency, on the real content and at scale.

Run from the project's root:  python bench/qa_bench.py [--seed 7] [--questions 3000]
Prints figures only (targets: p99 < 2 ms on the real knowledge base, < 20 ms with 10,000 entries).
The synthetic entries are generated deterministically from the seed out of realistic Swedish and English
words, so that the vocabulary, compounds and typo search are as large as a big knowledge base would make them.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import pathlib
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from bot.knowledge import Entry, KnowledgeBase, Source, Topic, load_knowledge, load_synonyms  # noqa: E402
from bot.knowledge.confidence import MODEL_FILE, load_model  # noqa: E402
from bot.knowledge.labelled import load_examples  # noqa: E402

TODAY = datetime.date(2026, 11, 23)

SV_WORDS = """
arbete hemarbete distans kontor kontoret chef förvaltning medarbetare uppgift arbetsuppgifter sekretess
beslut avtal distansavtal möte möten mikrofon kamera chatt paus kalender fika rutin fritid promenad
återgång riskgrupp entré hiss korridor städning hygien lunch ambassadör tidsplan material sommar lägesbild
vecka frånvaro smitta fastighet skärm stol dator utrustning teknik vpn talesperson kommunhus styrgrupp
projektledare omfattning yrkeskategori forskning uppföljning kommun verksamhet samverkan enhet kollega
medborgare leverantör besök handling ärende planering information intranät riktlinje policy semester lön
friskvård parkering resa tjänsteresa utbildning kompetens introduktion nyanställd schema arbetstid flextid
övertid ersättning bidrag rehabilitering sjukskrivning föräldraledighet tjänstledighet pension försäkring
arbetsmiljö skyddsombud facket ergonomi bildskärm headset mobil telefon lösenord inloggning behörighet
system e-post kalenderbokning konferensrum reception växel post leverans inköp upphandling faktura budget
""".split()
SV_VERBS = "får kan ska måste behöver gäller fungerar bokar anmäler söker hittar ändrar ordnar".split()
SV_FRAMES = ["Hur", "Vad", "När", "Vem", "Var", "Varför", "Får jag", "Kan vi", "Måste jag", "Vilka"]
EN_WORDS = """
work home remote office manager administration employee task confidential decision agreement meeting
microphone camera chat break calendar coffee routine leisure walk return risk entrance lift corridor
cleaning hygiene lunch ambassador timeline material summer report week absence infection building screen
chair computer equipment technology vpn spokesperson town hall steering project research follow-up
salary holiday parking travel training onboarding schedule overtime allowance pension insurance safety
ergonomics headset phone password login access system email booking room reception invoice budget
""".split()
EN_FRAMES = ["How do I", "What is the", "When can we", "Who decides", "Where is the", "Can I", "Must we"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--questions", type=int, default=3000)
    ap.add_argument("--entries", type=int, default=10_000)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    content = ROOT / "content"

    # Start-up as the service does it: validate and load the content, build both indexes, read the model.
    real_build, kb = timed_build(lambda: load_knowledge(content), repeat=3)
    real_questions = question_mix(kb, rng, args.questions, extra=eval_questions())
    report(f"real knowledge base ({len(kb.entries)} entries)", real_build, kb, real_questions)

    synonyms = load_synonyms(content / "synonyms.yaml")
    topics = synthetic_topics(rng, args.entries, kb.topics())
    model = load_model(content / MODEL_FILE)
    examples = load_examples(content, None, [])
    big_build, big = timed_build(lambda: KnowledgeBase(topics, synonyms, model=model, examples=examples), repeat=1)
    big_questions = question_mix(big, rng, args.questions, extra=eval_questions())
    report(f"synthetic knowledge base ({len(big.entries)} entries)", big_build, big, big_questions)
    return 0


def timed_build(build: Callable[[], KnowledgeBase], repeat: int) -> tuple[float, KnowledgeBase]:
    times = []
    kb = None
    for _ in range(repeat):
        start = time.perf_counter()
        kb = build()
        times.append(time.perf_counter() - start)
    assert kb is not None
    return min(times), kb


def report(name: str, build_seconds: float, kb: KnowledgeBase, questions: Sequence[str]) -> None:
    for q in questions[:50]:  # warm-up, as a running service would be
        kb.answer(q, today=TODAY)
    gc.collect()
    gc.disable()
    latencies = []
    answered = 0
    try:
        for q in questions:
            start = time.perf_counter_ns()
            a = kb.answer(q, today=TODAY)
            latencies.append((time.perf_counter_ns() - start) / 1e6)
            answered += a.answered
    finally:
        gc.enable()
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"{name}")
    print(f"  start-up        {build_seconds * 1000:9.1f} ms (content, indexes, model)")
    print(f"  questions       {len(questions):9d} ({answered} answered)")
    print(f"  latency p50     {p50:9.3f} ms")
    print(f"  latency p99     {p99:9.3f} ms")
    print(f"  latency max     {latencies[-1]:9.3f} ms")


def eval_questions() -> list[str]:
    questions = []
    for path in (ROOT.parent / "shared/eval/qa-dev.yaml", ROOT / "tests/knowledge/qa-heldout.yaml"):
        if path.exists():
            questions += [c["q"] for c in yaml.safe_load(path.read_text(encoding="utf-8"))]
    return questions


def question_mix(kb: KnowledgeBase, rng: random.Random, count: int, extra: list[str]) -> list[str]:
    """Real phrasings, perturbed ones (typos, lower case, no punctuation) and out-of-scope questions."""
    phrasings = [q for e in kb.entries for lang in ("sv", "en") for q in e.questions.get(lang, [])]
    out_of_scope = [
        "Hur mycket semester har jag kvar?",
        "qwerty",
        "Vad kostar det att parkera vid kommunhuset?",
        "When is the next public holiday?",
        "recept på kanelbullar",
    ]
    questions: list[str] = []
    while len(questions) < count:
        roll = rng.random()
        if roll < 0.15 and extra:
            questions.append(rng.choice(extra))
        elif roll < 0.25:
            questions.append(rng.choice(out_of_scope))
        elif roll < 0.55:
            questions.append(rng.choice(phrasings))
        else:
            questions.append(perturb(rng.choice(phrasings), rng))
    return questions


def perturb(text: str, rng: random.Random) -> str:
    """A question as typed in a hurry: lower case, no punctuation, one or two typos, words dropped."""
    words = [w.strip("?,.!") for w in text.lower().split()]
    if len(words) > 3 and rng.random() < 0.5:
        del words[rng.randrange(len(words))]
    for _ in range(rng.choice((1, 1, 2))):
        i = rng.randrange(len(words))
        w = words[i]
        if len(w) > 4:
            j = rng.randrange(1, len(w) - 1)
            kind = rng.random()
            if kind < 0.33:
                w = w[:j] + w[j + 1 :]  # a letter dropped
            elif kind < 0.66:
                w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]  # two letters swapped
            else:
                w = w[:j] + rng.choice("aeioulnrst") + w[j:]  # a letter added
        words[i] = w
    return " ".join(words)


def synthetic_topics(rng: random.Random, count: int, real: Sequence[Topic]) -> list[Topic]:
    """`count` entries over 50 topics, with real entries mixed in so that real questions still match."""
    source = Source(id="synthetic", title="Syntetisk källa", date=datetime.date(2021, 6, 15), where="HINT")
    compounds = [a + b for a in SV_WORDS[:40] for b in SV_WORDS[40:80]]
    topics: list[Topic] = []
    wanted = max(0, count - sum(len(t.entries) for t in real))
    made = 0
    for t in range(50):
        entries: list[Entry] = []
        for _ in range(wanted // 50 + (1 if t < wanted % 50 else 0)):
            made += 1
            entries.append(
                Entry(
                    id=f"synthetic-{made}",
                    topic=f"topic-{t}",
                    questions={
                        "sv": [sv_question(rng, compounds) for _ in range(3)],
                        "en": [en_question(rng) for _ in range(2)],
                    },
                    answer={
                        "sv": " ".join(rng.choice(SV_WORDS + SV_VERBS) for _ in range(40)) + ".",
                        "en": " ".join(rng.choice(EN_WORDS) for _ in range(35)) + ".",
                    },
                    source=source,
                    review_date=datetime.date(2027, 6, 30),
                    owner="HR",
                )
            )
        topics.append(Topic(id=f"topic-{t}", title={"sv": f"Ämne {t}", "en": f"Topic {t}"}, entries=entries))
    return [*real, *topics]


def sv_question(rng: random.Random, compounds: list[str]) -> str:
    words = [rng.choice(SV_FRAMES), rng.choice(SV_VERBS)]
    words += [rng.choice(compounds) if rng.random() < 0.3 else rng.choice(SV_WORDS) for _ in range(rng.randint(2, 5))]
    return " ".join(words) + "?"


def en_question(rng: random.Random) -> str:
    return " ".join([rng.choice(EN_FRAMES), *(rng.choice(EN_WORDS) for _ in range(rng.randint(2, 5)))]) + "?"


if __name__ == "__main__":
    sys.exit(main())
