from django.urls import path

from . import views

urlpatterns = [
    path("resolutions/", views.resolution_list, name="resolution-list"),
    path("resolutions/new/", views.resolution_prepare, name="resolution-prepare"),
    path("resolutions/<int:pk>/", views.resolution_detail, name="resolution-detail"),
    path("resolutions/<int:pk>/sign/", views.resolution_sign, name="resolution-sign"),
    path("resolutions/<int:pk>/decline/", views.resolution_decline, name="resolution-decline"),
    path("resolutions/<int:pk>/withdraw/", views.resolution_withdraw, name="resolution-withdraw"),
    path("resolutions/<int:pk>/documents/<str:kind>/", views.resolution_document, name="resolution-document"),
    path("account/notifications/", views.notification_preferences, name="notification-preferences"),
]
