"""Portal forms: the password-reset token check (records expired links) and the search box."""

from allauth.account.forms import UserTokenForm
from django import forms

from . import services


class ResetTokenForm(UserTokenForm):
    """allauth's reset-link check; a link that is expired, used or altered is recorded as an event."""

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            services.password_reset_link_refused_record(user=self.reset_user)
            raise


class TileSearchForm(forms.Form):
    """The portal's search box: filters tiles by label or description (a plain GET form)."""

    q = forms.CharField(required=False, max_length=100, label="Search apps")
