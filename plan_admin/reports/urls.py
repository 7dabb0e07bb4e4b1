from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="reports"),
    path("<slug:slug>.<str:fmt>", views.download, name="reports-download"),
]
