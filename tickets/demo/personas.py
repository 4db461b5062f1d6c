"""Who the demo customers are: personas with clearly different behaviour, places, products."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Persona:
    slug: str
    share: float  # of all customers
    plan: str
    signup_days_ago: tuple[int, int]
    # Activity ends this many days ago at the latest ...
    quiet_days: tuple[int, int]
    # ... or this many days after signup, whichever is earlier.
    active_days: tuple[int, int]
    purchases: tuple[int, int]
    amount: tuple[float, float]
    quantity: tuple[int, int]
    ticket_weight: float  # relative chance that a ticket comes from such a customer
    channels: dict[str, float]
    topics: dict[str, float]
    priorities: dict[str, float]
    age: tuple[int, int]
    customer_tags: tuple[str, ...] = ()
    loyalty_tier: str = "bronze"
    business: bool = False
    follow_up_chance: float = 0.3
    note_chance: float = 0.15
    first_response_hours: tuple[float, float] = field(default=(0.5, 20.0))


_NEVER = (100_000, 100_000)

PERSONAS = (
    Persona(
        slug="big-spender",
        share=0.10,
        plan="premium",
        signup_days_ago=(200, 1500),
        quiet_days=(0, 20),
        active_days=_NEVER,
        purchases=(10, 30),
        amount=(250.0, 2000.0),
        quantity=(1, 3),
        ticket_weight=1.5,
        channels={"email": 0.7, "phone": 0.2, "web": 0.1},
        topics={
            "shipping": 0.35,
            "billing": 0.3,
            "feature-request": 0.15,
            "login": 0.1,
            "bug": 0.1,
        },
        priorities={"normal": 0.5, "high": 0.4, "urgent": 0.1},
        age=(35, 65),
        customer_tags=("vip",),
        loyalty_tier="platinum",
        first_response_hours=(0.2, 4.0),
    ),
    Persona(
        slug="bargain-one-timer",
        share=0.25,
        plan="free",
        signup_days_ago=(300, 1100),
        quiet_days=(0, 0),
        active_days=(2, 30),
        purchases=(1, 1),
        amount=(5.0, 30.0),
        quantity=(1, 1),
        ticket_weight=0.5,
        channels={"web": 0.6, "email": 0.4},
        topics={"shipping": 0.5, "billing": 0.3, "cancellation": 0.2},
        priorities={"low": 0.5, "normal": 0.5},
        age=(18, 70),
        follow_up_chance=0.1,
    ),
    Persona(
        slug="chat-power-user",
        share=0.15,
        plan="pro",
        signup_days_ago=(100, 900),
        quiet_days=(0, 5),
        active_days=_NEVER,
        purchases=(20, 50),
        amount=(5.0, 45.0),
        quantity=(1, 2),
        ticket_weight=8.0,
        channels={"chat": 0.72, "social": 0.1, "web": 0.13, "email": 0.05},
        topics={
            "feature-request": 0.3,
            "bug": 0.25,
            "login": 0.2,
            "api-error": 0.15,
            "billing": 0.1,
        },
        priorities={"low": 0.3, "normal": 0.6, "high": 0.1},
        age=(18, 35),
        customer_tags=("beta-tester",),
        loyalty_tier="gold",
        follow_up_chance=0.5,
        first_response_hours=(0.02, 0.3),
    ),
    Persona(
        slug="dormant",
        share=0.20,
        plan="basic",
        signup_days_ago=(1100, 2200),
        quiet_days=(400, 900),
        active_days=_NEVER,
        purchases=(2, 6),
        amount=(30.0, 150.0),
        quantity=(1, 2),
        ticket_weight=1.0,
        channels={"email": 0.6, "phone": 0.3, "web": 0.1},
        topics={"shipping": 0.3, "billing": 0.3, "login": 0.2, "cancellation": 0.2},
        priorities={"low": 0.3, "normal": 0.7},
        age=(45, 75),
        customer_tags=("at-risk",),
        loyalty_tier="silver",
    ),
    Persona(
        slug="b2b-account",
        share=0.15,
        plan="business",
        signup_days_ago=(150, 1400),
        quiet_days=(0, 10),
        active_days=_NEVER,
        purchases=(6, 18),
        amount=(800.0, 6000.0),
        quantity=(5, 200),
        ticket_weight=3.5,
        channels={"email": 0.55, "phone": 0.25, "api": 0.2},
        topics={"api-error": 0.3, "quote": 0.25, "billing": 0.25, "login": 0.2},
        priorities={"normal": 0.5, "high": 0.35, "urgent": 0.15},
        age=(28, 58),
        customer_tags=("b2b",),
        loyalty_tier="gold",
        business=True,
        note_chance=0.35,
        first_response_hours=(0.2, 6.0),
    ),
    Persona(
        slug="new-signup",
        share=0.15,
        plan="trial",
        signup_days_ago=(1, 45),
        quiet_days=(0, 0),
        active_days=_NEVER,
        purchases=(0, 2),
        amount=(10.0, 80.0),
        quantity=(1, 1),
        ticket_weight=1.5,
        channels={"web": 0.4, "chat": 0.4, "email": 0.2},
        topics={"onboarding": 0.6, "login": 0.25, "billing": 0.15},
        priorities={"low": 0.2, "normal": 0.8},
        age=(18, 40),
        customer_tags=("new-customer",),
    ),
)


@dataclass(frozen=True)
class Place:
    country: str
    city: str
    language: str
    timezone: str
    utc_offset: float
    currency: str


PLACES = (
    Place("DE", "Berlin", "de", "Europe/Berlin", 1, "EUR"),
    Place("DE", "Munich", "de", "Europe/Berlin", 1, "EUR"),
    Place("GB", "London", "en", "Europe/London", 0, "GBP"),
    Place("GB", "Manchester", "en", "Europe/London", 0, "GBP"),
    Place("US", "New York", "en", "America/New_York", -5, "USD"),
    Place("US", "Chicago", "en", "America/Chicago", -6, "USD"),
    Place("US", "San Francisco", "en", "America/Los_Angeles", -8, "USD"),
    Place("FR", "Paris", "fr", "Europe/Paris", 1, "EUR"),
    Place("NL", "Amsterdam", "nl", "Europe/Amsterdam", 1, "EUR"),
    Place("ES", "Madrid", "es", "Europe/Madrid", 1, "EUR"),
    Place("IT", "Milan", "it", "Europe/Rome", 1, "EUR"),
    Place("SE", "Stockholm", "sv", "Europe/Stockholm", 1, "EUR"),
    Place("CA", "Toronto", "en", "America/Toronto", -5, "USD"),
    Place("AU", "Sydney", "en", "Australia/Sydney", 10, "USD"),
    Place("IN", "Bangalore", "en", "Asia/Kolkata", 5.5, "USD"),
    Place("BR", "São Paulo", "pt", "America/Sao_Paulo", -3, "USD"),
    Place("JP", "Tokyo", "ja", "Asia/Tokyo", 9, "USD"),
)

FIRST_NAMES = (
    ("Anna", "female"),
    ("Ben", "male"),
    ("Chloé", "female"),
    ("David", "male"),
    ("Elena", "female"),
    ("Farid", "male"),
    ("Greta", "female"),
    ("Hiro", "male"),
    ("Ines", "female"),
    ("Jonas", "male"),
    ("Kavya", "female"),
    ("Lucas", "male"),
    ("Maya", "female"),
    ("Noah", "male"),
    ("Olivia", "female"),
    ("Pablo", "male"),
    ("Quinn", "other"),
    ("Rosa", "female"),
    ("Sam", "other"),
    ("Tomás", "male"),
    ("Uma", "female"),
    ("Viktor", "male"),
    ("Wen", "female"),
    ("Yusuf", "male"),
    ("Zoe", "female"),
    ("Alex", ""),
)
LAST_NAMES = (
    "Andersson", "Becker", "Costa", "Dubois", "Evans", "Fischer", "García", "Hughes", "Ito",
    "Jansen", "Kowalski", "Larsen", "Müller", "Nakamura", "O'Brien", "Patel", "Rossi", "Schmidt",
    "Tanaka", "Underwood", "Visser", "Walsh", "Yilmaz", "Zhang",
)  # fmt: skip
EMAIL_PROVIDERS = ("mail.example", "inbox.example", "post.example", "webmail.example")

ORGANISATION_NAMES = (
    "Northwind", "Globex", "Initech", "Vandelay", "Hooli", "Soylent", "Tyrell", "Umbrella",
    "Wonka", "Cyberdyne", "Oscorp", "Stark", "Wayne", "Acme", "Aperture", "Massive Dynamic",
)  # fmt: skip
ORGANISATION_KINDS = (
    ("Logistics", "Logistics"),
    ("Retail", "Retail"),
    ("Health", "Healthcare"),
    ("Labs", "Research"),
    ("Foods", "Food & beverage"),
    ("Energy", "Energy"),
    ("Media", "Media"),
    ("Bank", "Financial services"),
    ("Systems", "Software"),
    ("Hotels", "Hospitality"),
)
ORGANISATION_SIZES = ((12, 0.25), (45, 0.25), (120, 0.2), (350, 0.15), (1200, 0.1), (8000, 0.05))

# (name, category, typical unit price): the purchase's amount picks the closest product.
PRODUCTS = (
    ("USB-C cable", "Accessories", 9),
    ("Filter pack", "Accessories", 19),
    ("Wall mount", "Accessories", 29),
    ("Gift card", "Gift cards", 40),
    ("Smart plug 4-pack", "Devices", 59),
    ("Extra storage add-on", "Subscriptions", 79),
    ("Sensor kit", "Devices", 129),
    ("Annual Basic plan", "Subscriptions", 199),
    ("Hub Pro", "Devices", 349),
    ("Installation service", "Services", 600),
    ("Annual Business plan", "Subscriptions", 1500),
    ("Enterprise seats", "Subscriptions", 4000),
)
