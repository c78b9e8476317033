"""A notice in words every channel shares: the subject line, the link, and lines cut to a size.

Providers cap a message's size (WeCom 4096 bytes of markdown, Feishu 20 KB of body, ...); a
digest of many alerts is cut line by line, never mid-line, and says how many lines it left out
so the reader knows to follow the link.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC
from urllib.parse import urljoin

from orderhub.domain.notifications import Notice

LINK_TEXT = "Open in OrderHub"
# One line of a notice is a sentence about an order or a count; longer ones are data gone wrong.
LINE_MAX_CHARS = 500


def subject(notice: Notice) -> str:
    """The one-line heading: severity, title, and whether it escalates or digests."""
    tags = [notice.severity.value.upper()]
    if notice.escalation:
        tags.append("ESCALATED")
    heading = f"[{' '.join(tags)}] {notice.title}"
    if notice.digest and notice.count > 1:
        heading += f" ({notice.count} alerts)"
    return heading


def absolute_link(link: str, public_url: str) -> str:
    """The console link made absolute (notices carry a path such as /alerts?rule=3)."""
    if not link:
        return public_url.rstrip("/") + "/"
    return urljoin(public_url.rstrip("/") + "/", link)


def cut_line(line: str) -> str:
    return line if len(line) <= LINE_MAX_CHARS else line[: LINE_MAX_CHARS - 1] + "…"


def left_out(count: int) -> str:
    return f"… and {count} more line(s) not shown (cut to the channel's size limit); see the link"


def fit_lines(lines: Sequence[str], fits: Callable[[list[str]], bool]) -> list[str]:
    """As many leading lines as `fits` accepts, plus a line saying how many were left out.

    `fits(candidate)` renders the whole message with these lines and says whether it is within
    the provider's limit; the search is binary, so a digest of thousands of lines stays cheap.
    """
    every = [cut_line(line) for line in lines]
    if fits(every):
        return every
    low, high = 0, len(every)  # low always fits (with its "left out" line), high does not
    while high - low > 1:
        middle = (low + high) // 2
        if fits([*every[:middle], left_out(len(every) - middle)]):
            low = middle
        else:
            high = middle
    return [*every[:low], left_out(len(every) - low)]


def markdown(notice: Notice, lines: Sequence[str], link: str) -> str:
    """The markdown WeCom and DingTalk robots both render: heading, a note, one line each, link."""
    parts = [f"### {subject(notice)}"]
    note = _note(notice)
    if note:
        parts.append(f"> {note}")
    parts.extend(f"- {line}" for line in lines)
    parts.append(f"[{LINK_TEXT}]({link})")
    return "\n".join(parts)


def plain_text(notice: Notice, lines: Sequence[str], link: str) -> str:
    parts = [subject(notice), ""]
    note = _note(notice)
    if note:
        parts += [note, ""]
    parts.extend(f"- {line}" for line in lines)
    parts += ["", f"{LINK_TEXT}: {link}"]
    return "\n".join(parts)


def _note(notice: Notice) -> str:
    notes = []
    if notice.escalation:
        notes.append("Escalated: these alerts passed their second threshold.")
    if notice.digest:
        notes.append(f"Digest of {notice.count} alert(s).")
    if notice.at is not None:
        notes.append(f"At {notice.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC.")
    return " ".join(notes)
