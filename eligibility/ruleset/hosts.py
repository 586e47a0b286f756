"""Which web hosts a citation may link to (the ``official_hosts`` table, rules/data/official-hosts.yaml).

A ``primary`` citation says the official text was read: its url must be on an official host. A
host listed as not citable (admin, preview, staging and development hosts, aggregators of copied
documents) is refused at every evidence level. An entry names a host and every subdomain of it,
label by label: ``uscourts.gov`` covers ``www.uscourts.gov`` and ``ca9.uscourts.gov``, never
``notuscourts.gov``. The loader (eligibility.ruleset.load) applies these checks to every citation.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

#: The shipped table, relative to a rules directory. A rules directory without a file of this name
#: is checked against the shipped one (eligibility.ruleset.load.load_rules).
HOSTS_FILE = "data/official-hosts.yaml"


def host_of(url: str) -> str:
    """The host of a web address, lower case, without port or credentials ('' when it has none)."""
    try:
        return (urlsplit(url.strip()).hostname or "").rstrip(".").lower()
    except ValueError:  # a malformed address, e.g. an unclosed IPv6 bracket
        return ""


def covers(entry: str, host: str) -> bool:
    """Whether the table entry ``entry`` names ``host``: the host itself or one of its subdomains."""
    entry = entry.lower()
    return host == entry or host.endswith("." + entry)


def match(host: str, entries: Iterable[str]) -> str | None:
    """The most specific entry that covers ``host`` (the longest), or None."""
    found = [e for e in entries if covers(e, host)]
    return max(found, key=len) if found else None
