"""Adding many people at once from a CSV file: read it, check every row, then import.

Two steps. `read_csv` + `check_rows` give a preview with every problem, row by row, and change
nothing. `import_people` checks the rows again (the database may have changed since) and adds
them in one transaction: all of them, or, when the admin chose so, all the valid ones; never
some of those. Between the steps the rows travel in the page, signed (`sign_rows`) so they come
back exactly as read.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, time
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trainer.admin.invites import send_invitation
from trainer.auth.services import normalise_email
from trainer.languages import LANGUAGES, ngettext
from trainer.languages import gettext as _
from trainer.models import ROLES, JobRole, Team, User
from trainer.people.services import (
    EMPLOYEE_NUMBER,
    MAX_EMPLOYEE_NUMBER,
    NO_CONTACT,
    PersonError,
    create_user,
    default_region,
    normalise_phone,
)

COLUMNS = (
    "email",
    "name",
    "role",
    "job_role",
    "team",
    "hire_date",
    "timezone",
    "reminder_time",
    "employee_number",
    "phone",
    "language",
)
# How the preview names each column in its problems: the file's own names stay as they are
# (a file-format contract), these are only what the admin reads.
FIELD_NAMES = {
    "row": _l("row"),
    "email": _l("email"),
    "name": _l("name"),
    "role": _l("role"),
    "job_role": _l("job role"),
    "team": _l("team"),
    "hire_date": _l("hire date"),
    "timezone": _l("timezone"),
    "reminder_time": _l("reminder time"),
    "employee_number": _l("employee number"),
    "phone": _l("phone"),
    "language": _l("language"),
}
REQUIRED = ("name",)
CONTACT_COLUMNS = ("email", "employee_number", "phone")  # one of them, on every row
MAX_BYTES = 5 * 1024 * 1024  # IMPORT_MAX_CONTENT_LENGTH's default
MAX_ROWS = 1000
MAX_NAME = 120
DEFAULT_REMINDER = time(18, 0)
SALT = "people-import"
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


class ImportFileError(ValueError):
    """The file as a whole cannot be read: the message says why and what to do."""


class ImportBlocked(Exception):
    """Nothing was imported; `preview` shows why (rows with problems, or none valid)."""

    def __init__(self, preview: Preview, message: str):
        super().__init__(message)
        self.preview = preview
        self.message = message


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str


@dataclass
class ImportRow:
    """One person from the file: the text as written, what it means once checked, problems."""

    line: int  # the line of the file the row starts on, counting the header as 1
    raw: dict[str, str]
    errors: list[RowError] = field(default_factory=list)
    email: str = ""
    employee_number: str = ""
    phone: str = ""
    name: str = ""
    role: str = "learner"
    job_role: str | None = None  # key
    team: str | None = None
    hire_date: date | None = None
    timezone: str = ""
    reminder_time: time = DEFAULT_REMINDER
    language: str | None = None  # None: the DEFAULT_LANGUAGE setting

    def fail(self, field_name: str, message: str) -> None:
        self.errors.append(RowError(self.line, field_name, message))

    def error_for(self, field_name: str) -> str | None:
        messages = [e.message for e in self.errors if e.field == field_name]
        return "; ".join(messages) or None


@dataclass
class Preview:
    rows: list[ImportRow]
    new_teams: list[str]

    @property
    def valid_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if not row.errors]

    @property
    def errors(self) -> list[RowError]:
        return [error for row in self.rows for error in row.errors]

    @property
    def bad_count(self) -> int:
        return sum(1 for row in self.rows if row.errors)


# -- reading the file --------------------------------------------------------------------------


def _column(name: str) -> str:
    """ "Job role", "job-role" and "JOB_ROLE" are all job_role."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def read_csv(data: bytes, max_bytes: int = MAX_BYTES) -> list[dict]:
    """The file's rows as text, each with the line it starts on (`line`). Blank rows are left
    out. Raises `ImportFileError` for a file that is not UTF-8 (a byte-order mark, as Excel
    writes, is fine), too big, empty, or whose first line is not a header of known columns."""
    if len(data) > max_bytes:
        size = f"{max_bytes / (1024 * 1024):g} MB"
        raise ImportFileError(_("The file is over %(size)s. Split it in two.", size=size))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            _(
                'The file is not UTF-8 text. In Excel, use "Save as" and choose '
                '"CSV UTF-8 (comma delimited)".'
            )
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[dict] = []
    last_line = 0
    try:
        for cells in reader:
            start, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = _header(cells)
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportFileError(
                    _("The file has over %(count)d people. Split it up.", count=MAX_ROWS)
                )
            row = {"line": start}
            for index, name in enumerate(header):
                if name:  # a column with a blank heading (Excel leaves them) is left out
                    row[name] = cells[index].strip() if index < len(cells) else ""
            if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
                row["_extra"] = str(len(cells))
            rows.append(row)
    except csv.Error as exc:
        raise ImportFileError(
            _("Line %(line)d cannot be read as CSV: %(error)s.", line=reader.line_num, error=exc)
        ) from None
    if header is None:
        raise ImportFileError(_("The file is empty."))
    if not rows:
        raise ImportFileError(_("The file has a header but nobody in it."))
    return rows


