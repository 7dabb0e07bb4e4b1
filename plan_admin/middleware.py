"""Request checks that belong before any view."""

from django.http import HttpResponseBadRequest

NUL_REFUSAL = "The request contains a NUL character, which no field of this site accepts. Nothing was recorded."


def _has_nul(query_dict) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in query_dict.lists())


class RejectUndecodableFormMiddleware:
    """Refuse a urlencoded form body that is not UTF-8, and a query string or form with a NUL character.

    Django would read such a body as Latin-1 and hand the views mis-decoded text, which would then be recorded
    as if the user had typed it. A clear 400 is better than a silently altered record. NUL is no text anyone
    types, and PostgreSQL refuses it in every text comparison (an admin search for it would be a server error).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            try:
                request.body.decode("utf-8")
            except UnicodeDecodeError:
                return HttpResponseBadRequest(
                    "The form was not sent as UTF-8 text, so some characters could not be read. Nothing was recorded.",
                    content_type="text/plain; charset=utf-8",
                )
            if _has_nul(request.POST):
                return HttpResponseBadRequest(NUL_REFUSAL, content_type="text/plain; charset=utf-8")
        if request.META.get("QUERY_STRING") and _has_nul(request.GET):
            return HttpResponseBadRequest(NUL_REFUSAL, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
