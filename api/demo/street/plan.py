"""The benchmark's street plan: who crosses each camera's view, when, in which lane and which
direction, with the ground truth a recall figure is judged against.

A stream has a series of *passes* every `pass_every_seconds`: in each, one enrolled person and up
to `max_people − 1` who are not cross the view in about `pass_seconds`, at a face width in
`face_px`, bobbing slightly and growing slightly (approaching). Every `crossing_every`-th pass has
the enrolled person and a non-enrolled one crossing paths in opposite directions, their face
boxes overlapping for a few frames; otherwise people in one pass keep to separate lanes. One
enrolled person never passes one camera again within `min_repeat_seconds` (from the last frame
any of their face was in view to the first frame of the next), so a per-entry cool-down of that
length cannot hide a pass. The plan is a function of (camera id, spec) alone.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

import numpy as np

from lfr_ledger.api.demo.street.scene import (
    GROWTH,
    Box,
    Direction,
    Motion,
    Passage,
    SceneSpec,
    camera_key,
    fully_in,
    partly_in,
)

# Face-centre heights of the three walking lanes, as fractions of the frame height. Lower on the
# screen is nearer the camera: larger faces, drawn in front. The gaps keep one lane's face boxes
# clear of the next lane's at the largest sizes, bob included.
LANES = (0.25, 0.48, 0.74)

# The vertical offset between two people crossing paths, in face widths: under the face box's
# height (FACE_ASPECT, bob included), so their boxes overlap as they pass; large enough that the
# farther face's eyes stay clear and it is missed in at most ~2 frames of ~30 (at 0.6–0.9 the
# worst rear face was detected in 89 % of its frames, at this range 93 %).
CROSSING_OFFSET = (0.85, 1.1)


def enrolled_needed(spec: SceneSpec) -> int:
    """The fewest enrolled people that can fill every pass while honouring min_repeat_seconds
    (a passage shows some of the face for up to about 1.2 × pass_seconds)."""
    return math.ceil((1.2 * spec.pass_seconds + spec.min_repeat_seconds) / spec.pass_every_seconds)


@dataclass(frozen=True)
class _Slot:
    """One passer-by's place in a pass before a person is chosen for it."""

    motion: Motion
    enter: int  # frame indices
    leave: int
    appear: int
    disappear: int
    direction: Direction
    crossing: bool
    light: tuple[float, float]


def _slot(
    rng: np.random.Generator,
    spec: SceneSpec,
    *,
    enter: int,
    y: float,
    size: float,
    direction: Direction,
    duration: float,
    crossing: bool,
) -> _Slot:
    width, _ = spec.size
    growth = float(rng.uniform(*GROWTH))
    # The centre travels (frame width − face width) while the face is fully in view.
    speed = (width - size * (1 + growth / 2)) / duration
    step = speed / spec.fps
    # Place the face so that `enter` is exactly the first frame it is fully in view: its leading
    # edge has just cleared the frame's edge by less than one frame's travel.
    inset = size / 2 + float(rng.uniform(0.1, 0.9)) * step
    x = inset if direction == "left-to-right" else width - inset
    motion = Motion(
        x=x,
        y=y,
        speed=speed if direction == "left-to-right" else -speed,
        size=size,
        growth=growth / duration,
        bob_px=float(rng.uniform(0.02, 0.04)) * size,  # a walker's head rises and falls a little
        bob_hz=float(rng.uniform(1.6, 2.2)),  # about two steps a second
        bob_phase=float(rng.uniform(0, 2 * math.pi)),
    )

    def box(frame: int) -> Box:
        return motion.box((frame - enter) / spec.fps)

    if not fully_in(box(enter), spec.size) or fully_in(box(enter - 1), spec.size):
        raise AssertionError("a passage's first fully-in-view frame was misplaced")
    leave = enter
    while fully_in(box(leave + 1), spec.size):
        leave += 1
    appear = enter
    while partly_in(box(appear - 1), spec.size):
        appear -= 1
    disappear = leave
    while partly_in(box(disappear + 1), spec.size):
        disappear += 1
    if any(box(f)[1] < 0 or box(f)[3] > spec.size[1] for f in range(appear, disappear + 1)):
        raise ValueError(
            f"face_px {spec.face_px} is too large for a {spec.size[1]}-px frame's lanes"
        )
    light = (float(rng.uniform(0.85, 1.1)), float(rng.uniform(-10, 12)))
    return _Slot(motion, enter, leave, appear, disappear, direction, crossing, light)


