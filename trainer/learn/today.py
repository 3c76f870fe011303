"""What Today puts first: one line per lesson, due dates in words, a catch-up plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from trainer.learn.services import PathLesson, PathProgress


def due_phrase(due: date | None, today: date) -> str:
    """ "due today", "due tomorrow", "2 days late", "due in 3 days", "due Mon 7 Dec"."""
    if due is None:
        return ""
    days = (due - today).days
    if days < 0:
        return f"{-days} day{'s' if days != -1 else ''} late"
    if days == 0:
        return "due today"
    if days == 1:
        return "due tomorrow"
    if days < 7:
        return f"due in {days} days"
    return f"due {due:%a %-d %b}"


def merge_assigned(progress: PathProgress | None, assigned: list[PathLesson]) -> list[PathLesson]:
    """A lesson both on the path and assigned shows once, on the path, with the earlier date.
    Returns the assigned lessons that are not on the path."""
    on_path = {pl.lesson.id: pl for pl in progress.lessons} if progress else {}
    rest = []
    for al in assigned:
        pl = on_path.get(al.lesson.id)
        if pl is None:
            rest.append(al)
        elif al.due is not None and (pl.due is None or al.due < pl.due):
            pl.due = al.due
    return rest


@dataclass(frozen=True)
class CatchUp:
    lessons: int
    minutes: int

    @property
    def line(self) -> str:
        """ "9 lessons ≈ 40 min — one today"."""
        if self.lessons == 1:
            return f"1 lesson ≈ {self.minutes} min — do it today"
        return f"{self.lessons} lessons ≈ {self.minutes} min — one today"


def catch_up(lessons: list[PathLesson], today: date) -> CatchUp | None:
    """How far behind the learner is: the late lessons and their minutes, or None."""
    late = [pl for pl in lessons if pl.overdue(today)]
    if not late:
        return None
    return CatchUp(len(late), sum(pl.lesson.minutes or 0 for pl in late))
