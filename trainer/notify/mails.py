"""The words of each notification mail: plain text for every reader, simple HTML beside it.

Built without templates: jobs run outside a request, where the page templates' context is not
available. Everything that comes from people or content is escaped in the HTML. The words are in
the current language: callers wrap a mail in `trainer.languages.speaking(person)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

from babel.dates import format_date
from flask_babel import get_locale
from markupsafe import escape

from trainer.languages import gettext as _
from trainer.languages import ngettext

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
    """'Tue 2 Dec' in English, 'mar 2 dic' in Spanish: the day as a calendar shows it."""
    return format_date(day, "EEE d MMM", locale=get_locale() or "en")


def _page(*parts: str) -> str:
    return f'<div style="{_BODY}">' + "".join(parts) + "</div>"


def _p(html: str, style: str = "") -> str:
    return f'<p style="{style}">{html}</p>' if style else f"<p>{html}</p>"


def _link(url: str, label: str, style: str = "") -> str:
    style_attr = f' style="{style}"' if style else ""
    return f'<a href="{escape(url)}"{style_attr}>{escape(label)}</a>'


def _due(day: date) -> str:
    return _("due %(day)s", day=day_label(day))


def _hi(first_name: str) -> str:
    return _("Hi %(name)s,", name=first_name)


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
    size = ngettext("%(num)d question", "%(num)d questions", questions)
    length = ngettext("about %(num)d minute", "about %(num)d minutes", minutes)
    if started:
        ready = _(
            "You are part way through today's refresher: %(size)s to go, %(length)s.",
            size=size,
            length=length,
        )
        short = _(
            "Hi %(name)s, you are part way through today's refresher: %(size)s to go, %(length)s.",
            name=first_name,
            size=size,
            length=length,
        )
    else:
        ready = _(
            "Your refresher for today is ready: %(size)s, %(length)s.", size=size, length=length
        )
        short = _(
            "Hi %(name)s, your refresher for today is ready: %(size)s, %(length)s.",
            name=first_name,
            size=size,
            length=length,
        )
    why = _(
        "It asks about what you are closest to forgetting, so a few minutes now keeps it fresh."
    )
    if streak:
        streak_line = _(
            "You're on a %(days)d-day streak. Today's refresher keeps it going.", days=streak
        )
    else:
        streak_line = _("Do it today to start a streak.")
    action = _("Finish your refresher") if started else _("Start your refresher")
    at = reminder_time.strftime("%H:%M")
    footer = _("You get this reminder at %(time)s on days when something is due.", time=at)
    stop = _("Snooze or stop these reminders")
    text = "\n".join(
        [
            _hi(first_name),
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
            f"{stop}: {settings_url}",
        ]
    )
    html = _page(
        _p(escape(_hi(first_name))),
        _p(f"<strong>{escape(ready)}</strong> {escape(why)}"),
        _p(escape(streak_line)),
        _p(_link(refresher_url, action, _BUTTON)),
        _p(f"{escape(footer)}<br>{_link(settings_url, stop)}", _SMALL),
    )
    if started:
        subject = _("Your %(minutes)d-minute refresher is waiting", minutes=minutes)
    else:
        subject = _("Your %(minutes)d-minute refresher is ready", minutes=minutes)
    if streak:
        short += " " + _("You're on a %(days)d-day streak.", days=streak)
    return Mail(subject, text, html, short, refresher_url)


# -- overdue onboarding lessons --------------------------------------------------------------


@dataclass(frozen=True)
class OverdueLesson:
    title: str
    due: date
    url: str


def overdue_mail(*, first_name: str, lessons: list[OverdueLesson], today_url: str) -> Mail:
    if len(lessons) == 1:
        subject = _("Overdue: %(lesson)s", lesson=lessons[0].title)
        intro = _("This onboarding lesson is past its due date:")
    else:
        subject = ngettext(
            "%(num)d onboarding lesson is overdue",
            "%(num)d onboarding lessons are overdue",
            len(lessons),
        )
        intro = _("These onboarding lessons are past their due dates:")
    outro = _("Each lesson takes five minutes or less.")
    training = _("Your training")
    text = "\n".join(
        [_hi(first_name), "", intro, ""]
        + [f"- {lesson.title} ({_due(lesson.due)}): {lesson.url}" for lesson in lessons]
        + ["", outro, "", f"{training}: {today_url}"]
    )
    items = "".join(
        f"<li>{_link(lesson.url, lesson.title)} ({escape(_due(lesson.due))})</li>"
        for lesson in lessons
    )
    html = _page(
        _p(escape(_hi(first_name))),
        _p(escape(intro)),
        f"<ul>{items}</ul>",
        _p(escape(outro)),
        _p(_link(today_url, _("Open your training"), _BUTTON)),
    )
    if len(lessons) == 1:
        short = _(
            "%(lesson)s was due %(day)s.", lesson=lessons[0].title, day=day_label(lessons[0].due)
        )
        return Mail(subject, text, html, f"{short} {outro}", lessons[0].url)
    short = ngettext(
        "%(num)d of your onboarding lessons is past its due date.",
        "%(num)d of your onboarding lessons are past their due dates.",
        len(lessons),
    )
    return Mail(subject, text, html, f"{short} {outro}", today_url)


@dataclass(frozen=True)
class OverdueItem:
    learner: str
    title: str
    due: date


def overdue_report_mail(*, first_name: str, items: list[OverdueItem], url: str) -> Mail:
    learners = sorted({item.learner for item in items})
    count = len(items)
    if len(learners) == 1:
        who = learners[0]
    else:
        who = ngettext("%(num)d person", "%(num)d people", len(learners))
    subject = ngettext(
        "Overdue onboarding: %(num)d lesson (%(who)s)",
        "Overdue onboarding: %(num)d lessons (%(who)s)",
        count,
        who=who,
    )
    intro = ngettext(
        "%(num)d onboarding lesson is newly past due in your team:",
        "%(num)d onboarding lessons are newly past due in your team:",
        count,
    )
    short = ngettext(
        "%(num)d onboarding lesson is newly past due in your team (%(who)s).",
        "%(num)d onboarding lessons are newly past due in your team (%(who)s).",
        count,
        who=who,
    )
    once = _("You will hear about each lesson once.")
    rows = sorted(items, key=lambda i: (i.learner, i.due, i.title))
    text = "\n".join(
        [_hi(first_name), "", intro, ""]
        + [f"- {i.learner}: {i.title} ({_due(i.due)})" for i in rows]
        + ["", once, "", f"Frontline Trainer: {url}"]
    )
    table_rows = "".join(
        f'<tr><td style="{_CELL}">{escape(i.learner)}</td><td style="{_CELL}">'
        f'{escape(i.title)}</td><td style="{_CELL}">{escape(day_label(i.due))}</td></tr>'
        for i in rows
    )
    head = "".join(
        f'<th style="{_CELL}">{escape(h)}</th>' for h in (_("Person"), _("Lesson"), _("Was due"))
    )
    html = _page(
        _p(escape(_hi(first_name))),
        _p(escape(intro)),
        f'<table style="border-collapse:collapse"><tr>{head}</tr>{table_rows}</table>',
        _p(escape(once), _SMALL),
        _p(_link(url, _("Open Frontline Trainer"), _BUTTON)),
    )
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
        return f"{self.done}/{self.total}" if self.total else _("no path")

    @property
    def refreshers(self) -> str:
        if not self.refreshers_planned:
            return _("none planned")
        return ngettext(
            "%(done)d/%(num)d day",
            "%(done)d/%(num)d days",
            self.refreshers_planned,
            done=self.refreshers_done,
        )


@dataclass(frozen=True)
class TeamWeek:
    name: str
    members: list[MemberWeek]
    weakest: list[tuple[str, int]] = field(default_factory=list)  # skill label, recall %


def _weakest_line(team: TeamWeek) -> str:
    if not team.weakest:
        return _("Weakest skills: no answers yet.")
    skills = ", ".join(f"{label} ({pct}%)" for label, pct in team.weakest)
    return _("Weakest skills: %(skills)s", skills=skills)


def _digest_note() -> str:
    return _(
        "Refreshers done counts the daily refreshers finished out of those planned in the last "
        "7 days. Weakest skills are the skills the team is most likely to have forgotten today."
    )


def digest_mail(*, first_name: str, week: str, teams: list[TeamWeek], url: str) -> Mail:
    names = ", ".join(team.name for team in teams)
    subject = _("Your team's week in training (%(week)s): %(teams)s", week=week, teams=names)
    intro = _("Here is how your team is doing.") + " " + _digest_note()
    text_lines = [_hi(first_name), "", intro]
    html_parts = [_p(escape(_hi(first_name))), _p(escape(intro))]
    headers = (_("Person"), _("Onboarding path"), _("Overdue"), _("Refreshers done"))
    for team in teams:
        text_lines += ["", team.name, "=" * len(team.name)]
        if not team.members:
            text_lines.append(_("No active learners in this team."))
            html_parts += [f"<h2>{escape(team.name)}</h2>", _p(escape(_("No active learners.")))]
            continue
        for m in team.members:
            text_lines.append(
                "- "
                + _(
                    "%(name)s: path %(path)s, %(overdue)d overdue, refreshers %(refreshers)s",
                    name=m.name,
                    path=m.path,
                    overdue=m.overdue,
                    refreshers=m.refreshers,
                )
            )
        text_lines.append(_weakest_line(team))
        head = "".join(f'<th style="{_CELL}">{escape(h)}</th>' for h in headers)
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
    html_parts.append(_p(_link(url, _("Open Frontline Trainer"), _BUTTON)))
    return Mail(subject, "\n".join(text_lines), _page(*html_parts))


# -- a manager's nudge -----------------------------------------------------------------------


def nudge_mail(
    *, first_name: str, manager: str, lesson: str | None, minutes: int | None, url: str
) -> Mail:
    """A manager's one-tap reminder: who asks, and the one thing to do next."""
    if lesson:
        what = _("your next lesson, “%(lesson)s” (%(minutes)d min)", lesson=lesson, minutes=minutes)
        subject = _("%(manager)s asks you to do your next lesson", manager=manager)
        button = _("Start the lesson")
    else:
        what = _("your refresher: five minutes on the questions you are closest to forgetting")
        subject = _("%(manager)s asks you to do your refresher", manager=manager)
        button = _("Start the refresher")
    hello = _("Hello %(name)s,", name=first_name)
    ask = _(
        "%(manager)s asks you to take a few minutes today for %(what)s.", manager=manager, what=what
    )
    text = f"{hello}\n\n{ask}\n\n{button}: {url}\n"
    html = _page(_p(escape(hello)), _p(escape(ask)), _p(_link(url, button, _BUTTON)))
    short = _(
        "Hi %(name)s, %(manager)s asks you to take a few minutes today for %(what)s.",
        name=first_name,
        manager=manager,
        what=what,
    )
    return Mail(subject, text, html, short, url)
