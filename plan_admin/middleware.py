"""Request checks that belong before any view."""

from django.http import HttpResponseBadRequest


class RejectUndecodableFormMiddleware:
    """Refuse a urlencoded form body that is not UTF-8.

    Django would read such a body as Latin-1 and hand the views mis-decoded text, which would then be recorded
    as if the user had typed it. A clear 400 is better than a silently altered record.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            try:
                request.body.decode("utf-8")
            except UnicodeDecodeError:
                return HttpResponseBadRequest(
                    "The form was not sent as UTF-8 text, so some characters could not be read. Nothing was "
                    "recorded.",
                    content_type="text/plain; charset=utf-8",
                )
        return self.get_response(request)
