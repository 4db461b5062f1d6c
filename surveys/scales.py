"""The answer scales a survey can offer, and what counts as a good or a bad answer on each."""

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class Scale:
    slug: str
    question: str
    choices: tuple[tuple[int, str], ...]  # (score, label), best last
    satisfied_from: int  # scores at or above are satisfied (CSAT) or promoters (NPS)
    bad_up_to: int  # scores at or below are bad (CSAT) or detractors (NPS)

    @property
    def scores(self) -> tuple[int, ...]:
        return tuple(score for score, _ in self.choices)

    def label(self, score: int) -> str:
        return dict(self.choices).get(score, str(score))

    def is_bad(self, score: int) -> bool:
        return score <= self.bad_up_to

    def is_satisfied(self, score: int) -> bool:
        return score >= self.satisfied_from


STARS = Scale(
    slug="stars",
    question="How would you rate the support you received?",
    choices=((1, "★"), (2, "★★"), (3, "★★★"), (4, "★★★★"), (5, "★★★★★")),
    satisfied_from=4,
    bad_up_to=2,
)
FACES = Scale(
    slug="faces",
    question="How would you rate the support you received?",
    choices=((1, "Bad"), (2, "Okay"), (3, "Good")),
    satisfied_from=3,
    bad_up_to=1,
)
ZERO_TO_TEN = Scale(
    slug="zero_to_ten",
    question="How likely are you to recommend us to a friend or colleague?",
    choices=tuple((score, str(score)) for score in range(11)),
    satisfied_from=9,
    bad_up_to=6,
)

SCALES = {scale.slug: scale for scale in (STARS, FACES, ZERO_TO_TEN)}
CSAT_SCALES = (STARS.slug, FACES.slug)


def scale_named(slug: str) -> Scale:
    try:
        return SCALES[slug]
    except KeyError:
        raise ImproperlyConfigured(
            f"Unknown survey scale {slug!r}; use one of {sorted(SCALES)}"
        ) from None
