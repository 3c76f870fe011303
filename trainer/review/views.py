"""The daily refresher: one item at a time, feedback after each, a summary at the end."""

from __future__ import annotations

import uuid

from flask import abort, redirect, render_template, url_for
from flask_login import current_user, login_required

from trainer.content.translated import language_of, shown
from trainer.extensions import db
from trainer.learn.forms import AnswerForm
from trainer.models import Refresher
from trainer.review import bp
from trainer.review.answers import AnswerError
from trainer.review.planning import plan_for_user
from trainer.review.refresher import (
    answer_in_refresher,
    finish,
    plan_practice,
    record_refresher_answer,
    refresher_items,
    summary,
)
from trainer.web import seconds_since, shown_now


@bp.before_request
@login_required
def require_login():
    """Every refresher page needs a signed-in person."""


def _own_refresher(refresher_id: int) -> Refresher:
    refresher = db.session.get(Refresher, refresher_id)
    if refresher is None or refresher.user_id != current_user.id:
        abort(404)
    return refresher


def _first_unanswered(refresher: Refresher) -> int | None:
    for n, item in enumerate(refresher_items(db.session, refresher), start=1):
        if answer_in_refresher(db.session, refresher, item) is None:
            return n
    return None


@bp.get("/refresher")
def today():
    refresher = plan_for_user(db.session, current_user)
    if refresher is None:
        return render_template("review/nothing_due.html")
    if refresher.completed_at is not None:
        return redirect(url_for("review.done", refresher_id=refresher.id))
    n = _first_unanswered(refresher) or 1
    return redirect(url_for("review.item", refresher_id=refresher.id, n=n))


@bp.post("/refresher/practice")
def practice():
    # CSRFProtect has already checked the token of this POST.
    refresher = plan_practice(db.session, current_user)
    if refresher is None or not refresher.item_ids:
        return redirect(url_for("learn.today"))
    return redirect(url_for("review.item", refresher_id=refresher.id, n=1), code=303)


@bp.route("/refresher/<int:refresher_id>/<int:n>", methods=["GET", "POST"])
def item(refresher_id: int, n: int):
    refresher = _own_refresher(refresher_id)
    items = refresher_items(db.session, refresher)
    if not 1 <= n <= len(items):
        abort(404)
    quiz_item = items[n - 1]
    attempt = answer_in_refresher(db.session, refresher, quiz_item)
    form = AnswerForm()
    if attempt is None and form.validate_on_submit():
        try:
            record_refresher_answer(
                db.session,
                current_user,
                refresher,
                quiz_item,
                form.choice.data or [],
                form.token.data,
                seconds_since(form.shown.data),
            )
        except AnswerError as error:
            form.choice.errors = [str(error)]
        else:
            return redirect(url_for("review.item", refresher_id=refresher.id, n=n), code=303)
    if attempt is None:
        form.token.data = uuid.uuid4().hex
        form.shown.data = shown_now()
    next_url = (
        url_for("review.item", refresher_id=refresher.id, n=n + 1)
        if n < len(items)
        else url_for("review.done", refresher_id=refresher.id)
    )
    return render_template(
        "review/item.html",
        refresher=refresher,
        item=shown(quiz_item, language_of(current_user)),
        n=n,
        count=len(items),
        attempt=attempt,
        form=form,
        next_url=next_url,
        percent=round(100 * (n - 1) / len(items)),
    ), (400 if form.choice.errors else 200)


@bp.get("/refresher/<int:refresher_id>/done")
def done(refresher_id: int):
    refresher = _own_refresher(refresher_id)
    if not finish(db.session, refresher):
        n = _first_unanswered(refresher) or 1
        return redirect(url_for("review.item", refresher_id=refresher.id, n=n))
    return render_template("review/done.html", summary=summary(db.session, current_user, refresher))
