"""Response headers that are not Django's own: Permissions-Policy, and no caching of anything personal.

Content-Security-Policy comes from django-csp (settings.CONTENT_SECURITY_POLICY), Referrer-Policy from Django's
SecurityMiddleware (settings.SECURE_REFERRER_POLICY).
"""

from django.conf import settings
from django.utils.cache import patch_cache_control


def _is_download(response) -> bool:
    return "attachment" in response.get("Content-Disposition", "")


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response; `Cache-Control: no-store` on every page seen by a logged-in user and
    on every download, so that a shared computer's browser cache keeps no grant data.

    A response that says it is public (the favicon) keeps its own Cache-Control. Place it near the top of
    MIDDLEWARE, so that it sees the final response of every view and middleware below it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        personal = bool(user is not None and user.is_authenticated) or _is_download(response)
        if personal and "public" not in response.get("Cache-Control", ""):
            patch_cache_control(response, no_store=True, private=True)
        return response
