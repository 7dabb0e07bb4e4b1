from django.urls import include, path

from . import converters, two_factor, views  # noqa: F401  (converters registers <id:...>)
from .interop import views as interop_views

urlpatterns = [
    path("", views.home, name="home"),
    path("account/two-factor/", two_factor.two_factor, name="two-factor"),
    path("account/enrol/<str:token>/", two_factor.enrol, name="two-factor-enrol"),
    path("board/", views.board_dashboard, name="board-dashboard"),
    path("board/records/", views.past_records, name="past-records"),
    path("board/records/<str:kind>/<id:pk>/confirm/", views.past_record_confirm, name="past-record-confirm"),
    path("designations/<id:pk>/", views.designation_detail, name="designation-detail"),
    path("designations/<id:pk>/vote/", views.designation_vote, name="designation-vote"),
    path("designations/<id:pk>/vote/confirm/", views.designation_vote_confirm, name="designation-vote-confirm"),
    path("proposals/<id:pk>/", views.proposal_detail, name="proposal-detail"),
    path("proposals/<id:pk>/vote/", views.proposal_vote, name="proposal-vote"),
    path("proposals/<id:pk>/vote/confirm/", views.proposal_vote_confirm, name="proposal-vote-confirm"),
    path("plans/<id:pk>/", views.plan_detail, name="plan-detail"),
    path("plans/<id:pk>/ocf.zip", interop_views.plan_ocf_export, name="plan-ocf-export"),
    path("participants/<id:pk>/", views.participant_detail, name="participant-detail"),
    path("", include("plan_admin.board.urls")),  # resolutions of the board, email preferences
]
