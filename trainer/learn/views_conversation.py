"""Thin views of a lesson's conversation: one page per turn, and the ending with the way taken.

Without JavaScript each choice loads the next page; with it, static/conversation.js swaps the
same pages in place.
"""

from __future__ import annotations

import uuid

from flask import abort, redirect, render_template, url_for
from flask_login import current_user

from trainer.content.translated import language_of, shown, shown_position, shown_turns
from trainer.extensions import db
from trainer.learn import bp, conversations, services
from trainer.learn.forms import ConversationForm
from trainer.learn.steps import progress_at
from trainer.models import Conversation, Lesson
from trainer.review.answers import AnswerError
from trainer.web import parse_id, seconds_since, shown_now


@bp.app_template_filter("setting_name")
def setting_name_filter(setting: str) -> str:
    return conversations.setting_name(setting)


def _lesson_and_conversation(key: str) -> tuple[Lesson, Conversation]:
    lesson = services.live_lesson(db.session, key)
    if lesson is None or lesson.live_conversation is None:
        abort(404)
    return lesson, lesson.live_conversation


@bp.route("/lessons/<key>/conversation", methods=["GET", "POST"])
def conversation(key: str):
    lesson, talk = _lesson_and_conversation(key)
    form = ConversationForm()
    if form.validate_on_submit():
        try:
            run = conversations.choose(
                db.session,
                current_user,
                lesson,
                talk,
                run_id=parse_id(form.run.data),
                step=form.step.data,
                choice=form.choice.data,
                token=form.token.data,
                seconds=seconds_since(form.shown.data),
            )
        except AnswerError as error:
            form.choice.errors = [str(error)]
        else:
            if run is not None and run.ending is not None:
                return redirect(url_for("learn.conversation_end", key=key, run_id=run.id), 303)
            return redirect(url_for("learn.conversation", key=key), 303)

    here = conversations.position(db.session, current_user, talk)
    form.token.data = uuid.uuid4().hex
    form.shown.data = shown_now()
    form.run.data = str(here.run.id) if here.run else ""
    form.step.data = here.step
    lesson_run = services.open_run(db.session, current_user, lesson)
    ended = None
    if here.run is None:  # at the start: say how the last try ended, if there was one
        ended = conversations.last_ended(db.session, current_user, talk)
    language = language_of(current_user)
    shown_talk = shown(talk, language)
    return render_template(
        "learn/conversation.html",
        lesson=shown(lesson, language),
        conversation=shown_talk,
        here=shown_position(here, shown_talk),
        form=form,
        ended=ended,
        done_in_this_pass=lesson_run is not None
        and services.conversation_ended_in(db.session, lesson_run, talk) is not None,
        progress=progress_at(lesson, "conversation"),
    ), (400 if form.errors else 200)


@bp.get("/lessons/<key>/conversation/runs/<int:run_id>")
def conversation_end(key: str, run_id: int):
    lesson, talk = _lesson_and_conversation(key)
    run = conversations.own_run(db.session, current_user, talk, run_id)
    if run is None:
        abort(404)
    if run.ending is None:
        return redirect(url_for("learn.conversation", key=key))
    language = language_of(current_user)
    shown_talk = shown(talk, language)
    return render_template(
        "learn/conversation_end.html",
        lesson=shown(lesson, language),
        conversation=shown_talk,
        run=run,
        here=shown_position(conversations.at_run(db.session, run), shown_talk),
        turns=shown_turns(conversations.turns(db.session, run), shown_talk),
        outcome=conversations.OUTCOMES[run.ending],
        progress=progress_at(lesson, "conversation"),
    )
