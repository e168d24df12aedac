import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podpiska.settings.production")
application = get_wsgi_application()

# Each web process loads the PDF and calendar machinery at start, not on a customer's request.
from podpiska.web.warmup import start_warm_up_in_background  # noqa: E402

start_warm_up_in_background()
