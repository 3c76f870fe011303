"""A real OpenID provider for the company sign-in tests: node-oidc-provider run by Node.js
(tests/oidc/provider.mjs; `make test` installs it with `npm ci`), and a person signing in at it
over real HTTP.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

OIDC_DIR = Path(__file__).parent / "oidc"
CLIENT_ID = "frontline-trainer"
CLIENT_SECRET = "a-test-secret-for-the-test-provider"
TEST_CLIENT_URL = "http://localhost"  # what the Flask test client calls itself
CALLBACK_PATH = "/login/company/callback"

# The people who have a company account at the provider.
ACCOUNTS = [
    {  # has an account here under the same email
        "login": "sam",
        "password": "sam-at-work",
        "sub": "co-0001",
        "claims": {"email": "sam@example.com", "email_verified": True, "name": "Sam Teller"},
    },
    {  # no company email; the provider knows their employee number
        "login": "kim",
        "password": "kim-at-work",
        "sub": "co-0002",
        "claims": {"employee_number": "E2002", "name": "Kim Server"},
    },
    {  # not set up here
        "login": "nia",
        "password": "nia-at-work",
        "sub": "co-0003",
        "claims": {
            "email": "nia.new@example.com",
            "email_verified": True,
            "given_name": "Nia",
            "family_name": "Newhire",
            "employee_number": "E3003",
        },
    },
    {  # the provider has not confirmed this address
        "login": "una",
        "password": "una-at-work",
        "sub": "co-0004",
        "claims": {"email": "una@example.com", "email_verified": False, "name": "Una Verified"},
    },
]


class Provider:
    """node-oidc-provider in its own process, on http://127.0.0.1 and a free port."""

    def __init__(self, accounts_file: Path, redirect_uris: list[str], log: Path):
        if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
            pytest.fail(
                "oidc-provider is not installed: run `make test`, or `npm ci` in tests/oidc.",
                pytrace=False,
            )
        self.accounts_file = accounts_file
        self.set_accounts(ACCOUNTS)
        self._log = log.open("w")
        self.process = subprocess.Popen(
            ["node", "provider.mjs"],
            cwd=OIDC_DIR,
            env={
                "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
                "CLIENT_ID": CLIENT_ID,
                "CLIENT_SECRET": CLIENT_SECRET,
                "REDIRECT_URIS": " ".join(redirect_uris),
                "ACCOUNTS_FILE": str(accounts_file),
                "STOP_WITH_STDIN": "1",
            },
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        line = self.process.stdout.readline()  # written once it listens; "" if it died
        if not line:
            self.process.wait()
            pytest.fail(f"the OpenID provider did not start:\n{log.read_text()}", pytrace=False)
        self.issuer = json.loads(line)["issuer"]

    def set_accounts(self, accounts: list[dict]) -> None:
        """Who has a company account, and their claims: read by the provider at every use."""
        self.accounts_file.write_text(json.dumps(accounts))

    def change_claims(self, login: str, **claims) -> None:
        accounts = json.loads(self.accounts_file.read_text())
        for account in accounts:
            if account["login"] == login:
                account["claims"].update(claims)
        self.set_accounts(accounts)

    def config(self, **overrides) -> dict:
        """App settings for company sign-in against this provider."""
        config = {
            "OIDC_ISSUER": self.issuer,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_ALLOW_HTTP": True,  # tests only: the provider is on plain http
            "PUBLIC_URL": TEST_CLIENT_URL,
        }
        config.update(overrides)
        return config

    def stop(self) -> None:
        self.process.stdin.close()  # the provider exits when its input closes
        self.process.wait()
        self.process.stdout.close()
        self._log.close()


def password_of(login: str) -> str:
    return next(a["password"] for a in ACCOUNTS if a["login"] == login)


def sign_in_at_provider(
    authorization_url: str, login: str, password: str | None = None, cancel: bool = False
) -> str:
    """A person at the provider: opens the authorization URL, signs in (or cancels) on its plain
    HTML form, and is sent back. Returns the URL the provider sends them back to."""
    browser = requests.Session()
    response = browser.get(authorization_url, allow_redirects=False, timeout=10)
    signed_in = False
    for _ in range(10):
        if response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if not location.startswith(browser_origin(authorization_url)):
                return location  # back to the application
            response = browser.get(location, allow_redirects=False, timeout=10)
            continue
        page = response.text
        assert response.status_code == 200, page
        assert not signed_in, f"the provider did not accept the sign-in:\n{page}"
        action = re.search(r'action="([^"]+/(?:abort|login))"', page[page.find("<form") :])
        assert action, page
        if cancel:
            url = urljoin(response.url, re.search(r'action="([^"]+/abort)"', page).group(1))
            response = browser.post(url, allow_redirects=False, timeout=10)
        else:
            url = urljoin(response.url, re.search(r'action="([^"]+/login)"', page).group(1))
            form = {"login": login, "password": password or password_of(login)}
            response = browser.post(url, data=form, allow_redirects=False, timeout=10)
            signed_in = True
    raise AssertionError("the provider never sent the person back")


def browser_origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