def _header(cells: list[str]) -> list[str]:
    names = [_column(cell) for cell in cells]
    expected = ",".join(COLUMNS)
    if any("@" in cell for cell in cells) or not any(name in COLUMNS for name in names):
        raise ImportFileError(
            _(
                "The first line must name the columns, like: %(columns)s. "
                "Add that line at the top of the file.",
                columns=expected,
            )
        )
    unknown = [cell.strip() for cell, name in zip(cells, names, strict=True) if name not in COLUMNS]
    unknown = [cell for cell in unknown if cell]
    if unknown:
        raise ImportFileError(
            ngettext(
                "Unknown column: %(unknown)s. The columns are: %(columns)s.",
                "Unknown columns: %(unknown)s. The columns are: %(columns)s.",
                len(unknown),
                unknown=", ".join(unknown),
                columns=expected,
            )
        )
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    if repeated:
        raise ImportFileError(_("A column is named twice: %(names)s.", names=", ".join(repeated)))
    # The columns are named as the file names them: translators keep those words.
    no_name = any(name not in names for name in REQUIRED)
    no_contact = not any(name in names for name in CONTACT_COLUMNS)
    if no_name and no_contact:
        raise ImportFileError(
            _(
                "The header has no name or email, employee_number or phone column. "
                "The columns are: %(columns)s.",
                columns=expected,
            )
        )
    if no_name:
        raise ImportFileError(
            _("The header has no name column. The columns are: %(columns)s.", columns=expected)
        )
    if no_contact:
        raise ImportFileError(
            _(
                "The header has no email, employee_number or phone column. "
                "The columns are: %(columns)s.",
                columns=expected,
            )
        )
    return names


# -- checking rows -----------------------------------------------------------------------------


def check_rows(session: Session, raw_rows: list[dict], default_timezone: str) -> Preview:
    """Check every row against the rules of `create_user` and against each other. Changes
    nothing. Each problem names its row (as numbered in the file) and its field."""
    jobs: dict[str, str] = {}
    for job in session.scalars(select(JobRole).order_by(JobRole.id)):
        jobs.setdefault(job.key.lower(), job.key)
        jobs.setdefault(job.name.lower(), job.key)
    job_keys = ", ".join(sorted({key for key in jobs.values()})) or _("none yet: sync the content")
    teams = {name.lower(): name for name in session.scalars(select(Team.name))}
    zones = {name.lower(): name for name in available_timezones()}
    region = default_region()

    rows = []
    for raw in raw_rows:
        row = ImportRow(line=raw["line"], raw={c: raw.get(c, "") for c in COLUMNS})
        if "_extra" in raw:
            row.fail(
                "row",
                _(
                    "has %(values)s values; the header names %(columns)d",
                    values=raw["_extra"],
                    columns=_header_len(raw),
                ),
            )
        _check_email(row)
        _check_employee_number(row)
        _check_phone(row, region)
        if not (row.raw["email"] or row.raw["employee_number"] or row.raw["phone"]):
            row.fail(
                "email", _("%(problem)s (email, employee_number or phone)", problem=str(NO_CONTACT))
            )
        _check_name(row)
        _check_role(row)
        _check_job_role(row, jobs, job_keys)
        _check_team(row, teams)
        _check_hire_date(row)
        _check_timezone(row, zones, default_timezone)
        _check_reminder(row)
        _check_language(row)
        rows.append(row)

    _flag_repeats(rows)
    _flag_taken(session, rows)
    # Only a row that can be imported brings a new team, spelt as the first such row has it:
    # a team named by rejected rows alone is never announced, nor created.
    new_teams: dict[str, str] = {}
    for row in rows:
        if row.team and row.team.lower() not in teams and not row.errors:
            row.team = new_teams.setdefault(row.team.lower(), row.team)
    return Preview(rows=rows, new_teams=sorted(new_teams.values(), key=str.lower))


