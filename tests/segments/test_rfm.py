import pandas as pd
import pytest

from segments import rfm


def hand_example() -> pd.DataFrame:
    """Ten customers; ties on every measure (recency 5/5 and 60/60/60, frequency 1 x4 ...)."""
    return pd.DataFrame(
        {
            "recency_days": [5, 5, 30, 60, 60, 60, 120, 200, 365, 400],
            "frequency": [10, 1, 1, 3, 3, 5, 1, 2, 0, 1],
            "monetary": [900.0, 20, 20, 150, 300, 500, 15, 80, 0, 40],
        },
        index=pd.Index(range(101, 111), name="customer_id"),
    )


def test_scores_and_cells_of_hand_computed_example():
    table = rfm.rfm_table(hand_example())

    # score = 1 + floor(5 * (lowest rank of the tie group - 1) / 10), worst first
    assert table["r_score"].tolist() == [5, 5, 4, 3, 3, 3, 2, 2, 1, 1]
    assert table["f_score"].tolist() == [5, 1, 1, 4, 4, 5, 1, 3, 1, 1]
    assert table["m_score"].tolist() == [5, 2, 2, 4, 4, 5, 1, 3, 1, 3]
    assert table["cell"].tolist() == [
        rfm.CHAMPIONS,
        rfm.POTENTIAL_LOYALIST,
        rfm.POTENTIAL_LOYALIST,
        rfm.LOYAL,
        rfm.LOYAL,
        rfm.LOYAL,
        rfm.HIBERNATING,
        rfm.AT_RISK,
        rfm.LOST,
        rfm.HIBERNATING,
    ]


def test_equal_values_share_the_score_of_their_lowest_rank():
    values = pd.Series([7, 7, 7, 7, 1, 9, 9, 9, 9, 9])

    scores = rfm.quintile_scores(values, higher_is_better=True)

    # ranks: 1 -> 1, the 7s -> 2, the 9s -> 6
    assert scores.tolist() == [1, 1, 1, 1, 1, 3, 3, 3, 3, 3]


def test_recent_is_high():
    scores = rfm.quintile_scores(pd.Series([1, 10, 100, 1000, 10000]), higher_is_better=False)

    assert scores.tolist() == [5, 4, 3, 2, 1]


@pytest.mark.parametrize(
    ("r", "f", "m", "cell"),
    [
        (5, 5, 4, rfm.CHAMPIONS),
        (5, 1, 1, rfm.NEW),
        (4, 1, 1, rfm.PROMISING),
        (3, 3, 3, rfm.NEED_ATTENTION),
        (3, 1, 2, rfm.ABOUT_TO_SLEEP),
        (2, 5, 5, rfm.CANT_LOSE),
        (1, 4, 3, rfm.AT_RISK),
        (1, 1, 1, rfm.LOST),
        (2, 1, 1, rfm.HIBERNATING),
        (4, 4, 5, rfm.LOYAL),
        (4, 2, 3, rfm.POTENTIAL_LOYALIST),
    ],
)
def test_named_cells(r, f, m, cell):
    names = rfm.cell_names(pd.Series([r]), pd.Series([f]), pd.Series([m]))

    assert names.tolist() == [cell]


def test_every_cell_is_named_and_described():
    used = {name for row in rfm.CELLS for name in row}

    assert used == set(rfm.CELL_NAMES) == set(rfm.CELL_DESCRIPTIONS)
