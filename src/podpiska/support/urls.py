from django.urls import path

from podpiska.support import views

app_name = "support"
urlpatterns = [
    path("request/", views.support_request, name="request"),
    path("limit/", views.limit_increase, name="limit_increase"),
]
