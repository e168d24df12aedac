from django.urls import path

from podpiska.demo import views

app_name = "demo"
urlpatterns = [
    path("", views.directory, name="directory"),
    path("export/", views.export, name="export"),
    path("exports/<int:pk>/", views.download, name="download"),
]