def _lane_size(rng: np.random.Generator, spec: SceneSpec, lane: int, factor: float = 1.0) -> float:
    """Perspective: the face width grows from the top lane to the bottom one, a little jitter,
    and room left for the growth while approaching."""
    low, high = spec.face_px
    top = high / (1 + GROWTH[1])
    share = (LANES[lane] - LANES[0]) / (LANES[-1] - LANES[0])
    size = (low + share * (top - low)) * factor * float(rng.uniform(0.96, 1.04))
    return min(max(size, low), top)


def _pass_slots(
    rng: np.random.Generator, spec: SceneSpec, start: int, people: int, crossing: bool
) -> list[_Slot]:
    """Where and how the pass's passers-by walk. Lanes: one person takes any lane; two take the
    outer lanes, or share one lane crossing paths; three take all lanes with the middle walking
    against the others (so each pair overlaps only briefly), or a crossing pair plus one."""
    height = spec.size[1]

    def direction() -> Direction:
        return "left-to-right" if rng.random() < 0.5 else "right-to-left"

    def opposite(d: Direction) -> Direction:
        return "right-to-left" if d == "left-to-right" else "left-to-right"

    def duration() -> float:
        return spec.pass_seconds * float(rng.uniform(0.92, 1.08))

    def stagger() -> int:
        return start + int(rng.integers(0, round(0.3 * spec.fps) + 1))

    slots: list[_Slot] = []
    if crossing:
        lane = int(rng.integers(0, 3)) if people == 2 else int(rng.choice([0, 2]))
        # Same timing, opposite directions: they meet mid-frame. The vertical offset (under one
        # face height) makes the face boxes overlap while they pass, but never wholly.
        first = direction()
        walk = duration()
        offset = float(rng.uniform(*CROSSING_OFFSET)) * _lane_size(rng, spec, lane)
        enter = stagger()
        for sign, d in ((-1, first), (1, opposite(first))):
            size = _lane_size(rng, spec, lane, 1 + 0.04 * sign)  # the lower one is nearer
            slots.append(
                _slot(
                    rng,
                    spec,
                    enter=enter,
                    y=LANES[lane] * height + sign * offset / 2,
                    size=size,
                    direction=d,
                    duration=walk,
                    crossing=True,
                )
            )
        if people == 3:
            other = 2 - lane
            slots.append(
                _slot(
                    rng,
                    spec,
                    enter=stagger(),
                    y=LANES[other] * height,
                    size=_lane_size(rng, spec, other),
                    direction=direction(),
                    duration=duration(),
                    crossing=False,
                )
            )
        return slots
    lanes = {1: [int(rng.integers(0, 3))], 2: [0, 2], 3: [0, 1, 2]}[people]
    outer = direction()
    for lane in lanes:
        heading: Direction = outer
        if people == 3 and lane == 1:
            heading = opposite(outer)  # the middle lane meets each outer one only briefly
        elif people == 2 and lane == 2:
            heading = direction()  # the outer lanes are far apart: either direction
        slots.append(
            _slot(
                rng,
                spec,
                enter=stagger(),
                y=LANES[lane] * height,
                size=_lane_size(rng, spec, lane),
                direction=heading,
                duration=duration(),
                crossing=False,
            )
        )
    return slots


