"""Benchmark 3, `simulation`: does the product's scheduler buy more memory per minute?

1,000 simulated learners x 60 items over 180 days. Memory follows a model that is NOT FSRS, so
FSRS is not graded by its own assumptions:

* recall is exponential forgetting, p = exp(-t / h), t days since the item was last seen;
* h starts at H0 x ability(learner) x easiness(item), both lognormal;
* a successful recall after a gap t grows it, h *= 1 + growth(learner) x (1 - exp(-t / h)):
  the longer the gap relative to h (the harder the retrieval), the larger the gain, and almost
  none for an item asked again minutes later;
* a lapse shrinks it, h = max(h0 / 2, 0.6 h); the feedback shows the right answer, so the item
  counts as seen again then.

Every learner meets all 60 items in onboarding lessons on days 0-13 (4-5 a day, one answer
each). Then four policies, each at 5 minutes a day = 15 items of ~20 s:

(a) the product: real FSRS (`trainer.review.fsrs_cards.scheduler()`: desired retention 0.9),
    answers rated by the real `rating_for` against the learner's usual pace (mean of their
    last 30 answer times, the current one included, as `review` computes it), and each day's
    refresher chosen by the real `order_items` among the due cards only (lowest predicted
    recall first, at most 15), planned before the day's lesson;
(b) Qstream-style spacing: wrong -> back in 12 days, right -> back in 24 days, retired after two
    right answers in a row (the lesson answer is the first), at most 15 a day, oldest first;
(c) one fixed weekly quiz of the same weekly minutes: every 7th day, 7 x 15 = 105 questions
    chosen round-robin over the learned items (with 60 items, 45 come up twice in one sitting);
(d) no refreshers;
(c′) for context, the weekly quiz asking each learned item once.

Then, for each policy X that spends review minutes ((b), (c), (c′)), (a@X): the same product
policy with its daily budget cut so that its review minutes per learner do not exceed X's (not
cut when (a) at the full budget already spends no more than X; otherwise X's questions per
learner / 180 a day, carried as credit).

Reported: mean true recall (from the memory model) over all learners and items at the end of
day 90 and of day 180, and review minutes per learner (20 s per question; lesson answers, the
same in every policy, are not counted). The target, "the product's scheduler has the highest
recall for no more minutes", is read as an equal-cost comparison: for each X, (a@X) has a
higher recall than X at day 180 with minutes <= X's; and (a) at the full 5-minute budget has
the highest recall of all at day 90 and day 180.
"""

from __future__ import annotations

import math
import multiprocessing
import random
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from bench.common import Figure, Result

LEARNERS = 1_000
ITEMS = 60
DAYS = 180
DAILY_ITEMS = 15
SECONDS_PER_ITEM = 20
SEED = 1234
CHECKPOINTS = (90, 180)

# Onboarding: how many new items each day's lesson brings (days 0-13, 60 in all).
NEW_PER_DAY = [5, 4, 4, 5, 4, 4, 5, 4, 4, 5, 4, 4, 4, 4]
SKILLS = 8

# The memory model (not FSRS).
H0_DAYS = 5.0  # median h after a lesson: one week later, about a quarter is recalled
ABILITY_SIGMA = 0.5
EASINESS_SIGMA = 0.5
GROWTH_MEDIAN = 2.0
GROWTH_SIGMA = 0.25
LAPSE_FACTOR = 0.6
H_MAX = 3650.0
LESSON_RIGHT = 0.9  # the item's own lesson was just read
PACE_MEDIAN = 14.0  # seconds a learner usually takes

REFRESHER_HOUR = 8  # the day's refresher, planned overnight, is done before the lesson
LESSON_HOUR = 10
EPOCH = datetime(2025, 1, 6, tzinfo=UTC)


