"""Notebook ruling in the sample generator: where it goes, how dark, and what it leaves alone."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from pipeline.cli import cli
from pipeline.errors import ExitCode
from pipeline.samples import generate_volume, lines_per_page, render_page
from pipeline.samples.ruling import RULINGS, Rule, ruling_lines
from tests.conftest import have_nanum_fonts, require, run_cli

pytestmark = pytest.mark.usefixtures("nanum_fonts")

# A4 at 75 dpi: rules 1 px wide, 23.6 px apart; small enough to compare pixel by pixel.
W, H = 620, 877
SEED = 3


def _rule_y(rule: Rule, x: int) -> float:
    return rule.y0 + (rule.y1 - rule.y0) * (x - rule.x0) / (rule.x1 - rule.x0)


@pytest.fixture(scope="module")
def pages() -> dict[tuple[str, str], bytes]:
    """Pixels of one page per (condition, ruling): every line written, in a hand."""
    require(have_nanum_fonts(), "fonts-nanum not installed")
    lines = ["가나다라마바사 아자차카타파하 1941년"] * lines_per_page(width=W, height=H)
    return {
        (condition, ruling): render_page(
            text_lines=lines,
            font="hand",
            condition=condition,
            seed=SEED,
            width=W,
            height=H,
            ruling=ruling,
        ).tobytes()
        for condition in ("clean", "aged")
        for ruling in RULINGS
    }


def test_rules_are_8_mm_apart_in_their_grey_range() -> None:
    assert ruling_lines(ruling="none", seed=SEED, width=W, height=H) == ()
    mm = W / 210
    for ruling, (low, high) in (("light", (150, 190)), ("dark", (100, 140))):
        rules = ruling_lines(ruling=ruling, seed=SEED, width=W, height=H)
        gaps = {round(b.y0 - a.y0, 6) for a, b in zip(rules, rules[1:], strict=False)}
        assert len(gaps) == 1  # one pitch per page
        assert 0.95 * 8 * mm <= gaps.pop() <= 1.05 * 8 * mm
        assert len(rules) >= int(0.93 * H / (1.05 * 8 * mm))  # from top to bottom
        assert all(low - 10 <= r.grey <= high + 10 for r in rules)
        assert {r.width for r in rules} == {1}  # 0.2 mm at 75 dpi
    # 0.2 mm at 300 dpi, as the benchmark draws them.
    assert {r.width for r in ruling_lines(ruling="dark", seed=SEED, width=2480, height=3508)} == {2}


@pytest.mark.parametrize("condition", ["clean", "aged"])
@pytest.mark.parametrize("ruling", ["light", "dark"])
def test_a_ruled_page_differs_only_along_its_rules(
    pages: dict[tuple[str, str], bytes], condition: str, ruling: str
) -> None:
    """Text, skew, stains and grain are the unruled page's: the ruling has its own stream."""
    plain, ruled = pages[condition, "none"], pages[condition, ruling]
    rules = ruling_lines(ruling=ruling, seed=SEED, width=W, height=H)
    far = []
    changed = 0
    for i, (a, b) in enumerate(zip(plain, ruled, strict=True)):
        if a != b:
            changed += 1
            x, y = i % W, i // W
            if min(abs(y - _rule_y(r, x)) for r in rules) > 5:  # blur reaches ~4 px
                far.append((x, y))
    assert changed > 0.9 * len(rules) * (rules[0].x1 - rules[0].x0)
    assert far == []


def _along_rules(plain: bytes, ruled: bytes, rules: tuple[Rule, ...]) -> tuple[float, float]:
    """Mean relative darkening on the rules' centre pixels: where the plain page is ink, paper."""
    ink, paper = [], []
    for rule in rules:
        for x in range(round(rule.x0) + 5, round(rule.x1) - 5):
            i = round(_rule_y(rule, x)) * W + x
            (ink if plain[i] < 60 else paper).append(1 - ruled[i] / plain[i])
    return sum(ink) / len(ink), sum(paper) / len(paper)


def test_rules_lie_under_the_ink_and_dark_is_darker(pages: dict[tuple[str, str], bytes]) -> None:
    plain = pages["clean", "none"]
    light = _along_rules(plain, pages["clean", "light"], ruling_lines(ruling="light", **_page()))
    dark = _along_rules(plain, pages["clean", "dark"], ruling_lines(ruling="dark", **_page()))
    for on_ink, on_paper in (light, dark):
        assert on_paper > 0.08  # visible on the paper
        # The ink covers them (only the blur brings some in): rules multiplied over the
        # finished page would darken ink by the same share as paper.
        assert on_ink < 0.7 * on_paper
    assert dark[1] > light[1] + 0.05
    for condition in ("clean", "aged"):
        none = pages[condition, "none"]
        total = {
            r: sum(a - b for a, b in zip(none, pages[condition, r], strict=True))
            for r in ("light", "dark")
        }
        assert total["dark"] > 1.3 * total["light"] > 0


def _page() -> dict[str, int]:
    return {"seed": SEED, "width": W, "height": H}


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def _volume(dest: Path, **kwargs: object) -> dict[str, bytes]:
    args: dict[str, object] = {"pages": 2, "seed": 9, "width": 310, "height": 438}
    generate_volume(dest, **{**args, **kwargs})  # type: ignore[arg-type]
    return _files(dest / "sample-001")


def test_ruling_none_is_the_default_and_ruling_leaves_text_and_descriptor(tmp_path: Path) -> None:
    default = _volume(tmp_path / "default")
    assert _volume(tmp_path / "none", ruling="none") == default
    dark = _volume(tmp_path / "dark", ruling="dark")
    assert _volume(tmp_path / "dark-again", ruling="dark") == dark  # deterministic
    assert sorted(dark) == sorted(default)
    assert {n for n in dark if dark[n] != default[n]} == {"p001.tif", "p002.tif"}
    assert _volume(tmp_path / "light", ruling="light")["p001.tif"] not in (
        default["p001.tif"],
        dark["p001.tif"],
    )


def test_bad_ruling_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^unknown ruling 'wavy'; expected one of"):
        _volume(tmp_path / "out", ruling="wavy")
    assert not (tmp_path / "out").exists()
    with pytest.raises(ValueError, match="ruling"):
        render_page(text_lines=["가"], font="hand", condition="clean", ruling="wavy", **_page())


def test_the_command_takes_ruling(tmp_path: Path) -> None:
    option = next(p for p in cli.commands["samples"].params if p.name == "ruling")
    assert isinstance(option.type, click.Choice)
    assert tuple(option.type.choices) == RULINGS
    size = ["--width", "310", "--height", "438", "--pages", "2", "--seed", "9"]
    out = tmp_path / "cli"
    result = run_cli("samples", str(out), *size, "--ruling", "dark")
    assert result.exit_code == 0, result.output
    assert _files(out / "sample-001") == _volume(tmp_path / "api", ruling="dark")

    result = run_cli("samples", str(tmp_path / "bad"), "--ruling", "wavy")
    assert result.exit_code == ExitCode.USAGE
    assert "Error: Invalid value for '--ruling': 'wavy' is not one of" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "bad").exists()
