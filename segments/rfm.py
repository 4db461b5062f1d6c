"""RFM: recency, frequency and monetary value, scored 1-5 by quintile and named by cell.

Values (from the feature frame): ``recency_days`` is the number of days from the customer's
last order to the reference date, ``frequency`` the number of orders, ``monetary`` the sum of
their amounts. Customers without orders score 1 on frequency and monetary; their recency is
their tenure (see ``segments.features``).

Scores: every customer is ranked from worst to best (oldest last order first for recency,
fewest orders / least money first for frequency and monetary). The score is
``1 + floor(5 * (rank - 1) / n)`` where ``rank`` is the *lowest* rank of the customer's tie
group (``rank(method="min")``): equal values always get equal scores, and a score only
depends on how many customers are strictly worse. Large tie groups therefore share the lower
quintile (with 60 % one-order customers, all of them score 1 on frequency).

Named cells, by recency score (rows) and ``fm = ceil((f_score + m_score) / 2)`` (columns):

    R \\ FM    1                2                   3                   4           5
    5         New              Potential loyalist  Potential loyalist  Champions   Champions
    4         Promising        Potential loyalist  Potential loyalist  Loyal       Loyal
    3         About to sleep   About to sleep      Need attention      Loyal       Loyal
    2         Hibernating      Hibernating         At risk             At risk     Can't lose
    1         Lost             Hibernating         At risk             At risk     Can't lose
"""

import numpy as np
import pandas as pd

SCORES = 5

CHAMPIONS = "Champions"
LOYAL = "Loyal"
POTENTIAL_LOYALIST = "Potential loyalist"
NEW = "New"
PROMISING = "Promising"
NEED_ATTENTION = "Need attention"
ABOUT_TO_SLEEP = "About to sleep"
AT_RISK = "At risk"
CANT_LOSE = "Can't lose"
HIBERNATING = "Hibernating"
LOST = "Lost"

# CELLS[r_score - 1][fm - 1]
CELLS = (
    (LOST, HIBERNATING, AT_RISK, AT_RISK, CANT_LOSE),
    (HIBERNATING, HIBERNATING, AT_RISK, AT_RISK, CANT_LOSE),
    (ABOUT_TO_SLEEP, ABOUT_TO_SLEEP, NEED_ATTENTION, LOYAL, LOYAL),
    (PROMISING, POTENTIAL_LOYALIST, POTENTIAL_LOYALIST, LOYAL, LOYAL),
    (NEW, POTENTIAL_LOYALIST, POTENTIAL_LOYALIST, CHAMPIONS, CHAMPIONS),
)
# Best first: the order segments are listed in.
CELL_NAMES = (
    CHAMPIONS,
    LOYAL,
    POTENTIAL_LOYALIST,
    NEW,
    PROMISING,
    NEED_ATTENTION,
    ABOUT_TO_SLEEP,
    AT_RISK,
    CANT_LOSE,
    HIBERNATING,
    LOST,
)
CELL_DESCRIPTIONS = {
    CHAMPIONS: "Bought recently, buy often and spend the most.",
    LOYAL: "Buy often and spend well; not necessarily very recently.",
    POTENTIAL_LOYALIST: "Recent customers with average frequency and spend.",
    NEW: "Bought very recently, but only little so far.",
    PROMISING: "Recent, small buyers.",
    NEED_ATTENTION: "Average recency, frequency and spend.",
    ABOUT_TO_SLEEP: "Below average recency and frequency; will be lost without attention.",
    AT_RISK: "Bought often and spent well, but long ago.",
    CANT_LOSE: "Used to buy the most, but have not come back for a long time.",
    HIBERNATING: "Last bought long ago, few orders and low spend.",
    LOST: "The lowest recency, frequency and spend.",
}


def quintile_scores(values: pd.Series, *, higher_is_better: bool) -> pd.Series:
    """1-5 by quintile of rank; ties share the score of their lowest rank."""
    worst_first = values if higher_is_better else -values
    ranks = worst_first.rank(method="min").to_numpy()
    scores = 1 + np.floor(SCORES * (ranks - 1) / max(len(values), 1))
    return pd.Series(scores.astype("int64"), index=values.index)


def rfm_table(frame: pd.DataFrame) -> pd.DataFrame:
    """recency_days, frequency, monetary, their scores and the named cell, per customer."""
    table = frame[["recency_days", "frequency", "monetary"]].copy()
    table["r_score"] = quintile_scores(table["recency_days"], higher_is_better=False)
    table["f_score"] = quintile_scores(table["frequency"], higher_is_better=True)
    table["m_score"] = quintile_scores(table["monetary"], higher_is_better=True)
    table["cell"] = cell_names(table["r_score"], table["f_score"], table["m_score"])
    return table


def cell_names(r_score: pd.Series, f_score: pd.Series, m_score: pd.Series) -> pd.Series:
    fm = (f_score + m_score + 1) // 2
    grid = np.array(CELLS, dtype=object)
    return pd.Series(grid[r_score.to_numpy() - 1, fm.to_numpy() - 1], index=r_score.index)