class Learner:
    """One simulated person: the true state of their memory of each item, and their pace."""

    __slots__ = ("h", "h0", "last", "growth", "pace", "rng", "recent")

    def __init__(self, params: tuple, rng: random.Random):
        h0, growth, pace = params
        self.h0 = h0
        self.h = list(h0)
        self.last = [None] * len(h0)
        self.growth = growth
        self.pace = pace
        self.rng = rng
        self.recent: list[float] = []

    def recall(self, item: int, t: float) -> float:
        last = self.last[item]
        return 0.0 if last is None else math.exp(-(t - last) / self.h[item])

    def _seconds(self, right: bool, p: float) -> float:
        noise = math.exp(self.rng.gauss(0.0, 0.25))
        seconds = self.pace * noise * ((0.6 + 0.8 * (1.0 - p)) if right else 1.2)
        self.recent.append(seconds)
        if len(self.recent) > 30:
            del self.recent[0]
        return seconds

    def learn(self, item: int, t: float) -> tuple[bool, float]:
        """The lesson's quiz answer: first sight of the item."""
        right = self.rng.random() < LESSON_RIGHT
        self.h[item] = self.h0[item]
        self.last[item] = t
        return right, self._seconds(right, LESSON_RIGHT)

    def answer(self, item: int, t: float) -> tuple[bool, float]:
        """A review question: recalled or not per the model, memory updated, feedback seen."""
        h = self.h[item]
        p = math.exp(-(t - self.last[item]) / h)
        right = self.rng.random() < p
        if right:
            self.h[item] = min(H_MAX, h * (1.0 + self.growth * (1.0 - p)))
        else:
            self.h[item] = max(0.5 * self.h0[item], LAPSE_FACTOR * h)
        self.last[item] = t
        return right, self._seconds(right, p)

    def usual_seconds(self) -> float:
        return sum(self.recent) / len(self.recent)


def population(seed: int, h0_days: float = H0_DAYS) -> list[tuple]:
    """The same learners and items for every policy: (h0 per item, growth, pace)."""
    rng = random.Random(seed)
    easiness = [math.exp(rng.gauss(0.0, EASINESS_SIGMA)) for _ in range(ITEMS)]
    people = []
    for _ in range(LEARNERS):
        ability = math.exp(rng.gauss(0.0, ABILITY_SIGMA))
        h0 = [h0_days * ability * e for e in easiness]
        growth = GROWTH_MEDIAN * math.exp(rng.gauss(0.0, GROWTH_SIGMA))
        pace = PACE_MEDIAN * math.exp(rng.gauss(0.0, 0.3))
        people.append((h0, growth, pace))
    return people


def lessons() -> dict[int, list[int]]:
    """Day -> the items first met that day."""
    plan, item = {}, 0
    for day, count in enumerate(NEW_PER_DAY):
        plan[day] = list(range(item, item + count))
        item += count
    assert item == ITEMS
    return plan


LESSONS = lessons()
SKILL_OF = {item: f"skill-{day % SKILLS}" for day, items in LESSONS.items() for item in items}


def _at(day: int, hour: int, slot: int = 0) -> float:
    """Time in days of the `slot`-th question of a sitting that starts at `hour` on `day`."""
    return day + hour / 24 + slot * SECONDS_PER_ITEM / 86_400


def _checkpoint(learner: Learner, day: int, totals: dict[int, float]) -> None:
    end = day + 1.0  # the end of the day
    totals[day] += sum(learner.recall(i, end) for i in range(ITEMS))


# -- the policies: each simulates one learner's 180 days, returns the questions asked ------------


