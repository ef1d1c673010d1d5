"""The URL policy: https:// only, plain http:// only to loopback in development, and a sentence for every refusal."""

import pytest
from django.core.exceptions import ValidationError

from core.url_policy import url_check


@pytest.fixture
def production(settings):
    """The policy as it runs in production: no DEBUG, no ALLOW_INSECURE_URLS."""
    settings.DEBUG = False
    settings.ALLOW_INSECURE_URLS = False


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("javascript:alert(document.domain)", "must start with https://"),
        ("JaVaScRiPt:alert(1)", "must start with https://"),
        ("data:text/html,<script>alert(1)</script>", "must start with https://"),
        ("data:text/html;base64,PHNjcmlwdD4=", "must start with https://"),
        ("vbscript:msgbox", "must start with https://"),
        ("ftp://files.example.com/acs", "must start with https://"),
        ("//app.example.com/acs", "must start with https://"),
        ("http://app.example.com/acs", "must start with https://"),
        ("http://10.0.0.1/acs", "must start with https://"),
        ("http://127.0.0.1:8001/acs", "only accepted for 127.0.0.1 or localhost, and only in development"),
        ("https:///acs", "has no host name"),
        ("https://user:pass@app.example.com/acs", "must not contain a user name or password"),
        ("https://app.example.com@evil.example.com/acs", "must not contain a user name or password"),
        ("https://app.example.com:99999/acs", "the port, 1 to 65535"),
        ("https://app.example.com:0/acs", "invalid port"),
        ("https://app.example.com:http/acs", "the port, 1 to 65535"),
        ("https://[::1/acs", "not a valid address"),
        ("https://app.example.com/a b", "contains spaces"),
        ("https://app.example.com/\tacs", "contains spaces"),
        ("https://app.example.com/acs\x00", "control characters"),
        ("https://app.example.com/acs\u0085", "control characters"),
        ("https://evil.example.com\\@app.example.com/", "backslashes"),
        ("https://app.example.com/" + "a" * 2000, "longer than 2000 characters"),
        ("https://app_example/acs", "not a valid web address"),
        ("", "Enter the ACS URL"),
    ],
)
def test_refused_urls_get_a_sentence_naming_the_field(production, url, says):
    with pytest.raises(ValidationError) as caught:
        url_check(url, field="ACS URL")
    message = caught.value.messages[0]
    assert says in message
    assert message.startswith(("The ACS URL", "Enter the ACS URL")) and message.endswith(".")


@pytest.mark.parametrize(
    "url",
    [
        "https://app.example.com/saml/acs",
        "HTTPS://App.Example.com:8443/saml/acs?tenant=1#x",
        "https://[2606:4700::1]/acs",
        "https://10.0.0.1/acs",  # a stored URL may name any https host; the outbound guard decides who is called
    ],
)
def test_https_urls_pass(production, url):
    assert url_check(url, field="ACS URL") == url


@pytest.mark.parametrize("url", ["http://127.0.0.1:8001/acs", "http://127.1.2.3/x", "http://localhost:8002/scim/v2"])
def test_plain_http_to_loopback_passes_only_in_development(settings, url):
    settings.DEBUG, settings.ALLOW_INSECURE_URLS = False, False
    with pytest.raises(ValidationError):
        url_check(url, field="SCIM base URL")
    settings.ALLOW_INSECURE_URLS = True
    assert url_check(url, field="SCIM base URL") == url
    settings.ALLOW_INSECURE_URLS, settings.DEBUG = False, True
    assert url_check(url, field="SCIM base URL") == url


@pytest.mark.parametrize("url", ["http://10.0.0.1/x", "http://app.example.com/x", "http://127.0.0.1.example.com/x"])
def test_plain_http_elsewhere_is_refused_even_in_development(settings, url):
    settings.ALLOW_INSECURE_URLS = True
    with pytest.raises(ValidationError) as caught:
        url_check(url, field="webhook URL")
    assert "The webhook URL" in caught.value.messages[0]