def _shifted(slot: _Slot, frames: int) -> _Slot:
    """The slot `frames` later: its motion is relative to its entry, so only the frames move."""
    return replace(
        slot,
        enter=slot.enter + frames,
        leave=slot.leave + frames,
        appear=slot.appear + frames,
        disappear=slot.disappear + frames,
    )


def plan_passages(
    camera_id: str, people: Sequence[str], enrolled: Collection[str], spec: SceneSpec
) -> list[Passage]:
    """Every passage of one camera's stream, in order of entry.

    Each pass has exactly one enrolled person (the one idle longest among those free under
    min_repeat_seconds) and 0 … max_people − 1 others drawn from the non-enrolled, least
    recently seen first. Passes never overlap: a pass starts (its first face partly in view)
    after the previous pass's last face has gone, so a frame holds at most max_people faces.
    Raises ValueError if the enrolled people are too few for the cadence (`enrolled_needed`).
    """
    chosen = set(enrolled)
    if not chosen or not chosen <= set(people):
        raise ValueError("enrolled must be a non-empty subset of people")
    rng = np.random.default_rng([spec.seed, camera_key(camera_id)])
    enrolled_order = [p for p in people if p in chosen]
    others = [p for p in people if p not in chosen]
    rng.shuffle(enrolled_order)
    rng.shuffle(others)
    last_seen: dict[str, int] = {}  # person → last frame any of their face was in view
    passages: list[Passage] = []
    previous_end = -1
    fps = spec.fps
    for index in range(spec.frame_count):
        start = round((spec.lead_seconds + index * spec.pass_every_seconds) * fps)
        crossing = (
            spec.crossing_every > 0
            and index % spec.crossing_every == 1  # the second pass is the first crossing
            and bool(others)
            and spec.max_people >= 2
        )
        extra = int(rng.integers(0, spec.max_people))
        extra = min(max(extra, 1) if crossing else extra, len(others))
        slots = _pass_slots(rng, spec, start, 1 + extra, crossing)
        # Start late rather than let two passes share the view.
        first = min(s.appear for s in slots)
        lag = max(0, previous_end + 1 - first, -first)
        slots = [_shifted(s, lag) for s in slots]
        if max(s.disappear for s in slots) >= spec.frame_count:
            break
        previous_end = max(s.disappear for s in slots)
        # The enrolled walker: one of a crossing pair when there is one, else any.
        pool = [i for i, s in enumerate(slots) if s.crossing] or list(range(len(slots)))
        star = pool[int(rng.integers(0, len(pool)))]
        appear = slots[star].appear
        free = [
            p
            for p in enrolled_order
            if p not in last_seen or (appear - last_seen[p]) / fps >= spec.min_repeat_seconds
        ]
        if not free:
            raise ValueError(
                f"{len(enrolled_order)} enrolled people cannot fill a pass every "
                f"{spec.pass_every_seconds} s with {spec.min_repeat_seconds} s between one "
                f"person's passes; at least {enrolled_needed(spec)} are needed"
            )
        cast: dict[int, tuple[str, bool]] = {
            star: (min(free, key=lambda p: last_seen.get(p, -1)), True)
        }
        idle = sorted(others, key=lambda p: last_seen.get(p, -1))
        for i in range(len(slots)):
            if i != star:
                cast[i] = (idle.pop(0), False)
        for i, slot in enumerate(slots):
            person, is_enrolled = cast[i]
            last_seen[person] = slot.disappear
            passages.append(
                Passage(
                    camera_id=camera_id,
                    person=person,
                    enrolled=is_enrolled,
                    enters_at=slot.enter / fps,
                    leaves_at=slot.leave / fps,
                    direction=slot.direction,
                    pass_index=index,
                    crossing=slot.crossing,
                    appears_at=slot.appear / fps,
                    disappears_at=slot.disappear / fps,
                    motion=slot.motion,
                    light=slot.light,
                )
            )
    return sorted(passages, key=lambda p: (p.enters_at, p.pass_index, p.motion.y))
