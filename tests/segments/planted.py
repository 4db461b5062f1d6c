"""Customers from known behaviour groups, written as the three import CSV files."""

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np


@dataclass(frozen=True)
class Group:
    name: str
    orders: int  # mean number of orders
    amount: float  # mean order amount
    last_order_days: int  # mean days since the last order
    tickets: int  # mean tickets, all in the last 90 days
    channel: str | None  # the channel of their tickets


GROUPS = (
    Group(
        "big spenders by email",
        orders=14,
        amount=220.0,
        last_order_days=4,
        tickets=2,
        channel="email",
    ),
    Group("lapsed one-timers", orders=1, amount=25.0, last_order_days=400, tickets=0, channel=None),
    Group("chatty regulars", orders=5, amount=45.0, last_order_days=20, tickets=9, channel="chat"),
    Group("phone callers", orders=3, amount=90.0, last_order_days=90, tickets=3, channel="phone"),
    Group("web newcomers", orders=2, amount=30.0, last_order_days=8, tickets=1, channel="web"),
)


@dataclass(frozen=True)
class PlantedData:
    customers_csv: bytes
    purchases_csv: bytes
    tickets_csv: bytes
    group_of: dict[str, int]  # customer external id -> index into GROUPS


def planted_customers(*, per_group: int, as_of: date, seed: int = 7) -> PlantedData:
    rng = np.random.default_rng(seed)
    customers, purchases, tickets, group_of = [], [], [], {}
    for group_index, group in enumerate(GROUPS):
        for n in range(per_group):
            external_id = f"C{group_index}-{n:04d}"
            group_of[external_id] = group_index
            customers.append(
                {
                    "external_id": external_id,
                    "email": f"{external_id.lower()}@planted.example.com",
                    "name": f"Customer {external_id}",
                    "signup_date": (as_of - timedelta(days=730)).isoformat(),
                }
            )
            purchases += _purchases(rng, group, external_id, as_of)
            tickets += _tickets(rng, group, external_id, as_of)
    return PlantedData(
        customers_csv=_csv(customers),
        purchases_csv=_csv(purchases),
        tickets_csv=_csv(tickets),
        group_of=group_of,
    )


def _purchases(rng, group: Group, external_id: str, as_of: date) -> list[dict]:
    count = max(1, round(group.orders * rng.uniform(0.8, 1.2)))
    last = max(1, round(group.last_order_days * rng.uniform(0.8, 1.2)))
    rows = []
    for n in range(count):
        days_ago = last + n * 7
        amount = group.amount * rng.uniform(0.8, 1.2)
        rows.append(
            {
                "order_id": f"{external_id}-O{n}",
                "customer_external_id": external_id,
                "ordered_at": _at(as_of, days_ago),
                "amount": f"{amount:.2f}",
            }
        )
    return rows


def _tickets(rng, group: Group, external_id: str, as_of: date) -> list[dict]:
    if group.channel is None:
        return []
    count = max(1, round(group.tickets * rng.uniform(0.8, 1.2)))
    return [
        {
            "external_id": f"{external_id}-T{n}",
            "customer_external_id": external_id,
            "subject": f"Question {n}",
            "channel": group.channel,
            "status": "solved",
            "created_at": _at(as_of, 1 + int(rng.integers(0, 80))),
        }
        for n in range(count)
    ]


def _at(as_of: date, days_ago: int) -> str:
    return (
        datetime.combine(as_of, datetime.min.time()) - timedelta(days=days_ago, hours=-12)
    ).isoformat() + "Z"


def _csv(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()
