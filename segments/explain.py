"""Segments in words: a shallow decision tree's rules, top traits and a proposed name.

The tree is fitted on the unscaled feature matrix (so thresholds read in days, orders and
money) against the segment labels, on a sample for large N. Its fidelity is its accuracy in
reproducing the labels. Traits compare each segment's mean with the population: the z-score
``(segment mean - population mean) / population standard deviation``.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier

MAX_DEPTH = 4
TREE_SAMPLE = 100_000
RULES_PER_SEGMENT = 2
TRAITS_PER_SEGMENT = 3
NAME_TRAITS = 2
MIN_TRAIT_Z = 0.5
RANDOM_STATE = 0

# column -> (name part when the segment is above the population, when below)
WORDS = {
    "recency_days": ("Lapsed", "Recent buyers"),
    "frequency": ("Frequent buyers", "Rare buyers"),
    "monetary": ("High spend", "Low spend"),
    "avg_order_value": ("Big baskets", "Small baskets"),
    "tenure_days": ("Long-standing", "Newcomers"),
    "tickets_total": ("Many tickets", "Few tickets"),
    "tickets_90d": ("Many recent tickets", "Quiet lately"),
    "tickets_per_month": ("Frequent contact", "Rare contact"),
    "median_first_response_hours": ("Slow first replies", "Fast first replies"),
    "median_resolution_hours": ("Slow resolution", "Fast resolution"),
    "csat_avg": ("Satisfied", "Dissatisfied"),
    "csat_last": ("Recently satisfied", "Recently dissatisfied"),
    "age": ("Older", "Younger"),
    "org_size": ("Large organisations", "Small organisations"),
}


@dataclass(frozen=True)
class Trait:
    column: str
    segment_mean: float
    population_mean: float
    z: float

    @property
    def text(self) -> str:
        direction = "high" if self.z > 0 else "low"
        if "=" in self.column:
            field, value = self.column.split("=", 1)
            return (
                f"{_humanise(field)} {value}: {self.segment_mean:.0%} "
                f"vs {self.population_mean:.0%} overall"
            )
        return (
            f"{direction} {_humanise(self.column)}: {_number(self.segment_mean)} "
            f"vs {_number(self.population_mean)} overall"
        )

    @property
    def name_part(self) -> str | None:
        if "=" in self.column:
            field, value = self.column.split("=", 1)
            return f"{value} {_humanise(field)}" if self.z > 0 else None
        if self.column.startswith("share_"):
            return self.column.removeprefix("share_") if self.z > 0 else None
        if self.column.startswith("tag_"):
            return f"{_humanise(self.column.removeprefix('tag_'))} tickets" if self.z > 0 else None
        high, low = WORDS.get(self.column, (f"High {_humanise(self.column)}", None))
        return high if self.z > 0 else low


@dataclass(frozen=True)
class Explanation:
    fidelity: float
    rules: dict[int, list[dict]]  # label -> [{"rule", "coverage", "precision"}]
    traits: dict[int, list[Trait]]
    names: dict[int, str]
    descriptions: dict[int, str]


def explain(matrix: pd.DataFrame, labels: np.ndarray) -> Explanation:
    traits = top_traits(matrix, labels)
    fidelity, rules = tree_rules(matrix, labels)
    names = proposed_names(traits)
    descriptions = {
        label: "Customers with " + "; ".join(t.text for t in found) + "."
        if found
        else "Customers close to the population average."
        for label, found in traits.items()
    }
    return Explanation(fidelity, rules, traits, names, descriptions)


def tree_rules(
    matrix: pd.DataFrame, labels: np.ndarray, *, random_state: int = RANDOM_STATE
) -> tuple[float, dict[int, list[dict]]]:
    """(fidelity, the best leaves of a depth-limited tree for each label as readable rules)."""
    rows = np.arange(len(matrix))
    if len(rows) > TREE_SAMPLE:
        rows = np.random.default_rng(random_state).choice(rows, TREE_SAMPLE, replace=False)
    features, target = matrix.to_numpy()[rows], labels[rows]
    tree = DecisionTreeClassifier(
        max_depth=MAX_DEPTH, min_samples_leaf=max(1, len(rows) // 200), random_state=random_state
    ).fit(features, target)
    fidelity = float(tree.score(features, target))
    class_counts = np.bincount(target, minlength=int(labels.max()) + 1)
    rules: dict[int, list[dict]] = {int(label): [] for label in np.unique(labels)}
    for conditions, counts in _leaves(tree.tree_, list(matrix.columns)):
        label = int(tree.classes_[counts.argmax()])
        matched = counts.max()
        rules[label].append(
            {
                "rule": _render(conditions),
                "coverage": round(float(matched / class_counts[label]), 3),
                "precision": round(float(matched / counts.sum()), 3),
            }
        )
    for label, found in rules.items():
        rules[label] = sorted(found, key=lambda r: -r["coverage"])[:RULES_PER_SEGMENT]
    return fidelity, rules


def _leaves(tree, columns: list[str]):
    """(conditions, class counts) of every leaf; conditions are (column, op, threshold)."""
    stack = [(0, [])]
    while stack:
        node, conditions = stack.pop()
        left, right = tree.children_left[node], tree.children_right[node]
        if left == right:
            yield conditions, tree.value[node][0] * tree.weighted_n_node_samples[node]
            continue
        column, threshold = columns[tree.feature[node]], float(tree.threshold[node])
        stack.append((left, [*conditions, (column, "<=", threshold)]))
        stack.append((right, [*conditions, (column, ">", threshold)]))


def _render(conditions: list[tuple[str, str, float]]) -> str:
    """Tightest bound per column, in words: ``tickets_90d > 3 and plan = pro``."""
    if not conditions:
        return "every customer"
    lower: dict[str, float] = {}
    upper: dict[str, float] = {}
    for column, op, threshold in conditions:
        if op == ">":
            lower[column] = max(threshold, lower.get(column, -np.inf))
        else:
            upper[column] = min(threshold, upper.get(column, np.inf))
    parts = []
    for column in dict.fromkeys(c for c, _, _ in conditions):
        if "=" in column:
            field, value = column.split("=", 1)
            parts.append(f"{field} {'=' if column in lower else '!='} {value}")
        elif column in lower and column in upper:
            parts.append(f"{_number(lower[column])} < {column} <= {_number(upper[column])}")
        elif column in lower:
            parts.append(f"{column} > {_number(lower[column])}")
        else:
            parts.append(f"{column} <= {_number(upper[column])}")
    return " and ".join(parts)


def top_traits(matrix: pd.DataFrame, labels: np.ndarray) -> dict[int, list[Trait]]:
    population_mean = matrix.mean()
    population_std = matrix.std(ddof=0).replace(0, np.nan)
    means = matrix.groupby(labels).mean()
    z_scores = ((means - population_mean) / population_std).fillna(0.0)
    traits = {}
    for label, row in z_scores.iterrows():
        strongest = row.abs().sort_values(ascending=False, kind="stable")
        chosen = [c for c in strongest.index if abs(row[c]) >= MIN_TRAIT_Z][:TRAITS_PER_SEGMENT]
        traits[int(label)] = [
            Trait(c, float(means.at[label, c]), float(population_mean[c]), float(row[c]))
            for c in chosen
        ]
    return traits


def proposed_names(traits: dict[int, list[Trait]]) -> dict[int, str]:
    """A name from each segment's strongest nameable traits, unique within the segmentation."""
    names: dict[int, str] = {}
    for label, found in traits.items():
        parts = [part for t in found if (part := t.name_part)][:NAME_TRAITS]
        name = ", ".join(parts) if parts else "Typical customers"
        name = name[0].upper() + name[1:]
        taken = sum(1 for other in names.values() if other.split(" (")[0] == name)
        names[label] = f"{name} ({taken + 1})" if taken else name
    return names


def _humanise(column: str) -> str:
    return column.replace("_", " ")


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}".removesuffix(".0")
    return f"{value:.2f}".rstrip("0").rstrip(".")
