"""Signal receivers: translate sign-in, MFA, password and directory signals into portal service calls."""

from allauth.account.signals import password_reset
from allauth.mfa import signals as mfa_signals
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver

from directory.backends import sign_in_refused
from directory.models import User, UserState
from directory.signals import user_changed

from . import services


def _is_portal_request(request) -> bool:
    # Test clients' force_login() and scripts log users in with a bare request that has no path.
    return request is not None and bool(getattr(request, "path", ""))


def _methods(request, user) -> str:
    try:
        from allauth.account.authentication import get_authentication_records

        methods = [r.get("method", "") for r in get_authentication_records(request, user)]
    except Exception:  # noqa: BLE001 - the method list is a nicety in the event message only
        methods = []
    return " + ".join(m for m in methods if m) or "password"


@receiver(user_logged_in, dispatch_uid="portal.login_success")
def on_user_logged_in(sender, request, user, **kwargs) -> None:
    """A completed sign-in (after MFA when the user has it)."""
    if _is_portal_request(request):
        services.login_success_record(user=user, method=_methods(request, user))


@receiver(sign_in_refused, dispatch_uid="portal.login_failure")
def on_sign_in_refused(sender, request, email, user, reason, **kwargs) -> None:
    """A refused sign-in; the backend worked out the reason while checking the password (no second hash)."""
    if _is_portal_request(request):
        services.login_failure_record(email=email, user=user, reason=reason)


@receiver(mfa_signals.authenticator_added, dispatch_uid="portal.mfa_added")
def on_authenticator_added(sender, request, user, authenticator, **kwargs) -> None:
    """A second factor was set up."""
    services.mfa_enrolment_record(user=user, authenticator_type=authenticator.type)


@receiver(mfa_signals.authenticator_removed, dispatch_uid="portal.mfa_removed")
def on_authenticator_removed(sender, request, user, authenticator, **kwargs) -> None:
    """A second factor was removed."""
    services.mfa_enrolment_record(user=user, authenticator_type=authenticator.type, removed=True)


@receiver(mfa_signals.authentication_failed, dispatch_uid="portal.mfa_failed")
def on_mfa_failed(sender, request, user, authenticator=None, **kwargs) -> None:
    """A wrong code or a failed security-key check."""
    services.mfa_failure_record(user=user, authenticator_type=getattr(authenticator, "type", ""))


@receiver(password_reset, dispatch_uid="portal.password_reset")
def on_password_reset(sender, request, user, **kwargs) -> None:
    """A password was reset from an emailed link."""
    services.password_reset_record(user=user)


@receiver(user_changed, sender=User, dispatch_uid="portal.activation_email")
def on_user_changed(sender, user, changed_fields, **kwargs) -> None:
    """A staged user was just created: email them the link to choose a password."""
    if "created" in changed_fields and user.state == UserState.STAGED and user.email:
        transaction.on_commit(lambda: _send_activation(user.pk))


@receiver(user_changed, sender=User, dispatch_uid="portal.email_addresses")
def on_user_email_changed(sender, user, changed_fields, **kwargs) -> None:
    """The directory changed a user's address: allauth's address rows follow, in the same transaction."""
    if "email" in changed_fields:
        services.email_address_sync(user=user)


def _send_activation(user_pk: int) -> None:
    user = User.objects.filter(pk=user_pk, state=UserState.STAGED).first()
    if user is not None:
        services.activation_email_send(user=user)
