"""Rule-based segments: criteria over the feature frame's columns, evaluated vectorised.

A criterion is ``{"field": column, "op": operator, "value": value}``; a segment matches with
``all`` or ``any`` of its criteria. Text comparisons ignore case. ``in`` takes a list (or a
comma-separated string). In a rule-based segmentation a customer joins the first segment, in
position order, whose criteria match; customers matching none get no badge.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd
from django.core.exceptions import ValidationError

NUMERIC_OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "in")
TEXT_OPERATORS = ("=", "!=", "in", "contains")
OPERATORS = tuple(dict.fromkeys(NUMERIC_OPERATORS + TEXT_OPERATORS))


def validate_criteria(criteria: Sequence[dict], columns: pd.Index | Sequence[str]) -> list[dict]:
    """Normalised criteria; a ValidationError names every problem."""
    if not criteria:
        raise ValidationError("Add at least one criterion.")
    return [_validated(i, criterion, columns) for i, criterion in enumerate(criteria, start=1)]


def _validated(position: int, criterion: dict, columns) -> dict:
    field, op, value = criterion.get("field"), criterion.get("op"), criterion.get("value")
    if field not in columns:
        raise ValidationError(f"Criterion {position}: unknown field {field!r}.")
    if op not in OPERATORS:
        raise ValidationError(f"Criterion {position}: unknown operator {op!r}.")
    if op == "in":
        value = _as_list(value)
        if not value:
            raise ValidationError(f"Criterion {position}: 'in' needs at least one value.")
    elif value is None or str(value).strip() == "":
        raise ValidationError(f"Criterion {position}: a value is required.")
    return {"field": field, "op": op, "value": value}


def _as_list(value) -> list:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return list(value or [])


def matches(frame: pd.DataFrame, criteria: Sequence[dict], match: str = "all") -> pd.Series:
    criteria = validate_criteria(criteria, frame.columns)
    masks = [_mask(frame[c["field"]], c["op"], c["value"], c["field"]) for c in criteria]
    combined = np.logical_and.reduce(masks) if match == "all" else np.logical_or.reduce(masks)
    return pd.Series(combined, index=frame.index)


def _mask(column: pd.Series, op: str, value, field: str) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(column):
        return _numeric_mask(column.to_numpy(dtype="float64"), op, value, field)
    return _text_mask(column.astype(str).str.lower(), op, value, field)


def _numeric_mask(values: np.ndarray, op: str, value, field: str) -> np.ndarray:
    if op == "contains":
        raise ValidationError(f"{field} is a number: use =, !=, >, >=, <, <= or in.")
    try:
        if op == "in":
            return np.isin(values, [float(v) for v in value])
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{field} is a number; {value!r} is not.") from None
    compare = {
        "=": np.equal,
        "!=": np.not_equal,
        ">": np.greater,
        ">=": np.greater_equal,
        "<": np.less,
        "<=": np.less_equal,
    }[op]
    return compare(values, number)


def _text_mask(values: pd.Series, op: str, value, field: str) -> np.ndarray:
    if op == "in":
        return values.isin([str(v).lower() for v in value]).to_numpy()
    text = str(value).strip().lower()
    if op == "=":
        return (values == text).to_numpy()
    if op == "!=":
        return (values != text).to_numpy()
    if op == "contains":
        return values.str.contains(text, regex=False).to_numpy()
    raise ValidationError(f"{field} is text: use =, !=, in or contains.")


def assign_first_match(frame: pd.DataFrame, segments: Sequence[tuple[list, str]]) -> np.ndarray:
    """Index into ``segments`` (criteria, match) of each row's first match, -1 for none."""
    assigned = np.full(len(frame), -1, dtype="int64")
    for position, (criteria, match) in enumerate(segments):
        free = assigned == -1
        assigned[free & matches(frame, criteria, match).to_numpy()] = position
    return assigned
