from django.urls import path

from plan_admin import converters  # noqa: F401  (registers <id:...>)

from . import views

urlpatterns = [
    path("resolutions/", views.resolution_list, name="resolution-list"),
    path("resolutions/new/", views.resolution_prepare, name="resolution-prepare"),
    path("resolutions/<id:pk>/", views.resolution_detail, name="resolution-detail"),
    path("resolutions/<id:pk>/sign/", views.resolution_sign, name="resolution-sign"),
    path("resolutions/<id:pk>/decline/", views.resolution_decline, name="resolution-decline"),
    path("resolutions/<id:pk>/withdraw/", views.resolution_withdraw, name="resolution-withdraw"),
    path("resolutions/<id:pk>/documents/<str:kind>/", views.resolution_document, name="resolution-document"),
    path("account/notifications/", views.notification_preferences, name="notification-preferences"),
]
