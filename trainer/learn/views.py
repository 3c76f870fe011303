"""Thin views: read the request, call `services`, render."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from trainer.content.translated import language_of, shown
from trainer.extensions import db
from trainer.learn import bp, services
from trainer.learn.ending import lesson_end, missed_answers
from trainer.learn.forms import AnswerForm, RolePlayForm, RubricForm
from trainer.learn.steps import progress_at
from trainer.learn.today import due_phrase, today_for
from trainer.manage.coaching import coach_names, coached_answers
from trainer.models import Lesson
from trainer.page_cache import dont_keep, kept
from trainer.review.answers import AnswerError
from trainer.review.refresher import streak
from trainer.web import page_number, seconds_since, shown_now


@bp.before_request
@login_required
def require_login():
    """Every learner page needs a signed-in person."""


def _lesson(key: str) -> Lesson:
    lesson = services.live_lesson(db.session, key)
    if lesson is None:
        abort(404)
    return lesson


def _shown(row):
    """`row` in the signed-in learner's language, for a template."""
    return shown(row, language_of(current_user))


@bp.app_template_filter("shown")
def shown_filter(row):
    """`{{ (lesson | shown).title }}`: a row as the signed-in learner reads it."""
    return _shown(row)


def _local_today() -> date:
    """Today where the learner is: due dates turn overdue at their midnight, not ours."""
    try:
        zone = ZoneInfo(current_user.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.now(zone).date()


@bp.get("/")
@kept
def today():
    page = today_for(db.session, current_user)
    return render_template("learn/today.html", **vars(page))


@bp.app_template_filter("due")
def due_filter(due: date | None, today: date) -> str:
    return due_phrase(due, today)


@bp.get("/lessons/<key>")
def scenario(key: str):
    lesson = _lesson(key)
    return render_template(
        "learn/scenario.html", lesson=_shown(lesson), progress=progress_at(lesson, "scenario")
    )


@bp.get("/lessons/<key>/continue")
def resume(key: str):
    """Back into a lesson where the learner left it: the first step not yet done."""
    lesson = _lesson(key)
    run = services.open_run(db.session, current_user, lesson)
    if run is None:
        return redirect(url_for("learn.scenario", key=key))
    return redirect(_first_gap(lesson, run))


@bp.get("/lessons/<key>/key-points")
def key_points(key: str):
    lesson = _lesson(key)
    return render_template(
        "learn/key_points.html",
        lesson=_shown(lesson),
        progress=progress_at(lesson, "key-points"),
    )


def _item(lesson: Lesson, n: int):
    items = lesson.quiz.live_items if lesson.quiz else []
    if not 1 <= n <= len(items):
        abort(404)
    return items[n - 1]


@bp.route("/lessons/<key>/quiz/<int:n>", methods=["GET", "POST"])
@kept
def quiz_item(key: str, n: int):
    lesson = _lesson(key)
    item = _item(lesson, n)
    progress = progress_at(lesson, "quiz", n)
    attempt = services.run_and_answer(db.session, current_user, lesson, item)[1]
    form = AnswerForm()

    if attempt is None and form.validate_on_submit():
        try:
            services.record_answer(
                db.session,
                current_user,
                lesson,
                item,
                form.choice.data or [],
                form.token.data,
                seconds_since(form.shown.data),
            )
        except AnswerError as error:
            form.choice.errors = [str(error)]
        else:
            return redirect(url_for("learn.quiz_item", key=key, n=n), code=303)

    if attempt is None:
        form.token.data = uuid.uuid4().hex
        form.shown.data = shown_now()
        dont_keep()  # a one-time answer form
    status = 400 if form.choice.errors else 200
    return render_template(
        "learn/quiz_item.html",
        lesson=_shown(lesson),
        item=_shown(item),
        attempt=attempt,
        form=form,
        progress=progress,
    ), status


def _roleplay(lesson: Lesson, n: int):
    roleplays = lesson.live_roleplays
    if not 1 <= n <= len(roleplays):
        abort(404)
    return roleplays[n - 1]


@bp.route("/lessons/<key>/roleplay/<int:n>", methods=["GET", "POST"])
def roleplay(key: str, n: int):
    lesson = _lesson(key)
    rp = _roleplay(lesson, n)
    progress = progress_at(lesson, "roleplay", n)
    run = services.open_run(db.session, current_user, lesson)
    answer = services.roleplay_answer_in_run(db.session, run, rp)
    form = RolePlayForm()
    if answer is None and form.validate_on_submit():
        # The rubric is kept as the learner read it: they tick it in their own language.
        services.record_roleplay(
            db.session,
            current_user,
            lesson,
            rp,
            "" if form.aloud.data else form.text.data,
            form.token.data,
            rubric=_shown(rp).rubric,
        )
        return redirect(url_for("learn.roleplay", key=key, n=n), code=303)
    finished = None
    if answer is None and run is None and request.method == "GET":
        # A lesson already finished (Back from its end): its answer, read-only.
        finished = services.finished_roleplay_answer(db.session, current_user, rp)
    if answer is None and not form.token.data:
        form.token.data = uuid.uuid4().hex
    status = 400 if form.errors else 200
    return render_template(
        "learn/roleplay.html",
        lesson=_shown(lesson),
        roleplay=_shown(rp),
        answer=answer or finished,
        finished=finished is not None,
        form=form,
        rubric_form=RubricForm(),
        progress=progress,
    ), status


@bp.post("/lessons/<key>/roleplay/<int:n>/rubric")
def rubric(key: str, n: int):
    lesson = _lesson(key)
    rp = _roleplay(lesson, n)
    run = services.open_run(db.session, current_user, lesson)
    answer = services.roleplay_answer_in_run(db.session, run, rp)
    form = RubricForm()
    if answer is None or not form.validate_on_submit():
        return redirect(url_for("learn.roleplay", key=key, n=n), code=303)
    services.tick_rubric(db.session, answer, form.ticked.data or [])
    # Back to the role-play, which now shows what the learner covered and the way on.
    return redirect(url_for("learn.roleplay", key=key, n=n, _anchor="covered-title"), code=303)


@bp.get("/lessons/<key>/done")
def done(key: str):
    lesson = _lesson(key)
    run = services.open_run(db.session, current_user, lesson)
    if run is not None and not services.complete_run(db.session, run):
        # Something is still unanswered: send the learner to the first gap.
        return redirect(_first_gap(lesson, run))
    finished = services.last_completed_run(db.session, current_user, lesson)
    if finished is None:
        return redirect(url_for("learn.scenario", key=key))
    talk = lesson.live_conversation
    return render_template(
        "learn/done.html",
        lesson=_shown(lesson),
        run=finished,
        conversation_run=talk and services.conversation_ended_in(db.session, finished, talk),
        progress=progress_at(lesson, "done"),
        end=lesson_end(db.session, current_user, lesson, finished),
        streak=streak(db.session, current_user),
    )


@bp.get("/lessons/<key>/missed")
def missed(key: str):
    """The questions missed in the learner's last finished pass, with the right answers."""
    lesson = _lesson(key)
    finished = services.last_completed_run(db.session, current_user, lesson)
    if finished is None:
        return redirect(url_for("learn.scenario", key=key))
    missed = [(_shown(item), attempt) for item, attempt in missed_answers(db.session, finished)]
    return render_template("learn/missed.html", lesson=_shown(lesson), missed=missed)


def _first_gap(lesson: Lesson, run) -> str:
    for n, item in enumerate(lesson.quiz.live_items if lesson.quiz else [], start=1):
        if services.answer_in_run(db.session, run, item) is None:
            return url_for("learn.quiz_item", key=lesson.key, n=n)
    talk = lesson.live_conversation
    if talk is not None and services.conversation_ended_in(db.session, run, talk) is None:
        return url_for("learn.conversation", key=lesson.key)
    for n, rp in enumerate(lesson.live_roleplays, start=1):
        answer = services.roleplay_answer_in_run(db.session, run, rp)
        if answer is None or answer.ticked is None:
            return url_for("learn.roleplay", key=lesson.key, n=n)
    return url_for("learn.scenario", key=lesson.key)


@bp.get("/lessons")
def library():
    query = (request.args.get("q") or "").strip()[:100]
    groups = services.library_groups(db.session, current_user, query)
    done = services.completed_lesson_ids(db.session, current_user)
    return render_template("learn/library.html", groups=groups, done=done, query=query)


@bp.get("/coaching")
def coaching():
    """The learner's role-play answers that a manager commented on, newest note first."""
    answers = db.paginate(
        coached_answers(current_user),
        page=page_number(request.args.get("page")),
        per_page=20,
        max_per_page=20,
    )
    return render_template(
        "learn/coaching.html", answers=answers, coaches=coach_names(db.session, answers.items)
    )
