"""Log filter that masks anything shaped like a credential, as a second line of defence.

The first line is never logging tokens at all; this catches a careless `%r` of a response or header dict.
"""

import logging
import re

_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/|=]+"),
    re.compile(r'(?i)("?(?:access_token|refresh_token|client_secret|password|authorization)"?\s*[:=]\s*"?)[^",\s&}]+'),
    re.compile(r"\bAtza\|[A-Za-z0-9\-._~+/=|]+"),
    re.compile(r"\bAtzr\|[A-Za-z0-9\-._~+/=|]+"),
    # Access-log lines: OAuth codes and state on the callback and consent pages, signed result links.
    re.compile(r"((?:/accounts/amazon/callback/|/ap/oa)\?)[^\s\"]+"),
    re.compile(r"(/sandbox/results/)[^/\s\"]+"),
    re.compile(r"(?i)([?&](?:code|state|X-Amz-[A-Za-z-]+|Signature|Policy|Key-Pair-Id)=)[^&\s\"]+"),
]


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "[REDACTED]", text)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_PAIR = re.compile(r"\b([a-z_]+)=(\S+)")


class JSONLinesFormatter(logging.Formatter):
    """One JSON object per line; `key=value` pairs in our messages (schedule=…, run=…, execution=…) become fields,
    so log tools can filter by a schedule, run or execution id without parsing text."""

    def format(self, record: logging.LogRecord) -> str:
        import json

        message = record.getMessage()
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
            **dict(_PAIR.findall(message)),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)
