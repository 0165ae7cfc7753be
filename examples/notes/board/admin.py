from django.contrib import admin

from .models import Note


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ["title", "author", "created_at"]
    list_filter = ["created_at"]
    list_select_related = ["author"]
    search_fields = ["title", "body"]
    date_hierarchy = "created_at"
    raw_id_fields = ["author"]
