from django.urls import path

from accounts import views

urlpatterns = [
    path("accounts/", views.account_list, name="accounts"),
    path("accounts/export.csv", views.account_export, name="account-export"),
    path("accounts/import/", views.account_import, name="account-import"),
    path("accounts/new/", views.account_form, name="account-create"),
    path("accounts/<int:pk>/", views.account_detail, name="account-detail"),
    path("accounts/<int:pk>/edit/", views.account_form, name="account-update"),
    path("accounts/<int:pk>/contacts/", views.contact_create, name="contact-create"),
    path("contacts/<int:pk>/edit/", views.contact_update, name="contact-update"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact-delete"),
    path("board/", views.board, name="board"),
    path("impacts/<int:pk>/", views.impact_detail, name="impact-detail"),
    path("impacts/<int:pk>/move/", views.impact_move, name="impact-move"),
    path("impacts/<int:pk>/edit/", views.impact_edit, name="impact-update"),
    path("impacts/<int:pk>/follow-ups/", views.follow_up_add, name="follow-up-create"),
    path("follow-ups/<int:pk>/complete/", views.follow_up_complete, name="follow-up-complete"),
    path("impacts/<int:pk>/compensations/", views.compensation_propose, name="compensation-create"),
    path("compensations/<int:pk>/move/", views.compensation_move, name="compensation-move"),
    path("impacts/<int:pk>/message/", views.impact_message, name="impact-message"),
    path("incidents/<int:pk>/impacts/add/", views.impact_add, name="incident-impact-add"),
    path("incidents/<int:pk>/impacts/derive/", views.impacts_derive, name="incident-impacts-derive"),
]
