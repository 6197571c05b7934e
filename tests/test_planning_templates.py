"""Templates: render and read back plans and states, for Blocksworld and an obfuscated variant."""

from __future__ import annotations

from importlib import resources

from modulo.domains.planning.templates import Templates, load_config

CONFIG = load_config(
    (resources.files("modulo.domains.planning") / "blocksworld.yaml").read_text(encoding="utf-8")
)
MYSTERY = {
    "actions": {"attack": "attack object {}", "feast": "feast object {} from object {}"},
    "predicates": {
        "craves": "object {} craves object {}",
        "harmony": "harmony",
        "planet": "planet object {}",
    },
}


def test_actions_round_trip() -> None:
    templates = Templates(CONFIG, ["a", "b", "c"])
    for action in [("unstack", "b", "c"), ("stack", "c", "b"), ("pick-up", "a"), ("put-down", "b")]:
        assert templates.read_action("3. " + templates.action(action).capitalize() + ".").action == action
    assert templates.action(("unstack", "b", "c")) == "unstack the blue block from on top of the orange block"


def test_lenient_reading_keeps_wrong_object_counts() -> None:
    templates = Templates(CONFIG, ["a", "b", "c"])
    read = templates.read_action("Unstack the red block from the blue block (now holding the red block)")
    assert read.action == ("unstack", "a", "b") and not read.exact
    assert templates.read_action("Stack the red block").action == ("stack", "a")
    assert templates.read_action("Now I am done.").action is None


def test_states_round_trip_and_unread_fragments() -> None:
    templates = Templates(CONFIG, ["a", "b", "c"])
    atoms = [("clear", "a"), ("handempty",), ("on", "a", "b"), ("ontable", "b"), ("holding", "c")]
    assert templates.read_state(templates.facts(atoms)) == (frozenset(atoms), [])
    _, unread = templates.read_state("the red block is clear and the blue block is in the air")
    assert unread == ["the blue block is in the air"]


def test_obfuscated_domain_from_templates_alone() -> None:
    templates = Templates(MYSTERY, ["a", "b"])
    assert templates.read_action("feast object a from object b").action == ("feast", "a", "b")
    assert templates.read_state("harmony, planet object b and object a craves object b") == (
        frozenset({("harmony",), ("planet", "b"), ("craves", "a", "b")}),
        [],
    )
