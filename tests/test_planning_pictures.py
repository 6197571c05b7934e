"""Blocksworld states drawn as towers (the sample screen's picture), against towers worked out by hand."""

from __future__ import annotations

from pathlib import Path

from modulo.domains.planning.pictures import beside, draw, towers
from modulo.model import GeneratorConfig, RunConfig, TaskConfig
from modulo.registry import get_domain
from modulo.runner import Runner
from modulo.store import Store


def test_towers_of_a_state() -> None:
    state = [("ontable", "c"), ("on", "a", "c"), ("on", "d", "a"), ("ontable", "e"), ("clear", "d")]
    assert towers(state) == [["c", "a", "d"], ["e"]]
    assert draw([["c", "a", "d"], ["e"]]) == ["[d]", "[a]", "[c] [e]", "───────"]
    # a goal names no table: its towers start at the blocks that are on nothing
    assert towers([("on", "b", "d"), ("on", "c", "b"), ("on", "d", "a")], table=False) == [
        ["a", "d", "b", "c"]
    ]
    assert towers([("at", "truck", "depot")]) is None


def test_render_shows_before_after_and_goal(tmp_path: Path) -> None:
    """bw-4-2-0 with a precondition violation at step 10: the towers before, after the 9 steps that apply
    (b held, d on a, c alone), and the goal, worked out by hand from the instance's init and goal."""
    config = RunConfig(
        name="pictures",
        generator=GeneratorConfig(params={"variant": "precondition-violation"}),
        tasks=[TaskConfig(domain="blocksworld", count=1, seed=2, params={"blocks": 4})],
    )
    with Store(tmp_path / "s.sqlite") as store:
        Runner(config, store).run()
        [sample] = store.samples(store.find_run("pictures").id)
    drawing = get_domain("blocksworld").render(sample.instance, sample.trace)
    assert drawing.split("\n\n")[0] == "\n".join(
        [
            "before:    after step 9 (step 10 fails), holding b:    goal:",
            "[b]                                                    [c]",
            "[d]                                                    [b]",
            "[a]        [d]                                         [d]",
            "[c]        [a] [c]                                     [a]",
            "───        ───────                                     ───",
        ]
    )


def test_wide_pictures_go_one_under_another() -> None:
    """Panels wider together than PICTURE_WIDTH are stacked, each label above its towers."""
    wide = draw([[f"block{i}"] for i in range(8)])
    assert beside([("before:", wide), ("goal:", ["[a]", "───"])]) == [
        "before:",
        *wide,
        "",
        "goal:",
        "[a]",
        "───",
    ]