def _header_len(raw: dict) -> int:
    return len([key for key in raw if key in COLUMNS])


def _check_employee_number(row: ImportRow) -> None:
    text = row.raw["employee_number"]
    if not text:
        return
    if len(text) > MAX_EMPLOYEE_NUMBER or not EMPLOYEE_NUMBER.match(text):
        row.fail(
            "employee_number",
            _(
                '"%(text)s" is not an employee number: up to %(count)d letters, digits, dots, '
                "dashes and slashes",
                text=text[:40],
                count=MAX_EMPLOYEE_NUMBER,
            ),
        )
        return
    row.employee_number = text


def _check_phone(row: ImportRow, region: str | None) -> None:
    text = row.raw["phone"]
    if not text:
        return
    phone = normalise_phone(text, region)
    if phone is None:
        row.fail(
            "phone",
            _('"%(phone)s" is not a phone number; write it like +44 7911 123456', phone=text[:40]),
        )
        return
    row.phone = phone


def _check_email(row: ImportRow) -> None:
    text = row.raw["email"]
    if not text:
        return
    try:
        email = validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        row.fail(
            "email", _('"%(email)s" is not a valid email address: %(error)s', email=text, error=exc)
        )
        return
    row.email = normalise_email(email)
    if len(row.email) > 254:
        row.fail("email", _("the address is too long"))


def _check_name(row: ImportRow) -> None:
    row.name = " ".join(row.raw["name"].split())
    if not row.name:
        row.fail("name", _("a name is needed"))
    elif len(row.name) > MAX_NAME:
        row.fail("name", _("keep the name under %(count)d characters", count=MAX_NAME))


def _check_role(row: ImportRow) -> None:
    text = row.raw["role"].lower()
    if text and text not in ROLES:
        row.fail(
            "role",
            _(
                'unknown role "%(role)s": use %(roles)s',
                role=row.raw["role"],
                roles=", ".join(ROLES),
            ),
        )
    row.role = text or "learner"


def _check_job_role(row: ImportRow, jobs: dict[str, str], job_keys: str) -> None:
    text = row.raw["job_role"]
    if not text:
        return
    row.job_role = jobs.get(text.lower())
    if row.job_role is None:
        row.fail(
            "job_role",
            _('unknown job role "%(key)s": use one of %(keys)s', key=text, keys=job_keys),
        )


def _check_team(row: ImportRow, teams: dict[str, str]) -> None:
    text = " ".join(row.raw["team"].split())
    if not text:
        return
    if len(text) > MAX_NAME:
        row.fail("team", _("keep the team name under %(count)d characters", count=MAX_NAME))
        return
    # Case-blind, so "North" and "north" are one team: the existing spelling, or (settled in
    # `check_rows` once every row is checked) the first valid row's.
    row.team = teams.get(text.lower(), text)


def _check_hire_date(row: ImportRow) -> None:
    text = row.raw["hire_date"]
    if not text:
        return
    try:
        if not DATE.match(text):
            raise ValueError
        row.hire_date = date.fromisoformat(text)
    except ValueError:
        row.fail(
            "hire_date",
            _('"%(text)s" is not a date written YYYY-MM-DD, like 2025-03-31', text=text),
        )


def _check_timezone(row: ImportRow, zones: dict[str, str], default: str) -> None:
    text = row.raw["timezone"]
    if not text:
        row.timezone = default
        return
    zone = zones.get(text.lower())
    if zone is None:
        row.fail("timezone", _('"%(zone)s" is not a time zone name like Europe/London', zone=text))
    else:
        row.timezone = zone


def _check_reminder(row: ImportRow) -> None:
    text = row.raw["reminder_time"]
    if not text:
        return
    match = TIME.match(text)
    try:
        if match is None:
            raise ValueError
        row.reminder_time = time(int(match.group(1)), int(match.group(2)))
    except ValueError:
        row.fail(
            "reminder_time", _('"%(text)s" is not a time written HH:MM, like 18:00', text=text)
        )


def _check_language(row: ImportRow) -> None:
    """A language code (es) or its own name (Español), in any case; blank: the usual one."""
    text = row.raw["language"]
    if not text:
        return
    wanted = text.strip().casefold()
    for code, name in LANGUAGES.items():
        if wanted in (code, name.casefold()):
            row.language = code
            return
    known = ", ".join(f"{code} ({name})" for code, name in LANGUAGES.items())
    row.fail(
        "language",
        _('"%(text)s" is not one of our languages: %(known)s', text=text[:40], known=known),
    )


