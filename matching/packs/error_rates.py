"""The evaluation's protocol on embeddings already computed: verification pairs, a simulated
watchlist, and the error rates at a threshold, for everyone or for one group of people.

Verification (one image against one image): every pair of images. Genuine pairs show one person
twice, impostor pairs two people; at threshold t a pair "matches" when its similarity is at
least t, as the live matcher raises an alert. FMR is the impostor pairs that match, FNMR the
genuine pairs that do not.

Identification (a probe against a watchlist, as a deployment searches): `size` people are put on
a watchlist, one image each (the one named `enrol`, else their first by name); every other image
of theirs is a mated probe, every image of the people left off is a non-mated probe. A probe's
result is its nearest entry, an alert when that similarity is at least t. TPIR is the mated
probes whose alert names the right person; FPIR the non-mated probes that raise any alert.
A mated probe alerting on someone else counts against TPIR and is counted apart
(`wrong_entry`): on a street it would be a false alert about a listed person.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np

from lfr_ledger.matching.packs.intervals import Rate

ENROL_NAME = "enrol"


class ProtocolError(ValueError):
    """The labelled images cannot support the protocol asked for."""


@dataclass(frozen=True, eq=False)
class Labelled:
    """Unit-length embeddings of labelled images: who each shows and the image's name."""

    embeddings: np.ndarray = field(repr=False)  # (n, d) float32
    people: tuple[str, ...]
    images: tuple[str, ...]

    def __post_init__(self) -> None:
        if not len(self.embeddings) == len(self.people) == len(self.images):
            raise ProtocolError("every embedding needs a person and an image name")

    def of(self, person: str, enrol: str = ENROL_NAME) -> list[int]:
        """`person`'s images, the enrolment image first (named `enrol`, else the first by name)."""
        return sorted(
            (i for i, who in enumerate(self.people) if who == person),
            key=lambda i: (self.images[i] != enrol, self.images[i]),
        )


@dataclass(frozen=True)
class Watchlist:
    people: tuple[str, ...]
    enrolled: tuple[int, ...]  # the image index enrolled for each person on the list
    seed: int


def watchlist_order(people: Collection[str], seed: int) -> list[str]:
    """A reproducible shuffle of `people`: by SHA-256 of seed and name, so neither the names'
    alphabet (which may follow a group, "f01", "m01") nor the caller chooses who is listed."""
    return sorted(people, key=lambda who: hashlib.sha256(f"{seed}:{who}".encode()).hexdigest())


def choose_watchlist(
    labelled: Labelled, size: int, seed: int = 0, enrol: str = ENROL_NAME
) -> Watchlist:
    """`size` people, drawn from those with at least two images (one to enrol, one to probe)."""
    counts = {who: labelled.people.count(who) for who in set(labelled.people)}
    eligible = [who for who, n in counts.items() if n >= 2]
    if not 1 <= size <= len(eligible):
        raise ProtocolError(
            f"a watchlist of {size} needs that many people with two or more usable images; "
            f"there are {len(eligible)}"
        )
    if size == len(counts):
        raise ProtocolError("a watchlist of everyone leaves no non-mated probes: list fewer")
    listed = tuple(sorted(watchlist_order(eligible, seed)[:size]))
    return Watchlist(listed, tuple(labelled.of(who, enrol)[0] for who in listed), seed)


@dataclass(frozen=True, eq=False)
class Scores:
    """Every similarity the protocol reads, with whom each concerns."""

    genuine: np.ndarray  # similarity of each genuine pair
    genuine_person: np.ndarray  # its person
    impostor: np.ndarray
    impostor_people: tuple[np.ndarray, np.ndarray]  # the pair's two people
    mated: np.ndarray  # each mated probe's nearest entry's similarity
    mated_right: np.ndarray  # whether that entry is the probe's own
    mated_person: np.ndarray
    non_mated: np.ndarray  # each non-mated probe's nearest entry's similarity
    non_mated_person: np.ndarray


def score(labelled: Labelled, watchlist: Watchlist) -> Scores:
    vectors = labelled.embeddings.astype(np.float64)
    people = np.array(labelled.people, dtype=object)
    first, second = np.triu_indices(len(vectors), 1)
    pairs = np.einsum("ij,ij->i", vectors[first], vectors[second])
    same = people[first] == people[second]
    templates = vectors[list(watchlist.enrolled)]
    listed = np.array(watchlist.people, dtype=object)
    enrolled = set(watchlist.enrolled)
    probes = np.array([i for i in range(len(vectors)) if i not in enrolled], dtype=int)
    similarities = vectors[probes] @ templates.T
    nearest = similarities.argmax(axis=1)
    best = similarities[np.arange(len(probes)), nearest]
    mated = np.isin(people[probes], listed)
    return Scores(
        genuine=pairs[same],
        genuine_person=people[first][same],
        impostor=pairs[~same],
        impostor_people=(people[first][~same], people[second][~same]),
        mated=best[mated],
        mated_right=listed[nearest[mated]] == people[probes][mated],
        mated_person=people[probes][mated],
        non_mated=best[~mated],
        non_mated_person=people[probes][~mated],
    )


@dataclass(frozen=True)
class RatesAt:
    """The four rates at one threshold, for everyone or one group."""

    threshold: float
    fmr: Rate
    fnmr: Rate
    tpir: Rate
    fpir: Rate
    wrong_entry: int  # mated probes alerting on another listed person

    @property
    def fnir(self) -> Rate:
        """Mated probes without the right alert: the identification miss rate."""
        return self.tpir.complement()


def rates_at(scores: Scores, threshold: float, group: Collection[str] | None = None) -> RatesAt:
    """The rates at `threshold`; for a `group`, its people's genuine pairs and probes and the
    impostor pairs of two of its people (impostors across groups belong to neither)."""

    def among(who: np.ndarray) -> np.ndarray:
        return np.ones(len(who), bool) if group is None else np.isin(who, list(group))

    genuine = scores.genuine[among(scores.genuine_person)]
    a, b = scores.impostor_people
    impostor = scores.impostor[among(a) & among(b)]
    in_mated = among(scores.mated_person)
    mated, right = scores.mated[in_mated], scores.mated_right[in_mated]
    non_mated = scores.non_mated[among(scores.non_mated_person)]
    alerts = mated >= threshold
    return RatesAt(
        threshold=threshold,
        fmr=Rate(int((impostor >= threshold).sum()), len(impostor)),
        fnmr=Rate(int((genuine < threshold).sum()), len(genuine)),
        tpir=Rate(int((alerts & right).sum()), len(mated)),
        fpir=Rate(int((non_mated >= threshold).sum()), len(non_mated)),
        wrong_entry=int((alerts & ~right).sum()),
    )


def rates_table(
    scores: Scores, thresholds: Sequence[float], group: Collection[str] | None = None
) -> list[RatesAt]:
    return [rates_at(scores, t, group) for t in thresholds]
