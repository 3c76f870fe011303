from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    PasswordField,
    RadioField,
    SelectChoice,
    StringField,
    SubmitField,
    TelField,
)
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from trainer.auth.passwords import password_problem


def new_password(_form, field) -> None:
    """The rules for a password someone chooses (`passwords.password_problem`)."""
    problem = password_problem(field.data)
    if problem:
        raise ValidationError(problem)


class LoginForm(FlaskForm):
    # Named "email" as it always was; an employee number or a phone number will do as well.
    email = StringField(
        "Email, phone or employee number",
        validators=[DataRequired(message="Write your email, phone or employee number."),
                    Length(max=254)],
    )  # fmt: skip
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me signed in on this device")
    submit = SubmitField("Sign in")


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired()])
    new = PasswordField("New password", validators=[DataRequired(), new_password])
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new", message="The two new passwords differ.")],
    )
    submit = SubmitField("Change password")


class LogoutForm(FlaskForm):
    submit = SubmitField("Sign out")


class EndSessionsForm(FlaskForm):
    submit = SubmitField("Sign out everywhere else")


class EndSessionForm(FlaskForm):
    submit = SubmitField("Sign out")


class SetPasswordForm(FlaskForm):
    """Choosing a password from an invitation link: no current password to give."""

    new = PasswordField(
        "New password",
        validators=[DataRequired(message="Choose a password."), new_password],
    )
    confirm = PasswordField(
        "New password again",
        validators=[
            DataRequired(message="Type the password again."),
            EqualTo("new", message="The two passwords differ."),
        ],
    )
    submit = SubmitField("Set password and sign in")


class JoinLookupForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[DataRequired(message="Type the code from the poster."), Length(max=32)],
        render_kw={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"},
    )
    submit = SubmitField("Continue")


class JoinForm(FlaskForm):
    name = StringField(
        "Your name",
        validators=[DataRequired(message="Write your name."), Length(max=120)],
        render_kw={"autocomplete": "name"},
    )
    employee_number = StringField(
        "Employee number", validators=[Length(max=32)], render_kw={"autocomplete": "off"}
    )
    phone = TelField(
        "Mobile phone (optional)", validators=[Length(max=32)], render_kw={"autocomplete": "tel"}
    )
    how = RadioField(
        "How will you sign in next time?",
        choices=[
            SelectChoice("pin", "With a 6-digit PIN on the branch tablet"),
            SelectChoice("password", "With a password on my own phone"),
        ],
        default="pin",
        validators=[DataRequired(message="Choose a PIN or a password.")],
    )
    pin = PasswordField(
        "PIN (6 digits)",
        render_kw={"inputmode": "numeric", "autocomplete": "new-password", "maxlength": 6},
    )
    password = PasswordField(
        "Password (12 characters or more)", render_kw={"autocomplete": "new-password"}
    )
    submit = SubmitField("Join")
