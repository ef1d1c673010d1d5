"""SIEM webhooks: new events are POSTed in id order as signed JSON Lines; failures retry, then switch off."""

import hashlib
import hmac
import json
import re
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from insights import webhooks
from insights.models import Event, WebhookTarget
from tests.insights.conftest import event

pytestmark = pytest.mark.django_db


class Receiver:
    """A SIEM stand-in on 127.0.0.1 that records what it is sent and answers `status`."""

    def __init__(self):
        self.requests: list[tuple[dict, bytes]] = []
        self.status = 200
        self.location = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def ids(self) -> list[list[int]]:
        return [[json.loads(line)["id"] for line in body.splitlines()] for _, body in self.requests]


@pytest.fixture
def receiver():
    server = Receiver()  # on http://127.0.0.1, which tests/conftest.py allows
    yield server
    server.stop()


def later():
    return timezone.now() + timedelta(minutes=1)


def test_new_events_are_sent_in_order_signed_and_only_once(receiver, org, other_org):
    event(org, message="before the webhook existed")
    target, key = webhooks.webhook_create(organization=org, url=receiver.url)
    first = [event(org, ago=timedelta(seconds=30 - i)) for i in range(3)]
    event(other_org)
    assert webhooks.webhook_deliver(target=target, now=later()) == 3
    headers, body = receiver.requests[0]
    assert receiver.ids() == [[e.pk for e in first]]
    assert headers["Content-Type"] == "application/x-ndjson"
    expected = "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    assert headers[webhooks.SIGNATURE_HEADER] == expected
    assert json.loads(body.splitlines()[0])["initiated_by"] == {"type": "", "id": "", "email": ""}

    newer = event(org, ago=timedelta(seconds=10))
    assert webhooks.webhook_deliver(target=target, now=later()) == 1
    assert receiver.ids()[1] == [newer.pk]
    assert webhooks.webhook_deliver(target=target, now=later()) == 0
    target.refresh_from_db()
    assert target.last_delivered_id == newer.pk and target.last_delivery_at is not None


def test_events_younger_than_the_settle_time_wait_for_the_next_run(receiver, org):
    target, _ = webhooks.webhook_create(organization=org, url=receiver.url)
    event(org, ago=timedelta(seconds=1))
    assert webhooks.webhook_deliver(target=target) == 0
    assert webhooks.webhook_deliver(target=target, now=later()) == 1


def test_a_failed_delivery_is_retried_with_the_same_events(receiver, org):
    target, _ = webhooks.webhook_create(organization=org, url=receiver.url)
    pending = event(org, ago=timedelta(seconds=30))
    receiver.status = 503
    assert webhooks.webhook_deliver(target=target, now=later()) == 0
    target.refresh_from_db()
    assert target.last_delivered_id < pending.pk
    assert target.consecutive_failures == 1 and "HTTP 503" in target.last_error
    receiver.status = 200
    assert webhooks.webhook_deliver(target=target, now=later()) == 1
    assert receiver.ids() == [[pending.pk], [pending.pk]]
    target.refresh_from_db()
    assert (target.consecutive_failures, target.last_error) == (0, "")


def test_redirects_are_not_followed(receiver, org):
    target, _ = webhooks.webhook_create(organization=org, url=receiver.url)
    event(org, ago=timedelta(seconds=30))
    receiver.status, receiver.location = 302, "http://169.254.169.254/latest/meta-data/"
    assert webhooks.webhook_deliver(target=target, now=later()) == 0
    assert len(receiver.requests) == 1
    target.refresh_from_db()
    assert target.last_error == "Lanyard could not reach the endpoint at 127.0.0.1; check the URL."
    detail = Event.objects.get(event_type="outbound_failure")
    assert detail.organization is None and "redirect (HTTP 302)" in detail.message


def test_a_target_that_keeps_failing_is_switched_off_with_an_event(receiver, org):
    target, _ = webhooks.webhook_create(organization=org, url=receiver.url)
    event(org, ago=timedelta(seconds=30))
    receiver.status = 500
    for _ in range(webhooks.MAX_FAILURES):
        webhooks.webhooks_deliver_all(now=later())
    target.refresh_from_db()
    assert not target.active
    stopped = Event.objects.get(event_type="insights_webhook_disable")
    assert not stopped.success and "switch the webhook on again" in stopped.message
    webhooks.webhooks_deliver_all(now=later())
    assert len(receiver.requests) == webhooks.MAX_FAILURES  # an inactive target is not called


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://siem.example.com/x", "must start with https://"),
        ("http://127.0.0.1/x", "must start with https://"),
        ("https://127.0.0.1/x", "could not reach the endpoint at 127.0.0.1"),
        ("https://10.1.2.3/x", "could not reach the endpoint at 10.1.2.3"),
        ("https://[::1]/x", "could not reach the endpoint at ::1"),
        ("https://[::ffff:127.0.0.1]/x", "could not reach the endpoint"),
        ("https://169.254.169.254/latest", "could not reach the endpoint at 169.254.169.254"),
        ("https:///x", "has no host name"),
        ("https://siem.example.com:99999/x", "port"),
    ],
)
def test_urls_into_private_networks_are_refused(settings, url, message):
    settings.ALLOW_INSECURE_URLS = False
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    with pytest.raises(ValidationError) as caught:
        webhooks.webhook_url_check(url)
    assert message in " ".join(caught.value.messages)


