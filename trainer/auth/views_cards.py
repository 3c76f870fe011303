"""A personal sign-in card's link: choose a password or a PIN, then straight in."""

from __future__ import annotations

from flask import flash, render_template

from trainer.auth import bp, cards, signin
from trainer.auth.forms import CardForm
from trainer.auth.passwords import MIN_LENGTH
from trainer.extensions import db
from trainer.languages import gettext as _


@bp.route("/card/<code>", methods=["GET", "POST"])
def card(code: str):
    found = cards.find_card(db.session, code)
    if found is None:
        return render_template("auth/card.html", form=None), 404
    person = found.user
    form = CardForm()
    if form.validate_on_submit():
        try:
            user = cards.use_card(
                db.session, code, password=form.password.data or None, pin=form.pin.data or None
            )
        except cards.CardInvalid:  # used in another tab a moment ago
            return render_template("auth/card.html", form=None), 404
        except cards.CardError as error:
            getattr(form, error.field).errors.append(error.message)
        else:
            flash(_welcome(bool(form.password.data), bool(form.pin.data)), "success")
            return signin.finish(user, status=303)
    status = 400 if form.errors else 200
    page = render_template("auth/card.html", form=form, person=person, min_length=MIN_LENGTH)
    return page, status


def _welcome(password: bool, pin: bool) -> str:
    if password and pin:
        return _(
            "Welcome to Frontline Trainer. From now on, sign in with your password on your "
            "phone, or your employee number and PIN on the team tablet."
        )
    if pin:
        return _(
            "Welcome to Frontline Trainer. From now on, sign in with your employee number and "
            "PIN on the team tablet."
        )
    return _(
        "Welcome to Frontline Trainer. From now on, sign in with your employee number and password."
    )
