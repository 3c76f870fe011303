"""The steps of the lesson player, in order, for the progress bar and the next/back links."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for

from trainer.languages import gettext as _
from trainer.models import Lesson


@dataclass(frozen=True)
class Step:
    kind: str  # scenario | key-points | quiz | conversation | roleplay | done
    number: int  # 1-based within its kind (quiz 1, quiz 2, ...); 0 for single steps
    label: str

    def url(self, lesson: Lesson) -> str:
        if self.kind == "scenario":
            return url_for("learn.scenario", key=lesson.key)
        if self.kind == "key-points":
            return url_for("learn.key_points", key=lesson.key)
        if self.kind == "quiz":
            return url_for("learn.quiz_item", key=lesson.key, n=self.number)
        if self.kind == "conversation":
            return url_for("learn.conversation", key=lesson.key)
        if self.kind == "roleplay":
            return url_for("learn.roleplay", key=lesson.key, n=self.number)
        return url_for("learn.done", key=lesson.key)


@dataclass(frozen=True)
class Progress:
    steps: list[Step]
    index: int  # 0-based position of the current step

    @property
    def current(self) -> Step:
        return self.steps[self.index]

    @property
    def next(self) -> Step | None:
        return self.steps[self.index + 1] if self.index + 1 < len(self.steps) else None

    @property
    def previous(self) -> Step | None:
        return self.steps[self.index - 1] if self.index > 0 else None

    @property
    def percent(self) -> int:
        return round(100 * self.index / max(1, len(self.steps) - 1))

    @property
    def next_label(self) -> str:
        """The words of the link to the next step."""
        kind = self.next.kind if self.next else "done"
        if kind == "quiz":
            return _("Next question")
        if kind == "conversation":
            return _("Next: the conversation")
        if kind == "roleplay":
            return _("Next: role-play")
        return _("Finish")

    @property
    def position(self) -> str:
        return _("Step %(number)d of %(count)d", number=self.index + 1, count=len(self.steps))


def lesson_steps(lesson: Lesson) -> list[Step]:
    items = lesson.quiz.live_items if lesson.quiz else []
    roleplays = lesson.live_roleplays
    steps = [Step("scenario", 0, _("Scenario")), Step("key-points", 0, _("Key points"))]
    steps += [
        Step("quiz", i, _("Question %(number)d of %(count)d", number=i, count=len(items)))
        for i in range(1, len(items) + 1)
    ]
    if lesson.live_conversation is not None:
        steps.append(Step("conversation", 0, _("Conversation")))
    steps += [Step("roleplay", i, _("Role-play")) for i in range(1, len(roleplays) + 1)]
    steps.append(Step("done", 0, _("Done")))
    return steps


def progress_at(lesson: Lesson, kind: str, number: int = 0) -> Progress:
    steps = lesson_steps(lesson)
    for index, step in enumerate(steps):
        if step.kind == kind and step.number == number:
            return Progress(steps, index)
    raise LookupError(f"{lesson.key} has no step {kind} {number}")
