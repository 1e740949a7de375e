"""The scopes an app may request, in plain words, and data residency regions.

A manifest may only name scopes from this registry so the consent screen and
the search filters can always explain them. ``access`` is "read" or "write";
search uses it for "only apps that need no write access".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    name: str
    access: str  # "read" or "write"
    plain: str  # what the customer reads on the listing and consent screen


SCOPES: dict[str, Scope] = {
    scope.name: scope
    for scope in [
        Scope("contacts:read", "read", "See your contacts and their details"),
        Scope("contacts:write", "write", "Create, change and delete your contacts"),
        Scope("deals:read", "read", "See your deals and pipelines"),
        Scope("deals:write", "write", "Create and update deals and pipelines"),
        Scope("tickets:read", "read", "Read support tickets and their conversations"),
        Scope("tickets:write", "write", "Create, reply to and close support tickets"),
        Scope("messages:send", "write", "Send email and chat messages on your behalf"),
        Scope("files:read", "read", "Open files stored in your workspace"),
        Scope("files:write", "write", "Upload, change and delete files in your workspace"),
        Scope("calendar:read", "read", "See events on your team's calendars"),
        Scope("calendar:write", "write", "Create and change calendar events"),
        Scope("users:read", "read", "See the names and email addresses of your workspace's users"),
        Scope("analytics:read", "read", "Read reports and usage analytics"),
        Scope("billing:read", "read", "See your plan, invoices and payment history"),
        Scope("settings:write", "write", "Change your workspace's settings"),
        Scope("webhooks:manage", "write", "Subscribe to events that happen in your workspace"),
    ]
}

REGIONS: dict[str, str] = {
    "us": "United States",
    "eu": "European Union",
    "uk": "United Kingdom",
    "ca": "Canada",
    "au": "Australia",
    "jp": "Japan",
    "in": "India",
    "br": "Brazil",
}


def describe_scope(name: str) -> str:
    scope = SCOPES.get(name)
    return scope.plain if scope else name


def is_write_scope(name: str) -> bool:
    scope = SCOPES.get(name)
    return scope is None or scope.access == "write"
