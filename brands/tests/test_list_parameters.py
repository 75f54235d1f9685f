"""List parameters: every list kind renders as bare quoted items, safely, within the size limits."""

import pytest

from queries import list_parameters
from queries.parameters import prepare_query
from queries.validation.parameters import ParameterDefinition, ParameterError, render_placeholders


def render(sql, kind, value, name="items"):
    return render_placeholders(sql, {name: ParameterDefinition(name, kind)}, {name: value})


@pytest.mark.parametrize(
    "kind, value, expected",
    [
        ("asin_list", "b0aaaaaaa1, B0AAAAAAA2\nB0AAAAAAA1", "IN ('B0AAAAAAA1', 'B0AAAAAAA2')"),
        ("campaign_list", ["111", "222"], "IN ('111', '222')"),
        ("id_list", "a-1,b.2", "IN ('a-1', 'b.2')"),
        ("string_list", ["O'Brien", "x) OR 1=1 --"], "IN ('O''Brien', 'x) OR 1=1 --')"),
    ],
)
def test_every_list_kind_renders_without_nested_parentheses(kind, value, expected):
    assert render("WHERE x IN ({{items}})", kind, value) == f"WHERE x {expected}"


def test_empty_lists_are_an_error_before_submitting():
    for kind in list_parameters.LIST_TYPES:
        with pytest.raises(ParameterError, match="required|at least one"):
            render("IN ({{items}})", kind, " , ")


def test_shapes_are_checked():
    with pytest.raises(ParameterError, match="'B0SHORT' is not an ASIN"):
        render("IN ({{items}})", "asin_list", "B0SHORT")
    with pytest.raises(ParameterError, match="is not a valid id"):
        render("IN ({{items}})", "campaign_list", ["1'; DROP"])
    with pytest.raises(ParameterError, match="is not a campaign id"):
        render("IN ({{items}})", "campaign_list", ["9" * 65])


def test_lists_past_the_maximum_are_refused():
    items = [f"B0{i:08d}" for i in range(list_parameters.MAX_ITEMS + 1)]
    with pytest.raises(ParameterError, match="more than the 4,000"):
        render("IN ({{items}})", "asin_list", items)
    allowed = render("IN ({{items}})", "asin_list", items[:-1])
    assert len(allowed) < 65_536


def test_custom_parameters_declare_list_kinds_as_string_arrays():
    prepared = prepare_query("SELECT 1 WHERE a IN (CUSTOM_PARAMETER('asins'))",
                             {"asins": ParameterDefinition("asins", "asin_list")}, {"asins": "b0aaaaaaa1"})  # fmt: skip
    assert prepared.input_parameters[0]["dataType"] == {"type": "ARRAY", "elementDataType": "STRING"}
    assert prepared.parameter_values == {"asins": ["B0AAAAAAA1"]}