def policy_fsrs(
    learner: Learner, totals: dict[int, float], daily: Fraction | int = DAILY_ITEMS
) -> int:
    """(a), and (a@X) with a smaller `daily` budget: a fractional number of questions a day,
    carried as credit. Each day adds `daily` to the credit; the day's refresher may ask
    floor(credit) questions (never more than DAILY_ITEMS, the product's 5 minutes) and what it
    asks is taken off. So a learner never asks more than `daily` x DAYS questions in all; at
    the full budget (daily = DAILY_ITEMS) this is exactly the product's "at most 15 a day"."""
    import fsrs

    from trainer.review.fsrs_cards import RecallModel, rating_for, scheduler
    from trainer.review.planning import DueCard, order_items

    sched = scheduler()  # no app context: desired retention 0.9, no fuzz (repeatable)
    recall = RecallModel(sched).recall
    cards: dict[int, fsrs.Card] = {}
    buckets: dict[int, list[int]] = defaultdict(list)  # day a card first counts as due
    pending: set[int] = set()
    asked = 0

    def schedule(item: int, right: bool, seconds: float, t: float, day: int) -> None:
        rating = rating_for(right, seconds, learner.usual_seconds())
        moment = EPOCH + timedelta(days=t)
        card, _log = sched.review_card(cards[item], rating, review_datetime=moment)
        cards[item] = card
        # Due on the day of card.due; the next refresher is planned on the next day at the
        # earliest (a card due later today was due after today's refresher was planned).
        due_day = (card.due - EPOCH).days
        buckets[max(due_day, day + 1)].append(item)

    # The credit in exact units of 1/denominator of a question, so that the bound
    # daily x DAYS holds to the question (and integers are cheaper than Fractions).
    daily = Fraction(daily)
    per_day, unit = daily.numerator, daily.denominator
    credit = 0
    for day in range(DAYS):
        pending.update(buckets.pop(day, ()))
        credit += per_day
        limit = min(DAILY_ITEMS, credit // unit)
        if pending and limit > 0:
            now = EPOCH + timedelta(days=_at(day, REFRESHER_HOUR))
            due = [
                DueCard(i, SKILL_OF[i], recall(cards[i].stability, cards[i].last_review, now))
                for i in pending
            ]
            for slot, item in enumerate(order_items(due, limit)):
                credit -= unit
                t = _at(day, REFRESHER_HOUR, slot)
                right, seconds = learner.answer(item, t)
                schedule(item, right, seconds, t, day)
                pending.discard(item)
                asked += 1
        for slot, item in enumerate(LESSONS.get(day, ())):
            t = _at(day, LESSON_HOUR, slot)
            right, seconds = learner.learn(item, t)
            cards[item] = fsrs.Card(card_id=item + 1, due=EPOCH + timedelta(days=t))
            schedule(item, right, seconds, t, day)
        if day + 1 in CHECKPOINTS:
            _checkpoint(learner, day, totals)
    return asked


def policy_qstream(learner: Learner, totals: dict[int, float]) -> int:
    next_day: dict[int, int] = {}  # item -> day it comes back; retired items leave
    streak: dict[int, int] = {}
    asked = 0

    def after(item: int, right: bool, day: int) -> None:
        streak[item] = streak.get(item, 0) + 1 if right else 0
        if streak[item] >= 2:
            next_day.pop(item, None)  # retired
        else:
            next_day[item] = day + (24 if right else 12)

    for day in range(DAYS):
        due = sorted((d, i) for i, d in next_day.items() if d <= day)[:DAILY_ITEMS]
        for slot, (_d, item) in enumerate(due):
            right, _seconds = learner.answer(item, _at(day, REFRESHER_HOUR, slot))
            after(item, right, day)
            asked += 1
        for slot, item in enumerate(LESSONS.get(day, ())):
            right, _seconds = learner.learn(item, _at(day, LESSON_HOUR, slot))
            after(item, right, day)
        if day + 1 in CHECKPOINTS:
            _checkpoint(learner, day, totals)
    return asked


def policy_weekly(learner: Learner, totals: dict[int, float], questions: int = 105) -> int:
    learned: list[int] = []
    pointer = 0
    asked = 0
    for day in range(DAYS):
        if day and day % 7 == 0 and learned:
            count = questions if questions else len(learned)
            for slot in range(count):
                item = learned[pointer % len(learned)]
                pointer += 1
                learner.answer(item, _at(day, REFRESHER_HOUR, slot))
                asked += 1
        for slot, item in enumerate(LESSONS.get(day, ())):
            learner.learn(item, _at(day, LESSON_HOUR, slot))
            learned.append(item)
        if day + 1 in CHECKPOINTS:
            _checkpoint(learner, day, totals)
    return asked


def policy_weekly_once(learner: Learner, totals: dict[int, float]) -> int:
    return policy_weekly(learner, totals, questions=0)


def policy_none(learner: Learner, totals: dict[int, float]) -> int:
    for day in range(DAYS):
        for slot, item in enumerate(LESSONS.get(day, ())):
            learner.learn(item, _at(day, LESSON_HOUR, slot))
        if day + 1 in CHECKPOINTS:
            _checkpoint(learner, day, totals)
    return 0


POLICIES = {
    "a": ("(a) product: FSRS 0.9 + order_items, due cards only", policy_fsrs),
    "b": ("(b) Qstream: 12 d wrong / 24 d right, retire after 2 right", policy_qstream),
    "c": ("(c) weekly quiz, 105 questions round-robin", policy_weekly),
    "d": ("(d) no refreshers", policy_none),
    "c2": ("(c′) weekly quiz, each learned item once (context)", policy_weekly_once),
}
NAMES = {"a": "(a)", "b": "(b)", "c": "(c)", "d": "(d)", "c2": "(c′)"}
#: The policies (a) is also compared with at equal cost: every other one that spends minutes.
ISO_KEYS = ("b", "c", "c2")
WORKERS = 2  # processes; the machine the figures come from has 2 cores
SLICES = 8  # each policy's learners are cut into this many slices, spread over the workers


def iso_key(x: str) -> str:
    return f"a@{x}"


def iso_name(x: str) -> str:
    return f"(a@{NAMES[x][1:-1]})"


def _slice(key: str, h0_days: float, start: int, stop: int, daily=None):
    """In a worker: learners start..stop-1 under one policy. Every learner draws from a random
    stream of their own, seeded by policy and position, so the result is the same however the
    learners are split over processes; (a@X) uses (a)'s streams, so at the full budget it would
    repeat (a) exactly."""
    _label, policy = POLICIES[key]
    people = population(SEED, h0_days)[start:stop]
    totals: dict[int, float] = defaultdict(float)
    asked = 0
    started = time.perf_counter()
    for offset, params in enumerate(people):
        learner = Learner(params, random.Random(f"{SEED}-{key}-{start + offset}"))
        asked += policy(learner, totals) if daily is None else policy(learner, totals, daily)
    return dict(totals), asked, time.perf_counter() - started


def _submit(pool, key: str, learners: int, h0_days: float, daily=None) -> list:
    step = max(1, math.ceil(learners / SLICES))
    return [
        pool.submit(_slice, key, h0_days, start, min(learners, start + step), daily)
        for start in range(0, learners, step)
    ]


def _collect(futures: list, label: str, learners: int) -> dict:
    totals: dict[int, float] = defaultdict(float)
    asked, seconds = 0, 0.0
    for future in futures:
        part, part_asked, part_seconds = future.result()
        for day, value in part.items():
            totals[day] += value
        asked += part_asked
        seconds += part_seconds
    return {
        "label": label,
        "recall": {c: totals[c - 1] / (learners * ITEMS) for c in CHECKPOINTS},
        "minutes": asked * SECONDS_PER_ITEM / 60 / learners,
        "questions": asked / learners,
        "asked": asked,
        "seconds": seconds,  # summed over the slices: CPU time, not wall time
    }


def _say(row: dict, quiet: bool) -> None:
    if not quiet:
        r = row["recall"]
        print(
            f"  {row['label']}: recall d90 {100 * r[90]:.1f} %, d180 {100 * r[180]:.1f} %, "
            f"{row['minutes']:.1f} min/learner ({row['seconds']:.1f} s)",
            flush=True,
        )


def simulate(learners: int, h0_days: float = H0_DAYS, quiet: bool = False) -> dict[str, dict]:
    """Every policy, then (a@X) for each X in ISO_KEYS: the product with its daily budget cut
    so that its review minutes per learner do not exceed X's. When (a) at the full budget
    already spends no more than X, nothing is cut and (a@X) is (a); otherwise the budget is
    X's questions per learner / DAYS a day, carried as credit, which cannot spend more than X
    by construction (and the spend is checked)."""
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(WORKERS, mp_context=context) as pool:
        futures = {key: _submit(pool, key, learners, h0_days) for key in POLICIES}
        out = {}
        for key, parts in futures.items():
            out[key] = _collect(parts, POLICIES[key][0], learners)
            _say(out[key], quiet)

        a = out["a"]
        scaled = {}
        for x in ISO_KEYS:
            if out[x]["asked"] and a["asked"] > out[x]["asked"]:
                daily = Fraction(out[x]["asked"], learners * DAYS)
                scaled[x] = (daily, _submit(pool, "a", learners, h0_days, daily))
        for x in ISO_KEYS:
            if not out[x]["asked"]:
                continue
            if x in scaled:
                daily, parts = scaled[x]
                row = _collect(
                    parts,
                    f"{iso_name(x)} product at {NAMES[x]}'s minutes: "
                    f"{float(daily):.2f} questions a day, carried as credit",
                    learners,
                )
                row["budget"] = float(daily)
            else:
                row = dict(
                    a,
                    label=f"{iso_name(x)} product at {NAMES[x]}'s minutes: the full budget "
                    f"fits, = (a)",
                    seconds=0.0,
                )
                row["budget"] = float(DAILY_ITEMS)
            row["of"] = x
            out[iso_key(x)] = row
            _say(row, quiet)
    return out


def _table(out: dict[str, dict]) -> str:
    none = out["d"]["recall"]
    lines = [
        "| policy | recall day 90 | recall day 180 | review minutes / learner | questions "
        "/ learner | recall points over (d) per review hour, day 180 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for v in out.values():
        gain = (
            f"{100 * (v['recall'][180] - none[180]) / (v['minutes'] / 60):.1f}"
            if v["minutes"]
            else "—"
        )
        lines.append(
            f"| {v['label']} | {100 * v['recall'][90]:.1f} % | {100 * v['recall'][180]:.1f} % "
            f"| {v['minutes']:.1f} | {v['questions']:.1f} | {gain} |"
        )
    return "\n".join(lines)


def _iso_figures(out: dict[str, dict]) -> list[Figure]:
    figures = []
    for x in ISO_KEYS:
        if iso_key(x) not in out:
            continue
        ax, other = out[iso_key(x)], out[x]
        cheaper = ax["asked"] <= other["asked"]
        better = ax["recall"][180] > other["recall"][180]
        how = (
            "full budget: (a) already spends no more"
            if ax["budget"] == DAILY_ITEMS
            else f"budget {ax['budget']:.2f} questions a day, carried as credit"
        )
        figures.append(
            Figure(
                f"{iso_name(x)} mean recall, day 180",
                100 * ax["recall"][180],
                "%",
                f"> {NAMES[x]}'s, at minutes ≤ {NAMES[x]}'s",
                better and cheaper,
                100 * other["recall"][180],
                f"{NAMES[x]}",
                note=f"minutes per learner {ax['minutes']:.1f} vs {other['minutes']:.1f} "
                f"({'≤' if cheaper else '>'}); day 90: {100 * ax['recall'][90]:.1f} % vs "
                f"{100 * other['recall'][90]:.1f} %; {how}",
            )
        )
    return figures


def run(quick: bool = False) -> Result:
    learners = LEARNERS // 10 if quick else LEARNERS
    start = time.perf_counter()
    out = simulate(learners)
    main_seconds = time.perf_counter() - start
    a = out["a"]
    others = {k: v for k, v in out.items() if k in ("b", "c", "d", "c2")}
    result = Result("simulation", "Review policies on a simulated workforce")
    for day in CHECKPOINTS:
        best_key = max(others, key=lambda k: others[k]["recall"][day])
        best = others[best_key]["recall"][day]
        result.figures.append(
            Figure(
                f"(a) mean recall, day {day}",
                100 * a["recall"][day],
                "%",
                "highest of all, at the full 5-minute budget",
                a["recall"][day] > best,
                100 * best,
                f"best other: {NAMES[best_key]}",
            )
        )
    result.figures += _iso_figures(out)
    budget = DAYS * DAILY_ITEMS * SECONDS_PER_ITEM / 60
    result.figures.append(
        Figure(
            "(a) review minutes per learner",
            a["minutes"],
            "min",
            note="context: minutes are judged pairwise in the (a@X) rows; "
            + ", ".join(f"{NAMES[k]} {others[k]['minutes']:.0f}" for k in ISO_KEYS)
            + f" min; budget {budget:.0f} min",
        )
    )
    result.tables.append(
        f"All policies, H0 = {H0_DAYS:g} days ({learners:,} learners, {main_seconds:.0f} s "
        f"on {WORKERS} processes):\n\n" + _table(out)
    )

    # Sensitivity: the same comparison when first memories last three times longer.
    sens_learners = max(50, learners // 5)
    start = time.perf_counter()
    sens = simulate(sens_learners, h0_days=3 * H0_DAYS, quiet=True)
    sens_seconds = time.perf_counter() - start
    sens_iso = "; ".join(
        f"{iso_name(x)} {100 * sens[iso_key(x)]['recall'][180]:.1f} % vs {NAMES[x]} "
        f"{100 * sens[x]['recall'][180]:.1f} %"
        for x in ISO_KEYS
        if iso_key(x) in sens
    )
    result.tables.append(
        f"Sensitivity, H0 = {3 * H0_DAYS:g} days ({sens_learners:,} learners, "
        f"{sens_seconds:.0f} s; context, no target):\n\n" + _table(sens)
    )
    print(
        f"  sensitivity (H0 = {3 * H0_DAYS:g} d): "
        + ", ".join(
            f"{k} {100 * v['recall'][180]:.1f} % / {v['minutes']:.0f} min" for k, v in sens.items()
        ),
        flush=True,
    )
    result.notes += [
        f"{learners:,} learners × {ITEMS} items × {DAYS} days, seed {SEED}; budget "
        f"{DAILY_ITEMS} questions × {SECONDS_PER_ITEM} s = 5 min a day (105 questions a week).",
        "Memory model (not FSRS): p = exp(−t/h); h0 = "
        f"{H0_DAYS:g} d × ability × easiness (lognormal, σ {ABILITY_SIGMA} and "
        f"{EASINESS_SIGMA}); success: h ×= 1 + g·(1 − p), g lognormal with median "
        f"{GROWTH_MEDIAN:g}; lapse: h = max(h0/2, {LAPSE_FACTOR}·h); a lesson answer is right "
        f"with p = {LESSON_RIGHT}. Recall is the model's p at the end of the day.",
        "(a@X): the same product policy (FSRS + `order_items` over the due cards, the same "
        "learners and random streams as (a)) with its daily budget cut so that its review "
        "minutes per learner do not exceed X's. Where (a) at 15 a day already spends no more "
        "than X, nothing is cut and (a@X) is (a). Otherwise the budget is X's questions per "
        "learner ÷ 180 a day, kept as exact credit: each day adds it, the refresher asks at "
        "most floor(credit) (and never more than 15) and what it asks is taken off, so no "
        "learner can ask more than X's mean in all; the spend is checked, not assumed. A "
        "learner with fewer cards due leaves credit unused, so (a@X) can spend less than X: "
        "the comparison then favours X.",
        f"Sensitivity (H0 = {3 * H0_DAYS:g} d), equal-cost rows: {sens_iso}.",
        f"Simulation CPU time per policy, summed over {SLICES} slices on {WORKERS} processes: "
        + ", ".join(f"{k} {v['seconds']:.1f} s" for k, v in out.items() if v["seconds"])
        + ".",
    ]
    return result
