import json
import logging

from recomamp.logging import JSONLinesFormatter, RedactSecretsFilter, redact


def test_tokens_and_secrets_are_redacted():
    text = 'Authorization: Bearer Atza|abc.def refresh_token=Atzr|xyz {"client_secret": "s3cr3t"} password=hunter2'
    cleaned = redact(text)
    for secret in ("Atza|abc.def", "Atzr|xyz", "s3cr3t", "hunter2"):
        assert secret not in cleaned
    assert "[REDACTED]" in cleaned and "password=" in cleaned


def test_filter_rewrites_records_with_secrets():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "sent %s", ("Bearer Atza|secret",), None)
    assert RedactSecretsFilter().filter(record) is True
    assert "Atza|secret" not in record.getMessage()


def test_json_lines_carry_ids_as_fields():
    record = logging.LogRecord(
        "schedules", logging.INFO, __file__, 1, "schedule run submitted schedule=%s run=%s execution=%s",
        ("sched_1", 7, "exec_2"), None,
    )  # fmt: skip
    entry = json.loads(JSONLinesFormatter().format(record))
    assert (entry["schedule"], entry["run"], entry["execution"]) == ("sched_1", "7", "exec_2")
    assert entry["level"] == "INFO" and entry["logger"] == "schedules"
