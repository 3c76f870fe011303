"""The time zones people choose from (admin forms, the Account page)."""

from __future__ import annotations

from zoneinfo import available_timezones

from wtforms import SelectChoice


def timezone_names() -> list[str]:
    """IANA zone names people pick from (no legacy aliases like "US/Eastern" or "Etc/GMT+3")."""
    names = {
        name
        for name in available_timezones()
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/"))
    }
    return sorted(names | {"UTC"})


def zone_choices(names: list[str], keep: str | None = None) -> list[SelectChoice]:
    """Time zones in option groups by region ("Europe", "America"), for a shorter scroll.
    `keep`: a person's stored zone, offered even when it is not in `names`."""
    if keep and keep not in names:
        names = sorted([*names, keep])
    return [
        SelectChoice(
            name, name.replace("_", " "), optgroup=name.split("/", 1)[0] if "/" in name else None
        )
        for name in names
    ]
