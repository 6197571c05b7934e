"""The shared reading layer on hand-written adversarial texts: every piece maps back to its raw text."""

from __future__ import annotations

from modulo.reading import Block, choose, find_blocks, lines, normalise, sentences, separate_reasoning


def test_think_pairs_unclosed_and_orphan_closing_tags() -> None:
    text = "<think>try a then b</think>\n\n1. Pick up red"
    sep = separate_reasoning(text)
    assert (sep.reasoning, sep.source) == ("try a then b", "tag")
    assert text[sep.response_span.start : sep.response_span.end].strip() == "1. Pick up red"
    only = separate_reasoning("<thinking>never closed, 1. Pick up red")
    assert (only.response, only.source) == ("", "unclosed-tag")
    assert only.reasoning == "never closed, 1. Pick up red"
    orphan = separate_reasoning("thinking whose opening tag was in the prompt</think>Answer")
    assert (orphan.response, orphan.reasoning) == ("Answer", "thinking whose opening tag was in the prompt")
    field = separate_reasoning("Answer", reasoning="R1 thinking")
    assert (field.response, field.reasoning, field.source) == ("Answer", "R1 thinking", "field")
    plain = separate_reasoning("no tags at all")
    assert (plain.response, plain.reasoning, plain.source) == ("no tags at all", None, "none")


def test_markdown_removed_with_a_map_to_raw_offsets() -> None:
    raw = "**Unstack** `red` from _orange_ onto package_0"
    text, where = normalise(raw)
    assert text == "Unstack red from orange onto package_0"
    start = text.index("red")
    assert raw[where[start] : where[start + 2] + 1] == "red"
    line = lines("   2. **Step 2:** *Put down* the red block")[0]
    assert (line.text, line.marker, line.number, line.indent) == ("Put down the red block", "number", 2, 3)
    raw_line = "   2. **Step 2:** *Put down* the red block"
    assert raw_line[line.span.start : line.span.end] == "Put down* the red block"
    heading = lines("### Final plan:")[0]
    assert heading.heading and heading.text == "Final plan:"


def test_sentences_keep_spans_and_do_not_split_list_numbers() -> None:
    raw = "First, unstack **red** from orange. Then put it down.\n\n1. Pick up blue"
    pieces = sentences(raw)
    expected = ["First, unstack red from orange.", "Then put it down.", "Pick up blue"]
    assert [p.text for p in pieces] == expected
    assert raw[pieces[1].span.start : pieces[1].span.end] == "Then put it down."


def test_list_items_are_top_level_and_nested_lines_are_explanation() -> None:
    raw = "1. **Unstack A from B**\n   - *Action:* `UNSTACK A B`\n2. Put down A\n\nThis works."
    blocks = find_blocks(raw)
    listed = next(b for b in blocks if b.kind == "list")
    assert [ln.text for ln in listed.items()] == ["Unstack A from B", "Put down A"]
    assert raw[listed.items()[0].span.start : listed.items()[0].span.end] == "Unstack A from B**"[:-2]


def test_markers_fences_labels_and_a_response_that_starts_inside_the_plan() -> None:
    raw = "Draft plan:\n- a\n\n[PLAN]\nx\ny\n[PLAN END]\nafter\n```\nz\n```"
    kinds = [(b.kind, b.label) for b in find_blocks(raw)]
    assert {("marker", "[PLAN]"), ("fenced", "```"), ("labelled", "Draft plan:")} <= set(kinds)
    marker = next(b for b in find_blocks(raw) if b.kind == "marker")
    assert [ln.text for ln in marker.items()] == ["x", "y"]
    inside = find_blocks("1. x\n2. y\n[PLAN END]\nlater text")
    assert inside[0].kind == "marker" and inside[0].span.end == len("1. x\n2. y\n")


def test_a_retracted_plan_is_set_aside_and_the_correction_read() -> None:
    raw = "Plan:\n1. a\n2. b\n\nThis plan will not achieve the goal. Here's a correct plan:\n1. a\n2. c\n"
    blocks = find_blocks(raw)
    first = next(b for b in blocks if b.kind == "labelled")
    assert first.retracted and "will not achieve" in first.retraction
    keys = {id(b): tuple(ln.text for ln in b.items()) for b in blocks}
    reading = choose([(b, keys[id(b)]) for b in blocks])
    assert reading.status == "read"
    assert reading.block is not None and reading.block.final
    assert [ln.text for ln in reading.block.items()] == ["a", "c"]
    assert "retracted" in reading.reason


def test_rival_blocks_of_the_same_form_are_ambiguous_and_nothing_readable_is_unreadable() -> None:
    raw = "1. a\n2. b\n\nSomething else.\n\n1. a\n2. c\n"
    blocks = find_blocks(raw)
    keys = {id(b): tuple(ln.text for ln in b.items()) for b in blocks}
    reading = choose([(b, keys[id(b)]) for b in blocks])
    assert reading.status == "ambiguous" and reading.alternatives
    assert choose([(b, None) for b in blocks]).status == "unreadable"


def test_a_stronger_form_wins_and_weaker_disagreeing_blocks_are_listed() -> None:
    raw = "Key steps:\n1. clear a\n\n[PLAN]\nx\n[PLAN END]"
    blocks = find_blocks(raw)
    reading = choose([(b, tuple(ln.text for ln in b.items()) or None) for b in blocks])
    assert reading.status == "read" and reading.block is not None and reading.block.kind == "marker"
    assert all(isinstance(b, Block) and b.kind != "text" for b in reading.alternatives)


def test_spans_of_a_response_split_by_thinking_point_into_the_raw_text() -> None:
    from modulo.reading import separate_reasoning

    raw = "Plan:\n1. pick up red\n<think>hmm, wait</think>\n2. stack red on blue\n"
    separated = separate_reasoning(raw)
    assert separated.parts  # two stretches of response around the thinking
    for word in ("pick up red", "stack red on blue"):
        at = separated.response.index(word)
        start = separated.raw(at)
        assert raw[start : start + len(word)] == word
