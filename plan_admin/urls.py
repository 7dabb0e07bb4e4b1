from django.urls import include, path

from . import two_factor, views
from .interop import views as interop_views

urlpatterns = [
    path("", views.home, name="home"),
    path("account/two-factor/", two_factor.two_factor, name="two-factor"),
    path("account/enrol/<str:token>/", two_factor.enrol, name="two-factor-enrol"),
    path("board/", views.board_dashboard, name="board-dashboard"),
    path("board/records/", views.past_records, name="past-records"),
    path("board/records/<str:kind>/<int:pk>/confirm/", views.past_record_confirm, name="past-record-confirm"),
    path("designations/<int:pk>/", views.designation_detail, name="designation-detail"),
    path("designations/<int:pk>/vote/", views.designation_vote, name="designation-vote"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal-detail"),
    path("proposals/<int:pk>/vote/", views.proposal_vote, name="proposal-vote"),
    path("plans/<int:pk>/", views.plan_detail, name="plan-detail"),
    path("plans/<int:pk>/ocf.zip", interop_views.plan_ocf_export, name="plan-ocf-export"),
    path("participants/<int:pk>/", views.participant_detail, name="participant-detail"),
    path("", include("plan_admin.board.urls")),  # resolutions of the board, email preferences
]
