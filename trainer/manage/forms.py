"""Forms of the manager's people pages. The services check everything again."""

from __future__ import annotations

from datetime import date

from flask_babel import LazyString, format_number
from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, SelectMultipleField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from trainer.forms import Form
from trainer.languages import gettext as _
from trainer.manage.coaching import MAX_COMMENT


class CommentForm(Form):
    comment = TextAreaField(
        _l("Your coaching note"),
        validators=[
            DataRequired(message=_l("Write a coaching note.")),
            Length(
                max=MAX_COMMENT,
                message=LazyString(
                    lambda: _(
                        "Keep it under %(count)s characters.", count=format_number(MAX_COMMENT)
                    )
                ),
            ),
        ],
    )
    submit = SubmitField(_l("Send the note"))


class AssignForm(Form):
    """What to assign ("path:ID" / "lesson:ID"), to whom (any number of "person:ID" and
    "team:ID"), by when. Only the choices offered are accepted, so a tampered value is a
    field error."""

    what = SelectField(
        _l("What to assign"),
        validators=[DataRequired(message=_l("Choose a path or a lesson."))],
        invalid_choice_message=_l("Choose a path or a lesson from the list."),
    )
    # Ticked boxes, checked against the choices in `validate_who`.
    who = SelectMultipleField(_l("Assign to"), validate_choice=False)
    due_date = DateField(
        _l("Due date"), validators=[DataRequired(message=_l("Choose a due date."))]
    )
    submit = SubmitField(_l("Assign"))

    def __init__(self, *args, today: date, paths, lessons, teams, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        # Groups keyed by a fixed word (the view looks "people" up), each with its heading.
        self.what.choices = {
            None: [("", _("Choose a path or a lesson"))],
            _("Paths"): [(f"path:{p.id}", p.title) for p in paths],
            _("Lessons"): [(f"lesson:{lesson.id}", lesson.title) for lesson in lessons],
        }
        self.who.choices = {
            "teams": [(f"team:{t.id}", _("Everyone in %(team)s", team=t.name)) for t in teams],
            "people": [(f"person:{p.id}", p.name) for p in people],
        }
        self.who_groups = {"teams": _("Whole teams"), "people": _("People")}

    def chosen(self) -> list[str]:
        return [value for value in self.who.data or [] if value]

    def validate_who(self, field) -> None:
        chosen = self.chosen()
        if not chosen:
            raise ValidationError(_("Choose a person or a team."))
        offered = {value for group in field.choices.values() for value, _label in group}
        if any(value not in offered for value in chosen):
            raise ValidationError(_("Choose a person or a team from the list."))

    def validate_due_date(self, field) -> None:
        if field.data is not None and field.data < self.today:
            raise ValidationError(_("The due date cannot be in the past."))
