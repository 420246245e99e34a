"""Playbook files: shipped ones load, every format error names its field, hashes are canonical."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from vault.cases.playbooks import InvalidPlaybook, parse_playbook, parse_yaml, shipped_playbooks
from vault.errors import InvalidInput

VALID: dict[str, Any] = {
    "key": "tiny",
    "version": 1,
    "title": "Tiny",
    "steps": [
        {"key": "a", "title": "A", "criteria": ["note"], "due_days": 1},
        {"key": "b", "title": "B", "depends_on": ["a"], "criteria": ["evidence:deliverable"], "due_days": 3},
        {
            "key": "c",
            "title": "C",
            "required": False,
            "depends_on": ["a"],
            "criteria": ["note"],
            "due_days": 5,
        },
    ],
}


def errors_of(document: Any) -> list[str]:
    with pytest.raises(InvalidPlaybook) as caught:
        parse_playbook(document)
    assert isinstance(caught.value, InvalidInput)  # answers 400 through the one error mapping
    return list(caught.value.details["errors"])


def with_step(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(VALID)
    document["steps"][1].update(changes)
    return document


def test_shipped_playbooks_are_valid_and_distinct() -> None:
    specs = {spec.key: spec for spec in shipped_playbooks()}
    assert set(specs) == {"web-agency-retainer", "it-managed-services", "consulting-engagement"}
    for spec in specs.values():
        assert spec.version >= 1
        assert sum(s.required for s in spec.steps) >= 5
        assert any("access:all_revoked" in s.criteria for s in spec.steps), spec.key
        assert any("evidence:deliverable" in s.criteria for s in spec.steps), spec.key
        assert len({s.sha256() for s in specs.values()}) == 3


def test_valid_document_parses() -> None:
    spec = parse_playbook(VALID)
    assert [s.key for s in spec.steps] == ["a", "b", "c"]
    assert spec.steps[1].depends_on == ("a",)
    assert spec.steps[2].required is False
    assert spec.steps[0].required is True  # required is the default


def test_stored_document_parses_back_to_the_same_spec() -> None:
    for spec in [parse_playbook(VALID), *shipped_playbooks()]:
        again = parse_playbook(spec.to_document())
        assert again == spec
        assert again.sha256() == spec.sha256()


def test_hash_is_over_canonical_json_not_the_yaml_text() -> None:
    head = "key: tiny\nversion: 1\ntitle: Tiny\nsteps:\n"
    one = parse_yaml(head + "  - {key: a, title: A, criteria: [note], due_days: 1}\n")
    two = parse_yaml(
        "# reordered, with comments\ntitle:   Tiny\nsteps:\n  - due_days: 1\n    criteria:\n      - note\n"
        "    title: A\n    key: a\nversion: 1\nkey: tiny\n"
    )
    assert one.canonical() == two.canonical()
    assert one.sha256() == two.sha256()
    changed = parse_yaml(head + "  - {key: a, title: A, criteria: [note], due_days: 2}\n")
    assert changed.sha256() != one.sha256()


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (with_step(depends_on=["zzz"]), "steps[1].depends_on: unknown step 'zzz'"),
        (with_step(depends_on=["b"]), "steps[1].depends_on: step 'b' depends on itself"),
        (with_step(depends_on=["c"]), "required step 'b' cannot depend on optional step 'c'"),
        (with_step(key="a"), "steps[1].key: duplicate step key 'a'"),
        (with_step(key="Bad Key"), "steps[1].key: expected lower-case letters"),
        (
            with_step(criteria=["evidence:invoice"]),
            "steps[1].criteria[0]: unknown criterion 'evidence:invoice'",
        ),
        (with_step(criteria=[{"evidence": "deliverable"}]), "steps[1].criteria[0]: unknown criterion"),
        (with_step(criteria=[]), "steps[1].criteria: expected a non-empty list"),
        (with_step(due_days=-1), "steps[1].due_days: expected a whole number of days"),
        (with_step(due_days=True), "steps[1].due_days"),
        (with_step(due_days="3"), "steps[1].due_days"),
        (with_step(required="yes"), "steps[1].required: expected true or false"),
        (with_step(title=""), "steps[1].title: expected a non-empty string"),
        (with_step(owner="bob"), "steps[1].owner: unknown field"),
        ({**VALID, "version": 0}, "version: expected a whole number >= 1"),
        ({**VALID, "key": "../etc"}, "key: expected lower-case letters"),
        ({**VALID, "steps": []}, "steps: expected a non-empty list"),
        ({**VALID, "extra": 1}, "extra: unknown field"),
        ({k: v for k, v in VALID.items() if k != "title"}, "title: expected a non-empty string"),
    ],
)
def test_each_format_error_names_its_field(document: dict[str, Any], expected: str) -> None:
    found = errors_of(document)
    assert any(expected in e for e in found), found


def test_dependency_cycle_is_reported() -> None:
    document = copy.deepcopy(VALID)
    document["steps"][0]["depends_on"] = ["b"]
    found = errors_of(document)
    assert "steps: dependency cycle among a, b" in found


def test_no_required_step_is_refused() -> None:
    document = copy.deepcopy(VALID)
    for step in document["steps"]:
        step["required"] = False
    assert "steps: at least one step must be required" in errors_of(document)


def test_every_problem_is_reported_at_once() -> None:
    steps = [{"key": "x"}, "not a step"]
    document = {"key": "BAD", "version": "one", "title": "", "steps": steps, "color": "red"}
    found = errors_of(document)
    assert len(found) >= 7, found
    joined = "\n".join(found)
    needles = ("color: unknown field", "key:", "version:", "title:", "steps[0].criteria", "steps[0].due_days")
    for needle in (*needles, "steps[1]: expected a mapping"):
        assert needle in joined


def test_not_a_mapping() -> None:
    with pytest.raises(InvalidPlaybook, match="must be a mapping"):
        parse_playbook(["a", "list"])


def test_invalid_yaml_says_where() -> None:
    with pytest.raises(InvalidPlaybook, match=r"not valid YAML at line \d+, column \d+: expected ',' or ']'"):
        parse_yaml("key: x\nsteps: [unclosed\n")


def test_yaml_is_loaded_safely() -> None:
    with pytest.raises(InvalidPlaybook, match="not valid YAML"):
        parse_yaml("key: !!python/object/apply:os.system ['true']\n")


def test_oversized_document_is_refused() -> None:
    with pytest.raises(InvalidPlaybook, match="at most 262144 bytes"):
        parse_yaml("#" * (256 * 1024 + 1))
