"""The people and firms the board may designate."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords


class Participant(models.Model):
    class Category(models.TextChoices):
        KEY_EMPLOYEE = "key_employee", "Key employee"
        CONSULTANT = "consultant", "Consultant"
        NON_EMPLOYEE_DIRECTOR = "non_employee_director", "Non-employee director"

    name = models.CharField(max_length=200)
    category = models.CharField(max_length=32, choices=Category.choices)
    email = models.EmailField(blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="participant",
        help_text="The login of a participant who is also a board member. Each proposal records it when made, so "
        "that they cannot vote on their own designation; changing it later changes no open proposal.",
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        permissions = [
            ("export_participant", "Can export participants"),
            ("import_participant", "Can import participants"),
        ]
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["category"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__in=["key_employee", "consultant", "non_employee_director"]),
                name="participant_category_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("participant-detail", args=[self.pk])
