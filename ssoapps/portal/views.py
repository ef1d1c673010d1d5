"""Portal pages: the home page with app tiles, app launch, and account activation for staged users."""

from allauth.account.utils import url_str_to_user_pk
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from ssoapps.models import Application

from . import selectors, services
from .forms import TileSearchForm
from .middleware import RESUME_AFTER_ENROLMENT


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The portal home: one tile per app the user may use, filtered by the search box."""
    resume = request.session.pop(RESUME_AFTER_ENROLMENT, None)
    if resume and url_has_allowed_host_and_scheme(resume, allowed_hosts=None):
        return redirect(resume)  # back to the app (or parked SSO request) that sent them to enrol
    form = TileSearchForm(request.GET or None)
    search = form.cleaned_data["q"] if form.is_valid() else ""
    tiles = selectors.portal_tiles(user=request.user, search=search)
    has_any = bool(tiles) or (bool(search) and selectors.applications_in_portal(user=request.user).exists())
    return render(request, "portal/home.html", {"form": form, "tiles": tiles, "search": search, "has_any": has_any})


@login_required
def launch(request: HttpRequest, slug: str) -> HttpResponse:
    """Record the launch of an app from its tile, then send the browser to the app."""
    application = get_object_or_404(Application, idp_slug=slug, organization_id=request.user.organization_id)
    try:
        url = services.application_launch(user=request.user, application=application)
    except ValidationError as error:
        return render(request, "portal/launch_refused.html", {"message": error.messages[0]}, status=403)
    return redirect(url)


def _user_from_uid(uidb36: str):
    try:
        return get_user_model().objects.filter(pk=url_str_to_user_pk(uidb36)).first()
    except (ValueError, TypeError):
        return None


@require_http_methods(["GET", "POST"])
def activate(request: HttpRequest, uidb36: str, token: str) -> HttpResponse:
    """A staged user follows the emailed link, chooses a password and their account becomes active."""
    user = _user_from_uid(uidb36)
    if not services.activation_token_valid(user=user, token=token):
        return render(request, "portal/activate.html", {"link_invalid": True}, status=400)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_activate(user=user, password=form.cleaned_data["new_password1"])
        messages.success(request, "Your account is active. Sign in with your email address and new password.")
        return redirect("account_login")
    return render(request, "portal/activate.html", {"form": form, "activating_user": user})
