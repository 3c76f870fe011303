"""Forms of the manager's people pages. The services check everything again."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from trainer.manage.coaching import MAX_COMMENT


class CommentForm(FlaskForm):
    comment = TextAreaField(
        "Your coaching note",
        validators=[
            DataRequired(message="Write a coaching note."),
            Length(max=MAX_COMMENT, message=f"Keep it under {MAX_COMMENT:,} characters."),
        ],
    )
    submit = SubmitField("Send the note")


class AssignForm(FlaskForm):
    """What to assign ("path:ID" / "lesson:ID"), to whom (any number of "person:ID" and
    "team:ID"), by when. Only the choices offered are accepted, so a tampered value is a
    field error."""

    what = SelectField(
        "What to assign",
        validators=[DataRequired(message="Choose a path or a lesson.")],
        invalid_choice_message="Choose a path or a lesson from the list.",
    )
    # Ticked boxes, checked against the choices in `validate_who`.
    who = SelectMultipleField("Assign to", validate_choice=False)
    due_date = DateField("Due date", validators=[DataRequired(message="Choose a due date.")])
    submit = SubmitField("Assign")

    def __init__(self, *args, today: date, paths, lessons, teams, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.what.choices = {
            None: [("", "Choose a path or a lesson")],
            "Paths": [(f"path:{p.id}", p.title) for p in paths],
            "Lessons": [(f"lesson:{lesson.id}", lesson.title) for lesson in lessons],
        }
        self.who.choices = {
            "Whole teams": [(f"team:{t.id}", f"Everyone in {t.name}") for t in teams],
            "People": [(f"person:{p.id}", p.name) for p in people],
        }

    def chosen(self) -> list[str]:
        return [value for value in self.who.data or [] if value]

    def validate_who(self, field) -> None:
        chosen = self.chosen()
        if not chosen:
            raise ValidationError("Choose a person or a team.")
        offered = {value for group in field.choices.values() for value, _label in group}
        if any(value not in offered for value in chosen):
            raise ValidationError("Choose a person or a team from the list.")

    def validate_due_date(self, field) -> None:
        if field.data is not None and field.data < self.today:
            raise ValidationError("The due date cannot be in the past.")
