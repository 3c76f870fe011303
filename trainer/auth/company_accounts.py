"""Who a company account is here: the person its provider's subject was first matched to, and
remembered (`CompanyAccount`), so an email changed or given to someone else at the company never
moves the sign-in. The first time, the claim named by OIDC_MATCH_CLAIM (an email, or an employee
number) finds the person; with OIDC_CREATE_USERS a new person is made through
`people.services.create_user`, on the team OIDC_DEFAULT_TEAM.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trainer.auth.oidc import CompanySignInError, Identity, Settings
from trainer.auth.services import normalise_email
from trainer.languages import LANGUAGES, browser_language
from trainer.languages import gettext as _
from trainer.models import CompanyAccount, User, utcnow


def person_for(session: Session, settings: Settings, identity: Identity) -> User:
    """The active person `identity` signs in as, its company account remembered (committed).

    Found by the provider's subject once known; the first time by OIDC_MATCH_CLAIM, or created
    on the default team with OIDC_CREATE_USERS. Raises `CompanySignInError` for a person who is
    switched off, not set up here, or already linked to another company account."""
    try:
        return _person_for(session, settings, identity)
    except (IntegrityError, CompanySignInError):
        session.rollback()
        if _account(session, identity) is None:
            raise
    # The same person signing in twice at once: the other sign-in stored them first.
    return _person_for(session, settings, identity)


def _account(session: Session, identity: Identity) -> CompanyAccount | None:
    return session.scalar(
        select(CompanyAccount).where(
            CompanyAccount.issuer == identity.issuer,
            CompanyAccount.subject == identity.subject,
        )
    )


def _person_for(session: Session, settings: Settings, identity: Identity) -> User:
    account = _account(session, identity)
    if account is not None:
        user = session.get(User, account.user_id)
    else:
        user = _match(session, settings, identity.claims)
        if user is not None and session.scalar(
            select(CompanyAccount.id).where(
                CompanyAccount.user_id == user.id, CompanyAccount.issuer == identity.issuer
            )
        ):
            # Most often an email given to a new colleague: it must not open the old account.
            raise CompanySignInError(
                _("This account signs in with a different company account"),
                _(
                    "The account for %(person)s here is already linked to another company "
                    "account. Ask your manager or administrator to check.",
                    person=user.handle,
                ),
                403,
                f"{user.handle} is linked to another subject than {identity.subject!r}",
            )
    if user is not None and not user.active:
        raise CompanySignInError(
            _("Your account here is switched off"),
            _("Ask your manager or administrator if you should still have access."),
            403,
            f"{user.handle} is deactivated",
        )
    if user is None:
        user = _create(session, settings, identity.claims)
    if account is None:
        account = CompanyAccount(user_id=user.id, issuer=identity.issuer, subject=identity.subject)
        session.add(account)
    account.last_signed_in_at = user.last_seen_at = utcnow()
    session.commit()
    return user


def _claim(settings: Settings, claims: dict) -> str:
    """The value of the match claim, checked; raises when the provider did not send it."""
    value = claims.get(settings.match_claim)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    value = value.strip() if isinstance(value, str) else ""
    if not value:
        raise CompanySignInError(
            _("Your company account did not say who you are"),
            _(
                "We find people here by their email address, and your company's sign-in "
                "service did not send it. Tell your administrator."
            )
            if settings.matches_email
            else _(
                "We find people here by their employee number, and your company's sign-in "
                "service did not send it. Tell your administrator."
            ),
            403,
            f"no {settings.match_claim!r} claim",
        )
    if settings.matches_email and claims.get("email_verified") is False:
        raise CompanySignInError(
            _("Your company email address is not confirmed yet"),
            _("Confirm it with your company's sign-in service first, then try again."),
            403,
            "email_verified is false",
        )
    return normalise_email(value) if settings.matches_email else value


def _match(session: Session, settings: Settings, claims: dict) -> User | None:
    value = _claim(settings, claims)
    column = User.email if settings.matches_email else User.employee_number
    return session.scalar(select(User).where(column == value))


def _name(claims: dict, fallback: str) -> str:
    name = claims.get("name")
    if not (isinstance(name, str) and name.strip()):
        parts = [claims.get("given_name"), claims.get("family_name")]
        name = " ".join(p for p in parts if isinstance(p, str) and p.strip())
    return name.strip() if name and name.strip() else fallback


def _language(claims: dict) -> str | None:
    """The company's `locale` for the person ("es-MX"), else what their browser asks for."""
    locale = claims.get("locale")
    if isinstance(locale, str):
        code = locale.replace("_", "-").split("-")[0].lower()
        if code in LANGUAGES:
            return code
    return browser_language()


def _create(session: Session, settings: Settings, claims: dict) -> User:
    # Imported here: people.services imports auth's services, and auth imports this module.
    from trainer.people.services import PersonError, create_user

    value = _claim(settings, claims)
    if not settings.create_users:
        raise CompanySignInError(
            _("Your account is not set up here yet"),
            _(
                "You signed in at your company with the email address %(value)s, but "
                "Frontline Trainer has no account for it. Ask your manager or administrator "
                "to add you.",
                value=value,
            )
            if settings.matches_email
            else _(
                "You signed in at your company with the employee number %(value)s, but "
                "Frontline Trainer has no account for it. Ask your manager or administrator "
                "to add you.",
                value=value,
            ),
            403,
            f"no person with {settings.match_claim} {value!r}",
        )
    email = value if settings.matches_email else None
    if email is None and isinstance(claims.get("email"), str):
        email = None if claims.get("email_verified") is False else claims["email"]
    try:
        return create_user(
            session,
            email=email,
            employee_number=None if settings.matches_email else value,
            name=_name(claims, email.split("@")[0] if email else f"Employee {value}"),
            team=settings.default_team,
            timezone=current_app.config["DEFAULT_TIMEZONE"],
            language=_language(claims),
        )
    except PersonError as error:
        session.rollback()
        problem = error.message[:1].upper() + error.message[1:]
        raise CompanySignInError(
            _("We could not set up your account"),
            _("%(problem)s. Ask your manager or administrator to add you.", problem=problem),
            409,
            str(error),
        ) from None
