"""A tour of the bot in the Microsoft 365 Agents Playground, clicking cards as a person would.

Run it through scripts/playground-tour.sh (the shared wrapper starts the bot and the Playground in a
loopback-only namespace). The shared playground_chat.py only types; this script also presses card
buttons, fills the lägesbild form and switches to the team's channel, and takes a screenshot after
each step (OUT/NN-name.png). It prints one line per step and exits 1 if a step saw no reply.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TOOLS = Path(os.environ.get("PLAYGROUND_TOOLS", HERE.parent.parent / "shared" / "tools"))


def _shared() -> Any:
    """The shared playground_chat module: its reply collector, browser settings and selectors."""
    spec = importlib.util.spec_from_file_location("playground_chat", TOOLS / "playground_chat.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# (step, argument, screenshot name or "")
TOUR: list[tuple[str, str, str]] = [
    ("open", "", "01-greeting"),
    ("say", "Får jag jobba hemifrån?", "02-question"),
    ("click", "1. Vilken checklista", "03-tapped-related-question"),
    ("click", "Ja", "04-thumbs-up-card-updated"),
    ("say", "checklista hemarbete", "05-checklist-start"),
    ("say", "Handläggare bygglov", ""),
    ("click", "Ja, de flesta", "06-checklist-answer-card-updated"),
    ("click", "Nej", ""),  # no public documents or visitors
    ("click", "Nej", ""),  # no confidentiality
    ("click", "Ja, dator och VPN finns", ""),
    ("click", "Nej", ""),  # no redistribution
    ("say", "En per dag i receptionen", ""),
    ("click", "Ja", "07-checklist-result"),
    ("channel", "General", "08-channel"),
    ("mention", "prenumerera lägesbild", "09-channel-subscribed"),
    ("chat", "Personal Chat", ""),
    ("say", "skriv lägesbild", "09-lagesbild-form"),
    ("fill", "Sammanfattning=Smittspridningen ökar igen. Fler arbetar hemifrån.", ""),
    ("fill", "Beslut=Distansarbete gäller till 31 januari.", ""),
    ("click", "Förhandsgranska", "10-lagesbild-preview"),
    ("click", "Publicera nu", "11-published-card-updated"),
    ("wait", "Leveransrapport", "12-delivery-report"),
    ("channel", "General", "13-channel-got-lagesbild"),
]


async def tour(url: str, out: Path, wait: float, settle: float) -> int:
    from playwright.async_api import async_playwright

    shared = _shared()
    col = shared.ReplyCollector()
    failures = 0
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=shared.CHROMIUM, args=shared.CHROMIUM_ARGS, headless=True)
        try:
            ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})

            async def guard(route: Any) -> None:
                if shared._is_loopback(route.request.url):
                    await route.continue_()
                else:
                    await route.abort()

            await ctx.route("**/*", guard)
            page = await ctx.new_page()
            page.on(
                "websocket",
                lambda ws: ws.on("framereceived", col.feed) if "/_ws_conversation/" in ws.url else None,
            )
            box = page.locator(shared.COMPOSE)
            for n, (step, arg, shot) in enumerate(TOUR, 1):
                start, t0 = len(col.events), time.perf_counter()
                expect_reply = True
                if step == "open":
                    await page.goto(url, wait_until="domcontentloaded", timeout=wait * 1000)
                    await box.wait_for(state="visible", timeout=wait * 1000)
                    col.conversation_id = None  # every conversation: the tour moves between them
                elif step == "mention":
                    # "@Te", then the Playground's suggestion (the one inside the compose area), then the text
                    await box.first.click()
                    await page.keyboard.type("@Te")
                    await page.wait_for_timeout(1500)
                    area = await box.first.locator("xpath=../..").bounding_box()
                    for candidate in await page.get_by_text("Test Bot", exact=True).all():
                        where = await candidate.bounding_box()
                        if where and area and area["y"] <= where["y"] <= area["y"] + area["height"] + 80:
                            await candidate.click()
                            break
                    await page.keyboard.type(f" {arg}")
                    await page.get_by_role("button", name="Post").click()
                elif step == "say":
                    await box.first.click()
                    await page.keyboard.type(arg)
                    await page.keyboard.press("Enter")
                elif step == "click":
                    await page.get_by_role("button", name=arg).last.click()
                elif step == "fill":
                    field, _, value = arg.partition("=")
                    await page.get_by_label(field).last.fill(value)
                    expect_reply = False
                elif step in ("channel", "chat"):
                    await page.get_by_text(arg, exact=True).first.click()
                    await page.wait_for_timeout(1500)
                    expect_reply = False
                elif step == "wait":
                    await page.wait_for_timeout(4000)
                replies, timed_out = await col.wait_turn(start, t0, wait, settle) if expect_reply else ([], False)
                texts = [(r["text"] or r["card_text"]).replace("\n", " / ")[:160] for r in replies]
                print(f"{n:02d} {step} {arg!r}: {len(replies)} repl{'y' if len(replies) == 1 else 'ies'}")
                for r, text in zip(replies, texts, strict=True):
                    print(f"     {r['action']}: {text}")
                if expect_reply and timed_out and step != "wait":
                    failures += 1
                    print("     (no reply)")
                await page.wait_for_timeout(400)
                if shot:
                    await page.screenshot(path=str(out / f"{shot}.png"), full_page=True)
        finally:
            await browser.close()
    return 1 if failures else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url", default="http://127.0.0.1:56150")
    ap.add_argument("--out", default="/tmp/playground-tour")
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--settle", type=float, default=1.5)
    a = ap.parse_args()
    Path(a.out).mkdir(parents=True, exist_ok=True)
    return asyncio.run(tour(a.url, Path(a.out), a.timeout, a.settle))


if __name__ == "__main__":
    sys.exit(main())