def test_the_admin_creates_a_webhook_and_shows_its_signing_key_once(admin_client, org, receiver):
    response = admin_client.post(reverse("admin:insights_webhooktarget_add"), {"url": receiver.url})
    assert response.status_code == 200
    key = re.search(r'id="secret-value"[^>]*>([^<]+)<', response.content.decode()).group(1)
    target = WebhookTarget.objects.get()
    assert target.organization == org
    assert key == webhooks.webhook_signing_key(target=target)
    assert key not in str(WebhookTarget.objects.values().get())
    page = admin_client.get(reverse("admin:insights_webhooktarget_change", args=[target.pk])).content.decode()
    assert key not in page


def test_the_admin_refuses_a_private_url_with_a_sentence(admin_client, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    response = admin_client.post(reverse("admin:insights_webhooktarget_add"), {"url": "https://127.0.0.1/hook"})
    assert response.status_code == 200
    assert not WebhookTarget.objects.exists()
    assert "Lanyard could not reach the endpoint at 127.0.0.1; check the URL." in response.content.decode()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://siem.example.com:99999/events", "the port, 1 to 65535"),
        ("https://siem.example.com:0/events", "invalid port"),
        ("https://user:secret@siem.example.com/events", "must not contain a user name or password"),
        ("http://siem.example.com/events", "must start with https://"),
    ],
)
def test_the_admin_refuses_a_bad_webhook_url_with_one_sentence_not_a_500(admin_client, url, message):
    response = admin_client.post(reverse("admin:insights_webhooktarget_add"), {"url": url})
    assert response.status_code == 200
    assert not WebhookTarget.objects.exists()
    page = response.content.decode()
    assert page.count(message) == 1, page  # said once, by the URL policy


def test_a_target_stored_before_the_url_policy_is_refused_not_called(receiver, org, settings):
    target, _ = webhooks.webhook_create(organization=org, url=receiver.url)
    event(org, ago=timedelta(seconds=30))
    settings.ALLOW_INSECURE_URLS = False  # the stored http:// URL no longer passes
    assert webhooks.webhook_deliver(target=target, now=later()) == 0
    assert receiver.requests == []
    target.refresh_from_db()
    assert "must start with https://" in target.last_error


def test_a_quiet_organizations_pointer_moves_past_other_organizations_events(receiver, org, other_org):
    target, _ = webhooks.webhook_create(organization=org, url=receiver.url)
    busy = [event(other_org, ago=timedelta(seconds=30)) for _ in range(5)]
    assert webhooks.webhook_deliver(target=target, now=later()) == 0
    target.refresh_from_db()
    assert target.last_delivered_id == busy[-1].pk  # the next run does not rescan them
    ours = event(org, ago=timedelta(seconds=20))
    assert webhooks.webhook_deliver(target=target, now=later()) == 1
    assert receiver.ids() == [[ours.pk]]


def test_a_settled_event_is_held_back_behind_a_younger_one_with_a_lower_id(receiver, org):
    target, _ = webhooks.webhook_create(organization=org, url=receiver.url)
    young = event(org, ago=timedelta(seconds=1))  # lower id, not settled yet
    settled = event(org, ago=timedelta(seconds=30))  # higher id, settled
    assert webhooks.webhook_deliver(target=target) == 0
    target.refresh_from_db()
    assert target.last_delivered_id < young.pk
    assert webhooks.webhook_deliver(target=target, now=later()) == 2
    assert receiver.ids() == [[young.pk, settled.pk]]


def test_a_delivery_connects_to_the_address_that_was_checked_not_a_second_lookup(settings, org, monkeypatch):
    """DNS rebinding: the name answers a public address when checked and loopback afterwards."""
    from tests.core.servers import RawServer

    settings.OUTBOUND_ALLOWED_NETWORKS = []
    internal = RawServer()  # stands for a service inside the network, on loopback
    answers = ["93.184.216.34", "127.0.0.1"]
    lookups: list[str] = []
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host, port, *args, **kwargs):
        if host != "siem.rebind.example":
            return real_getaddrinfo(host, port, *args, **kwargs)
        lookups.append(host)
        address = answers.pop(0) if len(answers) > 1 else answers[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    def connect(sock, address):  # nothing leaves the machine: public addresses refuse at once
        if sock.family == socket.AF_INET and not address[0].startswith("127."):
            raise ConnectionRefusedError(111, "Connection refused (test)")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    target = WebhookTarget.objects.create(organization=org, url=f"https://siem.rebind.example:{internal.port}/events")
    event(org, ago=timedelta(seconds=30))
    try:
        assert webhooks.webhook_deliver(target=target, now=later()) == 0
    finally:
        internal.stop()
    assert lookups == ["siem.rebind.example"]  # one resolution, checked and used
    assert internal.connections == 0  # the second answer (loopback) was never connected to
    target.refresh_from_db()
    assert target.last_error == "Lanyard could not reach the endpoint at siem.rebind.example; check the URL."
