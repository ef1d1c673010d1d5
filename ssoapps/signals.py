"""Signals ssoapps sends for other apps (provisioning) to hear.

`group_authorization_changed(application, groups, bound)` is sent by the services inside the
transaction that binds (bound=True) or unbinds (bound=False) user groups from an application.
"""

from django.dispatch import Signal

group_authorization_changed = Signal()
