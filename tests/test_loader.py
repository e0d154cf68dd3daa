"""Map files with structural mistakes: every problem of every file, in one pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from replicator.core.errors import MapError
from replicator.maps.loader import load_maps

GOOD_KEY = '  [[map.field]]\n  left = "id"\n  right = "id"\n  key = true\n'


def load_problems(tmp_path: Path, files: dict[str, str]) -> list[str]:
    maps = tmp_path / "maps"
    maps.mkdir()
    for name, text in files.items():
        (maps / name).write_text(text)
    with pytest.raises(MapError) as caught:
        load_maps(maps, tmp_path)
    return [str(p) for p in caught.value.problems]


def one_map(body: str, head: str = "") -> str:
    return f'[[map]]\nname = "m"\nleft = "a"\nright = "b"\n{head}\n{body}'


CASES = [
    pytest.param(
        "[[map]\nname = 'x'",
        "maps/a.toml: not valid TOML: Expected ']]' at the end of an array"
        " declaration (at line 1, column 6)",
        id="toml syntax",
    ),
    pytest.param(
        one_map(GOOD_KEY, 'drection = "both"'),
        "maps/a.toml: map 'm': unknown key 'drection' (known: conflict, direction, field, left,"
        " left_filter, mark, master, mode, name, on_delete, on_truncate, requires, right, right_filter)",
        id="misspelt map key",
    ),
    pytest.param(
        one_map('  [[map.field]]\n  left = "x"\n  right = "y"\n'),
        "maps/a.toml: map 'm': no key: mark the field(s) that identify a row with key = true",
        id="no key",
    ),
    pytest.param(
        '[[map]]\nname = "Bad Name"\nleft = "a"\nright = "b"\n' + GOOD_KEY,
        "maps/a.toml: map 'Bad Name': name must be lower case letters, digits and _ (starting with"
        " a letter, at most 40)",
        id="map name",
    ),
    pytest.param(
        one_map(GOOD_KEY, 'on_delete = "cascade"'),
        "maps/a.toml: map 'm': on_delete must be one of propagate, ignore, mark (got 'cascade')",
        id="delete policy",
    ),
    pytest.param(
        one_map(GOOD_KEY, 'on_delete = "mark"\nmark.right = { column = "gone", value = true }'),
        'maps/a.toml: map \'m\': on_delete = "mark" needs [map.mark] left = { column = "...",'
        " value = ... }: the left column to set when the other side deletes a row",
        id="mark missing a side",
    ),
    pytest.param(
        one_map(GOOD_KEY, 'mark.right = { column = "gone", value = true }'),
        "maps/a.toml: map 'm': mark only applies with on_delete = \"mark\"",
        id="mark without the policy",
    ),
    pytest.param(
        one_map(GOOD_KEY, 'direction = "sideways"'),
        "maps/a.toml: map 'm': direction must be one of both, to_right, to_left (got 'sideways')",
        id="map direction",
    ),
    pytest.param(
        one_map(
            GOOD_KEY + '  [[map.field]]\n  left = "x"\n  right = "y"\n  direction = "to_left"\n',
            'direction = "to_right"',
        ),
        "maps/a.toml: map 'm': field 'x': direction to_left does not fit the map, which flows"
        " to_right only",
        id="field direction outside the map",
    ),
    pytest.param(
        one_map(
            GOOD_KEY + '  [[map.field]]\n  left = "s"\n  right = "t"\n'
            '  value_map = { a = "X", b = "X" }\n'
        ),
        "maps/a.toml: map 'm': field 's': value_map is not one-to-one: right value 'X' comes from"
        " 'a' and 'b', so it cannot be mapped back to the left; make the field direction to_right",
        id="value map not invertible",
    ),
    pytest.param(
        one_map(
            GOOD_KEY
            + '  [[map.field]]\n  left = "s"\n  right = "t"\n  fallback = { right = "z" }\n'
        ),
        "maps/a.toml: map 'm': field 's': fallback only applies to a value_map",
        id="fallback alone",
    ),
    pytest.param(
        one_map(GOOD_KEY + '  [[map.field]]\n  right = "t"\n'),
        "maps/a.toml: map 'm': field 't': only a right column and no default or to_right: nothing would be"
        " written to it",
        id="one-sided field without default",
    ),
    pytest.param(
        one_map(
            '  [[map.field]]\n  left = "id"\n  right = "id"\n  key = true\n'
            '  value_map = { a = "b" }\n'
        ),
        "maps/a.toml: map 'm': field 'id': a key field is copied as it is (or looked up): no value_map, default, to_right/to_left, sticky or on_null",
        id="key with value map",
    ),
    pytest.param(
        one_map(
            GOOD_KEY + '  [[map.field]]\n  left = "x"\n  right = "t"\n'
            '  [[map.field]]\n  left = "y"\n  right = "t"\n'
        ),
        "maps/a.toml: map 'm': field 'y': two fields write right column 't'",
        id="two fields one column",
    ),
    pytest.param(
        one_map(
            GOOD_KEY + '  [[map.field]]\n  left = "x"\n  right = "t"\n  default = { middle = 1 }\n'
        ),
        "maps/a.toml: map 'm': field 'x': default is keyed by the receiving side (left or right),"
        " not 'middle'",
        id="default keyed wrongly",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_a_structural_mistake_is_named(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in load_problems(tmp_path, {"a.toml": text})


def test_duplicate_map_names_across_files_are_refused(tmp_path: Path) -> None:
    text = one_map(GOOD_KEY)
    assert load_problems(tmp_path, {"a.toml": text, "b.toml": text}) == [
        "maps/b.toml: map 'm': duplicate map name; maps/a.toml already defines it"
    ]


def test_problems_of_every_file_come_together(tmp_path: Path) -> None:
    found = load_problems(
        tmp_path,
        {"a.toml": one_map(GOOD_KEY, 'mode = "sometimes"'), "b.toml": "[[map]]\nleft = 1\n"},
    )
    assert found == [
        "maps/a.toml: map 'm': mode must be one of queued, online (got 'sometimes')",
        "maps/b.toml: map '#1': name is required (a string)",
        "maps/b.toml: map '#1': left is required: the left side's table name",
        "maps/b.toml: map '#1': right is required: the right side's table name",
        "maps/b.toml: map '#1': no fields: add [[map.field]] tables (at least the key)",
    ]


def named_map(name: str, requires: list[str]) -> str:
    return f'[[map]]\nname = "{name}"\nleft = "a"\nright = "b"\nrequires = {requires!r}\n{GOOD_KEY}'.replace(
        "'", '"'
    )


def test_maps_come_after_the_maps_they_require(tmp_path: Path) -> None:
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "a_lines.toml").write_text(named_map("schedule_lines", ["schedules"]))
    (maps / "b_schedules.toml").write_text(named_map("schedules", ["terms"]))
    (maps / "c_terms.toml").write_text(named_map("terms", []))
    (maps / "d_other.toml").write_text(named_map("other", []))
    order = [m.name for m in load_maps(maps, tmp_path).maps]
    assert order == ["terms", "schedules", "schedule_lines", "other"]


def test_an_unknown_prerequisite_is_named_and_validate_reports_it(tmp_path: Path) -> None:
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "a.toml").write_text(
        named_map("lines", ["headers"]) + named_map("headers", [])
    )
    (tmp_path / "maps" / "b.toml").write_text(named_map("other", ["header"]))
    # Loading goes on, so validate reports these together with everything else.
    maps = load_maps(tmp_path / "maps", tmp_path)
    assert [m.name for m in maps.maps] == ["headers", "lines", "other"]
    assert [str(p) for p in maps.unresolved] == [
        "maps/b.toml: map 'other': requires unknown map 'header' (did you mean 'headers'?"
        " these are map names)"
    ]


def test_a_cycle_of_prerequisites_is_spelled_out(tmp_path: Path) -> None:
    found = load_problems(
        tmp_path,
        {
            "a.toml": named_map("accounts", ["groups"]),
            "b.toml": named_map("groups", ["terms"]),
            "c.toml": named_map("terms", ["accounts"]),
            "d.toml": named_map("loyalty", ["accounts"]),
        },
    )
    assert found == [
        "maps/a.toml: map 'accounts': prerequisites form a cycle: accounts → groups → terms →"
        " accounts; remove one of these requires or lookups"
    ]
