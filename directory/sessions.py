"""Ending a user's sessions everywhere, e.g. once an administrator removed their second factor."""

from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.utils import timezone

from .models import User


def user_sessions_end(*, user: User) -> int:
    """Sign a user out of every browser; returns how many sessions ended.

    Sessions name their user only inside the encoded data, so each unexpired session is decoded.
    Each one is deleted through the configured SessionStore, which clears the cached copy too
    (the cached_db engine would otherwise keep serving it from the cache).
    """
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    session_model = store_class.get_model_class()
    user_id = str(user.pk)
    ended = 0
    unexpired = session_model.objects.filter(expire_date__gt=timezone.now()).only("session_key", "session_data")
    for session in unexpired.iterator(chunk_size=1000):
        if str(session.get_decoded().get(SESSION_KEY)) == user_id:
            store_class(session_key=session.session_key).delete()
            ended += 1
    return ended