# The fields no two people may share, with how a clash is told.
_UNIQUE = (
    ("email", User.email, lambda value: _("%(email)s already has an account", email=value)),
    (
        "employee_number",
        User.employee_number,
        lambda value: _("%(number)s is someone else's employee number", number=value),
    ),
)


def _flag_repeats(rows: list[ImportRow]) -> None:
    """Every row whose address or employee number is also on another row: which one to keep is
    the admin's call."""
    for name, _column, _taken in _UNIQUE:
        lines: dict[str, list[int]] = {}
        for row in rows:
            if getattr(row, name):
                lines.setdefault(getattr(row, name), []).append(row.line)
        for row in rows:
            value = getattr(row, name)
            others = [line for line in lines.get(value, []) if line != row.line]
            if others:
                where = ", ".join(str(line) for line in others)
                row.fail(
                    name,
                    ngettext(
                        "%(value)s is also on row %(rows)s of this file",
                        "%(value)s is also on rows %(rows)s of this file",
                        len(others),
                        value=value,
                        rows=where,
                    ),
                )


def _flag_taken(session: Session, rows: list[ImportRow]) -> None:
    for name, column, taken_message in _UNIQUE:
        values = sorted({getattr(row, name) for row in rows if getattr(row, name)})
        taken: set[str] = set()
        for start in range(0, len(values), 500):  # under every database's parameter limit
            chunk = values[start : start + 500]
            taken.update(session.scalars(select(column).where(column.in_(chunk))))
        for row in rows:
            if getattr(row, name) in taken:
                row.fail(name, taken_message(getattr(row, name)))


# -- carrying rows between the steps -----------------------------------------------------------


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=SALT)


def sign_rows(secret_key: str, raw_rows: list[dict]) -> str:
    return _serializer(secret_key).dumps(raw_rows)


def unsign_rows(secret_key: str, payload: str) -> list[dict]:
    """The rows signed by `sign_rows`. Raises `ImportFileError` for anything else."""
    refused = ImportFileError(_("This import could not be checked. Upload the file again."))
    try:
        rows = _serializer(secret_key).loads(payload or "")
    except BadSignature:
        raise refused from None
    # Signed by us, so well formed; checked anyway, as anything read from a request is.
    if not isinstance(rows, list) or not rows or len(rows) > MAX_ROWS:
        raise refused
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("line"), int):
            raise refused
        if any(key != "line" and not isinstance(value, str) for key, value in row.items()):
            raise refused
    return rows


# -- importing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Imported:
    people: list[User]
    skipped: int
    new_teams: list[str]


def import_people(
    session: Session,
    raw_rows: list[dict],
    *,
    default_timezone: str,
    only_valid: bool = False,
    expected: int | None = None,
) -> Imported:
    """Check the rows again and add the people in one transaction, each enrolled as
    `create_user` does and, when they have an email address, sent their link to set a
    password. Committed.

    With problems in any row nothing is imported, unless `only_valid`: then every valid row is.
    `expected` is how many people the admin agreed to import; if the check now finds another
    number (someone was added meanwhile) nothing is imported. Raises `ImportBlocked` carrying
    the fresh preview whenever nothing was imported."""
    preview = check_rows(session, raw_rows, default_timezone)
    valid = preview.valid_rows
    if preview.errors and not only_valid:
        raise ImportBlocked(preview, _("Nothing was imported: some rows have problems."))
    if not valid:
        raise ImportBlocked(preview, _("Nothing was imported: no row is valid."))
    if expected is not None and expected != len(valid):
        raise ImportBlocked(
            preview, _("Nothing was imported: the people changed since the preview. Check again.")
        )
    people = []
    try:
        for row in valid:
            user = create_user(
                session,
                email=row.email or None,
                employee_number=row.employee_number or None,
                phone=row.phone or None,
                name=row.name,
                password=None,
                role=row.role,
                job_role=row.job_role,
                team=row.team,
                timezone=row.timezone,
                hire_date=row.hire_date,
                language=row.language,
            )
            user.reminder_time = row.reminder_time
            if user.email:
                send_invitation(session, user)
            people.append(user)
        session.commit()
    except (PersonError, IntegrityError):  # someone added one of these people meanwhile
        session.rollback()
        preview = check_rows(session, raw_rows, default_timezone)
        raise ImportBlocked(
            preview, _("Nothing was imported: the people changed since the preview. Check again.")
        ) from None
    created = {name.lower() for name in preview.new_teams}
    teams = sorted({row.team for row in valid if row.team and row.team.lower() in created})
    return Imported(people=people, skipped=preview.bad_count, new_teams=teams)
