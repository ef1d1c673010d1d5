"""Authentication backend for directory users."""

from django.contrib.auth.backends import ModelBackend

from .models import User


class DirectoryBackend(ModelBackend):
    """Django's model backend, loading the user's organization in the same query.

    Nearly every request reads `request.user.organization` (tenant scoping, the MFA policy,
    SSO), so one joined query replaces two.
    """

    def get_user(self, user_id):
        try:
            user = User._default_manager.select_related("organization").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
