"""Days written for the reader's language, for the manager's and admin's pages.

English keeps the day-first style the pages have always had ("29 November 2026", "29 Nov
2026", "29 Nov"); the other languages get their own usual forms from Babel ("29 de noviembre
de 2026", "29 lis 2026").
"""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_skeleton
from flask_babel import get_locale

from trainer.manage import bp

# Width -> the English pattern, and how Babel names the same width elsewhere.
_ENGLISH = {"long": "d MMMM y", "medium": "d MMM y", "day_month": "d MMM"}


def day_text(day: date | datetime | None, width: str = "medium") -> str:
    """`day` (a date, or a stored time's date) in the reader's language; "" for None."""
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = day.date()
    locale = get_locale() or "en"
    if str(getattr(locale, "language", locale)) == "en":
        return format_date(day, _ENGLISH[width], locale=locale)
    if width == "day_month":
        return format_skeleton("MMMd", day, locale=locale)
    return format_date(day, width, locale=locale)


@bp.app_template_filter("day_text")
def day_text_filter(day, width: str = "medium") -> str:
    return day_text(day, width)
