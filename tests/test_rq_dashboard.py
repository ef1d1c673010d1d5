"""The RQ dashboard shows every tenant's jobs, so only platform operators may open it."""

import pytest
from django.urls import reverse

from tests.factories import TenantAdminFactory


@pytest.mark.django_db
def test_rq_dashboard_is_for_superusers_only(client, org, redis_queues, django_user_model):
    url = reverse("django_rq:home")
    client.force_login(TenantAdminFactory(organization=org))
    denied = client.get(url)
    assert denied.status_code == 302 and "login" in denied.url

    operator = django_user_model.objects.create_superuser("ops@lanyard.test", "pw-ops-123456")
    client.force_login(operator)
    page = client.get(url)
    assert page.status_code == 200
    assert "provisioning" in page.content.decode()  # both queues listed, read from the real Redis
