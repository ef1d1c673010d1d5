"""Authentication backend for directory users: sign-in by the directory's email address, at constant cost."""

from allauth.account.auth_backends import AuthenticationBackend
from django.dispatch import Signal

from .models import User, UserState

# Sent for every refused password check: request, email (as typed), user (None when no user has
# that address) and reason (a SignInRefusal). Listeners record it; the page never shows the reason.
sign_in_refused = Signal()


class SignInRefusal:
    """Why a password sign-in was refused."""

    UNKNOWN_EMAIL = "unknown email"
    WRONG_PASSWORD = "wrong password"
    STAGED = "account staged (not activated yet)"
    SUSPENDED = "account suspended"
    NO_PASSWORD = "no password set"


class DirectoryBackend(AuthenticationBackend):
    """The only authentication backend: the user is found by `User.email`, and every attempt hashes once.

    Unknown address, staged, suspended, wrong password or no usable password: each refusal costs the
    same single password-hash computation as a success, so response times do not tell accounts apart
    (Django's check_password hashes a throw-away value for an unusable password). allauth's own backend
    would also match allauth `EmailAddress` rows and hash a second time; this one reads the directory only,
    where addresses are set by the organization. It subclasses allauth's backend so that a user whose
    password is right but who may not sign in (staged, suspended) still gets allauth's "inactive" page.
    Nearly every request reads `request.user.organization`, so `get_user` loads it in the same query.
    """

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        """The active user with this email address and password, or None (and a `sign_in_refused` signal)."""
        login = (email or username or kwargs.get(User.USERNAME_FIELD) or "").strip()
        if not login or not password:
            return None
        user = User._default_manager.select_related("organization").filter(email__iexact=login).first()
        if user is None:
            User().set_password(password)  # the hash a real check would have cost
            refusal = SignInRefusal.UNKNOWN_EMAIL
        elif not user.has_usable_password():
            user.check_password(password)  # hashes a random value: same cost, always False
            refusal = SignInRefusal.STAGED if user.state == UserState.STAGED else SignInRefusal.NO_PASSWORD
        elif not user.check_password(password):
            refusal = SignInRefusal.WRONG_PASSWORD
        elif self.user_can_authenticate(user):
            return user
        else:
            self._stash_user(user)  # allauth shows "account inactive" to the holder of the right password
            refusal = SignInRefusal.STAGED if user.state == UserState.STAGED else SignInRefusal.SUSPENDED
        sign_in_refused.send(sender=DirectoryBackend, request=request, email=login, user=user, reason=refusal)
        return None

    def get_user(self, user_id):
        try:
            user = User._default_manager.select_related("organization").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
