import numpy as np
import pandas as pd

from segments import explain


def two_groups() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(3)
    quiet = pd.DataFrame(
        {
            "tickets_90d": rng.integers(0, 2, 100),
            "share_chat": rng.uniform(0, 0.2, 100),
            "monetary": rng.uniform(10, 50, 100),
        }
    )
    chatty = pd.DataFrame(
        {
            "tickets_90d": rng.integers(5, 9, 100),
            "share_chat": rng.uniform(0.7, 1.0, 100),
            "monetary": rng.uniform(400, 600, 100),
        }
    )
    return pd.concat([quiet, chatty], ignore_index=True), np.array([0] * 100 + [1] * 100)


def test_tree_rules_are_readable_and_faithful():
    matrix, labels = two_groups()

    fidelity, rules = explain.tree_rules(matrix, labels)

    assert fidelity == 1.0
    rule = rules[1][0]
    assert rule["coverage"] == 1.0 and rule["precision"] == 1.0
    column, op, threshold = rule["rule"].split(" ")
    assert column in matrix.columns and op == ">"
    assert matrix.loc[labels == 0, column].max() <= float(threshold.replace(",", ""))
    assert matrix.loc[labels == 1, column].min() > float(threshold.replace(",", ""))


def test_rule_rendering_keeps_the_tightest_bounds_and_names_categories():
    conditions = [
        ("tickets_90d", ">", 3.0),
        ("share_chat", "<=", 0.9),
        ("tickets_90d", ">", 5.5),
        ("share_chat", ">", 0.6),
        ("plan=pro", ">", 0.5),
        ("country=DE", "<=", 0.5),
    ]

    text = explain._render(conditions)

    assert text == "tickets_90d > 5.5 and 0.6 < share_chat <= 0.9 and plan = pro and country != DE"


def test_traits_compare_segment_with_population():
    matrix, labels = two_groups()

    traits = explain.top_traits(matrix, labels)

    chatty = {t.column: t for t in traits[1]}
    assert set(chatty) == {"tickets_90d", "share_chat", "monetary"}
    assert all(t.z > 0 for t in chatty.values())
    assert chatty["monetary"].segment_mean == matrix.loc[labels == 1, "monetary"].mean()
    assert chatty["monetary"].population_mean == matrix["monetary"].mean()
    assert chatty["monetary"].text.startswith("high monetary: ")


def test_proposed_names_from_top_traits_and_unique():
    traits = {
        0: [explain.Trait("monetary", 500, 100, 2.0), explain.Trait("share_email", 0.9, 0.3, 1.5)],
        1: [explain.Trait("monetary", 10, 100, -1.2), explain.Trait("plan=pro", 0.9, 0.2, 1.1)],
        2: [explain.Trait("monetary", 400, 100, 1.5), explain.Trait("share_email", 0.8, 0.3, 1.0)],
        3: [],
    }

    names = explain.proposed_names(traits)

    assert names == {
        0: "High spend, email",
        1: "Low spend, pro plan",
        2: "High spend, email (2)",
        3: "Typical customers",
    }


def test_explain_gives_every_segment_a_name_and_description():
    matrix, labels = two_groups()

    explained = explain.explain(matrix, labels)

    assert set(explained.names) == set(explained.descriptions) == {0, 1}
    assert explained.descriptions[1].startswith("Customers with high ")
