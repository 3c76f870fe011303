from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length


class AnswerForm(FlaskForm):
    """One quiz item. `choice` holds indexes into the item's choices."""

    choice = SelectMultipleField("Your answer", coerce=int, validate_choice=False)
    token = HiddenField(validators=[DataRequired(), Length(max=64)])
    shown = HiddenField()
    submit = SubmitField("Check my answer")


class RolePlayForm(FlaskForm):
    text = TextAreaField(
        "What would you say?",
        validators=[
            DataRequired(message="Write what you would say to the customer."),
            Length(max=4000, message="Keep it under 4,000 characters."),
        ],
    )
    token = HiddenField(validators=[DataRequired(), Length(max=64)])
    submit = SubmitField("Show me the model answer")


class RubricForm(FlaskForm):
    ticked = SelectMultipleField("What I did", coerce=int, validate_choice=False)
    submit = SubmitField("Save and continue")
