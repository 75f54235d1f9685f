from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import amazon, services
from .forms import EmailAuthenticationForm, ProfileForm


class RateLimitedLoginView(auth_views.LoginView):
    """Login with e-mail; repeated failures from one address or for one account are slowed down."""

    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        email = request.POST.get("username", "")
        if services.login_is_locked(request, email):
            form = self.get_form()
            form.add_error(None, "Too many failed sign-in attempts. Wait a few minutes and try again.")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        services.record_failed_login(self.request, self.request.POST.get("username", ""))
        return super().form_invalid(form)

    def form_valid(self, form):
        services.clear_failed_logins(self.request, form.get_user().email)
        return super().form_valid(form)


@require_http_methods(["GET", "POST"])
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Profile saved.")
        return redirect("profile")
    connection = getattr(request.user, "amazon_connection", None)
    return render(request, "accounts/profile.html", {"form": form, "connection": connection})


def _callback_url(request) -> str:
    return request.build_absolute_uri(reverse("amazon_callback"))


@require_POST
def amazon_connect(request):
    return redirect(amazon.begin_authorization(request.session, _callback_url(request)))


@require_GET
def amazon_callback(request):
    try:
        amazon.complete_authorization(request.user, request.session, request.GET, _callback_url(request))
    except amazon.OAuthError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Amazon Ads connected. You can now sync your AMC instances.")
    return redirect("profile")


@require_POST
def amazon_disconnect(request):
    amazon.disconnect(request.user)
    messages.success(request, "Amazon Ads disconnected; the stored tokens were deleted.")
    return redirect("profile")
