"""Portal writes: sign-in and MFA events, app launches, and the activation of staged users.

Every event here is written with service "portal". Failure reasons go into the event, which
only administrators read; the pages a person sees never say whether an email address exists.
"""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse

from directory import services as directory_services
from directory.models import User, UserState
from directory.permissions import permission_check
from directory.sessions import user_sessions_end
from insights.context import bind
from insights.models import Service
from insights.services import record
from ssoapps.models import Application

from . import selectors


def _record(event_type: str, *, user: User | None = None, success: bool = True, message: str = "", **extra):
    return record(
        event_type=event_type,
        service=Service.PORTAL,
        organization=getattr(user, "organization", None),
        resource=extra.pop("resource", user),
        actor=extra.pop("actor", user),
        success=success,
        message=message,
        **extra,
    )


def login_success_record(*, user: User, method: str = "password") -> None:
    """Record a completed portal sign-in."""
    _record("portal_login", user=user, message=f"Signed in ({method}).")


def login_failure_record(*, email: str, user: User | None, reason: str) -> None:
    """Record a refused portal sign-in with its reason (a `directory.backends.SignInRefusal`)."""
    if user is None:
        record(
            event_type="portal_login",
            service=Service.PORTAL,
            success=False,
            initiator={"type": "anonymous", "id": "", "email": (email or "")[:254]},
            resource={"type": "user", "id": "", "name": (email or "")[:254]},
            message=f"Sign-in refused: {reason}.",
        )
        return
    _record("portal_login", user=user, success=False, message=f"Sign-in refused: {reason}.")


def login_throttled_record(*, email: str) -> None:
    """Record a sign-in refused by a rate limit, before any password was checked."""
    user = User.objects.filter(email__iexact=(email or "").strip()).first() if email else None
    login_failure_record(email=email, user=user, reason="too many failed attempts, rate limited")


def email_address_sync(*, user: User) -> None:
    """Make the directory's address the user's only allauth EmailAddress (primary), and nobody else's.

    allauth reads these rows for password resets and re-authentication; the directory is the source
    of truth, so rows left from an older address (or claimed by someone else) must not survive.
    """
    EmailAddress.objects.filter(Q(user=user) | Q(email__iexact=user.email)).delete()
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)


def mfa_enrolment_record(*, user: User, authenticator_type: str, removed: bool = False) -> None:
    """Record that a user added (or removed) a second factor."""
    kind = {"totp": "authenticator app", "webauthn": "security key", "recovery_codes": "recovery codes"}
    label = kind.get(authenticator_type, authenticator_type)
    event_type = "mfa_remove" if removed else "mfa_enroll"
    _record(
        event_type,
        user=user,
        message=f"{'Removed' if removed else 'Set up'} {label}.",
        changes=[{"field": "mfa", "from": label if removed else None, "to": None if removed else label}],
    )


def authenticator_remove(*, authenticator, actor: User | None = None) -> None:
    """An Administrator removes a user's second factor (e.g. a lost phone); the user is signed out and enrols again.

    Recovery codes go with the last real factor, as when a user removes it themselves in allauth.
    """
    user = User.objects.select_related("organization").get(pk=authenticator.user_id)
    permission_check(actor=actor, action="reset_mfa", target=user)
    kind = authenticator.type
    with transaction.atomic():
        if not Authenticator.objects.filter(pk=authenticator.pk).delete()[0]:
            return  # already gone (e.g. recovery codes removed with the last factor earlier in a bulk delete)
        removed = [kind]
        remaining = Authenticator.objects.filter(user=user)
        if not remaining.exclude(type=Authenticator.Type.RECOVERY_CODES).exists() and remaining.exists():
            remaining.delete()
            removed.append(Authenticator.Type.RECOVERY_CODES)
        ended = user_sessions_end(user=user)
        _record(
            "mfa_remove",
            user=user,
            actor=actor,
            message=f"Removed {' and '.join(removed)} by an administrator; {ended} session(s) signed out.",
            changes=[{"field": "mfa", "from": kind, "to": None}],
        )


def mfa_failure_record(*, user: User, authenticator_type: str = "") -> None:
    """Record a wrong second-factor code or a failed security-key check."""
    _record("mfa_auth", user=user, success=False, message=f"Second factor refused ({authenticator_type or 'code'}).")


def password_reset_record(*, user: User) -> None:
    """Record that a user set a new password from a reset link."""
    _record("password_reset", user=user, message="Password reset from an emailed link.")


def password_reset_link_refused_record(*, user: User | None) -> None:
    """Record a reset link that was expired, already used or altered."""
    _record(
        "password_reset",
        user=user,
        success=False,
        message="Password reset link refused: expired, already used or altered.",
        **({} if user else {"initiator": {"type": "anonymous", "id": "", "email": ""}}),
    )


def redirect_refused_record(*, url: str) -> None:
    """Record a `next` address pointing to another site, which the portal ignored."""
    record(
        event_type="portal_redirect_refused",
        service=Service.PORTAL,
        success=False,
        message=f"Ignored a redirect to another site: {url[:200]}",
    )


def application_launch(*, user: User, application: Application) -> str:
    """Record that a user launched an app from the portal and return where the browser goes."""
    if not selectors.application_visible_to(user=user, application=application):
        _record(
            "app_launch",
            user=user,
            resource=application,
            success=False,
            message="Launch refused: not authorized for this app.",
        )
        raise ValidationError("You do not have access to this app. Ask your administrator if you need it.")
    try:
        url = selectors.application_launch_url(application=application)
    except ValidationError as exc:
        _record(
            "app_launch", user=user, resource=application, success=False, message=f"Launch refused: {exc.messages[0]}"
        )
        raise
    _record("app_launch", user=user, resource=application, message=f"Launched {application.label}.")
    return url


def activation_link(*, user: User) -> str:
    """The absolute link with which a staged user sets a password and activates the account."""
    from allauth.account.utils import user_pk_to_url_str

    path = reverse(
        "portal:activate",
        kwargs={"uidb36": user_pk_to_url_str(user), "token": default_token_generator.make_token(user)},
    )
    return f"{settings.SSO_BASE_URL}{path}"


def activation_email_send(*, user: User) -> None:
    """Email a staged user the link to choose a password (after the surrounding transaction commits)."""
    if user.state != UserState.STAGED:
        raise ValidationError("Only staged users receive an activation email; this user is already activated.")
    context = {"user": user, "organization": user.organization, "link": activation_link(user=user)}
    subject = f"Activate your {user.organization.name if user.organization else 'Lanyard'} account"
    body = render_to_string("portal/email/activation.txt", context)

    def send() -> None:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])

    transaction.on_commit(send)
    _record("activation_email", user=user, actor=None, message="Activation email sent.")


def activation_token_valid(*, user: User | None, token: str) -> bool:
    """Whether an activation link is still good: the user is staged and the token matches."""
    return bool(user and user.state == UserState.STAGED and default_token_generator.check_token(user, token))


@transaction.atomic
def user_activate(*, user: User, password: str) -> User:
    """A staged user chose a password: set it and make the account active.

    The emailed token is the authority here, not an admin role, so the directory services run as the
    system (actor=None); the bound context still names the user in the events.
    """
    with bind(actor=user, initiator_type="user"):
        directory_services.user_set_password(user=user, password=password)
        return directory_services.user_state_set(user=user, state=UserState.ACTIVE)
