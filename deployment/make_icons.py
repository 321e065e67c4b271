"""Draws the Teams app icons, so the committed PNGs can be regenerated instead of hand-edited.

Run `python deployment/make_icons.py` (needs Pillow). Teams wants a 192×192 colour icon and a 32×32
outline icon that is white on a transparent background.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

TEAMS_DIR = Path(__file__).resolve().parent / "teams"
ACCENT = (43, 95, 117, 255)  # #2B5F75, also the manifest's accentColor
WHITE = (255, 255, 255, 255)
YELLOW = (255, 203, 71, 255)


def _house(draw: ImageDraw.ImageDraw, scale: float, width: int) -> None:
    """A house outline with a door: home, the place remote work happens (drawn on a 32-unit grid)."""

    def p(x: float, y: float) -> tuple[float, float]:
        return (x * scale, y * scale)

    draw.line([p(3, 15), p(16, 4), p(29, 15)], fill=WHITE, width=width, joint="curve")
    draw.line([p(7, 12.5), p(7, 28), p(25, 28), p(25, 12.5)], fill=WHITE, width=width, joint="curve")
    draw.rectangle([p(13.5, 19), p(18.5, 28)], fill=WHITE)


def color_icon() -> Image.Image:
    """192×192: the house in white and a speech bubble on the accent colour, drawn 4× and scaled down."""
    big = 192 * 4
    image = Image.new("RGBA", (big, big), ACCENT)
    draw = ImageDraw.Draw(image)
    scale = big / 32 * 0.72
    offset = big * 0.1
    layer = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    _house(ImageDraw.Draw(layer), scale, width=int(2.2 * scale))
    image.alpha_composite(layer, (int(offset * 0.6), int(offset * 0.9)))
    # A speech bubble: the assistant that answers.
    x0, y0, x1, y1 = big * 0.56, big * 0.56, big * 0.92, big * 0.82
    draw.rounded_rectangle([x0, y0, x1, y1], radius=big * 0.06, fill=YELLOW)
    draw.polygon(
        [(x0 + big * 0.07, y1 - 2), (x0 + big * 0.04, y1 + big * 0.08), (x0 + big * 0.16, y1 - 2)], fill=YELLOW
    )
    for i in range(3):
        cx, cy, r = x0 + big * (0.09 + 0.09 * i), (y0 + y1) / 2, big * 0.022
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=ACCENT)
    return image.resize((192, 192), Image.Resampling.LANCZOS)


def outline_icon() -> Image.Image:
    """32×32: only pure white pixels on a fully transparent background, as Teams requires."""
    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    _house(ImageDraw.Draw(image), 1.0, width=2)
    return image


def main() -> None:
    color_icon().save(TEAMS_DIR / "color.png", optimize=True)
    outline_icon().save(TEAMS_DIR / "outline.png", optimize=True)
    print(f"wrote {TEAMS_DIR / 'color.png'} and {TEAMS_DIR / 'outline.png'}")


if __name__ == "__main__":
    main()
