from podpiska.core import clock


class TestClockMiddleware:
    """In the demo, every request sees the clock staff moved; a no-op in production."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        clock.load_offset()
        return self.get_response(request)
