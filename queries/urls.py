from django.urls import path

from .views import catalog, editor, library, versions, workflows

urlpatterns = [
    path("data-sources/", catalog.data_source_list, name="data_source_list"),
    path("data-sources/<slug:schema_id>/", catalog.data_source_detail, name="data_source_detail"),
    path("library/", library.template_list, name="template_list"),
    path("library/<slug:slug>/", library.template_detail, name="template_detail"),
    path("mine/", workflows.workflow_list, name="workflow_list"),
    path("mine/<str:workflow_id>/", workflows.workflow_detail, name="workflow_detail"),
    path("mine/<str:workflow_id>/edit/", editor.workflow_edit, name="workflow_edit"),
    path("mine/<str:workflow_id>/duplicate/", workflows.workflow_duplicate, name="workflow_duplicate"),
    path("mine/<str:workflow_id>/archive/", workflows.workflow_archive, name="workflow_archive"),
    path("mine/<str:workflow_id>/delete/", workflows.workflow_delete, name="workflow_delete"),
    path("mine/<str:workflow_id>/sync/", workflows.workflow_sync, name="workflow_sync"),
    path("mine/<str:workflow_id>/versions/", versions.version_list, name="workflow_versions"),
    path("mine/<str:workflow_id>/versions/diff/", versions.version_diff, name="workflow_version_diff"),
    path("mine/<str:workflow_id>/versions/<int:number>/", versions.version_detail, name="workflow_version"),
    path("mine/<str:workflow_id>/versions/<int:number>/restore/", versions.version_restore,
         name="workflow_version_restore"),  # fmt: skip
    path("editor/", editor.query_editor, name="query_editor"),
    path("editor/live/", editor.editor_live, name="editor_live"),
    path("editor/format/", editor.editor_format, name="editor_format"),
    path("editor/check/", editor.editor_check, name="editor_check"),
    path("editor/schema/", catalog.schema_search, name="editor_schema"),
    path("editor/hints.json", catalog.catalog_hints, name="catalog_hints"),
]
