"""Responses that may carry personal data are never stored by browsers or shared caches."""

from django.utils.cache import patch_vary_headers

NO_STORE = "no-store, private"


class NoStoreMiddleware:
    """Every API answer (`/api/v1/…`) gets `Cache-Control: no-store, private`.

    Residents' phone and ID numbers, sensitive cases, audit trails and tracking codes all travel through
    the API, so the rule is the whole API rather than a list of views that would miss the next one. A view
    that answers something public opts out by setting its own Cache-Control header.
    """

    prefix = "/api/v1/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(self.prefix) and not response.has_header("Cache-Control"):
            response["Cache-Control"] = NO_STORE
            patch_vary_headers(response, ("Authorization", "Cookie"))
        return response
