from django.urls import path

from podpiska.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/requisites/", views.edit_requisites, name="requisites"),
    path("profile/", views.profile, name="profile"),
    path("organization/switch/", views.switch_org, name="switch_org"),
    path("orders/<int:order_id>/", views.order_page, name="order"),
    path("orders/<int:order_id>/cancel/", views.cancel_order, name="cancel_order"),
    path("notices/lapsed/hide/", views.hide_lapsed, name="hide_lapsed"),
    path("buy/<slug:kind>/", views.choice_window, name="choice"),
    path("buy/<slug:kind>/checkout/", views.checkout, name="checkout"),
]
