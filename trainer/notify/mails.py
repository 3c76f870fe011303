"""The words of each notification mail: plain text for every reader, simple HTML beside it.

Built without templates: jobs run outside a request, where the page templates' context is not
available. Everything that comes from people or content is escaped in the HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

from markupsafe import escape

# Inline styles: mail clients drop <style> blocks and linked sheets.
_BODY = "font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#1f2933"
_BUTTON = (
    "display:inline-block;background:#1d4f91;color:#ffffff;padding:10px 18px;"
    "border-radius:6px;text-decoration:none;font-weight:bold"
)
_SMALL = "font-size:13px;color:#5f6b7a"
_CELL = "padding:4px 10px;border-bottom:1px solid #d9dee5;text-align:left"


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str
    html: str
    # A sentence or two for a push notification or a text message, and the link it opens;
    # None: this one goes by email only.
    short: str | None = None
    url: str | None = None


def day_label(day: date) -> str:
    """'Tue 2 Dec' (no %-d: it is not portable)."""
    return f"{day:%a} {day.day} {day:%b}"


def _page(*parts: str) -> str:
    return f'<div style="{_BODY}">' + "".join(parts) + "</div>"


def _p(html: str, style: str = "") -> str:
    return f'<p style="{style}">{html}</p>' if style else f"<p>{html}</p>"


def _link(url: str, label: str, style: str = "") -> str:
    style_attr = f' style="{style}"' if style else ""
    return f'<a href="{escape(url)}"{style_attr}>{escape(label)}</a>'


# -- the daily reminder ----------------------------------------------------------------------


def reminder_mail(
    *,
    first_name: str,
    questions: int,
    minutes: int,
    started: bool,
    streak: int,
    reminder_time: time,
    refresher_url: str,
    settings_url: str,
) -> Mail:
    size = f"{questions} question{'' if questions == 1 else 's'}"
    length = f"about {minutes} minute{'' if minutes == 1 else 's'}"
    if started:
        ready = f"You are part way through today's refresher: {size} to go, {length}."
    else:
        ready = f"Your refresher for today is ready: {size}, {length}."
    why = "It asks about what you are closest to forgetting, so a few minutes now keeps it fresh."
    if streak:
        streak_line = f"You're on a {streak}-day streak. Today's refresher keeps it going."
    else:
        streak_line = "Do it today to start a streak."
    action = "Finish your refresher" if started else "Start your refresher"
    footer = f"You get this reminder at {reminder_time:%H:%M} on days when something is due."
    text = "\n".join(
        [
            f"Hi {first_name},",
            "",
            ready,
            why,
            "",
            streak_line,
            "",
            f"{action}: {refresher_url}",
            "",
            "--",
            footer,
            f"Snooze or stop these reminders: {settings_url}",
        ]
    )
    html = _page(
        _p(f"Hi {escape(first_name)},"),
        _p(f"<strong>{escape(ready)}</strong> {escape(why)}"),
        _p(escape(streak_line)),
        _p(_link(refresher_url, action, _BUTTON)),
        _p(
            f"{escape(footer)}<br>{_link(settings_url, 'Snooze or stop these reminders')}",
            _SMALL,
        ),
    )
    subject = f"Your {minutes}-minute refresher is {'waiting' if started else 'ready'}"
    short = f"Hi {first_name}, {ready[0].lower()}{ready[1:]}"
    if streak:
        short += f" You're on a {streak}-day streak."
    return Mail(subject, text, html, short, refresher_url)


# -- overdue onboarding lessons --------------------------------------------------------------


@dataclass(frozen=True)
class OverdueLesson:
    title: str
    due: date
    url: str


def overdue_mail(*, first_name: str, lessons: list[OverdueLesson], today_url: str) -> Mail:
    if len(lessons) == 1:
        subject = f"Overdue: {lessons[0].title}"
        intro = "This onboarding lesson is past its due date:"
    else:
        subject = f"{len(lessons)} onboarding lessons are overdue"
        intro = "These onboarding lessons are past their due dates:"
    outro = "Each lesson takes five minutes or less."
    text = "\n".join(
        [f"Hi {first_name},", "", intro, ""]
        + [f"- {lesson.title} (due {day_label(lesson.due)}): {lesson.url}" for lesson in lessons]
        + ["", outro, "", f"Your training: {today_url}"]
    )
    items = "".join(
        f"<li>{_link(lesson.url, lesson.title)} (due {day_label(lesson.due)})</li>"
        for lesson in lessons
    )
    html = _page(
        _p(f"Hi {escape(first_name)},"),
        _p(escape(intro)),
        f"<ul>{items}</ul>",
        _p(escape(outro)),
        _p(_link(today_url, "Open your training", _BUTTON)),
    )
    if len(lessons) == 1:
        short = f"{lessons[0].title} was due {day_label(lessons[0].due)}. {outro}"
        return Mail(subject, text, html, short, lessons[0].url)
    short = f"{len(lessons)} of your onboarding lessons are past their due dates. {outro}"
    return Mail(subject, text, html, short, today_url)


@dataclass(frozen=True)
class OverdueItem:
    learner: str
    title: str
    due: date


def overdue_report_mail(*, first_name: str, items: list[OverdueItem], url: str) -> Mail:
    learners = sorted({item.learner for item in items})
    count = len(items)
    lessons = "lesson is" if count == 1 else "lessons are"
    who = learners[0] if len(learners) == 1 else f"{len(learners)} people"
    subject = f"Overdue onboarding: {count} {'lesson' if count == 1 else 'lessons'} ({who})"
    intro = f"{count} onboarding {lessons} newly past due in your team:"
    rows = sorted(items, key=lambda i: (i.learner, i.due, i.title))
    text = "\n".join(
        [f"Hi {first_name},", "", intro, ""]
        + [f"- {i.learner}: {i.title} (due {day_label(i.due)})" for i in rows]
        + ["", "You will hear about each lesson once.", "", f"Frontline Trainer: {url}"]
    )
    table_rows = "".join(
        f'<tr><td style="{_CELL}">{escape(i.learner)}</td><td style="{_CELL}">'
        f'{escape(i.title)}</td><td style="{_CELL}">{day_label(i.due)}</td></tr>'
        for i in rows
    )
    html = _page(
        _p(f"Hi {escape(first_name)},"),
        _p(escape(intro)),
        '<table style="border-collapse:collapse">'
        f'<tr><th style="{_CELL}">Person</th><th style="{_CELL}">Lesson</th>'
        f'<th style="{_CELL}">Was due</th></tr>{table_rows}</table>',
        _p("You will hear about each lesson once.", _SMALL),
        _p(_link(url, "Open Frontline Trainer", _BUTTON)),
    )
    short = f"{count} onboarding {lessons} newly past due in your team ({who})."
    return Mail(subject, text, html, short, url)


# -- the managers' weekly digest -------------------------------------------------------------


@dataclass(frozen=True)
class MemberWeek:
    name: str
    done: int
    total: int
    overdue: int
    refreshers_done: int
    refreshers_planned: int

    @property
    def path(self) -> str:
        return f"{self.done}/{self.total}" if self.total else "no path"

    @property
    def refreshers(self) -> str:
        if not self.refreshers_planned:
            return "none planned"
        return f"{self.refreshers_done}/{self.refreshers_planned} days"


@dataclass(frozen=True)
class TeamWeek:
    name: str
    members: list[MemberWeek]
    weakest: list[tuple[str, int]] = field(default_factory=list)  # skill label, recall %


def _weakest_line(team: TeamWeek) -> str:
    if not team.weakest:
        return "Weakest skills: no answers yet."
    return "Weakest skills: " + ", ".join(f"{label} ({pct}%)" for label, pct in team.weakest)


_DIGEST_NOTE = (
    "Refreshers done counts the daily refreshers finished out of those planned in the last "
    "7 days. Weakest skills are the skills the team is most likely to have forgotten today."
)


def digest_mail(*, first_name: str, week: str, teams: list[TeamWeek], url: str) -> Mail:
    names = ", ".join(team.name for team in teams)
    subject = f"Your team's week in training ({week}): {names}"
    text_lines = [
        f"Hi {first_name},",
        "",
        f"Here is how your team is doing. {_DIGEST_NOTE}",
    ]
    html_parts = [
        _p(f"Hi {escape(first_name)},"),
        _p(f"Here is how your team is doing. {_DIGEST_NOTE}"),
    ]
    headers = ("Person", "Onboarding path", "Overdue", "Refreshers done")
    for team in teams:
        text_lines += ["", team.name, "=" * len(team.name)]
        if not team.members:
            text_lines.append("No active learners in this team.")
            html_parts += [f"<h2>{escape(team.name)}</h2>", _p("No active learners.")]
            continue
        for m in team.members:
            text_lines.append(
                f"- {m.name}: path {m.path}, {m.overdue} overdue, refreshers {m.refreshers}"
            )
        text_lines.append(_weakest_line(team))
        head = "".join(f'<th style="{_CELL}">{h}</th>' for h in headers)
        body = "".join(
            "<tr>"
            + "".join(
                f'<td style="{_CELL}">{escape(value)}</td>'
                for value in (m.name, m.path, str(m.overdue), m.refreshers)
            )
            + "</tr>"
            for m in team.members
        )
        html_parts += [
            f"<h2>{escape(team.name)}</h2>",
            f'<table style="border-collapse:collapse"><tr>{head}</tr>{body}</table>',
            _p(escape(_weakest_line(team))),
        ]
    text_lines += ["", f"Frontline Trainer: {url}"]
    html_parts.append(_p(_link(url, "Open Frontline Trainer", _BUTTON)))
    return Mail(subject, "\n".join(text_lines), _page(*html_parts))


# -- a manager's nudge -----------------------------------------------------------------------


def nudge_mail(
    *, first_name: str, manager: str, lesson: str | None, minutes: int | None, url: str
) -> Mail:
    """A manager's one-tap reminder: who asks, and the one thing to do next."""
    if lesson:
        what = f"your next lesson, “{lesson}” ({minutes} min)"
        subject = f"{manager} asks you to do your next lesson"
        button = "Start the lesson"
    else:
        what = "your refresher: five minutes on the questions you are closest to forgetting"
        subject = f"{manager} asks you to do your refresher"
        button = "Start the refresher"
    text = (
        f"Hello {first_name},\n\n"
        f"{manager} asks you to take a few minutes today for {what}.\n\n"
        f"{button}: {url}\n"
    )
    html = _page(
        _p(f"Hello {escape(first_name)},"),
        _p(f"{escape(manager)} asks you to take a few minutes today for {escape(what)}."),
        _p(_link(url, button, _BUTTON)),
    )
    short = f"Hi {first_name}, {manager} asks you to take a few minutes today for {what}."
    return Mail(subject, text, html, short, url)
