"""Pages of the site itself rather than of the plan: the favicon browsers ask for at /favicon.ico."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

FAVICON = settings.BASE_DIR / "static" / "plan_admin" / "favicon.svg"


@login_not_required
@require_safe
@cache_control(public=True, max_age=24 * 60 * 60)
def favicon(request):
    """The site's icon (an SVG), for browsers that ask /favicon.ico before reading the page's <link rel=icon>."""
    return HttpResponse(FAVICON.read_bytes(), content_type="image/svg+xml")
