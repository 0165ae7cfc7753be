from django.conf import settings
from django.db import models


class Note(models.Model):
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Notes outlive their authors: deleting a user keeps what they wrote.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notes",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        # The front page reads the newest notes; this index serves that
        # ordering without a sort over the whole table.
        indexes = [models.Index(fields=["-created_at", "-id"], name="board_note_recent_idx")]

    def __str__(self):
        return self.title
