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


def test_the_access_log_keeps_oauth_codes_and_signed_links_out():
    lines = [
        '"GET /accounts/amazon/callback/?code=ANsandboxSECRET1&scope=x&state=STATE2 HTTP/1.1" 302 0',
        '"GET /sandbox/ap/oa?client_id=c&redirect_uri=http://a/cb&state=STATE2 HTTP/1.1" 200 9',
        '"GET /sandbox/results/eyJTOKEN3:1abc:sig/part-0.csv HTTP/1.1" 200 120',
        "fetch https://bucket.s3.amazonaws.com/r.csv?X-Amz-Credential=AKIA4&X-Amz-Signature=SIG5 failed",
    ]
    cleaned = " ".join(redact(line) for line in lines)
    for secret in ("ANsandboxSECRET1", "STATE2", "eyJTOKEN3", "AKIA4", "SIG5"):
        assert secret not in cleaned
    assert "/accounts/amazon/callback/?[REDACTED]" in cleaned and "part-0.csv" in cleaned


def test_runserver_access_log_goes_through_the_redacting_handler(settings):
    config = settings.LOGGING
    assert config["loggers"]["django.server"]["handlers"] == ["console"]
    assert "redact" in config["handlers"]["console"]["filters"]
    ours = [h for h in logging.getLogger("django.server").handlers if isinstance(h, logging.StreamHandler)]
    assert any(isinstance(f, RedactSecretsFilter) for h in ours for f in h.filters)
